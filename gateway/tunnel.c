/*
 * clustergated's view of the office tunnel, fed by the charon plugin.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "gateway/tunnel.h"

struct tunnel_state {
	json_t *sas;		/* array of CHILD_SA descriptions, oldest first */
	time_t since;		/* when the tunnel last went up or down */
	time_t last_report;	/* 0: never */
};

struct tunnel_state *tunnel_state_new(time_t now)
{
	struct tunnel_state *state = calloc(1, sizeof(*state));

	if (!state)
		return NULL;
	state->sas = json_array();
	if (!state->sas) {
		free(state);
		return NULL;
	}
	state->since = now;
	return state;
}

void tunnel_state_free(struct tunnel_state *state)
{
	if (!state)
		return;
	json_decref(state->sas);
	free(state);
}

static const char *string_field(json_t *object, const char *key)
{
	return json_string_value(json_object_get(object, key));
}

static bool is_string_array(json_t *value)
{
	size_t index;
	json_t *item;

	if (!json_is_array(value))
		return false;
	json_array_foreach(value, index, item)
		if (!json_is_string(item))
			return false;
	return true;
}

/* Check one CHILD_SA description from the plugin. */
static const char *check_sa(json_t *sa)
{
	if (!json_is_object(sa))
		return "a CHILD_SA must be an object";
	if (!string_field(sa, "spi_in") || !string_field(sa, "spi_out"))
		return "\"spi_in\" and \"spi_out\" must be strings";
	if (!string_field(sa, "peer"))
		return "\"peer\" must be a string";
	if (!is_string_array(json_object_get(sa, "local_ts")) ||
	    !is_string_array(json_object_get(sa, "remote_ts")))
		return "\"local_ts\" and \"remote_ts\" must be lists of strings";
	return NULL;
}

/* The CHILD_SA description kept from an event: the event minus the verbs. */
static json_t *sa_from_event(json_t *request)
{
	json_t *sa = json_deep_copy(request);

	if (sa) {
		json_object_del(sa, "command");
		json_object_del(sa, "event");
	}
	return sa;
}

static void remove_sa(json_t *sas, const char *spi_in)
{
	size_t index;

	for (index = 0; index < json_array_size(sas); index++) {
		if (strcmp(string_field(json_array_get(sas, index), "spi_in"),
			   spi_in) == 0) {
			json_array_remove(sas, index);
			return;
		}
	}
}

static void format_selectors(json_t *list, char *buf, size_t size)
{
	size_t index, used = 0;
	json_t *item;

	buf[0] = '\0';
	json_array_foreach(list, index, item) {
		int n = snprintf(buf + used, size - used, "%s%s",
				 index ? "," : "", json_string_value(item));

		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
	}
}

static void log_transition(const struct tunnel_state *state, bool was_up)
{
	bool up = json_array_size(state->sas) > 0;
	json_t *sa;
	char local[256], remote[256];

	if (up == was_up)
		return;
	if (!up) {
		log_warn("tunnel: down, no CHILD_SA to the office");
		return;
	}
	sa = json_array_get(state->sas, json_array_size(state->sas) - 1);
	format_selectors(json_object_get(sa, "local_ts"), local, sizeof(local));
	format_selectors(json_object_get(sa, "remote_ts"), remote,
			 sizeof(remote));
	log_info("tunnel: up to %s (%s), %s <-> %s, SPIs %s/%s",
		 string_field(sa, "peer"), string_field(sa, "peer_id") ?: "?",
		 local, remote, string_field(sa, "spi_in"),
		 string_field(sa, "spi_out"));
}

static int apply_sync(struct tunnel_state *state, json_t *request,
		      const char **error)
{
	json_t *sas = json_object_get(request, "sas"), *sa;
	size_t index;

	if (!json_is_array(sas)) {
		*error = "tunnel-event sync: \"sas\" must be a list";
		return -EINVAL;
	}
	json_array_foreach(sas, index, sa) {
		if ((*error = check_sa(sa)))
			return -EINVAL;
	}
	json_decref(state->sas);
	state->sas = json_deep_copy(sas);
	return state->sas ? 0 : -ENOMEM;
}

