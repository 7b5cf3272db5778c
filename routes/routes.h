/*
 * routes/: the route manager. It steers prefixes (the service CIDR, and
 * optionally each node's pod CIDR) to cluster nodes with kernel nexthop
 * objects, over netlink (libmnl). It never shells out to `ip`.
 *
 * Layout in the kernel, for each destination prefix:
 *
 *   nexthop <id N> via <node address> dev <oif> proto clustergate  (one per node)
 *   nexthop <id G> group N1/N2/... type resilient proto clustergate
 *   <prefix> nhid G proto clustergate table <table>
 *
 * Adding or removing a node replaces group G in place: one netlink message,
 * the route itself is never rewritten. Resilient groups keep flows to the
 * surviving nodes on their node; kernels without them get a hash-threshold
 * (mpath) group instead.
 *
 * Everything carries protocol ROUTES_PROTOCOL. routes/ only ever reads,
 * changes or deletes objects with that protocol, so it coexists with routes
 * and nexthops that others created. It keeps no hidden state: every sync
 * dumps the kernel and diffs, so a restarted daemon picks up exactly where
 * the previous one left off and changes nothing that is already right.
 *
 * Nothing here knows Kubernetes, JSON or health probes: callers hand in
 * plain structs of addresses.
 */
#ifndef CLUSTERGATE_ROUTES_H
#define CLUSTERGATE_ROUTES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/config.h"

/*
 * rtm_protocol / nh_protocol of everything clustergate creates. Unused by
 * the kernel, iproute2 and the common routing daemons; named "clustergate"
 * by etc/iproute2/rt_protos.d/clustergate.conf.
 */
#define ROUTES_PROTOCOL 97

/*
 * Resilient group shape: buckets per group (also the most nodes a group can
 * hold; fixed when the group is created) and the idle time (seconds) after
 * which a bucket may move to a node that joined.
 */
#define ROUTES_RES_BUCKETS 512
#define ROUTES_RES_IDLE_TIMER_S 10

/* One destination prefix and the nodes (on-link gateways) that carry it. */
struct routes_destination {
	struct cg_cidr prefix;
	struct in_addr *nodes;		/* node addresses, borrowed */
	size_t node_count;		/* 0: no route for this prefix */
};

/* The whole desired state. Anything of ours not in it is removed. */
struct routes_desired {
	uint32_t table;			/* routing table, e.g. 254 (main) */
	struct routes_destination *destinations;	/* borrowed */
	size_t count;
};

/* What a sync changed, for the log. */
struct routes_sync_result {
	unsigned nexthops_added;
	unsigned nexthops_deleted;
	unsigned groups_added;
	unsigned groups_replaced;
	unsigned groups_deleted;
	unsigned routes_replaced;
	unsigned routes_deleted;
};

struct routes;

/*
 * Open a netlink handle in the caller's network namespace.
 * Returns 0 and sets *out, or -errno.
 */
int routes_open(struct routes **out);
void routes_close(struct routes *routes);

/*
 * Make the kernel hold exactly desired (for objects of ROUTES_PROTOCOL).
 * Node addresses must be on-link (reachable without a gateway); a node that
 * is not is reported and left out of its groups. result may be NULL.
 * Returns 0, or -errno of the first failing netlink operation (the kernel
 * then holds a partial update; the next sync completes it).
 * error, if not NULL, receives a message (static buffer in routes) naming
 * the failing object.
 */
int routes_sync(struct routes *routes, const struct routes_desired *desired,
		struct routes_sync_result *result, const char **error);

/*
 * The node addresses of the group that our route for prefix in table points
 * at now. Returns the count (0 if there is no such route) and sets *nodes to
 * a malloc'd array the caller frees, or -errno.
 */
int routes_current(struct routes *routes, uint32_t table,
		   const struct cg_cidr *prefix, struct in_addr **nodes);

/*
 * Remove every route, nexthop group, nexthop and policy rule of
 * ROUTES_PROTOCOL, in every table. *removed (may be NULL) gets the count.
 * Returns 0 or -errno.
 */
int routes_cleanup(struct routes *routes, unsigned *removed);

/*
 * Pin one flow path for diagnostics: packets with firewall mark `mark` to
 * destination/32 go via node, through a policy rule (priority `priority`)
 * and a host route in `table`, both of ROUTES_PROTOCOL. routes_unpin()
 * removes both. Used by `clustergate doctor` to test each node in turn
 * without touching the service route that carries real traffic.
 */
int routes_pin(struct routes *routes, uint32_t mark, uint32_t table,
	       uint32_t priority, struct in_addr destination,
	       struct in_addr node);
int routes_unpin(struct routes *routes, uint32_t mark, uint32_t table,
		 uint32_t priority, struct in_addr destination);

/* The last error message (also returned through routes_sync's error). */
const char *routes_last_error(const struct routes *routes);

#endif
