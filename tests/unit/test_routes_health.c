/*
 * gateway/health.c: the rise/fall state machine, and real probes (TCP and
 * HTTP through curl multi) on the event loop against local listeners.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "gateway/health.h"
#include "gateway/loop.h"

/* ---- state machine ---- */

static bool record(struct health_counter *c, bool ok)
{
	return health_counter_record(c, ok, 2, 3);
}

static void unknown_takes_the_first_result(void **state)
{
	struct health_counter up = { HEALTH_UNKNOWN, 0, 0 };
	struct health_counter down = { HEALTH_UNKNOWN, 0, 0 };

	(void)state;
	assert_true(record(&up, true));
	assert_int_equal(up.state, HEALTH_UP);
	assert_true(record(&down, false));
	assert_int_equal(down.state, HEALTH_DOWN);
}

static void up_needs_fall_failures_in_a_row(void **state)
{
	struct health_counter c = { HEALTH_UP, 0, 0 };

	(void)state;
	assert_false(record(&c, false));
	assert_false(record(&c, false));
	assert_false(record(&c, true));	/* streak broken */
	assert_false(record(&c, false));
	assert_false(record(&c, false));
	assert_int_equal(c.state, HEALTH_UP);
	assert_true(record(&c, false));
	assert_int_equal(c.state, HEALTH_DOWN);
	assert_int_equal(c.failures, 3);
}

static void down_needs_rise_successes_in_a_row(void **state)
{
	struct health_counter c = { HEALTH_DOWN, 0, 0 };

	(void)state;
	assert_false(record(&c, true));
	assert_false(record(&c, false));	/* streak broken */
	assert_false(record(&c, true));
	assert_int_equal(c.state, HEALTH_DOWN);
	assert_true(record(&c, true));
	assert_int_equal(c.state, HEALTH_UP);
	assert_false(record(&c, true));
}

static void rise_and_fall_of_one_flip_at_once(void **state)
{
	struct health_counter c = { HEALTH_UP, 0, 0 };

	(void)state;
	assert_true(health_counter_record(&c, false, 1, 1));
	assert_int_equal(c.state, HEALTH_DOWN);
	assert_true(health_counter_record(&c, true, 1, 1));
	assert_int_equal(c.state, HEALTH_UP);
}

/* ---- probes on the loop ---- */

struct probe_run {
	struct loop *loop;
	int listener;
	bool http;			/* answer HTTP on accepted sockets */
	const char *reply;
	enum health_state seen[8];
	char detail[8][96];
	size_t changes;
	size_t stop_after;
};

static void on_change(void *data, const struct health_target_info *t,
		      enum health_state from)
{
	struct probe_run *run = data;

	(void)from;
	if (run->changes < 8) {
		run->seen[run->changes] = t->counter.state;
		strcpy(run->detail[run->changes], t->last.detail);
	}
	if (++run->changes == run->stop_after)
		loop_stop(run->loop);
}

/* An accepted probe: answer once the request arrives, without blocking. */
static void on_request(int fd, uint32_t events, void *data)
{
	struct probe_run *run = data;
	char buf[512];

	(void)events;
	if (read(fd, buf, sizeof(buf)) > 0 &&
	    write(fd, run->reply, strlen(run->reply)) < 0)
		buf[0] = 0;
	loop_del_fd(run->loop, fd);
	close(fd);
}

static void on_accept(int fd, uint32_t events, void *data)
{
	struct probe_run *run = data;
	int client = accept(fd, NULL, NULL);

	(void)events;
	if (client < 0)
		return;
	if (!run->http || loop_add_fd(run->loop, client, EPOLLIN, on_request,
				      run))
		close(client);
}

static uint16_t listen_local(struct probe_run *run)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	run->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(run->listener >= 0);
	assert_int_equal(bind(run->listener, (struct sockaddr *)&sin,
			      sizeof(sin)), 0);
	assert_int_equal(listen(run->listener, 16), 0);
	getsockname(run->listener, (struct sockaddr *)&sin, &len);
	assert_int_equal(loop_add_fd(run->loop, run->listener, EPOLLIN,
				     on_accept, run), 0);
	return ntohs(sin.sin_port);
}

