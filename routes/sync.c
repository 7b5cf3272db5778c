/* routes_sync(), routes_current(), routes_cleanup(): dump, plan, apply. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/nexthop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/netlink.h"

int routes_rules_cleanup(struct routes *r, unsigned *removed);

static bool resilient_unsupported(int err)
{
	return err == -EINVAL || err == -EOPNOTSUPP || err == -ERANGE;
}

/* Create a group; learn once whether the kernel has resilient groups. */
static int add_group(struct routes *r, struct routes_op *op)
{
	int err;

	if (op->group_type == NEXTHOP_GRP_TYPE_RES && r->resilient == 0)
		op->group_type = NEXTHOP_GRP_TYPE_MPATH;
	err = routes_group_set(r, op->id, op->group_type, op->members,
			       op->member_count, false);
	if (op->group_type == NEXTHOP_GRP_TYPE_RES && r->resilient < 0) {
		if (!err) {
			r->resilient = 1;
		} else if (resilient_unsupported(err)) {
			r->resilient = 0;
			op->group_type = NEXTHOP_GRP_TYPE_MPATH;
			err = routes_group_set(r, op->id, op->group_type,
					       op->members, op->member_count,
					       false);
		}
	}
	return err;
}

static int apply_op(struct routes *r, struct routes_op *op,
		    struct routes_sync_result *result)
{
	int err = 0;

	switch (op->kind) {
	case ROUTES_OP_NEXTHOP_ADD:
		err = routes_nexthop_add(r, op->id, op->gateway, op->ifindex);
		result->nexthops_added += !err;
		break;
	case ROUTES_OP_GROUP_ADD:
		err = add_group(r, op);
		result->groups_added += !err;
		break;
	case ROUTES_OP_GROUP_REPLACE:
		err = routes_group_set(r, op->id, op->group_type, op->members,
				       op->member_count, true);
		result->groups_replaced += !err;
		break;
	case ROUTES_OP_ROUTE_REPLACE:
		err = routes_route_replace(r, op->table, &op->prefix, op->id);
		result->routes_replaced += !err;
		break;
	case ROUTES_OP_ROUTE_DELETE:
		err = routes_route_delete(r, op->table, &op->prefix);
		result->routes_deleted += !err;
		break;
	case ROUTES_OP_NEXTHOP_DELETE:
		err = routes_nexthop_delete(r, op->id);
		if (op->is_group)
			result->groups_deleted += !err;
		else
			result->nexthops_deleted += !err;
		break;
	}
	return err;
}

static bool has_link(const struct routes_node_link *links, size_t count,
		     struct in_addr address)
{
	for (size_t i = 0; i < count; i++)
		if (links[i].address.s_addr == address.s_addr)
			return true;
	return false;
}

/*
 * Resolve each distinct node address to its on-link interface. Nodes that
 * do not resolve are left out; the first such error is returned in
 * *resolve_err (its message stays in r->error).
 */
static int resolve_links(struct routes *r, const struct routes_desired *desired,
			 struct routes_node_link **links, size_t *count,
			 int *resolve_err, char *resolve_msg, size_t msg_size)
{
	size_t max = 1;

	for (size_t d = 0; d < desired->count; d++)
		max += desired->destinations[d].node_count;
	*links = calloc(max, sizeof(**links));
	if (!*links)
		return -ENOMEM;
	*count = 0;
	*resolve_err = 0;
	for (size_t d = 0; d < desired->count; d++) {
		const struct routes_destination *dest =
			&desired->destinations[d];

		for (size_t n = 0; n < dest->node_count; n++) {
			struct routes_node_link *link = &(*links)[*count];
			int err;

			if (has_link(*links, *count, dest->nodes[n]))
				continue;
			err = routes_resolve_link(r, dest->nodes[n],
						  &link->ifindex);
			if (err) {
				if (!*resolve_err) {
					*resolve_err = err;
					snprintf(resolve_msg, msg_size, "%s",
						 r->error);
				}
				continue;
			}
			link->address = dest->nodes[n];
			(*count)++;
		}
	}
	return 0;
}

int routes_sync(struct routes *r, const struct routes_desired *desired,
		struct routes_sync_result *result, const char **error)
{
	struct routes_sync_result ignored;
	struct routes_kernel_state kernel;
	struct routes_node_link *links = NULL;
	struct routes_plan plan = { 0 };
	char resolve_msg[sizeof(r->error)] = "";
	size_t link_count = 0;
	int resolve_err, err;

	if (!result)
		result = &ignored;
	memset(result, 0, sizeof(*result));
	r->error[0] = '\0';
	err = resolve_links(r, desired, &links, &link_count, &resolve_err,
			    resolve_msg, sizeof(resolve_msg));
	if (!err)
		err = routes_kernel_read(r, &kernel);
	if (!err) {
		err = routes_plan_build(desired, links, link_count, &kernel,
					r->resilient == 0 ?
					NEXTHOP_GRP_TYPE_MPATH :
					NEXTHOP_GRP_TYPE_RES, &plan);
		routes_kernel_state_free(&kernel);
		if (err)
			routes_fail(r, err, "planning routes: out of memory");
	}
	for (size_t i = 0; !err && i < plan.count; i++)
		err = apply_op(r, &plan.ops[i], result);
	routes_plan_free(&plan);
	free(links);
	if (!err && resolve_err) {
		err = resolve_err;
		snprintf(r->error, sizeof(r->error), "%s", resolve_msg);
	}
	if (error)
		*error = r->error;
	return err;
}

int routes_current(struct routes *r, uint32_t table,
		   const struct cg_cidr *prefix, struct in_addr **nodes)
{
	const struct routes_kernel_nexthop *group = NULL;
	struct routes_kernel_state kernel;
	size_t count = 0;
	int err;

	*nodes = NULL;
	err = routes_kernel_read(r, &kernel);
	if (err)
		return err;
	for (size_t i = 0; i < kernel.route_count && !group; i++) {
		const struct routes_kernel_route *route = &kernel.routes[i];

		if (route->table == table &&
		    route->prefix.address.s_addr == prefix->address.s_addr &&
		    route->prefix.prefix_len == prefix->prefix_len)
			group = routes_kernel_find_nexthop(&kernel,
							   route->nhid);
	}
	if (group && group->is_group) {
		*nodes = calloc(group->member_count + 1, sizeof(**nodes));
		if (!*nodes) {
			routes_kernel_state_free(&kernel);
			return -ENOMEM;
		}
		for (size_t i = 0; i < group->member_count; i++) {
			const struct routes_kernel_nexthop *member =
				routes_kernel_find_nexthop(&kernel,
							   group->members[i]);

			if (member && !member->is_group)
				(*nodes)[count++] = member->gateway;
		}
	}
	routes_kernel_state_free(&kernel);
	return (int)count;
}

int routes_cleanup(struct routes *r, unsigned *removed)
{
	struct routes_desired nothing = { 0 };
	struct routes_sync_result result;
	unsigned rules = 0;
	int err;

	struct routes_kernel_state kernel;

	err = routes_sync(r, &nothing, &result, NULL);
	if (!err)
		err = routes_rules_cleanup(r, &rules);
	if (!err)
		err = routes_kernel_read(r, &kernel);
	if (!err) {
		for (size_t i = 0; !err && i < kernel.route_count; i++) {
			err = routes_route_delete(r, kernel.routes[i].table,
						  &kernel.routes[i].prefix);
			result.routes_deleted += !err;
		}
		routes_kernel_state_free(&kernel);
	}
	if (removed)
		*removed = result.routes_deleted + result.groups_deleted +
			   result.nexthops_deleted + rules;
	return err;
}
