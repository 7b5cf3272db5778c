/* clustergated's route component: nodes + health -> route target. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/health.h"
#include "gateway/log.h"
#include "gateway/loop.h"
#include "gateway/route_component.h"
#include "gateway/route_state.h"
#include "routes/target.h"

#define RETRY_MS 5000
/* How long a fresh start waits for first probe answers before routing. */
#define SETTLE_EXTRA_MS 200


static const char *ntoa(struct in_addr address, char *buf)
{
	return inet_ntop(AF_INET, &address, buf, INET_ADDRSTRLEN);
}


static const struct route_node *node_by_address(const struct route_state *s,
						struct in_addr address)
{
	for (size_t i = 0; i < s->node_count; i++)
		if (s->nodes[i].address.s_addr == address.s_addr)
			return &s->nodes[i];
	return NULL;
}

static const char *node_name(const struct route_state *s,
			     struct in_addr address)
{
	const struct route_node *node = node_by_address(s, address);

	return node && node->name ? node->name : "?";
}

static void format_members(const struct in_addr *members, size_t count,
			   char *buf, size_t size)
{
	char text[INET_ADDRSTRLEN];
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < count && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
					 i ? ", " : "", ntoa(members[i], text));
}

/* ---- desired state ---- */

static bool healthy(const struct route_state *s, const struct route_node *node)
{
	const struct health_target_info *info =
		s->health ? health_find(s->health, node->address) : NULL;

	return eligible(node) && info && info->counter.state == HEALTH_UP;
}

#define REMINDER_MS 60000

/* While no node is healthy, say so again every minute. */
static void remind_no_healthy(void *data)
{
	struct route_state *s = data;
	char cidr[CG_CIDR_STRLEN];

	s->reminder_timer = 0;
	if (!s->no_healthy)
		return;
	log_err("route: still NO HEALTHY NODE for %s after %llu s; service "
		"traffic goes to the last group",
		cg_cidr_format(&s->service_cidr, cidr),
		(unsigned long long)(loop_now_ms() - s->no_healthy_since_ms) /
		1000);
	s->reminder_timer = loop_add_timer(s->loop, REMINDER_MS,
					   remind_no_healthy, s);
}

/* Service CIDR members: the healthy nodes, or the last group if none. */
static size_t service_members(struct route_state *s, struct in_addr *out)
{
	char cidr[CG_CIDR_STRLEN], members[512];
	size_t count = 0;

	for (size_t i = 0; i < s->node_count; i++)
		if (healthy(s, &s->nodes[i]) &&
		    !in_list(out, count, s->nodes[i].address))
			out[count++] = s->nodes[i].address;
	if (count) {
		if (s->no_healthy)
			log_warn("route: %s has healthy nodes again",
				 cg_cidr_format(&s->service_cidr, cidr));
		s->no_healthy = false;
		return count;
	}
	if (!s->no_healthy && s->group_count && s->node_count) {
		format_members(s->group, s->group_count, members,
			       sizeof(members));
		log_err("route: NO HEALTHY NODE for %s: keeping the last "
			"group [%s] rather than dropping all service traffic",
			cg_cidr_format(&s->service_cidr, cidr), members);
		s->no_healthy_since_ms = loop_now_ms();
		if (!s->reminder_timer)
			s->reminder_timer = loop_add_timer(s->loop, REMINDER_MS,
							   remind_no_healthy, s);
	}
	s->no_healthy = s->node_count > 0;
	memcpy(out, s->group, s->group_count * sizeof(*out));
	return s->group_count;
}

/*
 * Build the desired state into caller-provided arrays sized for
 * node_count + 1 destinations and node_count + group_count addresses.
 */
static size_t build_desired(struct route_state *s,
			    struct routes_destination *dests,
			    struct in_addr *service_nodes)
{
	size_t count = 0;

	if (s->service_routes) {
		dests[count].prefix = s->service_cidr;
		dests[count].nodes = service_nodes;
		dests[count].node_count = service_members(s, service_nodes);
		count++;
	}
	for (size_t i = 0; s->pod_routes && i < s->node_count; i++) {
		/* Pods stay on a cordoned or unready node: keep its route. */
		if (!s->nodes[i].has_pod_cidr)
			continue;
		dests[count].prefix = s->nodes[i].pod_cidr;
		dests[count].nodes = &s->nodes[i].address;
		dests[count].node_count = 1;
		count++;
	}
	return count;
}

