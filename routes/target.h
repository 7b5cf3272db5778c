/*
 * A route target: where the steering of prefixes to nodes happens. Today
 * that is the gateway's own kernel (route_target_kernel_create), when the
 * gateway has a NIC on the nodes' subnet. A cloud VPC route-table target
 * (changed through the provider's API) plugs in behind the same ops.
 */
#ifndef CLUSTERGATE_ROUTES_TARGET_H
#define CLUSTERGATE_ROUTES_TARGET_H

#include "routes/routes.h"

struct route_target;

struct route_target_ops {
	const char *name;		/* "kernel", for logs and status */
	/* Make the target hold exactly desired. As routes_sync(). */
	int (*sync)(struct route_target *target,
		    const struct routes_desired *desired,
		    struct routes_sync_result *result, const char **error);
	/* Nodes the prefix is steered to now. As routes_current(). */
	int (*current)(struct route_target *target, uint32_t table,
		       const struct cg_cidr *prefix, struct in_addr **nodes);
	/* Remove everything of ours. As routes_cleanup(). */
	int (*cleanup)(struct route_target *target, unsigned *removed);
	void (*destroy)(struct route_target *target);
};

struct route_target {
	const struct route_target_ops *ops;
};

/* The kernel target in the caller's network namespace. 0 or -errno. */
int route_target_kernel_create(struct route_target **out);

#endif
