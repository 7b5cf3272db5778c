/* List-then-watch of one resource, with relist and backoff. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/k8s_client.h"
#include "gateway/k8s_lines.h"
#include "gateway/k8s_objects.h"
#include "gateway/k8s_watch.h"
#include "gateway/log.h"
#include "gateway/loop.h"

#define MAX_LIST_BYTES (256u << 20)
#define MAX_ERROR_BYTES (64u << 10)
#define MAX_EVENT_BYTES (16u << 20)
/* A watch that ends sooner than this without an event is retried later. */
#define MIN_WATCH_MS 1000

enum watch_phase {
	PHASE_IDLE,
	PHASE_LISTING,
	PHASE_WATCHING,
	PHASE_RETRYING,
};

struct k8s_watch {
	struct loop *loop;
	struct k8s_client *client;
	char *kind;
	char *path;
	const struct k8s_watch_handler *handler;
	void *data;

	enum watch_phase phase;
	struct k8s_request *request;
	uint64_t retry_timer;
	char *resource_version;		/* where the next watch starts */
	char *continue_token;		/* next page of the current list */
	size_t list_index;		/* items seen in the current list */
	bool synced;
	bool failing;
	bool relist_wanted;		/* ERROR 410 event seen */
	bool stream_error;		/* ERROR event (not 410) seen */
	uint32_t attempts;		/* failures in a row: backoff exponent */
	uint64_t watch_started_ms;
	bool watch_had_event;

	char *body;			/* list page or error body */
	size_t body_length, body_capacity;
	struct k8s_lines lines;		/* watch stream framing */

	uint64_t lists, reconnects, events;
	char *last_error;
	time_t last_error_at, failing_since;
};

static const struct k8s_response_handler list_handler;
static const struct k8s_response_handler watch_handler;
static void start_list(struct k8s_watch *watch);
static void start_watch(struct k8s_watch *watch);

const char *k8s_format_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static void set_string(char **field, const char *value)
{
	char *copy = value ? strdup(value) : NULL;

	free(*field);
	*field = copy;
}

static void notify(struct k8s_watch *watch)
{
	if (watch->handler->state_changed)
		watch->handler->state_changed(watch->data);
}

/* Capped exponential backoff, jittered to +-50% so watchers spread out. */
static uint64_t backoff_ms(struct k8s_watch *watch)
{
	uint64_t delay = K8S_BACKOFF_BASE_MS;

	for (uint32_t i = 0; i < watch->attempts && delay < K8S_BACKOFF_MAX_MS;
	     i++)
		delay *= 2;
	if (delay > K8S_BACKOFF_MAX_MS)
		delay = K8S_BACKOFF_MAX_MS;
	watch->attempts++;
	return delay / 2 + (uint64_t)random() % (delay + 1);
}

static void on_retry(void *data)
{
	struct k8s_watch *watch = data;

	watch->retry_timer = 0;
	if (watch->synced && watch->resource_version)
		start_watch(watch);
	else
		start_list(watch);
}

static void schedule_retry(struct k8s_watch *watch, uint64_t delay)
{
	watch->phase = PHASE_RETRYING;
	watch->retry_timer = loop_add_timer(watch->loop, delay, on_retry,
					    watch);
	if (!watch->retry_timer)
		log_err("kubernetes: %s watch: cannot schedule a retry",
			watch->kind);
}

/* A request failed: remember why, mark stale, retry after a backoff. */
static void fail(struct k8s_watch *watch, const char *what,
		 const char *message)
{
	uint64_t delay = backoff_ms(watch);

	log_warn("kubernetes: %s %s failed: %s; retrying in %.1f s",
		 watch->kind, what, message, (double)delay / 1000);
	set_string(&watch->last_error, message);
	watch->last_error_at = time(NULL);
	if (!watch->failing) {
		watch->failing = true;
		watch->failing_since = watch->last_error_at;
	}
	schedule_retry(watch, delay);
	notify(watch);
}

static void mark_healthy(struct k8s_watch *watch)
{
	watch->attempts = 0;
	if (!watch->failing)
		return;
	watch->failing = false;
	watch->failing_since = 0;
	watch->reconnects++;
	log_info("kubernetes: %s watch connected again", watch->kind);
	notify(watch);
}