/* ---- sync ---- */

static void request_sync(struct route_state *s, uint64_t delay_ms);

static void log_group(struct route_state *s, const struct in_addr *members,
		      size_t count)
{
	char cidr[CG_CIDR_STRLEN], list[512];

	format_members(members, count, list, sizeof(list));
	log_info("route: %s table %u -> [%s] via %s",
		 cg_cidr_format(&s->service_cidr, cidr), s->table, list,
		 s->target->ops->name);
}

static bool same_set(const struct in_addr *a, size_t a_count,
		     const struct in_addr *b, size_t b_count)
{
	if (a_count != b_count)
		return false;
	for (size_t i = 0; i < a_count; i++)
		if (!in_list(b, b_count, a[i]))
			return false;
	return true;
}

/*
 * Take the service CIDR's group from the target, so status and "keep the
 * last group" follow what the kernel holds even after a partial sync.
 */
static void read_group(struct route_state *s)
{
	struct in_addr *current = NULL;
	int n = s->target->ops->current(s->target, s->table, &s->service_cidr,
					&current);

	if (n < 0)
		return;
	if (!same_set(current, (size_t)n, s->group, s->group_count))
		log_group(s, current, (size_t)n);
	free(s->group);
	s->group = current;
	s->group_count = (size_t)n;
}

static void sync_now(void *data)
{
	struct route_state *s = data;
	size_t max = s->node_count + s->group_count + 1;
	struct routes_destination *dests = calloc(s->node_count + 2,
						  sizeof(*dests));
	struct in_addr *service_nodes = calloc(max, sizeof(*service_nodes));
	struct routes_desired desired = { .table = s->table,
					  .destinations = dests };
	struct routes_sync_result result;
	const char *error = NULL;
	int err;

	s->sync_timer = 0;
	if (!dests || !service_nodes) {
		free(dests);
		free(service_nodes);
		request_sync(s, RETRY_MS);
		return;
	}
	desired.count = build_desired(s, dests, service_nodes);
	err = s->target->ops->sync(s->target, &desired, &result, &error);
	s->last_sync = time(NULL);
	if (err) {
		/* Once per distinct problem; the retries stay quiet. */
		if (strcmp(s->last_error, error ? error : "sync failed"))
			log_err("route: %s; retrying every %d s",
				error ? error : "sync failed", RETRY_MS / 1000);
		request_sync(s, RETRY_MS);
	}
	snprintf(s->last_error, sizeof(s->last_error), "%s",
		 err ? (error ? error : "sync failed") : "");
	if (s->service_routes)
		read_group(s);
	if (result.routes_deleted || result.groups_deleted)
		log_info("route: removed %u route(s) and %u group(s) no longer "
			 "wanted", result.routes_deleted, result.groups_deleted);
	free(service_nodes);
	free(dests);
}

static void request_sync(struct route_state *s, uint64_t delay_ms)
{
	uint64_t now = loop_now_ms();

	if (s->settle_until_ms > now && delay_ms < s->settle_until_ms - now)
		delay_ms = s->settle_until_ms - now;
	if (s->sync_timer)
		loop_cancel_timer(s->loop, s->sync_timer);
	s->sync_timer = loop_add_timer(s->loop, delay_ms, sync_now, s);
}

/* ---- health ---- */

static void on_health_change(void *data, const struct health_target_info *t,
			     enum health_state from)
{
	struct route_state *s = data;
	char text[INET_ADDRSTRLEN];
	const char *name = node_name(s, t->address);

	if (t->counter.state == HEALTH_DOWN)
		log_warn("node %s (%s) is down: %s (%s -> down after %u bad "
			 "probe%s)", name, ntoa(t->address, text),
			 t->last.detail, health_state_name(from),
			 t->counter.failures, t->counter.failures == 1 ? "" : "s");
	else
		log_info("node %s (%s) is up: %s (%s -> up after %u good "
			 "probe%s)", name, ntoa(t->address, text),
			 t->last.detail, health_state_name(from),
			 t->counter.successes,
			 t->counter.successes == 1 ? "" : "s");
	request_sync(s, 0);
}

