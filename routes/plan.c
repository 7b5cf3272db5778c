/* Diff of desired routes against the kernel's, as an ordered op list. */
#include <errno.h>
#include <linux/nexthop.h>
#include <stdlib.h>
#include <string.h>

#include "routes/plan.h"

struct plan_builder {
	const struct routes_kernel_state *kernel;
	bool *claimed;			/* per kernel nexthop */
	bool *route_kept;		/* per kernel route */
	uint32_t *allocated;		/* ids handed out by this plan */
	size_t allocated_count;
	uint32_t next_id;
	struct routes_plan *plan;
};

static int compare_ids(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

const struct routes_kernel_nexthop *
routes_kernel_find_nexthop(const struct routes_kernel_state *kernel,
			   uint32_t id)
{
	for (size_t i = 0; i < kernel->nexthop_count; i++)
		if (kernel->nexthops[i].id == id)
			return &kernel->nexthops[i];
	return NULL;
}

static bool id_in_use(const struct plan_builder *b, uint32_t id)
{
	if (routes_kernel_find_nexthop(b->kernel, id))
		return true;
	for (size_t i = 0; i < b->allocated_count; i++)
		if (b->allocated[i] == id)
			return true;
	return false;
}

static int allocate_id(struct plan_builder *b, uint32_t *id)
{
	uint32_t *grown;

	while (b->next_id == 0 || id_in_use(b, b->next_id))
		b->next_id++;
	grown = realloc(b->allocated,
			(b->allocated_count + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	b->allocated = grown;
	b->allocated[b->allocated_count++] = b->next_id;
	*id = b->next_id++;
	return 0;
}

static struct routes_op *append_op(struct plan_builder *b,
				   enum routes_op_kind kind)
{
	struct routes_plan *plan = b->plan;
	struct routes_op *grown;

	grown = realloc(plan->ops, (plan->count + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	plan->ops = grown;
	memset(&plan->ops[plan->count], 0, sizeof(plan->ops[0]));
	plan->ops[plan->count].kind = kind;
	return &plan->ops[plan->count++];
}

static bool is_ours(const struct routes_kernel_nexthop *nh)
{
	return nh->protocol == ROUTES_PROTOCOL;
}

/* Reuse our nexthop for this node if the kernel has one, else add one. */
static int node_nexthop(struct plan_builder *b,
			const struct routes_node_link *link, uint32_t *id)
{
	const struct routes_kernel_state *kernel = b->kernel;
	struct routes_op *op;
	int err;

	for (size_t i = 0; i < kernel->nexthop_count; i++) {
		const struct routes_kernel_nexthop *nh = &kernel->nexthops[i];

		if (!is_ours(nh) || nh->is_group || b->claimed[i] ||
		    nh->gateway.s_addr != link->address.s_addr ||
		    nh->ifindex != link->ifindex)
			continue;
		b->claimed[i] = true;
		*id = nh->id;
		return 0;
	}
	err = allocate_id(b, id);
	if (err)
		return err;
	op = append_op(b, ROUTES_OP_NEXTHOP_ADD);
	if (!op)
		return -ENOMEM;
	op->id = *id;
	op->gateway = link->address;
	op->ifindex = link->ifindex;
	return 0;
}

static const struct routes_kernel_route *
find_route(const struct routes_kernel_state *kernel, uint32_t table,
	   const struct cg_cidr *prefix, size_t *index)
{
	for (size_t i = 0; i < kernel->route_count; i++) {
		const struct routes_kernel_route *r = &kernel->routes[i];

		if (r->table == table &&
		    r->prefix.address.s_addr == prefix->address.s_addr &&
		    r->prefix.prefix_len == prefix->prefix_len) {
			*index = i;
			return r;
		}
	}
	return NULL;
}

static bool same_members(const struct routes_kernel_nexthop *group,
			 const uint32_t *members, size_t count)
{
	uint32_t *sorted;
	bool same;

	if (group->member_count != count)
		return false;
	sorted = malloc(count * sizeof(*sorted) + 1);
	if (!sorted)
		return false;
	memcpy(sorted, group->members, count * sizeof(*sorted));
	qsort(sorted, count, sizeof(*sorted), compare_ids);
	same = memcmp(sorted, members, count * sizeof(*sorted)) == 0;
	free(sorted);
	return same;
}

static uint32_t *copy_ids(const uint32_t *ids, size_t count)
{
	uint32_t *copy = malloc(count * sizeof(*copy) + 1);

	if (copy)
		memcpy(copy, ids, count * sizeof(*copy));
	return copy;
}

/*
 * Point one destination at a group holding members (sorted): replace the
 * group our route already uses, or create a group and (re)point the route.
 * New routes are appended to routes_out so they follow every group op.
 */
static int plan_destination(struct plan_builder *b, uint32_t table,
			    const struct cg_cidr *prefix,
			    const uint32_t *members, size_t member_count,
			    uint16_t new_group_type,
			    struct routes_op *routes_out, size_t *routes_count)
{
	const struct routes_kernel_route *route;
	struct routes_op *op;
	size_t route_index;
	uint32_t group_id;
	int err;

	route = find_route(b->kernel, table, prefix, &route_index);
	if (route) {
		b->route_kept[route_index] = true;
		for (size_t i = 0; i < b->kernel->nexthop_count; i++) {
			const struct routes_kernel_nexthop *nh =
				&b->kernel->nexthops[i];

			if (nh->id != route->nhid || !is_ours(nh) ||
			    !nh->is_group || b->claimed[i])
				continue;
			b->claimed[i] = true;
			if (same_members(nh, members, member_count))
				return 0;
			op = append_op(b, ROUTES_OP_GROUP_REPLACE);
			if (!op)
				return -ENOMEM;
			op->id = nh->id;
			op->group_type = nh->group_type;
			op->members = copy_ids(members, member_count);
			op->member_count = member_count;
			return op->members ? 0 : -ENOMEM;
		}
	}
	err = allocate_id(b, &group_id);
	if (err)
		return err;
	op = append_op(b, ROUTES_OP_GROUP_ADD);
	if (!op)
		return -ENOMEM;
	op->id = group_id;
	op->group_type = new_group_type;
	op->members = copy_ids(members, member_count);
	op->member_count = member_count;
	if (!op->members)
		return -ENOMEM;
	op = &routes_out[(*routes_count)++];
	memset(op, 0, sizeof(*op));
	op->kind = ROUTES_OP_ROUTE_REPLACE;
	op->id = group_id;
	op->table = table;
	op->prefix = *prefix;
	return 0;
}

static bool same_prefix(const struct cg_cidr *a, const struct cg_cidr *b)
{
	return a->address.s_addr == b->address.s_addr &&
	       a->prefix_len == b->prefix_len;
}

/* Sorted, unique nexthop ids of a destination's resolvable nodes. */
static void destination_members(const struct routes_destination *dest,
			       const struct routes_node_link *links,
			       size_t link_count, const uint32_t *link_ids,
			       uint32_t *members, size_t *count)
{
	*count = 0;
	for (size_t n = 0; n < dest->node_count; n++) {
		for (size_t l = 0; l < link_count; l++) {
			if (links[l].address.s_addr != dest->nodes[n].s_addr)
				continue;
			members[(*count)++] = link_ids[l];
			break;
		}
	}
	qsort(members, *count, sizeof(*members), compare_ids);
	for (size_t i = 1; i < *count;) {
		if (members[i] == members[i - 1]) {
			memmove(&members[i], &members[i + 1],
				(*count - i - 1) * sizeof(*members));
			(*count)--;
		} else {
			i++;
		}
	}
}

static int plan_deletions(struct plan_builder *b)
{
	const struct routes_kernel_state *kernel = b->kernel;
	struct routes_op *op;

	/* Routes without a nexthop object are pins (routes_pin), not ours
	 * to reconcile; routes_cleanup() removes them. */
	for (size_t i = 0; i < kernel->route_count; i++) {
		if (b->route_kept[i] || kernel->routes[i].nhid == 0)
			continue;
		op = append_op(b, ROUTES_OP_ROUTE_DELETE);
		if (!op)
			return -ENOMEM;
		op->table = kernel->routes[i].table;
		op->prefix = kernel->routes[i].prefix;
		op->id = kernel->routes[i].nhid;
	}
	/* Groups before the nexthops they hold. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < kernel->nexthop_count; i++) {
			const struct routes_kernel_nexthop *nh =
				&kernel->nexthops[i];

			if (!is_ours(nh) || b->claimed[i] ||
			    nh->is_group != (pass == 0))
				continue;
			op = append_op(b, ROUTES_OP_NEXTHOP_DELETE);
			if (!op)
				return -ENOMEM;
			op->id = nh->id;
			op->is_group = nh->is_group;
		}
	}
	return 0;
}

static int plan_all(struct plan_builder *b,
		    const struct routes_desired *desired,
		    const struct routes_node_link *links, size_t link_count,
		    uint16_t new_group_type, uint32_t *link_ids,
		    uint32_t *members, struct routes_op *route_ops)
{
	size_t route_op_count = 0;
	int err;

	for (size_t l = 0; l < link_count; l++) {
		err = node_nexthop(b, &links[l], &link_ids[l]);
		if (err)
			return err;
	}
	for (size_t d = 0; d < desired->count; d++) {
		const struct routes_destination *dest =
			&desired->destinations[d];
		size_t member_count;
		bool duplicate = false;

		for (size_t e = 0; e < d; e++)
			duplicate |= same_prefix(&desired->destinations[e].prefix,
						 &dest->prefix);
		if (duplicate)
			continue;
		destination_members(dest, links, link_count, link_ids,
				    members, &member_count);
		if (member_count == 0)
			continue;
		err = plan_destination(b, desired->table, &dest->prefix,
				       members, member_count, new_group_type,
				       route_ops, &route_op_count);
		if (err)
			return err;
	}
	for (size_t i = 0; i < route_op_count; i++) {
		struct routes_op *op = append_op(b, ROUTES_OP_ROUTE_REPLACE);

		if (!op)
			return -ENOMEM;
		*op = route_ops[i];
	}
	return plan_deletions(b);
}

int routes_plan_build(const struct routes_desired *desired,
		      const struct routes_node_link *links, size_t link_count,
		      const struct routes_kernel_state *kernel,
		      uint16_t new_group_type, struct routes_plan *plan)
{
	struct plan_builder b = {
		.kernel = kernel,
		.next_id = ROUTES_FIRST_ID,
		.plan = plan,
	};
	size_t max_nodes = link_count + 1;
	uint32_t *link_ids;
	uint32_t *members;
	struct routes_op *route_ops;
	int err = -ENOMEM;

	for (size_t d = 0; d < desired->count; d++)
		max_nodes += desired->destinations[d].node_count;
	link_ids = calloc(max_nodes, sizeof(*link_ids));
	members = calloc(max_nodes, sizeof(*members));
	route_ops = calloc(desired->count + 1, sizeof(*route_ops));

	plan->ops = NULL;
	plan->count = 0;
	b.claimed = calloc(kernel->nexthop_count + 1, sizeof(*b.claimed));
	b.route_kept = calloc(kernel->route_count + 1, sizeof(*b.route_kept));
	if (link_ids && members && route_ops && b.claimed && b.route_kept)
		err = plan_all(&b, desired, links, link_count, new_group_type,
			       link_ids, members, route_ops);
	free(link_ids);
	free(members);
	free(route_ops);
	free(b.claimed);
	free(b.route_kept);
	free(b.allocated);
	if (err)
		routes_plan_free(plan);
	return err;
}

void routes_plan_free(struct routes_plan *plan)
{
	for (size_t i = 0; i < plan->count; i++)
		free(plan->ops[i].members);
	free(plan->ops);
	plan->ops = NULL;
	plan->count = 0;
}

void routes_kernel_state_free(struct routes_kernel_state *kernel)
{
	for (size_t i = 0; i < kernel->nexthop_count; i++)
		free(kernel->nexthops[i].members);
	free(kernel->nexthops);
	free(kernel->routes);
	memset(kernel, 0, sizeof(*kernel));
}