static int body_append(struct k8s_watch *watch, const char *bytes,
		       size_t length, size_t limit)
{
	if (watch->body_length + length > limit)
		return -E2BIG;
	if (watch->body_length + length + 1 > watch->body_capacity) {
		size_t capacity = watch->body_capacity ?
			watch->body_capacity : 65536;
		char *body;

		while (capacity < watch->body_length + length + 1)
			capacity *= 2;
		body = realloc(watch->body, capacity);
		if (!body)
			return -ENOMEM;
		watch->body = body;
		watch->body_capacity = capacity;
	}
	memcpy(watch->body + watch->body_length, bytes, length);
	watch->body_length += length;
	watch->body[watch->body_length] = '\0';
	return 0;
}

static void body_reset(struct k8s_watch *watch)
{
	watch->body_length = 0;
	/* Do not keep a big list page's buffer around between lists. */
	if (watch->body_capacity > (1u << 20)) {
		free(watch->body);
		watch->body = NULL;
		watch->body_capacity = 0;
	}
}

/*
 * What a failed response says: the transfer error, or the HTTP status and
 * the Status object's message ("HTTP 403: services is forbidden: ...").
 */
static void describe_failure(struct k8s_watch *watch, long http_status,
			     const char *error, char *buf, size_t size)
{
	json_t *status;
	const char *message;

	if (error) {
		snprintf(buf, size, "%s", error);
		return;
	}
	status = json_loadb(watch->body ? watch->body : "", watch->body_length,
			    0, NULL);
	message = json_string_value(json_object_get(status, "message"));
	if (message)
		snprintf(buf, size, "HTTP %ld: %s", http_status, message);
	else
		snprintf(buf, size, "HTTP %ld", http_status);
	json_decref(status);
}

/* ---- list ---- */

static void request_page(struct k8s_watch *watch)
{
	uint32_t timeout = k8s_client_timeout_s(watch->client);
	char path[2048], error[256];
	char *token = NULL;

	if (watch->continue_token) {
		token = curl_easy_escape(NULL, watch->continue_token, 0);
		if (!token) {
			fail(watch, "list", "out of memory");
			return;
		}
	}
	snprintf(path, sizeof(path), "%s?limit=%d%s%s", watch->path,
		 K8S_LIST_LIMIT, token ? "&continue=" : "", token ? token : "");
	curl_free(token);
	body_reset(watch);
	watch->phase = PHASE_LISTING;
	watch->request = k8s_client_get(watch->client, path, 3 * timeout,
					timeout, 0, &list_handler, watch, error,
					sizeof(error));
	if (!watch->request) {
		if (watch->continue_token && watch->handler->list_end)
			watch->handler->list_end(watch->data, false);
		set_string(&watch->continue_token, NULL);
		fail(watch, "list", error);
	}
}

static void start_list(struct k8s_watch *watch)
{
	set_string(&watch->continue_token, NULL);
	watch->list_index = 0;
	request_page(watch);
}

static int list_body(void *data, long http_status, const char *bytes,
		     size_t length)
{
	struct k8s_watch *watch = data;

	return body_append(watch, bytes, length, http_status == 200 ?
			   MAX_LIST_BYTES : MAX_ERROR_BYTES) ? -1 : 0;
}

/* Hand a list page's items on. Returns 0 or a message in error. */
static int take_page(struct k8s_watch *watch, char *error, size_t size)
{
	json_error_t json_error;
	json_t *list, *items, *item;
	const char *version, *next;
	size_t i;

	list = json_loadb(watch->body ? watch->body : "", watch->body_length,
			  0, &json_error);
	body_reset(watch);
	if (!list) {
		snprintf(error, size, "list response is not JSON: %s (line %d)",
			 json_error.text, json_error.line);
		return -EINVAL;
	}
	items = json_object_get(list, "items");
	version = k8s_resource_version(list);
	if (!version || (!json_is_array(items) && !json_is_null(items))) {
		snprintf(error, size, "list response has no %s",
			 version ? "items" : "metadata.resourceVersion");
		json_decref(list);
		return -EINVAL;
	}
	if (!watch->continue_token && watch->handler->list_begin)
		watch->handler->list_begin(watch->data);
	json_array_foreach(items, i, item)
		watch->handler->list_item(watch->data, item,
					  watch->list_index++);
	next = json_string_value(json_object_get(json_object_get(list,
						 "metadata"), "continue"));
	set_string(&watch->continue_token, next && *next ? next : NULL);
	set_string(&watch->resource_version, version);
	json_decref(list);
	return 0;
}

