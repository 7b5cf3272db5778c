/*
 * routes/plan.c: the diff of desired routes against the kernel's. Each test
 * states a kernel, a desired state, and the exact operations expected.
 */
#include <arpa/inet.h>
#include <linux/nexthop.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "routes/plan.h"

#define ID(n) (ROUTES_FIRST_ID + (n))

static struct in_addr ip(const char *text)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, text, &a), 1);
	return a;
}

static struct cg_cidr cidr(const char *text)
{
	struct cg_cidr c;

	assert_int_equal(cg_cidr_parse(text, &c), 0);
	return c;
}

static struct routes_kernel_nexthop node_nh(uint32_t id, const char *gw,
					    uint8_t protocol)
{
	struct routes_kernel_nexthop nh = {
		.id = id, .protocol = protocol, .gateway = ip(gw), .ifindex = 2,
	};
	return nh;
}

static struct routes_kernel_nexthop group_nh(uint32_t id, uint16_t type,
					     const uint32_t *members,
					     size_t count)
{
	struct routes_kernel_nexthop nh = {
		.id = id, .protocol = ROUTES_PROTOCOL, .is_group = true,
		.group_type = type, .member_count = count,
	};
	nh.members = malloc(count * sizeof(uint32_t));
	memcpy(nh.members, members, count * sizeof(uint32_t));
	return nh;
}

/* Three on-link nodes behind ifindex 2. */
static struct routes_node_link links[] = {
	{ .ifindex = 2 }, { .ifindex = 2 }, { .ifindex = 2 },
};
static struct in_addr nodes[3];

static int setup(void **state)
{
	(void)state;
	nodes[0] = links[0].address = ip("10.0.32.23");
	nodes[1] = links[1].address = ip("10.0.32.24");
	nodes[2] = links[2].address = ip("10.0.32.25");
	return 0;
}

static void assert_op(const struct routes_op *op, enum routes_op_kind kind,
		      uint32_t id)
{
	assert_int_equal(op->kind, kind);
	assert_int_equal(op->id, id);
}

/* The kernel state that a first sync of "service CIDR -> 3 nodes" leaves. */
static void synced_kernel(struct routes_kernel_state *k)
{
	static const uint32_t members[] = { ID(0), ID(1), ID(2) };

	k->nexthop_count = 4;
	k->nexthops = calloc(4, sizeof(*k->nexthops));
	k->nexthops[0] = node_nh(ID(0), "10.0.32.23", ROUTES_PROTOCOL);
	k->nexthops[1] = node_nh(ID(1), "10.0.32.24", ROUTES_PROTOCOL);
	k->nexthops[2] = node_nh(ID(2), "10.0.32.25", ROUTES_PROTOCOL);
	k->nexthops[3] = group_nh(ID(3), NEXTHOP_GRP_TYPE_RES, members, 3);
	k->route_count = 1;
	k->routes = calloc(1, sizeof(*k->routes));
	k->routes[0].table = 254;
	k->routes[0].prefix = cidr("10.0.56.0/21");
	k->routes[0].nhid = ID(3);
}

static void first_sync_creates_nexthops_group_route(void **state)
{
	struct routes_destination dest = { cidr("10.0.56.0/21"), nodes, 3 };
	struct routes_desired desired = { 254, &dest, 1 };
	struct routes_kernel_state kernel = { 0 };
	struct routes_plan plan;

	(void)state;
	/* Someone else's nexthop already holds the first id we would try. */
	kernel.nexthop_count = 1;
	kernel.nexthops = calloc(1, sizeof(*kernel.nexthops));
	kernel.nexthops[0] = node_nh(ID(0), "10.0.32.99", 4);
	assert_int_equal(routes_plan_build(&desired, links, 3, &kernel,
					   NEXTHOP_GRP_TYPE_RES, &plan), 0);
	assert_int_equal(plan.count, 5);
	assert_op(&plan.ops[0], ROUTES_OP_NEXTHOP_ADD, ID(1));
	assert_int_equal(plan.ops[0].gateway.s_addr, nodes[0].s_addr);
	assert_int_equal(plan.ops[0].ifindex, 2);
	assert_op(&plan.ops[1], ROUTES_OP_NEXTHOP_ADD, ID(2));
	assert_op(&plan.ops[2], ROUTES_OP_NEXTHOP_ADD, ID(3));
	assert_op(&plan.ops[3], ROUTES_OP_GROUP_ADD, ID(4));
	assert_int_equal(plan.ops[3].group_type, NEXTHOP_GRP_TYPE_RES);
	assert_int_equal(plan.ops[3].member_count, 3);
	assert_int_equal(plan.ops[3].members[0], ID(1));
	assert_int_equal(plan.ops[3].members[2], ID(3));
	assert_op(&plan.ops[4], ROUTES_OP_ROUTE_REPLACE, ID(4));
	assert_int_equal(plan.ops[4].table, 254);
	assert_int_equal(plan.ops[4].prefix.prefix_len, 21);
	routes_plan_free(&plan);
	routes_kernel_state_free(&kernel);
}

