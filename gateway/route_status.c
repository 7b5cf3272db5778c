/* The route component's section of `clustergate status`: "nodes". */
#include <arpa/inet.h>

#include "gateway/loop.h"
#include "gateway/route_state.h"

static json_t *address_json(struct in_addr address)
{
	char text[INET_ADDRSTRLEN];

	return json_string(inet_ntop(AF_INET, &address, text, sizeof(text)));
}

static const char *node_state(const struct route_node *node,
			      const struct health_target_info *info)
{
	if (node->deleting)
		return "deleting";
	if (!node->schedulable)
		return "drained";
	if (!node->ready)
		return "not-ready";
	return health_state_name(info ? info->counter.state : HEALTH_UNKNOWN);
}

static json_t *node_json(const struct route_state *s,
			 const struct route_node *node)
{
	const struct health_target_info *info =
		s->health ? health_find(s->health, node->address) : NULL;
	char cidr[CG_CIDR_STRLEN];
	json_t *probe = json_null();

	if (info && info->probed)
		probe = json_pack("{s:b, s:s, s:I, s:I, s:i}",
				  "ok", info->last.ok,
				  "result", info->last.detail,
				  "at", (json_int_t)info->last.at,
				  "age_ms", (json_int_t)(loop_now_ms() -
							 info->last.at_ms),
				  "latency_ms", (int)info->last.latency_ms);
	return json_pack("{s:s, s:o, s:s, s:o, s:b, s:o, s:s?}",
			 "name", node->name,
			 "address", address_json(node->address),
			 "state", node_state(node, info),
			 "state_for_ms", info ? json_integer((json_int_t)
				(loop_now_ms() - info->state_since_ms)) :
				json_null(),
			 "in_group", in_list(s->group, s->group_count,
					     node->address),
			 "last_probe", probe,
			 "pod_cidr", node->has_pod_cidr ?
				cg_cidr_format(&node->pod_cidr, cidr) : NULL);
}

json_t *route_status(void *state)
{
	struct route_state *s = state;
	char cidr[CG_CIDR_STRLEN];
	json_t *nodes, *group;

	if (!active(s))
		return json_pack("{s:b}", "active", 0);
	nodes = json_array();
	group = json_array();
	for (size_t i = 0; i < s->node_count; i++)
		json_array_append_new(nodes, node_json(s, &s->nodes[i]));
	for (size_t i = 0; i < s->group_count; i++)
		json_array_append_new(group, address_json(s->group[i]));
	return json_pack("{s:b, s:s, s:s, s:i, s:s, s:b, s:o, s:b, s:o, "
			 "s:{s:s, s:i, s:s, s:i, s:i, s:i, s:i}, s:I, s:s?}",
			 "active", 1,
			 "target", s->target->ops->name,
			 "source", s->from_api ? "kubernetes" : "config",
			 "table", (int)s->table,
			 "service_cidr", cg_cidr_format(&s->service_cidr, cidr),
			 "service_routes", s->service_routes,
			 "group", group,
			 "no_healthy_nodes", s->no_healthy,
			 "nodes", nodes,
			 "probe",
			 "method", s->probe.method == CG_PROBE_TCP ? "tcp" : "http",
			 "port", (int)s->probe.port,
			 "path", s->probe.path ? s->probe.path : "",
			 "interval_ms", (int)s->probe.interval_ms,
			 "timeout_ms", (int)s->probe.timeout_ms,
			 "rise", (int)s->probe.rise,
			 "fall", (int)s->probe.fall,
			 "last_sync", (json_int_t)s->last_sync,
			 "last_error", s->last_error[0] ? s->last_error : NULL);
}