/* Probe the eligible nodes; nodes the kernel group holds count as up. */
static int update_targets(struct route_state *s)
{
	struct in_addr *addresses = calloc(s->node_count + 1,
					   sizeof(*addresses));
	size_t count = 0;
	bool unknown = false;
	int err;

	if (!addresses)
		return -ENOMEM;
	for (size_t i = 0; i < s->node_count; i++)
		if (eligible(&s->nodes[i]))
			addresses[count++] = s->nodes[i].address;
	for (size_t i = 0; i < count; i++)
		unknown |= !health_find(s->health, addresses[i]);
	err = health_set_targets(s->health, addresses, count, HEALTH_UNKNOWN);
	for (size_t i = 0; !err && i < count; i++) {
		const struct health_target_info *info =
			health_find(s->health, addresses[i]);

		if (info && info->counter.state == HEALTH_UNKNOWN &&
		    !info->probed && in_list(s->group, s->group_count,
					     addresses[i]))
			health_seed(s->health, addresses[i], HEALTH_UP);
	}
	/* Let new nodes answer their first probe before routing changes. */
	if (unknown)
		s->settle_until_ms = loop_now_ms() + SETTLE_EXTRA_MS +
				     s->probe_timeout_ms;
	free(addresses);
	return err;
}

/* ---- nodes ---- */

static void free_nodes(struct route_node *nodes, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(nodes[i].name);
	free(nodes);
}

static int set_nodes(struct route_state *s, struct route_node *nodes,
		     size_t count)
{
	size_t eligible_count = 0;

	free_nodes(s->nodes, s->node_count);
	s->nodes = nodes;
	s->node_count = count;
	s->have_nodes = true;
	for (size_t i = 0; i < count; i++)
		eligible_count += eligible(&nodes[i]);
	log_info("route: %zu node(s), %zu eligible (others not ready, "
		 "cordoned or deleting)", count, eligible_count);
	return s->health ? update_targets(s) : 0;
}

static struct route_node *static_nodes(const struct cg_config *config,
				       size_t *count)
{
	const struct cg_nodes *in = &config->nodes;
	struct route_node *nodes = calloc(in->static_count + 1, sizeof(*nodes));

	if (!nodes)
		return NULL;
	for (size_t i = 0; i < in->static_count; i++) {
		nodes[i].name = strdup(in->static_nodes[i].name ?
				       in->static_nodes[i].name : "");
		nodes[i].address = in->static_nodes[i].address;
		nodes[i].ready = nodes[i].schedulable = true;
		nodes[i].has_pod_cidr = in->static_nodes[i].has_pod_cidr;
		nodes[i].pod_cidr = in->static_nodes[i].pod_cidr;
		if (!nodes[i].name) {
			free_nodes(nodes, i);
			return NULL;
		}
	}
	*count = in->static_count;
	return nodes;
}

static void route_nodes_changed(void *state, const struct cg_node_info *in,
				size_t count)
{
	struct route_state *s = state;
	struct route_node *nodes;

	if (!s->from_api)
		return;
	nodes = calloc(count + 1, sizeof(*nodes));
	if (!nodes) {
		log_err("route: out of memory for %zu nodes", count);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		nodes[i].name = strdup(in[i].name ? in[i].name : "");
		nodes[i].address = in[i].address;
		nodes[i].ready = in[i].ready;
		nodes[i].schedulable = in[i].schedulable;
		nodes[i].deleting = in[i].deleting;
		nodes[i].has_pod_cidr = in[i].has_pod_cidr;
		nodes[i].pod_cidr = in[i].pod_cidr;
		if (!nodes[i].name) {
			free_nodes(nodes, i);
			log_err("route: out of memory for %zu nodes", count);
			return;
		}
	}
	if (set_nodes(s, nodes, count))
		log_err("route: cannot probe the new node list");
	if (s->target)
		request_sync(s, 0);
}

/* ---- lifecycle ---- */