static void stop_listening(void *data)
{
	struct probe_run *run = data;

	loop_del_fd(run->loop, run->listener);
	close(run->listener);
	run->listener = -1;
}

static void give_up(void *data)
{
	loop_stop(data);
}

/* Up on the first probe, then down after `fall` refused connects. */
static void run_up_then_down(enum cg_probe_method method, const char *reply,
			     const char *up_detail)
{
	struct probe_run run = { .http = method == CG_PROBE_HTTP,
				 .reply = reply, .stop_after = 2 };
	struct cg_health settings = {
		.method = method, .path = "/healthz", .interval_ms = 100,
		.timeout_ms = 80, .rise = 2, .fall = 3,
	};
	struct in_addr localhost = { htonl(INADDR_LOOPBACK) };
	struct health *health;
	uint64_t start;

	run.loop = loop_create();
	settings.port = listen_local(&run);
	health = health_create(run.loop, &settings, on_change, &run);
	assert_non_null(health);
	assert_int_equal(health_set_targets(health, &localhost, 1,
					    HEALTH_UNKNOWN), 0);
	loop_add_timer(run.loop, 250, stop_listening, &run);
	loop_add_timer(run.loop, 3000, give_up, run.loop);
	start = loop_now_ms();
	loop_run(run.loop);
	assert_int_equal(run.changes, 2);
	assert_int_equal(run.seen[0], HEALTH_UP);
	assert_string_equal(run.detail[0], up_detail);
	assert_int_equal(run.seen[1], HEALTH_DOWN);
	assert_string_equal(run.detail[1], "Connection refused");
	/* Three refused probes at 100 ms intervals after the stop at 250. */
	assert_in_range(loop_now_ms() - start, 450, 800);
	assert_int_equal(health_find(health, localhost)->counter.failures, 3);
	health_destroy(health);
	loop_destroy(run.loop);
}

static void tcp_probe_goes_up_then_down(void **state)
{
	(void)state;
	run_up_then_down(CG_PROBE_TCP, NULL, "connected");
}

static void http_probe_goes_up_then_down(void **state)
{
	(void)state;
	run_up_then_down(CG_PROBE_HTTP,
			 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
			 "Connection: close\r\n\r\nok", "HTTP 200");
}

static void http_503_is_a_failure(void **state)
{
	struct probe_run run = { .http = true, .stop_after = 1,
				 .reply = "HTTP/1.1 503 Service Unavailable\r\n"
					  "Content-Length: 0\r\n"
					  "Connection: close\r\n\r\n" };
	struct cg_health settings = {
		.method = CG_PROBE_HTTP, .path = "/healthz",
		.interval_ms = 100, .timeout_ms = 80, .rise = 2, .fall = 3,
	};
	struct in_addr localhost = { htonl(INADDR_LOOPBACK) };
	struct health *health;

	(void)state;
	run.loop = loop_create();
	settings.port = listen_local(&run);
	health = health_create(run.loop, &settings, on_change, &run);
	assert_int_equal(health_set_targets(health, &localhost, 1,
					    HEALTH_UNKNOWN), 0);
	loop_add_timer(run.loop, 3000, give_up, run.loop);
	loop_run(run.loop);
	assert_int_equal(run.changes, 1);
	assert_int_equal(run.seen[0], HEALTH_DOWN);
	assert_string_equal(run.detail[0], "HTTP 503");
	health_destroy(health);
	stop_listening(&run);
	loop_destroy(run.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unknown_takes_the_first_result),
		cmocka_unit_test(up_needs_fall_failures_in_a_row),
		cmocka_unit_test(down_needs_rise_successes_in_a_row),
		cmocka_unit_test(rise_and_fall_of_one_flip_at_once),
		cmocka_unit_test(tcp_probe_goes_up_then_down),
		cmocka_unit_test(http_probe_goes_up_then_down),
		cmocka_unit_test(http_503_is_a_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