static void list_done(void *data, long http_status, const char *error,
		      bool timed_out)
{
	struct k8s_watch *watch = data;
	char message[512];

	(void)timed_out;
	watch->request = NULL;
	if (error || http_status != 200) {
		bool mid_list = watch->continue_token != NULL;

		describe_failure(watch, http_status, error, message,
				 sizeof(message));
		body_reset(watch);
		if (mid_list && watch->handler->list_end)
			watch->handler->list_end(watch->data, false);
		set_string(&watch->continue_token, NULL);
		if (mid_list && http_status == 410) {
			/* the continue token expired: start over */
			log_info("kubernetes: %s list: %s; listing again",
				 watch->kind, message);
			start_list(watch);
			return;
		}
		fail(watch, "list", message);
		return;
	}
	if (take_page(watch, message, sizeof(message))) {
		if (watch->continue_token && watch->handler->list_end)
			watch->handler->list_end(watch->data, false);
		set_string(&watch->continue_token, NULL);
		fail(watch, "list", message);
		return;
	}
	if (watch->continue_token) {
		request_page(watch);
		return;
	}
	if (watch->handler->list_end)
		watch->handler->list_end(watch->data, true);
	log_info("kubernetes: listed %zu %ss at resourceVersion %s",
		 watch->list_index, watch->kind, watch->resource_version);
	watch->lists++;
	watch->synced = true;
	mark_healthy(watch);
	notify(watch);
	start_watch(watch);
}

static const struct k8s_response_handler list_handler = {
	.body = list_body,
	.done = list_done,
};

/* ---- watch ---- */

static void start_watch(struct k8s_watch *watch)
{
	uint32_t timeout = k8s_client_timeout_s(watch->client);
	/* Like client-go: 5-10 min, spread so watches do not renew together. */
	uint32_t server_timeout = 300 + (uint32_t)(random() % 300);
	char path[2048], error[256];

	snprintf(path, sizeof(path),
		 "%s?watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%u",
		 watch->path, watch->resource_version, server_timeout);
	k8s_lines_reset(&watch->lines);
	body_reset(watch);
	watch->relist_wanted = false;
	watch->stream_error = false;
	watch->watch_had_event = false;
	watch->watch_started_ms = loop_now_ms();
	watch->phase = PHASE_WATCHING;
	watch->request = k8s_client_get(watch->client, path,
					server_timeout + 3 * timeout,
					K8S_WATCH_IDLE_S, 2 * timeout,
					&watch_handler, watch,
					error, sizeof(error));
	if (!watch->request)
		fail(watch, "watch", error);
}

static void watch_headers(void *data, long http_status)
{
	struct k8s_watch *watch = data;

	if (http_status == 200)
		mark_healthy(watch);
}

static enum k8s_event_type event_type(const char *name, bool *known)
{
	*known = true;
	if (strcmp(name, "ADDED") == 0)
		return K8S_ADDED;
	if (strcmp(name, "MODIFIED") == 0)
		return K8S_MODIFIED;
	if (strcmp(name, "DELETED") == 0)
		return K8S_DELETED;
	*known = false;
	return K8S_MODIFIED;
}

/* An ERROR event: a Status object. 410 means relist. Stops the stream. */
static int watch_error_event(struct k8s_watch *watch, json_t *status)
{
	json_int_t code = json_integer_value(json_object_get(status, "code"));
	const char *message = json_string_value(json_object_get(status,
								"message"));
	char text[512];

	if (code == 410) {
		log_info("kubernetes: %s watch: %s; listing again",
			 watch->kind, message ? message : "410 Gone");
		watch->relist_wanted = true;
		return 1;
	}
	snprintf(text, sizeof(text), "ERROR event %lld: %s", (long long)code,
		 message ? message : "(no message)");
	set_string(&watch->last_error, text);
	watch->stream_error = true;
	return 1;
}

static int watch_line(void *data, const char *line, size_t length)
{
	struct k8s_watch *watch = data;
	json_error_t json_error;
	json_t *event, *object;
	const char *type, *version;
	enum k8s_event_type event_kind;
	bool known;
	int stop = 0;

	event = json_loadb(line, length, 0, &json_error);
	type = json_string_value(json_object_get(event, "type"));
	object = json_object_get(event, "object");
	if (!event || !type || !json_is_object(object)) {
		log_warn("kubernetes: %s watch: skipping a malformed event: %s",
			 watch->kind, event ? "no type or object" :
			 json_error.text);
		json_decref(event);
		return 0;
	}
	watch->watch_had_event = true;
	version = k8s_resource_version(object);
	if (strcmp(type, "ERROR") == 0) {
		stop = watch_error_event(watch, object);
	} else if (strcmp(type, "BOOKMARK") == 0) {
		if (version)
			set_string(&watch->resource_version, version);
	} else {
		event_kind = event_type(type, &known);
		if (!known) {
			log_warn("kubernetes: %s watch: skipping an event of unknown type '%s'",
				 watch->kind, type);
		} else {
			watch->events++;
			watch->handler->event(watch->data, event_kind, object);
			if (version)
				set_string(&watch->resource_version, version);
		}
	}
	json_decref(event);
	return stop;
}

