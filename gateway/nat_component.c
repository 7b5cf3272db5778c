/*
 * The "nat" component: keeps table inet clustergate (nat/) in step with
 * the running config and, in proxy mode, with the services the Kubernetes
 * watcher publishes (or the static ones from the config when no API is
 * configured).
 *
 * A failed apply leaves the kernel as it was (nat_apply is atomic); the
 * component logs why and retries on a timer. On stop the table stays, so
 * a restart of clustergated is hitless; `clustergate cleanup` removes it.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/daemon.h"
#include "gateway/log.h"
#include "gateway/loop.h"
#include "gateway/static_services.h"
#include "nat/nat.h"

#define RETRY_MS 5000

/*
 * A nat_policy and everything it points into, owned here: a refused
 * reload keeps the running policy after the daemon frees the old config.
 */
struct policy_storage {
	struct nat_policy policy;
	char *tunnel_interface;
	char *vpc_interface;
	struct nat_cidr *office_subnets;
	struct nat_cidr *cluster_destinations;
	struct nat_allow_rule *allow;
	struct nat_cidr **allow_destinations;
	uint16_t **allow_ports;
};

struct nat_component {
	struct daemon *daemon;
	struct nat *nat;
	struct policy_storage policy;
	bool proxy;			/* services.mode == proxy */
	bool static_services;		/* proxy mode without an API */
	/* Services to apply on the next retry (NULL: keep what is there). */
	struct nat_services pending;
	bool have_pending;
	bool synced;			/* the last apply succeeded */
	uint64_t retry_timer;
	struct nat_apply_stats last;
	time_t last_sync;
	char last_error[512];
};

/* ---- config -> nat_policy ---- */

static struct nat_cidr to_nat(const struct cg_cidr *cidr)
{
	struct nat_cidr out = { cidr->address, cidr->prefix_len };

	return out;
}

static void policy_free(struct policy_storage *p)
{
	for (size_t i = 0; p->allow_destinations &&
	     i < p->policy.allow_count; i++)
		free(p->allow_destinations[i]);
	for (size_t i = 0; p->allow_ports && i < p->policy.allow_count; i++)
		free(p->allow_ports[i]);
	free(p->allow_destinations);
	free(p->allow_ports);
	free(p->tunnel_interface);
	free(p->vpc_interface);
	free(p->allow);
	free(p->office_subnets);
	free(p->cluster_destinations);
	memset(p, 0, sizeof(*p));
}

static int build_allow(const struct cg_nat *nat, struct policy_storage *p)
{
	p->allow = calloc(nat->allow_count + 1, sizeof(*p->allow));
	p->allow_destinations = calloc(nat->allow_count + 1,
				       sizeof(*p->allow_destinations));
	p->allow_ports = calloc(nat->allow_count + 1, sizeof(*p->allow_ports));
	if (!p->allow || !p->allow_destinations || !p->allow_ports)
		return -ENOMEM;
	p->policy.allow = p->allow;
	for (size_t i = 0; i < nat->allow_count; i++) {
		const struct cg_allow_rule *rule = &nat->allow[i];
		struct nat_cidr *dests = calloc(rule->destinations.count + 1,
						sizeof(*dests));
		uint16_t *ports = calloc(rule->port_count + 1, sizeof(*ports));

		p->allow_destinations[i] = dests;
		p->allow_ports[i] = ports;
		p->policy.allow_count = i + 1;
		if (!dests || !ports)
			return -ENOMEM;
		if (rule->port_count)
			memcpy(ports, rule->ports,
			       rule->port_count * sizeof(*ports));
		for (size_t j = 0; j < rule->destinations.count; j++)
			dests[j] = to_nat(&rule->destinations.items[j]);
		p->allow[i].office_subnet = to_nat(&rule->office_subnet);
		p->allow[i].destinations = dests;
		p->allow[i].destination_count = rule->destinations.count;
		p->allow[i].ports = ports;
		p->allow[i].port_count = rule->port_count;
	}
	return 0;
}

static char *copy_string(const char *text, bool *failed)
{
	char *copy = text ? strdup(text) : NULL;

	if (text && !copy)
		*failed = true;
	return copy;
}

static int policy_build(const struct cg_config *config,
			struct policy_storage *p)
{
	const struct cg_cluster *cluster = &config->cluster;
	bool failed = false;
	size_t n = 0;

