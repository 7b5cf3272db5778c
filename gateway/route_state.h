/*
 * The route component's state, shared by route_component.c (behaviour)
 * and route_status.c (its `clustergate status` section). Private to them.
 */
#ifndef CLUSTERGATE_ROUTE_STATE_H
#define CLUSTERGATE_ROUTE_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "gateway/config.h"
#include "gateway/health.h"
#include "routes/target.h"

struct loop;

struct route_node {
	char *name;
	struct in_addr address;
	bool ready;
	bool schedulable;
	bool deleting;
	bool has_pod_cidr;
	struct cg_cidr pod_cidr;
};

struct route_state {
	struct loop *loop;
	/* From the running config. */
	bool service_routes;		/* services.mode == route */
	bool pod_routes;		/* nodes.pod_cidr_routes */
	bool from_api;
	uint32_t table;
	struct cg_cidr service_cidr;
	struct cg_health probe;		/* path borrowed from the config */
	uint32_t probe_timeout_ms;
	struct route_target *target;
	struct health *health;
	struct route_node *nodes;
	size_t node_count;
	bool have_nodes;		/* a node list arrived (API mode) */
	struct in_addr *group;		/* service CIDR members in the kernel */
	size_t group_count;
	bool no_healthy;		/* keeping the last group */
	uint64_t no_healthy_since_ms;
	uint64_t reminder_timer;	/* repeats the no-healthy warning */
	uint64_t sync_timer;
	uint64_t settle_until_ms;
	time_t last_sync;
	char last_error[256];
};

static inline bool eligible(const struct route_node *node)
{
	return node->ready && node->schedulable && !node->deleting;
}

static inline bool in_list(const struct in_addr *list, size_t count,
			   struct in_addr address)
{
	for (size_t i = 0; i < count; i++)
		if (list[i].s_addr == address.s_addr)
			return true;
	return false;
}

/* Route mode or pod CIDR routes: the component has work to do. */
static inline bool active(const struct route_state *s)
{
	return s->service_routes || s->pod_routes;
}

/* The "nodes" section of `clustergate status`. */
json_t *route_status(void *state);

#endif