static int watch_body(void *data, long http_status, const char *bytes,
		      size_t length)
{
	struct k8s_watch *watch = data;
	int err;

	if (http_status != 200)
		return body_append(watch, bytes, length, MAX_ERROR_BYTES) ?
			-1 : 0;
	err = k8s_lines_feed(&watch->lines, bytes, length, watch_line, watch);
	if (err == -E2BIG) {
		set_string(&watch->last_error, "watch event larger than 16 MiB");
		watch->stream_error = true;
	}
	return err ? -1 : 0;
}

static void watch_done(void *data, long http_status, const char *error,
		       bool timed_out)
{
	struct k8s_watch *watch = data;
	char message[512];

	watch->request = NULL;
	if (watch->relist_wanted || http_status == 410) {
		if (http_status == 410)
			log_info("kubernetes: %s watch: resourceVersion %s is too old; listing again",
				 watch->kind, watch->resource_version);
		start_list(watch);
		return;
	}
	if (watch->stream_error) {
		fail(watch, "watch", watch->last_error);
		return;
	}
	if (http_status == 200 && (!error || timed_out)) {
		/* the server's timeoutSeconds, or an idle stream: reopen */
		if (loop_now_ms() - watch->watch_started_ms < MIN_WATCH_MS &&
		    !watch->watch_had_event)
			schedule_retry(watch, backoff_ms(watch));
		else
			start_watch(watch);
		return;
	}
	describe_failure(watch, http_status, error, message, sizeof(message));
	fail(watch, "watch", message);
}

static const struct k8s_response_handler watch_handler = {
	.headers = watch_headers,
	.body = watch_body,
	.done = watch_done,
};

/* ---- object ---- */

struct k8s_watch *k8s_watch_create(struct loop *loop,
				   struct k8s_client *client,
				   const char *kind, const char *path,
				   const struct k8s_watch_handler *handler,
				   void *data)
{
	static bool seeded;
	struct k8s_watch *watch = calloc(1, sizeof(*watch));

	if (!seeded) {
		srandom((unsigned)time(NULL) ^ (unsigned)getpid());
		seeded = true;
	}
	if (!watch)
		return NULL;
	watch->kind = strdup(kind);
	watch->path = strdup(path);
	if (!watch->kind || !watch->path) {
		k8s_watch_destroy(watch);
		return NULL;
	}
	watch->loop = loop;
	watch->client = client;
	watch->handler = handler;
	watch->data = data;
	k8s_lines_init(&watch->lines, MAX_EVENT_BYTES);
	start_list(watch);
	return watch;
}

void k8s_watch_destroy(struct k8s_watch *watch)
{
	if (!watch)
		return;
	k8s_request_cancel(watch->request);
	if (watch->retry_timer)
		loop_cancel_timer(watch->loop, watch->retry_timer);
	k8s_lines_free(&watch->lines);
	free(watch->body);
	free(watch->resource_version);
	free(watch->continue_token);
	free(watch->last_error);
	free(watch->kind);
	free(watch->path);
	free(watch);
}

bool k8s_watch_synced(const struct k8s_watch *watch)
{
	return watch->synced;
}

bool k8s_watch_failing(const struct k8s_watch *watch)
{
	return watch->failing;
}

time_t k8s_watch_failing_since(const struct k8s_watch *watch)
{
	return watch->failing_since;
}

json_t *k8s_watch_status(const struct k8s_watch *watch)
{
	static const char *phases[] = {
		[PHASE_IDLE] = "idle", [PHASE_LISTING] = "listing",
		[PHASE_WATCHING] = "watching", [PHASE_RETRYING] = "retrying",
	};
	char at[32];

	return json_pack("{s:s?, s:s, s:b, s:I, s:I, s:I, s:s?, s:s?}",
			 "resource_version", watch->resource_version,
			 "phase", phases[watch->phase],
			 "synced", watch->synced,
			 "relists", (json_int_t)(watch->lists ?
						 watch->lists - 1 : 0),
			 "reconnects", (json_int_t)watch->reconnects,
			 "events", (json_int_t)watch->events,
			 "last_error", watch->last_error,
			 "last_error_at", watch->last_error_at ?
				k8s_format_time(watch->last_error_at, at,
						sizeof(at)) : NULL);
}
