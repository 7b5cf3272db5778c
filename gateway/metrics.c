/*
 * Prometheus metrics on metrics.listen (libmicrohttpd), run from the
 * daemon's own loop (MHD's epoll fd), so a scrape reads the same state as
 * `clustergate status` without locks.
 *
 * Every number and boolean in the status document becomes a gauge named
 * after its path: status.nat.snat_packets -> clustergate_nat_snat_packets.
 * A component's new status fields therefore show up here by themselves.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/daemon_core.h"
#include "gateway/log.h"
#include "gateway/loop.h"

struct metrics {
	struct daemon *daemon;
	struct MHD_Daemon *http;
	int epoll_fd;
	uint64_t timer_id;
	char *listen;
	uint64_t scrapes;
};

struct text {
	char *data;
	size_t length;
	FILE *stream;
};

static void metric_name(char *buf, size_t size, const char *prefix,
			const char *key)
{
	size_t used = (size_t)snprintf(buf, size, "%s_", prefix), i;

	for (i = 0; key[i] && used + 1 < size; i++)
		buf[used++] = isalnum((unsigned char)key[i]) ?
			(char)tolower((unsigned char)key[i]) : '_';
	buf[used] = '\0';
}

static void write_metrics(FILE *out, const char *prefix, json_t *object)
{
	char name[256];
	const char *key;
	json_t *value;

	json_object_foreach(object, key, value) {
		metric_name(name, sizeof(name), prefix, key);
		if (json_is_integer(value))
			fprintf(out, "%s %lld\n", name,
				(long long)json_integer_value(value));
		else if (json_is_real(value))
			fprintf(out, "%s %g\n", name, json_real_value(value));
		else if (json_is_boolean(value))
			fprintf(out, "%s %d\n", name, json_is_true(value));
		else if (json_is_object(value))
			write_metrics(out, name, value);
	}
}

static enum MHD_Result answer(void *data, struct MHD_Connection *connection,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_size, void **request_state)
{
	struct metrics *metrics = data;
	struct MHD_Response *response;
	struct text text = { 0 };
	enum MHD_Result result;
	unsigned int code = MHD_HTTP_OK;
	json_t *status;

	(void)version;
	(void)upload_data;
	(void)upload_size;
	(void)request_state;
	text.stream = open_memstream(&text.data, &text.length);
	if (!text.stream)
		return MHD_NO;
	if (strcmp(method, "GET") != 0) {
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
		fputs("only GET\n", text.stream);
	} else if (strcmp(url, "/metrics") != 0) {
		code = MHD_HTTP_NOT_FOUND;
		fputs("metrics are at /metrics\n", text.stream);
	} else {
		metrics->scrapes++;
		status = daemon_status(metrics->daemon);
		json_object_del(status, "ok");
		fputs("# clustergate status as gauges (see README)\n",
		      text.stream);
		write_metrics(text.stream, "clustergate", status);
		json_decref(status);
	}
	fclose(text.stream);
	response = MHD_create_response_from_buffer(text.length, text.data,
						   MHD_RESPMEM_MUST_FREE);
	if (!response) {
		free(text.data);
		return MHD_NO;
	}
	MHD_add_response_header(response, "Content-Type",
				"text/plain; version=0.0.4");
	result = MHD_queue_response(connection, code, response);
	MHD_destroy_response(response);
	return result;
}

static void schedule(struct metrics *metrics);

static void run_http(struct metrics *metrics)
{
	MHD_run(metrics->http);
	schedule(metrics);
}

static void on_timer(void *data)
{
	struct metrics *metrics = data;

	metrics->timer_id = 0;
	run_http(metrics);
}

static void on_ready(int fd, uint32_t events, void *data)
{
	(void)fd;
	(void)events;
	run_http(data);
}

/* MHD keeps its own connection timeouts; wake it when it asks. */
static void schedule(struct metrics *metrics)
{
	MHD_UNSIGNED_LONG_LONG timeout;

	if (metrics->timer_id)
		loop_cancel_timer(metrics->daemon->loop, metrics->timer_id);
	metrics->timer_id = 0;
	if (MHD_get_timeout(metrics->http, &timeout) == MHD_YES)
		metrics->timer_id = loop_add_timer(metrics->daemon->loop,
						   timeout, on_timer, metrics);
}

static void stop_http(struct metrics *metrics)
{
	if (!metrics->http)
		return;
	loop_cancel_timer(metrics->daemon->loop, metrics->timer_id);
	metrics->timer_id = 0;
	loop_del_fd(metrics->daemon->loop, metrics->epoll_fd);
	MHD_stop_daemon(metrics->http);
	metrics->http = NULL;
	free(metrics->listen);
	metrics->listen = NULL;
}

static int start_http(struct metrics *metrics, const char *listen)
{
	struct sockaddr_in address = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *info;
	const char *colon = strrchr(listen, ':');
	char host[INET_ADDRSTRLEN] = "";

	/* The config validator has checked ADDRESS:PORT already. */
	memcpy(host, listen, (size_t)(colon - listen));
	inet_pton(AF_INET, host, &address.sin_addr);
	address.sin_port = htons((uint16_t)atoi(colon + 1));
	metrics->http = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, answer,
					 metrics, MHD_OPTION_SOCK_ADDR,
					 (struct sockaddr *)&address,
					 MHD_OPTION_CONNECTION_LIMIT, 16u,
					 MHD_OPTION_CONNECTION_TIMEOUT, 10u,
					 MHD_OPTION_END);
	if (!metrics->http) {
		log_err("metrics.listen: cannot listen on %s", listen);
		return -EADDRNOTAVAIL;
	}
	info = MHD_get_daemon_info(metrics->http, MHD_DAEMON_INFO_EPOLL_FD);
	metrics->epoll_fd = info->epoll_fd;
	if (loop_add_fd(metrics->daemon->loop, metrics->epoll_fd, EPOLLIN,
			on_ready, metrics) < 0) {
		MHD_stop_daemon(metrics->http);
		metrics->http = NULL;
		return -EIO;
	}
	metrics->listen = strdup(listen);
	schedule(metrics);
	log_info("metrics on http://%s/metrics", listen);
	return 0;
}

static int metrics_start(struct daemon *daemon, void **state)
{
	struct metrics *metrics = calloc(1, sizeof(*metrics));

	if (!metrics)
		return -ENOMEM;
	metrics->daemon = daemon;
	*state = metrics;
	if (daemon->config->metrics_enabled)
		start_http(metrics, daemon->config->metrics_listen);
	return 0;
}

static int metrics_reload(void *state, const struct cg_config *config)
{
	struct metrics *metrics = state;

	if (metrics->listen && config->metrics_listen &&
	    strcmp(metrics->listen, config->metrics_listen) == 0)
		return 0;
	stop_http(metrics);
	if (config->metrics_enabled)
		return start_http(metrics, config->metrics_listen);
	return 0;
}

static json_t *metrics_status(void *state)
{
	struct metrics *metrics = state;

	return json_pack("{s:s?, s:I}", "listen", metrics->listen, "scrapes",
			 (json_int_t)metrics->scrapes);
}

static void metrics_stop(void *state)
{
	struct metrics *metrics = state;

	stop_http(metrics);
	free(metrics);
}

const struct component_ops metrics_component = {
	.name = "metrics",
	.start = metrics_start,
	.reload = metrics_reload,
	.status = metrics_status,
	.stop = metrics_stop,
};
