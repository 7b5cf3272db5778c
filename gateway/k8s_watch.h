/*
 * List-then-watch of one Kubernetes resource (Services, EndpointSlices or
 * Nodes), kept going for as long as the object lives:
 *
 * - list (paged: limit + continue), hand every item to the handler, then
 *   watch from the list's resourceVersion with allowWatchBookmarks, so a
 *   reconnect resumes where the stream stopped;
 * - a watch ending normally (the server's timeoutSeconds) is reopened at
 *   once; 410 Gone (HTTP status or ERROR event) means the version is too
 *   old: relist;
 * - any other failure (connection refused or lost, timeout, HTTP error)
 *   retries after a capped exponential backoff with jitter, and marks the
 *   watch as failing until a request succeeds again. The handler's state
 *   is never dropped because of a failure: the caller keeps serving it.
 */
#ifndef CLUSTERGATE_K8S_WATCH_H
#define CLUSTERGATE_K8S_WATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "gateway/k8s_catalog.h"

struct loop;
struct k8s_client;
struct k8s_watch;

/* Backoff between failed attempts: 0.5 s doubling up to 30 s, +-50% jitter. */
#define K8S_BACKOFF_BASE_MS 500
#define K8S_BACKOFF_MAX_MS 30000
/* Items per list page. */
#define K8S_LIST_LIMIT 500
/* A watch that moves no byte (not even a bookmark) for this long is reopened. */
#define K8S_WATCH_IDLE_S 180

/*
 * What the watch hands on; data is the pointer given at creation. Objects
 * are borrowed for the duration of the call.
 * - list_begin(): a (re)list starts; the items that follow replace all
 *   objects held so far, once list_end(complete = true) comes. With
 *   complete = false the list was abandoned: keep the old objects.
 * - event(): one watch event (ADDED, MODIFIED, DELETED).
 * - state_changed(): synced/failing/resourceVersion may have changed.
 */
struct k8s_watch_handler {
	void (*list_begin)(void *data);
	void (*list_item)(void *data, json_t *item, size_t index);
	void (*list_end)(void *data, bool complete);
	void (*event)(void *data, enum k8s_event_type type, json_t *object);
	void (*state_changed)(void *data);
};

/*
 * Start listing path ("/api/v1/services") through client. kind names the
 * resource in logs ("Service"). Returns NULL when out of memory.
 */
struct k8s_watch *k8s_watch_create(struct loop *loop,
				   struct k8s_client *client,
				   const char *kind, const char *path,
				   const struct k8s_watch_handler *handler,
				   void *data);
/* Stop (no more callbacks) and free. NULL is harmless. */
void k8s_watch_destroy(struct k8s_watch *watch);

/* A list has completed at least once. */
bool k8s_watch_synced(const struct k8s_watch *watch);
/* The last request failed; a retry is pending. */
bool k8s_watch_failing(const struct k8s_watch *watch);
/* Wall-clock time the current run of failures began, or 0. */
time_t k8s_watch_failing_since(const struct k8s_watch *watch);
/*
 * {"resource_version", "phase": "listing"|"watching"|"retrying",
 *  "synced", "relists", "reconnects", "events", "last_error",
 *  "last_error_at"}: a new reference.
 */
json_t *k8s_watch_status(const struct k8s_watch *watch);

/* ISO 8601 UTC ("2026-12-05T07:40:00Z") of t, into buf (>= 21 bytes). */
const char *k8s_format_time(time_t t, char *buf, size_t size);

#endif
