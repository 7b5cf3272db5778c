/*
 * Node health probes for the route manager: an HTTP GET of kube-proxy's
 * healthz (http://NODE:10256/healthz by default) through libcurl's multi
 * interface, or a plain TCP connect, every interval, on the daemon's loop.
 *
 * A node turns up after `rise` good probes in a row and down after `fall`
 * bad ones. A node whose state is not known yet takes the state of its
 * first probe, so a fresh start routes as soon as nodes answer; a node can
 * also be seeded with a state (e.g. "up" because the kernel's group already
 * holds it after a restart), and then needs the full `fall` to leave.
 */
#ifndef CLUSTERGATE_HEALTH_H
#define CLUSTERGATE_HEALTH_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "gateway/config.h"

struct loop;

enum health_state {
	HEALTH_UNKNOWN,
	HEALTH_UP,
	HEALTH_DOWN,
};

/* "unknown", "up", "down". */
const char *health_state_name(enum health_state state);

/* The rise/fall state machine of one node, on its own for unit tests. */
struct health_counter {
	enum health_state state;
	uint32_t successes;		/* good probes in a row */
	uint32_t failures;		/* bad probes in a row */
};

/* Count one probe result. Returns true if counter->state changed. */
bool health_counter_record(struct health_counter *counter, bool success,
			   uint32_t rise, uint32_t fall);

struct health_probe_result {
	bool ok;
	char detail[96];		/* "HTTP 200", "timed out after 1000 ms" */
	time_t at;			/* wall clock, for status */
	uint64_t at_ms;			/* monotonic */
	uint32_t latency_ms;
};

struct health_target_info {
	struct in_addr address;
	struct health_counter counter;
	bool probed;			/* last is valid */
	struct health_probe_result last;
	uint64_t state_since_ms;	/* monotonic time of the last change */
};

/* Called on every state change, from the loop. */
typedef void (*health_change_cb)(void *data,
				 const struct health_target_info *target,
				 enum health_state from);

struct health;

/*
 * settings is copied. Returns a new prober with no targets, or NULL with
 * errno set. Free with health_destroy().
 */
struct health *health_create(struct loop *loop,
			     const struct cg_health *settings,
			     health_change_cb cb, void *data);
void health_destroy(struct health *health);

/* New settings; counters and states are kept. 0 or -ENOMEM. */
int health_set_settings(struct health *health,
			const struct cg_health *settings);

/*
 * Probe exactly these addresses. Targets already probed keep their state;
 * new ones start at `initial` and are probed at once. 0 or -ENOMEM.
 */
int health_set_targets(struct health *health, const struct in_addr *addresses,
		       size_t count, enum health_state initial);

/* Force the state of one target (no callback). 0 or -ENOENT. */
int health_seed(struct health *health, struct in_addr address,
		enum health_state state);

/* The target's current info, or NULL. Valid until the next call here. */
const struct health_target_info *health_find(const struct health *health,
					     struct in_addr address);

#endif
