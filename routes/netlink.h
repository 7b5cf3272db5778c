/*
 * routes/ internal: one rtnetlink socket, request/ack and dump helpers,
 * and the kernel's error text (extended ack) kept for the caller.
 */
#ifndef CLUSTERGATE_ROUTES_NETLINK_H
#define CLUSTERGATE_ROUTES_NETLINK_H

#include <libmnl/libmnl.h>

#include "routes/plan.h"
#include "routes/routes.h"

struct routes {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	int resilient;			/* 1 yes, 0 no, -1 not tried yet */
	char error[256];
};

/* Called for each reply message of a request or dump. Return 0 or -errno. */
typedef int (*routes_msg_cb)(const struct nlmsghdr *nlh, void *data);

/*
 * Send nlh (seq and portid are filled in) and read until the ack, or until
 * NLMSG_DONE for a dump (NLM_F_DUMP). Messages in between go to cb (may be
 * NULL). Returns 0 or the kernel's -errno; on error r->error holds the
 * kernel's message if it sent one.
 */
int routes_nl_talk(struct routes *r, struct nlmsghdr *nlh, routes_msg_cb cb,
		   void *data);

/* Printf into r->error; returns err for tail calls. */
int routes_fail(struct routes *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Dumps of the kernel state (kernel.c). */
int routes_kernel_read(struct routes *r, struct routes_kernel_state *state);

/* Operations (kernel.c). */
int routes_nexthop_add(struct routes *r, uint32_t id, struct in_addr gateway,
		       uint32_t ifindex);
int routes_group_set(struct routes *r, uint32_t id, uint16_t type,
		     const uint32_t *members, size_t count, bool replace);
int routes_nexthop_delete(struct routes *r, uint32_t id);
int routes_route_replace(struct routes *r, uint32_t table,
			 const struct cg_cidr *prefix, uint32_t nhid);
int routes_route_delete(struct routes *r, uint32_t table,
			const struct cg_cidr *prefix);
/* The interface through which address is on-link; -ENETUNREACH if the
 * kernel routes it via a gateway, -EADDRNOTAVAIL if it is local. */
int routes_resolve_link(struct routes *r, struct in_addr address,
			uint32_t *ifindex);

#endif
