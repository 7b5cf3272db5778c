/*
 * The pure half of routes_sync(): from what the kernel holds and what is
 * desired, the ordered list of netlink operations that gets from one to the
 * other. No I/O here, so it is unit-tested directly (tests/unit).
 *
 * Order matters and is fixed: new node nexthops, then groups (created or
 * replaced in place), then routes pointing at new groups, then deletions of
 * our routes, groups and nexthops that nothing wants any more.
 */
#ifndef CLUSTERGATE_ROUTES_PLAN_H
#define CLUSTERGATE_ROUTES_PLAN_H

#include "routes/routes.h"

/* First id tried for new nexthops; ids in use by anyone are skipped. */
#define ROUTES_FIRST_ID 0x43470001u	/* "CG" */

/* A nexthop as the kernel dumped it (any protocol). */
struct routes_kernel_nexthop {
	uint32_t id;
	uint8_t protocol;
	bool is_group;
	struct in_addr gateway;		/* single nexthops */
	uint32_t ifindex;
	uint16_t group_type;		/* groups: NEXTHOP_GRP_TYPE_* */
	uint32_t *members;		/* groups: member ids, owned */
	size_t member_count;
};

/* One of our routes (ROUTES_PROTOCOL) as the kernel dumped it. */
struct routes_kernel_route {
	uint32_t table;
	struct cg_cidr prefix;
	uint32_t nhid;			/* 0: not a nexthop-object route */
};

struct routes_kernel_state {
	struct routes_kernel_nexthop *nexthops;	/* every protocol */
	size_t nexthop_count;
	struct routes_kernel_route *routes;	/* ours only */
	size_t route_count;
};

/* A node address and the interface it is on-link through. */
struct routes_node_link {
	struct in_addr address;
	uint32_t ifindex;
};

enum routes_op_kind {
	ROUTES_OP_NEXTHOP_ADD,
	ROUTES_OP_GROUP_ADD,
	ROUTES_OP_GROUP_REPLACE,
	ROUTES_OP_ROUTE_REPLACE,
	ROUTES_OP_ROUTE_DELETE,
	ROUTES_OP_NEXTHOP_DELETE,	/* node nexthops and groups alike */
};

struct routes_op {
	enum routes_op_kind kind;
	uint32_t id;			/* nexthop or group id; route's nhid */
	struct in_addr gateway;		/* NEXTHOP_ADD */
	uint32_t ifindex;		/* NEXTHOP_ADD */
	uint16_t group_type;		/* GROUP_ADD, GROUP_REPLACE */
	uint32_t *members;		/* GROUP_*: sorted ids, owned */
	size_t member_count;
	uint32_t table;			/* ROUTE_* */
	struct cg_cidr prefix;		/* ROUTE_* */
	bool is_group;			/* NEXTHOP_DELETE: for the summary */
};

struct routes_plan {
	struct routes_op *ops;
	size_t count;
};

/*
 * Build the plan. links holds the resolved node addresses; desired nodes
 * missing from links are left out of their groups. new_group_type is used
 * for groups created now; existing groups keep their type (the kernel
 * cannot change it in place). Returns 0 or -ENOMEM; free with
 * routes_plan_free().
 */
int routes_plan_build(const struct routes_desired *desired,
		      const struct routes_node_link *links, size_t link_count,
		      const struct routes_kernel_state *kernel,
		      uint16_t new_group_type, struct routes_plan *plan);
void routes_plan_free(struct routes_plan *plan);

void routes_kernel_state_free(struct routes_kernel_state *kernel);

/* The nexthop with this id in kernel, or NULL. */
const struct routes_kernel_nexthop *
routes_kernel_find_nexthop(const struct routes_kernel_state *kernel,
			   uint32_t id);

#endif