	memset(p, 0, sizeof(*p));
	p->tunnel_interface = copy_string(config->gateway.tunnel_interface,
					  &failed);
	p->vpc_interface = copy_string(config->gateway.vpc_interface, &failed);
	p->policy.tunnel_interface = p->tunnel_interface;
	p->policy.vpc_interface = p->vpc_interface;
	p->policy.vpc_address = config->gateway.vpc_address;
	p->policy.snat = config->nat.snat;
	p->policy.tunnel_mtu = config->nat.mss_clamp ?
			       config->gateway.tunnel_mtu : 0;
	p->policy.dnat_buckets = config->nat.dnat_buckets;

	p->office_subnets = calloc(config->office.subnets.count + 1,
				   sizeof(*p->office_subnets));
	p->cluster_destinations = calloc(1 + cluster->pod_cidrs.count +
					 cluster->node_cidrs.count,
					 sizeof(*p->cluster_destinations));
	if (failed || !p->office_subnets || !p->cluster_destinations) {
		policy_free(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < config->office.subnets.count; i++)
		p->office_subnets[i] = to_nat(&config->office.subnets.items[i]);
	p->policy.office_subnets = p->office_subnets;
	p->policy.office_subnet_count = config->office.subnets.count;

	p->cluster_destinations[n++] = to_nat(&cluster->service_cidr);
	for (size_t i = 0; i < cluster->pod_cidrs.count; i++)
		p->cluster_destinations[n++] =
			to_nat(&cluster->pod_cidrs.items[i]);
	for (size_t i = 0; config->nat.allow_node_subnet &&
	     i < cluster->node_cidrs.count; i++)
		p->cluster_destinations[n++] =
			to_nat(&cluster->node_cidrs.items[i]);
	p->policy.owns_service_cidr = config->services.mode == CG_MODE_PROXY;
	p->policy.service_cidr = to_nat(&cluster->service_cidr);
	p->policy.cluster_destinations = p->cluster_destinations;
	p->policy.cluster_destination_count = n;
	if (build_allow(&config->nat, p)) {
		policy_free(p);
		return -ENOMEM;
	}
	return 0;
}

/* ---- applying ---- */

static void schedule_retry(struct nat_component *c);

/*
 * Apply policy with services (NULL: keep the service maps). On failure
 * keep a copy of services for the retry.
 */
static int apply(struct nat_component *c, const struct policy_storage *p,
		 const struct nat_services *services)
{
	struct nat_apply_stats stats;
	int err = nat_apply(c->nat, &p->policy, services, &stats);

	if (err) {
		snprintf(c->last_error, sizeof(c->last_error), "%s",
			 nat_error(c->nat));
		log_err("nat: %s", c->last_error);
		c->synced = false;
		return err;
	}
	c->last = stats;
	c->last_sync = time(NULL);
	c->last_error[0] = '\0';
	c->synced = true;
	/* A big sync's batch and element lists are freed: give them back. */
	if (stats.elements_added + stats.elements_deleted > 10000)
		malloc_trim(0);
	if (stats.kernel_changed)
		log_info("nat: table inet %s synced in %.1f ms: %zu elements "
			 "added, %zu deleted, %zu chains rewritten%s",
			 NAT_TABLE_NAME, stats.duration_ms,
			 stats.elements_added, stats.elements_deleted,
			 stats.chains_rewritten,
			 stats.table_rebuilt ? " (table rebuilt)" : "");
	return 0;
}

static void set_pending(struct nat_component *c,
			const struct nat_services *services)
{
	static_services_free(&c->pending);
	c->have_pending = false;
	if (services && nat_services_copy(services, &c->pending) == 0)
		c->have_pending = true;
}

static void on_retry(void *data)
{
	struct nat_component *c = data;

	c->retry_timer = 0;
	if (apply(c, &c->policy, c->have_pending ? &c->pending : NULL) < 0) {
		schedule_retry(c);
		return;
	}
	set_pending(c, NULL);
}

static void schedule_retry(struct nat_component *c)
{
	if (!c->retry_timer)
		c->retry_timer = loop_add_timer(c->daemon->loop, RETRY_MS,
						on_retry, c);
}

/*
 * The services a config implies: none in route mode, the static ones in
 * proxy mode without an API, and "keep" (NULL) when the watcher owns them.
 */
static int config_services(const struct cg_config *config,
			   struct nat_services *out, bool *keep)
{
	memset(out, 0, sizeof(*out));
	*keep = false;
	if (config->services.mode != CG_MODE_PROXY)
		return 0;
	if (config->cluster.api_configured) {
		*keep = true;
		return 0;
	}
	return static_services_build(config, out);
}

static int sync_config(struct nat_component *c, const struct cg_config *config)
{
	struct policy_storage next;
	struct nat_services services;
	bool keep;
	int err;

	if ((err = policy_build(config, &next)))
		return err;
	if ((err = config_services(config, &services, &keep))) {
		policy_free(&next);
		return err;
	}
	err = apply(c, &next, keep ? NULL : &services);
	if (err == -EINVAL) {
		/* the desired state itself is wrong: keep the running one */
		policy_free(&next);
		static_services_free(&services);
		return err;
	}
	policy_free(&c->policy);
	c->policy = next;
	c->proxy = config->services.mode == CG_MODE_PROXY;
	c->static_services = c->proxy && !config->cluster.api_configured;
	if (err) {
		set_pending(c, keep ? NULL : &services);
		schedule_retry(c);
	}
	static_services_free(&services);
	return err;
}

/* ---- component_ops ---- */

static int nat_start(struct daemon *daemon, void **state)
{
	struct nat_component *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->daemon = daemon;
	c->nat = nat_open();
	if (!c->nat) {
		int err = -errno;

		log_err("nat: cannot open a netfilter netlink socket: %s",
			strerror(errno));
		free(c);
		return err;
	}
	/* A kernel error is retried; only a bad config fails the start. */
	if (sync_config(c, daemon->config) == -EINVAL) {
		nat_close(c->nat);
		policy_free(&c->policy);
		free(c);
		return -EINVAL;
	}
	*state = c;
	return 0;
}

static int nat_reload(void *state, const struct cg_config *config)
{
	struct nat_component *c = state;
	int err = sync_config(c, config);

	if (err == -EINVAL)
		log_err("nat: keeping the running table");
	return err == -EINVAL ? err : 0;
}

static void nat_services_changed(void *state,
				 const struct nat_services *services)
{
	struct nat_component *c = state;

	/* Route mode and static services ignore the watcher. */
	if (!c->proxy || c->static_services)
		return;
	if (apply(c, &c->policy, services) < 0) {
		set_pending(c, services);
		schedule_retry(c);
		return;
	}
	set_pending(c, NULL);
}

static json_t *nat_status(void *state)
{
	struct nat_component *c = state;
	struct nat_counters counters;
	json_t *status, *counters_json = json_null();

	if (nat_read_counters(c->nat, &counters) == 0)
		counters_json = json_pack(
			"{s:I, s:I, s:I, s:I, s:I}",
			"snat_packets", (json_int_t)counters.snat_packets,
			"snat_bytes", (json_int_t)counters.snat_bytes,
			"policy_drop_packets",
			(json_int_t)counters.policy_drop_packets,
			"policy_drop_bytes",
			(json_int_t)counters.policy_drop_bytes,
			"service_reject_packets",
			(json_int_t)counters.service_reject_packets);
	status = json_pack("{s:s, s:b, s:s, s:I, s:f, s:I, s:o, s:s?}",
			   "table", "inet " NAT_TABLE_NAME,
			   "synced", c->synced,
			   "services", !c->proxy ? "none (route mode)" :
				       c->static_services ? "static" :
				       "kubernetes",
			   "service_ports", (json_int_t)c->last.service_ports,
			   "last_sync_ms", c->last.duration_ms,
			   "last_sync", (json_int_t)c->last_sync,
			   "counters", counters_json,
			   "last_error", c->last_error[0] ? c->last_error :
					 NULL);
	return status;
}

static void nat_stop(void *state)
{
	struct nat_component *c = state;

	if (c->retry_timer)
		loop_cancel_timer(c->daemon->loop, c->retry_timer);
	set_pending(c, NULL);
	policy_free(&c->policy);
	nat_close(c->nat);	/* the table stays: hitless restart */
	free(c);
}

const struct component_ops nat_component = {
	.name = "nat",
	.start = nat_start,
	.reload = nat_reload,
	.status = nat_status,
	.services_changed = nat_services_changed,
	.stop = nat_stop,
};
