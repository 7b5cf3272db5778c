/*
 * Node health probes on the daemon loop. HTTP probes run through one libcurl
 * multi handle whose sockets and timer are driven by the loop (curl's
 * socket/timer callbacks); TCP probes are non-blocking connects.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/curl_loop.h"
#include "gateway/health.h"
#include "gateway/log.h"
#include "gateway/loop.h"

struct target {
	struct health *health;
	struct health_target_info info;
	uint64_t next_timer;		/* next probe */
	uint64_t started_ms;		/* in-flight probe start, 0: idle */
	CURL *easy;			/* in-flight HTTP probe */
	int tcp_fd;			/* in-flight TCP probe, -1: none */
	uint64_t tcp_timer;		/* its timeout */
	char url[96];
};

struct health {
	struct loop *loop;
	struct cg_health settings;
	char *path;			/* settings.path, owned */
	health_change_cb cb;
	void *data;
	struct curl_loop *curl;		/* HTTP probes on the loop */
	CURLM *multi;			/* curl_loop_multi(curl) */
	struct target **targets;
	size_t count;
};

const char *health_state_name(enum health_state state)
{
	switch (state) {
	case HEALTH_UP:
		return "up";
	case HEALTH_DOWN:
		return "down";
	case HEALTH_UNKNOWN:
		break;
	}
	return "unknown";
}

bool health_counter_record(struct health_counter *counter, bool success,
			   uint32_t rise, uint32_t fall)
{
	enum health_state before = counter->state;

	if (success) {
		counter->successes++;
		counter->failures = 0;
	} else {
		counter->failures++;
		counter->successes = 0;
	}
	switch (counter->state) {
	case HEALTH_UNKNOWN:
		counter->state = success ? HEALTH_UP : HEALTH_DOWN;
		break;
	case HEALTH_UP:
		if (counter->failures >= (fall ? fall : 1))
			counter->state = HEALTH_DOWN;
		break;
	case HEALTH_DOWN:
		if (counter->successes >= (rise ? rise : 1))
			counter->state = HEALTH_UP;
		break;
	}
	return counter->state != before;
}

/* ---- results and scheduling ---- */

static void schedule_probe(struct target *t, uint64_t delay_ms);

static void finish_probe(struct target *t, bool ok, const char *detail)
{
	struct health *h = t->health;
	struct health_target_info *info = &t->info;
	enum health_state from = info->counter.state;
	uint64_t now = loop_now_ms();

	info->probed = true;
	info->last.ok = ok;
	snprintf(info->last.detail, sizeof(info->last.detail), "%s", detail);
	info->last.at = time(NULL);
	info->last.at_ms = now;
	info->last.latency_ms = (uint32_t)(now - t->started_ms);
	t->started_ms = 0;
	if (!health_counter_record(&info->counter, ok, h->settings.rise,
				   h->settings.fall))
		return;
	info->state_since_ms = now;
	if (h->cb)
		h->cb(h->data, info, from);
}

/* ---- HTTP through curl multi ---- */

static void check_curl_done(void *data)
{
	struct health *h = data;
	CURLMsg *msg;
	int pending;

	while ((msg = curl_multi_info_read(h->multi, &pending))) {
		struct target *t = NULL;
		char detail[96];
		long code = 0, os_errno = 0;
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;

		/* msg belongs to the handle: done with it after this. */
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
		if (result == CURLE_OPERATION_TIMEDOUT)
			snprintf(detail, sizeof(detail),
				 "timed out after %u ms",
				 h->settings.timeout_ms);
		else if (result == CURLE_COULDNT_CONNECT && os_errno)
			snprintf(detail, sizeof(detail), "%s",
				 strerror((int)os_errno));
		else if (result != CURLE_OK)
			snprintf(detail, sizeof(detail), "%s",
				 curl_easy_strerror(result));
		else
			snprintf(detail, sizeof(detail), "HTTP %ld", code);
		curl_multi_remove_handle(h->multi, easy);
		curl_easy_cleanup(easy);
		t->easy = NULL;
		finish_probe(t, result == CURLE_OK && code >= 200 && code < 300,
			     detail);
	}
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *data)
{
	(void)ptr;
	(void)data;
	return size * nmemb;
}

static int start_http(struct target *t)
{
	struct health *h = t->health;
	char address[INET_ADDRSTRLEN];
	CURL *easy = curl_easy_init();

	if (!easy)
		return -ENOMEM;
	inet_ntop(AF_INET, &t->info.address, address, sizeof(address));
	snprintf(t->url, sizeof(t->url), "http://%s:%u%s", address,
		 h->settings.port, h->path);
	curl_easy_setopt(easy, CURLOPT_URL, t->url);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)h->settings.timeout_ms);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
	/* A new connection each time: a probe must see a dead node. */
	curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "clustergate-health");
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_body);
	if (curl_multi_add_handle(h->multi, easy) != CURLM_OK) {
		curl_easy_cleanup(easy);
		return -ENOMEM;
	}
	t->easy = easy;
	return 0;
}

/* ---- TCP connect ---- */

static void end_tcp(struct target *t)
{
	struct health *h = t->health;

	if (t->tcp_timer)
		loop_cancel_timer(h->loop, t->tcp_timer);
	t->tcp_timer = 0;
	if (t->tcp_fd >= 0) {
		loop_del_fd(h->loop, t->tcp_fd);
		close(t->tcp_fd);
	}
	t->tcp_fd = -1;
}

