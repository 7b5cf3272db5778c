/* The event loop: timers fire in order, cancelled ones never, fds wake it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "gateway/loop.h"

struct record {
	struct loop *loop;
	char order[8];
	int count;
};

static void mark(struct record *rec, char c)
{
	rec->order[rec->count++] = c;
	if (rec->count == 3)
		loop_stop(rec->loop);
}

static void timer_a(void *data) { mark(data, 'a'); }
static void timer_b(void *data) { mark(data, 'b'); }
static void timer_never(void *data) { mark(data, 'X'); }

static void on_readable(int fd, uint32_t events, void *data)
{
	char byte;

	assert_true(events & EPOLLIN);
	assert_int_equal(read(fd, &byte, 1), 1);
	mark(data, byte);
}

static void test_timers_and_fds(void **state)
{
	struct record rec = { .loop = loop_create() };
	uint64_t start, never;
	int pipe_fds[2];

	(void)state;
	assert_non_null(rec.loop);
	assert_int_equal(pipe(pipe_fds), 0);
	assert_int_equal(loop_add_fd(rec.loop, pipe_fds[0], EPOLLIN,
				     on_readable, &rec), 0);
	assert_int_equal(write(pipe_fds[1], "p", 1), 1);
	loop_add_timer(rec.loop, 60, timer_b, &rec);
	loop_add_timer(rec.loop, 20, timer_a, &rec);
	never = loop_add_timer(rec.loop, 40, timer_never, &rec);
	assert_int_not_equal(never, 0);
	loop_cancel_timer(rec.loop, never);
	start = loop_now_ms();
	assert_int_equal(loop_run(rec.loop), 0);
	assert_true(loop_now_ms() - start >= 60);
	assert_memory_equal(rec.order, "pab", 3);
	loop_del_fd(rec.loop, pipe_fds[0]);
	loop_destroy(rec.loop);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_and_fds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