static void take_config(struct route_state *s, const struct cg_config *config)
{
	s->service_routes = config->services.mode == CG_MODE_ROUTE;
	s->pod_routes = config->nodes.pod_cidr_routes;
	s->from_api = config->nodes.from_api && config->cluster.api_configured;
	s->table = config->nodes.route_table;
	s->service_cidr = config->cluster.service_cidr;
	s->probe = config->nodes.health;
	s->probe_timeout_ms = config->nodes.health.timeout_ms;
}

/* Start probing and routing (route mode or pod CIDR routes). */
static int activate(struct route_state *s, const struct cg_config *config)
{
	struct in_addr *current = NULL;
	struct route_node *nodes;
	size_t count = 0;
	int n;

	s->health = health_create(s->loop, &config->nodes.health,
				  on_health_change, s);
	if (!s->health)
		return -ENOMEM;
	if (s->service_routes) {
		n = s->target->ops->current(s->target, s->table,
					    &s->service_cidr, &current);
		if (n < 0)
			return n;
		s->group = current;
		s->group_count = (size_t)n;
		if (n)
			log_group(s, current, (size_t)n);
	}
	if (s->from_api) {
		if (config->nodes.static_count)
			log_warn("route: nodes.static is ignored: nodes come "
				 "from the Kubernetes API (nodes.from_api)");
		return 0;	/* wait for the first node list */
	}
	nodes = static_nodes(config, &count);
	if (!nodes)
		return -ENOMEM;
	return set_nodes(s, nodes, count);
}

static int route_start(struct daemon *daemon, void **state)
{
	struct route_state *s = calloc(1, sizeof(*s));
	unsigned removed = 0;
	int err;

	if (!s)
		return -ENOMEM;
	s->loop = daemon->loop;
	take_config(s, daemon->config);
	err = route_target_kernel_create(&s->target);
	if (err) {
		free(s);
		log_err("route: cannot open netlink: %s", strerror(-err));
		return err;
	}
	if (!active(s)) {
		/* Proxy mode: what an earlier route mode left is stale. */
		err = s->target->ops->cleanup(s->target, &removed);
		if (err)
			log_warn("route: cannot remove route-mode leftovers");
		else if (removed)
			log_info("route: proxy mode: removed %u route-mode "
				 "object(s) left from an earlier run", removed);
		*state = s;
		return 0;
	}
	err = activate(s, daemon->config);
	if (err) {
		log_err("route: cannot start: %s", strerror(-err));
		health_destroy(s->health);
		s->target->ops->destroy(s->target);
		free_nodes(s->nodes, s->node_count);
		free(s->group);
		free(s);
		return err;
	}
	if (!s->from_api)
		request_sync(s, 0);
	*state = s;
	return 0;
}

static int route_reload(void *state, const struct cg_config *config)
{
	struct route_state *s = state;
	struct route_node *nodes;
	size_t count = 0;
	bool was_active = active(s);

	take_config(s, config);
	if (!active(s)) {
		if (was_active)
			log_info("route: route mode is off: removing routes");
		health_destroy(s->health);
		s->health = NULL;
		if (was_active)
			request_sync(s, 0);
		return 0;
	}
	if (!s->health)
		return activate(s, config) ? -ENOMEM : (request_sync(s, 0), 0);
	if (health_set_settings(s->health, &config->nodes.health))
		return -ENOMEM;
	if (!s->from_api) {
		nodes = static_nodes(config, &count);
		if (!nodes || set_nodes(s, nodes, count))
			return -ENOMEM;
	}
	request_sync(s, 0);
	return 0;
}

static void route_stop(void *state)
{
	struct route_state *s = state;

	if (!s)
		return;
	if (s->sync_timer)
		loop_cancel_timer(s->loop, s->sync_timer);
	if (s->reminder_timer)
		loop_cancel_timer(s->loop, s->reminder_timer);
	health_destroy(s->health);
	s->target->ops->destroy(s->target);
	free_nodes(s->nodes, s->node_count);
	free(s->group);
	free(s);
}

const struct component_ops route_component = {
	.name = "nodes",
	.start = route_start,
	.reload = route_reload,
	.status = route_status,
	.nodes_changed = route_nodes_changed,
	.stop = route_stop,
};