static void on_tcp_ready(int fd, uint32_t events, void *data)
{
	struct target *t = data;
	socklen_t len = sizeof(int);
	int error = 0;

	(void)events;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
		error = errno;
	end_tcp(t);
	finish_probe(t, error == 0, error ? strerror(error) : "connected");
}

static void on_tcp_timeout(void *data)
{
	struct target *t = data;
	char detail[64];

	t->tcp_timer = 0;
	end_tcp(t);
	snprintf(detail, sizeof(detail), "timed out after %u ms",
		 t->health->settings.timeout_ms);
	finish_probe(t, false, detail);
}

static int start_tcp(struct target *t)
{
	struct health *h = t->health;
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(h->settings.port),
		.sin_addr = t->info.address,
	};
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 &&
	    errno != EINPROGRESS) {
		err = errno;
		close(fd);
		finish_probe(t, false, strerror(err));
		return 0;
	}
	err = loop_add_fd(h->loop, fd, EPOLLOUT, on_tcp_ready, t);
	if (err) {
		close(fd);
		return err;
	}
	t->tcp_fd = fd;
	t->tcp_timer = loop_add_timer(h->loop, h->settings.timeout_ms,
				      on_tcp_timeout, t);
	return 0;
}

/* ---- per-target probe cycle ---- */

static void on_probe_due(void *data)
{
	struct target *t = data;
	struct health *h = t->health;
	int err;

	t->next_timer = 0;
	schedule_probe(t, h->settings.interval_ms);
	if (t->started_ms)
		return;		/* the previous probe is still running */
	t->started_ms = loop_now_ms();
	err = h->settings.method == CG_PROBE_TCP ? start_tcp(t) : start_http(t);
	if (err) {
		t->started_ms = 0;
		log_err("health: cannot start a probe: %s", strerror(-err));
	}
}

static void schedule_probe(struct target *t, uint64_t delay_ms)
{
	t->next_timer = loop_add_timer(t->health->loop, delay_ms,
				       on_probe_due, t);
}

static void target_free(struct target *t)
{
	struct health *h = t->health;

	if (t->next_timer)
		loop_cancel_timer(h->loop, t->next_timer);
	if (t->easy) {
		curl_multi_remove_handle(h->multi, t->easy);
		curl_easy_cleanup(t->easy);
	}
	end_tcp(t);
	free(t);
}

/* ---- public ---- */

int health_set_settings(struct health *h, const struct cg_health *settings)
{
	char *path = strdup(settings->path ? settings->path : "/healthz");

	if (!path)
		return -ENOMEM;
	free(h->path);
	h->path = path;
	h->settings = *settings;
	h->settings.path = h->path;
	if (!h->settings.interval_ms)
		h->settings.interval_ms = 2000;
	if (!h->settings.timeout_ms)
		h->settings.timeout_ms = 1000;
	return 0;
}

struct health *health_create(struct loop *loop,
			     const struct cg_health *settings,
			     health_change_cb cb, void *data)
{
	struct health *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->loop = loop;
	h->cb = cb;
	h->data = data;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    !(h->curl = curl_loop_create(loop, check_curl_done, h)) ||
	    health_set_settings(h, settings)) {
		curl_loop_destroy(h->curl);
		free(h->path);
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	h->multi = curl_loop_multi(h->curl);
	return h;
}

void health_destroy(struct health *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->count; i++)
		target_free(h->targets[i]);
	free(h->targets);
	curl_loop_destroy(h->curl);
	curl_global_cleanup();
	free(h->path);
	free(h);
}

static struct target *find_target(const struct health *h,
				  struct in_addr address)
{
	for (size_t i = 0; i < h->count; i++)
		if (h->targets[i]->info.address.s_addr == address.s_addr)
			return h->targets[i];
	return NULL;
}

static bool wanted(const struct in_addr *addresses, size_t count,
		   struct in_addr address)
{
	for (size_t i = 0; i < count; i++)
		if (addresses[i].s_addr == address.s_addr)
			return true;
	return false;
}

int health_set_targets(struct health *h, const struct in_addr *addresses,
		       size_t count, enum health_state initial)
{
	struct target **next = calloc(count + 1, sizeof(*next));
	size_t kept = 0;

	if (!next)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		struct target *t = find_target(h, addresses[i]);

		if (wanted(addresses, i, addresses[i]))
			continue;	/* listed twice */
		if (!t) {
			t = calloc(1, sizeof(*t));
			if (!t)
				goto fail;
			t->health = h;
			t->tcp_fd = -1;
			t->info.address = addresses[i];
			t->info.counter.state = initial;
			t->info.state_since_ms = loop_now_ms();
			schedule_probe(t, 0);
		}
		next[kept++] = t;
	}
	for (size_t i = 0; i < h->count; i++)
		if (!wanted(addresses, count, h->targets[i]->info.address))
			target_free(h->targets[i]);
	free(h->targets);
	h->targets = next;
	h->count = kept;
	return 0;
fail:
	for (size_t i = 0; i < kept; i++)
		if (!find_target(h, next[i]->info.address))
			target_free(next[i]);
	free(next);
	return -ENOMEM;
}

int health_seed(struct health *h, struct in_addr address,
		enum health_state state)
{
	struct target *t = find_target(h, address);

	if (!t)
		return -ENOENT;
	t->info.counter.state = state;
	t->info.counter.successes = t->info.counter.failures = 0;
	t->info.state_since_ms = loop_now_ms();
	return 0;
}

const struct health_target_info *health_find(const struct health *h,
					     struct in_addr address)
{
	struct target *t = find_target(h, address);

	return t ? &t->info : NULL;
}
