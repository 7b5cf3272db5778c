/*
 * Watch stream framing: events arrive in chunks cut anywhere; every event
 * line comes out whole, once, whatever the cuts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/k8s_lines.h"

struct collected {
	char text[4096];
	int count;
	int stop_at;		/* return 1 at this line number (1-based) */
};

static int collect(void *data, const char *line, size_t length)
{
	struct collected *c = data;

	strncat(c->text, line, length);
	strcat(c->text, "|");
	c->count++;
	return c->count == c->stop_at;
}

static const char stream[] =
	"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
	"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"7\"}}}\r\n"
	"\n"
	"{\"type\":\"DELETED\",\"object\":{}}\n";
static const char expected[] =
	"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}|"
	"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"7\"}}}|"
	"{\"type\":\"DELETED\",\"object\":{}}|";

/* Every pair of cut points: three pieces of every size. */
static void test_any_chunking(void **state)
{
	size_t length = strlen(stream);

	(void)state;
	for (size_t a = 0; a <= length; a++) {
		for (size_t b = a; b <= length; b++) {
			struct collected c = { .stop_at = -1 };
			struct k8s_lines lines;

			k8s_lines_init(&lines, 1024);
			assert_int_equal(k8s_lines_feed(&lines, stream, a,
							collect, &c), 0);
			assert_int_equal(k8s_lines_feed(&lines, stream + a,
							b - a, collect, &c), 0);
			assert_int_equal(k8s_lines_feed(&lines, stream + b,
							length - b, collect,
							&c), 0);
			assert_string_equal(c.text, expected);
			assert_int_equal(c.count, 3);
			k8s_lines_free(&lines);
		}
	}
}

static void test_partial_line_waits(void **state)
{
	struct collected c = { .stop_at = -1 };
	struct k8s_lines lines;

	(void)state;
	k8s_lines_init(&lines, 1024);
	assert_int_equal(k8s_lines_feed(&lines, "{\"type\":", 8, collect, &c),
			 0);
	assert_int_equal(c.count, 0);
	/* a new response starts: the partial line is dropped */
	k8s_lines_reset(&lines);
	assert_int_equal(k8s_lines_feed(&lines, "{}\n", 3, collect, &c), 0);
	assert_string_equal(c.text, "{}|");
	k8s_lines_free(&lines);
}

static void test_stop_and_limits(void **state)
{
	struct collected c = { .stop_at = 2 };
	struct k8s_lines lines;
	char big[300];

	(void)state;
	k8s_lines_init(&lines, 100);
	assert_int_equal(k8s_lines_feed(&lines, "a\nb\nc\n", 6, collect, &c),
			 1);
	assert_string_equal(c.text, "a|b|");
	memset(big, 'x', sizeof(big));
	/* too long in one piece, and too long accumulated over pieces */
	k8s_lines_reset(&lines);
	big[200] = '\n';
	assert_int_equal(k8s_lines_feed(&lines, big, 201, collect, &c),
			 -E2BIG);
	k8s_lines_reset(&lines);
	assert_int_equal(k8s_lines_feed(&lines, big, 60, collect, &c), 0);
	assert_int_equal(k8s_lines_feed(&lines, big, 60, collect, &c),
			 -E2BIG);
	k8s_lines_free(&lines);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_any_chunking),
		cmocka_unit_test(test_partial_line_waits),
		cmocka_unit_test(test_stop_and_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
