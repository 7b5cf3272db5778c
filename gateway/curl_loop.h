/*
 * A libcurl multi handle driven by the daemon's event loop: curl's sockets
 * become loop fds and its timeout a loop timer, so transfers never block
 * the loop. Used by the node health probes and the Kubernetes client.
 *
 * After every socket or timer action, on_progress(data) runs so the owner
 * can collect finished transfers with curl_multi_info_read().
 */
#ifndef CLUSTERGATE_CURL_LOOP_H
#define CLUSTERGATE_CURL_LOOP_H

#include <curl/curl.h>

struct loop;
struct curl_loop;

typedef void (*curl_loop_progress_cb)(void *data);

/* Returns a new driver with its own CURLM, or NULL. */
struct curl_loop *curl_loop_create(struct loop *loop,
				   curl_loop_progress_cb on_progress,
				   void *data);
/* The multi handle to add easy handles to; owned by the driver. */
CURLM *curl_loop_multi(struct curl_loop *driver);
/*
 * Cancel the timer and free the multi handle. Remove (and clean up) every
 * easy handle first.
 */
void curl_loop_destroy(struct curl_loop *driver);

#endif
