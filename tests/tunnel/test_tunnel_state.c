/*
 * clustergated's tunnel state: events from the charon plugin move it up and
 * down, a rekeying never shows it down, a sync replaces what was known, and
 * malformed reports are refused with a message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "gateway/log.h"
#include "gateway/tunnel.h"

#define SA_FMT "\"peer\": \"198.51.100.10\", \"peer_id\": \"office.example\", " \
	"\"child\": \"clustergate\", \"local_ts\": [\"10.0.0.0/20\", " \
	"\"10.0.56.0/21\"], \"remote_ts\": [\"172.16.0.0/24\"], " \
	"\"spi_in\": \"%s\", \"spi_out\": \"%s\", \"time\": 1764918000"

static int apply(struct tunnel_state *state, const char *event,
		 const char *spi_in, time_t now, const char **error)
{
	char text[1024];
	json_t *request;
	int ret;

	snprintf(text, sizeof(text), "{\"command\": \"tunnel-event\", "
		 "\"event\": \"%s\", " SA_FMT "}", event, spi_in, "0000beef");
	request = json_loads(text, 0, NULL);
	assert_non_null(request);
	ret = tunnel_state_apply(state, request, now, error);
	json_decref(request);
	return ret;
}

static const char *field(json_t *status, const char *key)
{
	return json_string_value(json_object_get(status, key));
}

static void test_up_down(void **unused)
{
	struct tunnel_state *state = tunnel_state_new(100);
	const char *error = NULL;
	json_t *status;

	(void)unused;
	status = tunnel_state_status(state);
	assert_string_equal(field(status, "state"), "down");
	assert_true(json_is_false(json_object_get(status, "up")));
	assert_string_equal(field(status, "last_report"), "never");
	json_decref(status);

	assert_int_equal(apply(state, "up", "c1f5e0a2", 1764918000, &error), 0);
	status = tunnel_state_status(state);
	assert_string_equal(field(status, "state"), "up");
	assert_true(json_is_true(json_object_get(status, "up")));
	assert_string_equal(field(status, "since"), "2025-12-05T07:00:00Z");
	assert_string_equal(field(status, "peer"), "198.51.100.10");
	assert_string_equal(field(status, "spi_in"), "c1f5e0a2");
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(status, "local_ts"), 1)), "10.0.56.0/21");
	assert_int_equal(json_integer_value(json_object_get(status,
							    "child_sas")), 1);
	json_decref(status);

	assert_int_equal(apply(state, "down", "c1f5e0a2", 1764918060, &error),
			 0);
	status = tunnel_state_status(state);
	assert_string_equal(field(status, "state"), "down");
	assert_string_equal(field(status, "since"), "2025-12-05T07:01:00Z");
	assert_null(json_object_get(status, "spi_in"));
	json_decref(status);
	tunnel_state_free(state);
}

/* The plugin reports a rekeying as new-up, then old-down. */
static void test_rekey_stays_up(void **unused)
{
	struct tunnel_state *state = tunnel_state_new(100);
	const char *error = NULL;
	json_t *status;

	(void)unused;
	apply(state, "up", "00000001", 1000, &error);
	apply(state, "up", "00000002", 2000, &error);
	apply(state, "down", "00000001", 2000, &error);
	status = tunnel_state_status(state);
	assert_string_equal(field(status, "state"), "up");
	assert_string_equal(field(status, "spi_in"), "00000002");
	/* up since the first CHILD_SA, not since the rekeying */
	assert_string_equal(field(status, "since"), "1970-01-01T00:16:40Z");
	assert_int_equal(json_integer_value(json_object_get(status,
							    "child_sas")), 1);
	json_decref(status);
	tunnel_state_free(state);
}

static void test_sync_replaces(void **unused)
{
	struct tunnel_state *state = tunnel_state_new(100);
	const char *error = NULL;
	char text[1024];
	json_t *request, *status;

	(void)unused;
	apply(state, "up", "00000001", 1000, &error);
	snprintf(text, sizeof(text), "{\"command\": \"tunnel-event\", "
		 "\"event\": \"sync\", \"sas\": [{" SA_FMT "}]}",
		 "00000009", "0000000a");
	request = json_loads(text, 0, NULL);
	assert_int_equal(tunnel_state_apply(state, request, 3000, &error), 0);
	json_decref(request);
	status = tunnel_state_status(state);
	assert_string_equal(field(status, "spi_in"), "00000009");
	assert_int_equal(json_integer_value(json_object_get(status,
							    "child_sas")), 1);
	json_decref(status);

	request = json_loads("{\"command\": \"tunnel-event\", \"event\": "
			     "\"sync\", \"sas\": []}", 0, NULL);
	assert_int_equal(tunnel_state_apply(state, request, 4000, &error), 0);
	json_decref(request);
	status = tunnel_state_status(state);
	assert_string_equal(field(status, "state"), "down");
	json_decref(status);
	tunnel_state_free(state);
}

static void test_malformed(void **unused)
{
	struct tunnel_state *state = tunnel_state_new(100);
	const char *error = NULL;
	json_t *request, *status;

	(void)unused;
	assert_int_equal(apply(state, "sideways", "00000001", 1000, &error),
			 -EINVAL);
	assert_string_equal(error, "tunnel-event: \"event\" must be up, down "
			    "or sync");
	request = json_loads("{\"command\": \"tunnel-event\", \"event\": "
			     "\"up\", \"peer\": \"198.51.100.10\", "
			     "\"spi_in\": \"1\", \"spi_out\": \"2\", "
			     "\"local_ts\": \"10.0.0.0/20\", "
			     "\"remote_ts\": []}", 0, NULL);
	assert_int_equal(tunnel_state_apply(state, request, 1000, &error),
			 -EINVAL);
	assert_string_equal(error, "\"local_ts\" and \"remote_ts\" must be "
			    "lists of strings");
	json_decref(request);
	request = json_loads("{\"event\": \"sync\", \"sas\": [{}]}", 0, NULL);
	assert_int_equal(tunnel_state_apply(state, request, 1000, &error),
			 -EINVAL);
	json_decref(request);
	status = tunnel_state_status(state);
	assert_string_equal(field(status, "state"), "down");
	assert_string_equal(field(status, "last_report"), "never");
	json_decref(status);
	tunnel_state_free(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_up_down),
		cmocka_unit_test(test_rekey_stays_up),
		cmocka_unit_test(test_sync_replaces),
		cmocka_unit_test(test_malformed),
	};

	log_open("test", LOG_EMERG, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