int tunnel_state_apply(struct tunnel_state *state, json_t *request,
		       time_t now, const char **error)
{
	const char *event = string_field(request, "event");
	bool was_up = json_array_size(state->sas) > 0;
	json_t *sa;
	int ret = 0;

	if (!event) {
		*error = "tunnel-event: \"event\" must be up, down or sync";
		return -EINVAL;
	}
	if (strcmp(event, "sync") == 0) {
		ret = apply_sync(state, request, error);
	} else if (strcmp(event, "up") == 0 || strcmp(event, "down") == 0) {
		if ((*error = check_sa(request)))
			return -EINVAL;
		remove_sa(state->sas, string_field(request, "spi_in"));
		if (event[0] == 'u') {
			sa = sa_from_event(request);
			if (!sa || json_array_append_new(state->sas, sa) < 0)
				return -ENOMEM;
		}
	} else {
		*error = "tunnel-event: \"event\" must be up, down or sync";
		return -EINVAL;
	}
	if (ret < 0)
		return ret;
	state->last_report = now;
	if ((json_array_size(state->sas) > 0) != was_up) {
		state->since = now;
		log_transition(state, was_up);
	}
	return 0;
}

static json_t *time_string(time_t when)
{
	char text[32];
	struct tm tm;

	if (!when || !gmtime_r(&when, &tm))
		return json_string("never");
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(text);
}

json_t *tunnel_state_status(const struct tunnel_state *state)
{
	size_t count = json_array_size(state->sas);
	json_t *status, *newest;

	/* "up" is there for the metrics endpoint: clustergate_tunnel_up */
	status = json_pack("{s:s, s:b, s:o}", "state", count ? "up" : "down",
			   "up", count > 0, "since", time_string(state->since));
	if (!status)
		return NULL;
	if (count) {
		/* the newest CHILD_SA is the one traffic moves to */
		newest = json_array_get(state->sas, count - 1);
		json_object_set(status, "peer", json_object_get(newest, "peer"));
		if (json_object_get(newest, "peer_id"))
			json_object_set(status, "peer_id",
					json_object_get(newest, "peer_id"));
		json_object_set(status, "local_ts",
				json_object_get(newest, "local_ts"));
		json_object_set(status, "remote_ts",
				json_object_get(newest, "remote_ts"));
		json_object_set(status, "spi_in",
				json_object_get(newest, "spi_in"));
		json_object_set(status, "spi_out",
				json_object_get(newest, "spi_out"));
	}
	json_object_set_new(status, "child_sas", json_integer((json_int_t)count));
	json_object_set_new(status, "last_report",
			    time_string(state->last_report));
	return status;
}

static int tunnel_start(struct daemon *daemon, void **state)
{
	(void)daemon;
	*state = tunnel_state_new(time(NULL));
	return *state ? 0 : -ENOMEM;
}

static json_t *tunnel_status(void *state)
{
	return tunnel_state_status(state);
}

static int tunnel_command(void *state, const char *command, json_t *request,
			  json_t **reply)
{
	const char *error = NULL;
	int ret;

	if (strcmp(command, "tunnel-event") != 0)
		return 0;
	ret = tunnel_state_apply(state, request, time(NULL), &error);
	if (ret < 0) {
		if (!error)
			error = strerror(-ret);
		log_warn("tunnel: ignored a report from charon: %s", error);
		*reply = json_pack("{s:b, s:s}", "ok", 0, "error", error);
	} else {
		*reply = json_pack("{s:b}", "ok", 1);
	}
	return 1;
}

static void tunnel_stop(void *state)
{
	tunnel_state_free(state);
}

const struct component_ops tunnel_component = {
	.name = "tunnel",
	.start = tunnel_start,
	.status = tunnel_status,
	.command = tunnel_command,
	.stop = tunnel_stop,
};
