/*
 * The daemon side of the control socket (protocol in control.h). Requests
 * are read and replies written without blocking the loop.
 */
#ifndef CLUSTERGATE_CONTROL_SERVER_H
#define CLUSTERGATE_CONTROL_SERVER_H

#include <jansson.h>

struct loop;
struct control_server;

/* Returns a reply (new reference) for a request (borrowed). */
typedef json_t *(*control_handler)(json_t *request, void *data);

/*
 * Listen on path (mode 0600, parent directory created). A stale socket
 * left by a crash is replaced; a live one (another daemon) is an error.
 * Returns NULL and sets *error (static text) on failure.
 */
struct control_server *control_server_create(struct loop *loop,
					     const char *path,
					     control_handler handler,
					     void *data, const char **error);
/* Stop listening, drop clients, remove the socket file. */
void control_server_destroy(struct control_server *server);

#endif