static void restart_with_same_state_changes_nothing(void **state)
{
	struct routes_destination dest = { cidr("10.0.56.0/21"), nodes, 3 };
	struct routes_desired desired = { 254, &dest, 1 };
	struct routes_kernel_state kernel = { 0 };
	struct routes_plan plan;

	(void)state;
	synced_kernel(&kernel);
	/* Kernel lists group members in its own order: still the same set. */
	kernel.nexthops[3].members[0] = ID(2);
	kernel.nexthops[3].members[2] = ID(0);
	assert_int_equal(routes_plan_build(&desired, links, 3, &kernel,
					   NEXTHOP_GRP_TYPE_RES, &plan), 0);
	assert_int_equal(plan.count, 0);
	routes_plan_free(&plan);
	routes_kernel_state_free(&kernel);
}

static void node_leaving_is_one_group_replace(void **state)
{
	struct in_addr two[] = { nodes[0], nodes[2] };
	struct routes_destination dest = { cidr("10.0.56.0/21"), two, 2 };
	struct routes_desired desired = { 254, &dest, 1 };
	struct routes_kernel_state kernel = { 0 };
	struct routes_plan plan;

	(void)state;
	synced_kernel(&kernel);
	assert_int_equal(routes_plan_build(&desired, links, 3, &kernel,
					   NEXTHOP_GRP_TYPE_RES, &plan), 0);
	/* links still holds node 1 (resolvable) but no destination wants it. */
	assert_int_equal(plan.count, 1);
	assert_op(&plan.ops[0], ROUTES_OP_GROUP_REPLACE, ID(3));
	assert_int_equal(plan.ops[0].member_count, 2);
	assert_int_equal(plan.ops[0].members[0], ID(0));
	assert_int_equal(plan.ops[0].members[1], ID(2));
	routes_plan_free(&plan);

	/* With only the wanted nodes resolved, the unused nexthop goes too. */
	struct routes_node_link wanted[] = { links[0], links[2] };
	assert_int_equal(routes_plan_build(&desired, wanted, 2, &kernel,
					   NEXTHOP_GRP_TYPE_RES, &plan), 0);
	assert_int_equal(plan.count, 2);
	assert_op(&plan.ops[0], ROUTES_OP_GROUP_REPLACE, ID(3));
	assert_op(&plan.ops[1], ROUTES_OP_NEXTHOP_DELETE, ID(1));
	assert_false(plan.ops[1].is_group);
	routes_plan_free(&plan);
	routes_kernel_state_free(&kernel);
}

static void existing_group_keeps_its_type(void **state)
{
	struct routes_destination dest = { cidr("10.0.56.0/21"), nodes, 2 };
	struct routes_desired desired = { 254, &dest, 1 };
	struct routes_kernel_state kernel = { 0 };
	struct routes_plan plan;

	(void)state;
	synced_kernel(&kernel);
	kernel.nexthops[3].group_type = NEXTHOP_GRP_TYPE_MPATH;
	assert_int_equal(routes_plan_build(&desired, links, 2, &kernel,
					   NEXTHOP_GRP_TYPE_RES, &plan), 0);
	assert_op(&plan.ops[0], ROUTES_OP_GROUP_REPLACE, ID(3));
	assert_int_equal(plan.ops[0].group_type, NEXTHOP_GRP_TYPE_MPATH);
	routes_plan_free(&plan);
	routes_kernel_state_free(&kernel);
}

static void unresolved_node_is_left_out(void **state)
{
	struct in_addr with_stranger[] = { nodes[0], ip("10.9.1.1") };
	struct routes_destination dest = { cidr("10.0.56.0/21"),
					   with_stranger, 2 };
	struct routes_desired desired = { 254, &dest, 1 };
	struct routes_kernel_state kernel = { 0 };
	struct routes_plan plan;

	(void)state;
	assert_int_equal(routes_plan_build(&desired, links, 1, &kernel,
					   NEXTHOP_GRP_TYPE_RES, &plan), 0);
	assert_int_equal(plan.count, 3);
	assert_op(&plan.ops[1], ROUTES_OP_GROUP_ADD, ID(1));
	assert_int_equal(plan.ops[1].member_count, 1);
	routes_plan_free(&plan);
}

static void foreign_objects_are_never_touched(void **state)
{
	static const uint32_t members[] = { 7 };
	struct routes_desired desired = { 254, NULL, 0 };
	struct routes_kernel_state kernel = { 0 };
	struct routes_plan plan;

	(void)state;
	kernel.nexthop_count = 2;
	kernel.nexthops = calloc(2, sizeof(*kernel.nexthops));
	kernel.nexthops[0] = node_nh(7, "10.0.32.23", 4);
	kernel.nexthops[1] = group_nh(8, NEXTHOP_GRP_TYPE_MPATH, members, 1);
	kernel.nexthops[1].protocol = 186;
	assert_int_equal(routes_plan_build(&desired, NULL, 0, &kernel,
					   NEXTHOP_GRP_TYPE_RES, &plan), 0);
	assert_int_equal(plan.count, 0);
	routes_plan_free(&plan);
	routes_kernel_state_free(&kernel);
}

static void table_change_moves_route_and_drops_old(void **state)
{
	struct routes_destination dest = { cidr("10.0.56.0/21"), nodes, 3 };
	struct routes_desired desired = { 100, &dest, 1 };
	struct routes_kernel_state kernel = { 0 };
	struct routes_plan plan;

	(void)state;
	synced_kernel(&kernel);
	assert_int_equal(routes_plan_build(&desired, links, 3, &kernel,
					   NEXTHOP_GRP_TYPE_RES, &plan), 0);
	/* New group + route in table 100; old route and group removed; the
	 * node nexthops are shared and stay. */
	assert_int_equal(plan.count, 4);
	assert_op(&plan.ops[0], ROUTES_OP_GROUP_ADD, ID(4));
	assert_op(&plan.ops[1], ROUTES_OP_ROUTE_REPLACE, ID(4));
	assert_int_equal(plan.ops[1].table, 100);
	assert_int_equal(plan.ops[2].kind, ROUTES_OP_ROUTE_DELETE);
	assert_int_equal(plan.ops[2].table, 254);
	assert_op(&plan.ops[3], ROUTES_OP_NEXTHOP_DELETE, ID(3));
	assert_true(plan.ops[3].is_group);
	routes_plan_free(&plan);
	routes_kernel_state_free(&kernel);
}

static void empty_desired_removes_all_of_ours(void **state)
{
	struct routes_desired desired = { 254, NULL, 0 };
	struct routes_kernel_state kernel = { 0 };
	struct routes_plan plan;

	(void)state;
	synced_kernel(&kernel);
	assert_int_equal(routes_plan_build(&desired, NULL, 0, &kernel,
					   NEXTHOP_GRP_TYPE_RES, &plan), 0);
	assert_int_equal(plan.count, 5);
	assert_int_equal(plan.ops[0].kind, ROUTES_OP_ROUTE_DELETE);
	assert_op(&plan.ops[1], ROUTES_OP_NEXTHOP_DELETE, ID(3));
	assert_op(&plan.ops[2], ROUTES_OP_NEXTHOP_DELETE, ID(0));
	assert_op(&plan.ops[4], ROUTES_OP_NEXTHOP_DELETE, ID(2));
	routes_plan_free(&plan);
	routes_kernel_state_free(&kernel);
}

static void pinned_routes_survive_sync(void **state)
{
	struct routes_desired desired = { 254, NULL, 0 };
	struct routes_kernel_state kernel = { 0 };
	struct routes_plan plan;

	(void)state;
	kernel.route_count = 1;
	kernel.routes = calloc(1, sizeof(*kernel.routes));
	kernel.routes[0].table = 9701;
	kernel.routes[0].prefix = cidr("10.0.58.158/32");
	assert_int_equal(routes_plan_build(&desired, NULL, 0, &kernel,
					   NEXTHOP_GRP_TYPE_RES, &plan), 0);
	assert_int_equal(plan.count, 0);
	routes_plan_free(&plan);
	routes_kernel_state_free(&kernel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(first_sync_creates_nexthops_group_route, setup),
		cmocka_unit_test_setup(restart_with_same_state_changes_nothing, setup),
		cmocka_unit_test_setup(node_leaving_is_one_group_replace, setup),
		cmocka_unit_test_setup(existing_group_keeps_its_type, setup),
		cmocka_unit_test_setup(unresolved_node_is_left_out, setup),
		cmocka_unit_test_setup(foreign_objects_are_never_touched, setup),
		cmocka_unit_test_setup(table_change_moves_route_and_drops_old, setup),
		cmocka_unit_test_setup(empty_desired_removes_all_of_ours, setup),
		cmocka_unit_test_setup(pinned_routes_survive_sync, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
