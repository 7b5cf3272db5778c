/*
 * nat_apply(): desired state -> diff against the kernel -> one batch.
 *
 * Chains, sets and rules are read back on every apply (they are few).
 * Set elements can number hundreds of thousands, so they are cached: the
 * cache is trusted while the ruleset generation is the one our last
 * commit produced, and read back from the kernel otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/object.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nat/nat.h"
#include "nat/nat_internal.h"
#include "nat/nat_layout.h"
#include "nat/nat_netlink.h"
#include "nat/nat_readback.h"

#define RANGE_SETS 3	/* office_subnets, cluster_destinations, narrowed */

struct nat {
	struct nat_netlink nl;
	char error[512];
	bool cache_valid;
	uint32_t generation;		/* after our last commit */
	struct nat_range_list ranges[RANGE_SETS];
	struct nat_service_cache services;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void set_error(struct nat *nat, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(nat->error, sizeof(nat->error), fmt, ap);
	va_end(ap);
}

struct nat *nat_open(void)
{
	struct nat *nat = calloc(1, sizeof(*nat));
	int err;

	if (!nat)
		return NULL;
	err = nat_netlink_open(&nat->nl);
	if (err) {
		free(nat);
		errno = -err;
		return NULL;
	}
	nat_service_cache_init(&nat->services);
	return nat;
}

static void forget_cache(struct nat *nat)
{
	for (int i = 0; i < RANGE_SETS; i++)
		nat_range_list_free(&nat->ranges[i]);
	nat_service_cache_clear(&nat->services);
	nat_service_cache_init(&nat->services);
	nat->cache_valid = false;
}

void nat_close(struct nat *nat)
{
	if (!nat)
		return;
	forget_cache(nat);
	nat_netlink_close(&nat->nl);
	free(nat);
}

const char *nat_error(const struct nat *nat)
{
	return nat->error;
}

/* ---- desired state ----------------------------------------------------- */

struct desired {
	struct nat_layout layout;
	struct nat_range_list ranges[RANGE_SETS];
};

static void desired_free(struct desired *d)
{
	nat_layout_free(&d->layout);
	for (int i = 0; i < RANGE_SETS; i++)
		nat_range_list_free(&d->ranges[i]);
}

static int desired_build(const struct nat_policy *p, struct desired *d)
{
	struct nat_cidr *narrowed;
	int err;

	memset(d, 0, sizeof(*d));
	narrowed = calloc(p->allow_count + 1, sizeof(*narrowed));
	if (!narrowed)
		return -ENOMEM;
	for (size_t i = 0; i < p->allow_count; i++)
		narrowed[i] = p->allow[i].office_subnet;
	err = nat_ranges_from_cidrs(p->office_subnets,
					    p->office_subnet_count,
					    &d->ranges[NAT_SET_OFFICE_SUBNETS]);
	if (!err)
		err = nat_ranges_from_cidrs(p->cluster_destinations,
				p->cluster_destination_count,
				&d->ranges[NAT_SET_CLUSTER_DESTINATIONS]);
	if (!err)
		err = nat_ranges_from_cidrs(narrowed, p->allow_count,
				&d->ranges[NAT_SET_NARROWED_SUBNETS]);
	free(narrowed);
	if (err)
		desired_free(d);
	return err;
}

/* ---- comparing with the kernel ----------------------------------------- */

static bool layout_matches(const struct nat_kernel *k,
			   const struct nat_layout *l)
{
	if (!k->table_exists || k->chain_count != l->chain_count ||
	    k->set_count != NAT_SET_COUNT + 1 || k->counter_count != 3 ||
	    k->object_count != 3)
		return false;
	for (size_t i = 0; i < l->chain_count; i++) {
		const struct nat_chain_def *want = &l->chains[i];
		bool found = false;

		for (size_t j = 0; j < k->chain_count && !found; j++) {
			const struct nat_kernel_chain *have = &k->chains[j];

			if (strcmp(have->name, want->name))
				continue;
			found = want->type ?
				!strcmp(have->type, want->type) &&
				have->hook == want->hook &&
				have->priority == want->priority :
				!have->type[0];
		}
		if (!found)
			return false;
	}
	for (int i = 0; i < NAT_SET_COUNT; i++) {
		bool found = false;

		for (size_t j = 0; j < k->set_count && !found; j++)
			found = !strcmp(k->sets[j].name, nat_set_names[i]) &&
				!memcmp(&k->sets[j].def, &nat_set_defs[i],
					sizeof(nat_set_defs[i]));
		if (!found)
			return false;
	}
	for (size_t j = 0; j < k->set_count; j++) {
		if (!strcmp(k->sets[j].name, NAT_AFFINITY_CLIENTS))
			return !memcmp(&k->sets[j].def,
				       &nat_affinity_clients_def,
				       sizeof(nat_affinity_clients_def));
	}
	return false;
}

/* Read every element of our sets into the cache. */
static int load_cache(struct nat *nat)
{
	struct nat_elem_list lists[NAT_SET_COUNT] = { 0 };
	int err = 0;

	forget_cache(nat);
	for (int i = 0; !err && i < NAT_SET_COUNT; i++)
		err = nat_read_elements(&nat->nl, i, &lists[i]);
	for (int i = 0; !err && i < RANGE_SETS; i++)
		err = nat_ranges_from_elems(lists[i].items, lists[i].count,
					    &nat->ranges[i]);
	if (!err)
		err = nat_service_cache_load(&nat->services, lists);
	for (int i = 0; i < NAT_SET_COUNT; i++)
		free(lists[i].items);
	if (err) {
		forget_cache(nat);
		set_error(nat, "reading the elements of table inet %s: %s",
			  NAT_TABLE_NAME, strerror(-err));
		return err;
	}
	nat->cache_valid = true;
	return 0;
}

/* The cached services as a desired state, to re-plan them. */
static int cache_as_services(const struct nat_service_cache *cache,
			     struct nat_services *out)
{
	uint64_t key, value;
	size_t pos = 0, n = 0;

	out->count = 0;
	out->ports = calloc(cache->services.count + 1, sizeof(*out->ports));
	if (!out->ports)
		return -ENOMEM;
	while (nat_hmap_next(&cache->services, &pos, &key, &value)) {
		const struct nat_service_state *s = (const void *)value;
		struct nat_service_port *p = &out->ports[n];

		if (s->mode == NAT_MODE_NONE)
			continue;
		p->cluster_ip.s_addr = htonl((uint32_t)(key >> 24));
		p->protocol = (key >> 16) & 0xff;
		p->port = key & 0xffff;
		p->affinity_client_ip = s->mode == NAT_MODE_AFFINITY;
		p->affinity_timeout_s = s->affinity_timeout_s;
		p->endpoints = calloc(s->endpoint_count + 1,
				      sizeof(*p->endpoints));
		if (!p->endpoints)
			return -ENOMEM;	/* caller frees what was made */
		n++;
		out->count = n;
		for (size_t i = 0; s->mode != NAT_MODE_REJECT &&
		     i < s->endpoint_count; i++) {
			p->endpoints[i].address.s_addr =
				htonl((uint32_t)(s->endpoints[i] >> 16));
			p->endpoints[i].port = s->endpoints[i] & 0xffff;
			p->endpoint_count++;
		}
	}
	return 0;
}

static void free_services(struct nat_services *s)
{
	for (size_t i = 0; i < s->count; i++)
		free(s->ports[i].endpoints);
	free(s->ports);
	s->ports = NULL;
	s->count = 0;
}

/* Rules of one chain as the kernel has them, in order. */
static bool chain_rules_match(const struct nat_kernel *k,
			      const struct nat_layout *l, const char *chain)
{
	size_t ki = 0, li = 0;

	for (;;) {
		while (ki < k->rule_count && strcmp(k->rules[ki].chain, chain))
			ki++;
		while (li < l->rule_count && strcmp(l->rules[li].chain, chain))
			li++;
		if (ki == k->rule_count || li == l->rule_count)
			return ki == k->rule_count && li == l->rule_count;
		if (k->rules[ki].hash != l->rules[li].hash)
			return false;
		ki++;
		li++;
	}
}

/* Replace the rules of every chain that differs. */
static size_t put_rule_changes(struct nat_batch *b, struct nat_netlink *nl,
			       const struct nat_kernel *k,
			       const struct nat_layout *l)
{
	size_t rewritten = 0;

	for (size_t c = 0; c < l->chain_count; c++) {
		const char *chain = l->chains[c].name;

		if (chain_rules_match(k, l, chain))
			continue;
		rewritten++;
		for (size_t i = 0; i < k->rule_count; i++) {
			if (!strcmp(k->rules[i].chain, chain))
				nat_put_rule_delete(b, nl, chain,
						    k->rules[i].handle);
		}
		for (size_t i = 0; i < l->rule_count; i++) {
			if (!strcmp(l->rules[i].chain, chain))
				nat_put_rule(b, nl, &l->rules[i]);
		}
	}
	return rewritten;
}

static void put_element_changes(struct nat_batch *b, struct nat_netlink *nl,
				const struct nat_changes *c, bool adds)
{
	for (int i = 0; i < NAT_SET_COUNT; i++)
		nat_put_elements(b, nl, i, adds ? &c->add[i] : &c->del[i],
				 adds);
}

/* ---- apply ------------------------------------------------------------- */

struct apply {
	struct nat *nat;
	const struct nat_policy *policy;
	const struct nat_services *services;	/* NULL: keep */
	struct desired desired;
	struct nat_kernel kernel;
	struct nat_changes changes;
	struct nat_dnat_plan plan;
	bool have_plan;
	bool rebuild;
	struct nat_batch batch;
	struct nat_apply_stats *stats;
};

/* Plan the services against an empty cache (for a new table). */
static int plan_from_scratch(struct apply *a)
{
	struct nat_service_cache empty;
	struct nat_services cached = { 0 };
	const struct nat_services *services = a->services;
	int err = 0;

	nat_service_cache_init(&empty);
	if (!services) {
		err = cache_as_services(&a->nat->services, &cached);
		services = &cached;
	}
	if (!err)
		err = nat_dnat_plan(&empty, services, a->desired.layout.buckets,
				    &a->plan, &a->changes, a->nat->error,
				    sizeof(a->nat->error));
	a->have_plan = !err;
	free_services(&cached);
	return err;
}

static int build_rebuild_batch(struct apply *a)
{
	struct nat_netlink *nl = &a->nat->nl;
	struct nat_range_list none = { 0 };
	int err;

	for (int i = 0; i < RANGE_SETS; i++) {
		err = nat_ranges_diff(&none, &a->desired.ranges[i],
				      &a->changes.del[i], &a->changes.add[i]);
		if (err)
			return err;
	}
	if ((err = plan_from_scratch(a)))
		return err;
	if (a->kernel.table_exists)
		nat_put_table(&a->batch, nl, false);
	nat_put_table(&a->batch, nl, true);
	nat_put_counters(&a->batch, nl);
	nat_put_sets(&a->batch, nl, a->desired.layout.buckets);
	nat_put_chains(&a->batch, nl, &a->desired.layout);
	for (size_t i = 0; i < a->desired.layout.rule_count; i++)
		nat_put_rule(&a->batch, nl, &a->desired.layout.rules[i]);
	put_element_changes(&a->batch, nl, &a->changes, true);
	a->stats->chains_rewritten = a->desired.layout.chain_count;
	return 0;
}

static int build_update_batch(struct apply *a)
{
	struct nat_netlink *nl = &a->nat->nl;
	int err;

	for (int i = 0; i < RANGE_SETS; i++) {
		err = nat_ranges_diff(&a->nat->ranges[i],
				      &a->desired.ranges[i],
				      &a->changes.del[i], &a->changes.add[i]);
		if (err)
			return err;
	}
	if (a->services) {
		err = nat_dnat_plan(&a->nat->services, a->services,
				    a->desired.layout.buckets, &a->plan,
				    &a->changes, a->nat->error,
				    sizeof(a->nat->error));
		if (err)
			return err;
		a->have_plan = true;
	}
	put_element_changes(&a->batch, nl, &a->changes, false);
	a->stats->chains_rewritten = put_rule_changes(&a->batch, nl,
						      &a->kernel,
						      &a->desired.layout);
	put_element_changes(&a->batch, nl, &a->changes, true);
	return 0;
}

static void commit_cache(struct apply *a)
{
	struct nat *nat = a->nat;

	for (int i = 0; i < RANGE_SETS; i++) {
		nat_range_list_free(&nat->ranges[i]);
		nat->ranges[i] = a->desired.ranges[i];
		a->desired.ranges[i].items = NULL;
		a->desired.ranges[i].count = 0;
	}
	if (a->rebuild) {
		nat_service_cache_clear(&nat->services);
		nat_service_cache_init(&nat->services);
	}
	if (a->have_plan) {
		nat_dnat_commit(&nat->services, &a->plan);
		a->have_plan = false;
	}
	nat->cache_valid = !nat->services.stale;
	if (nat_netlink_generation(&nat->nl, &nat->generation) < 0)
		nat->cache_valid = false;
}

static bool add_timeout(uint32_t *timeouts, size_t *count, uint32_t timeout)
{
	size_t i = 0;

	while (i < *count && timeouts[i] < timeout)
		i++;
	if (i < *count && timeouts[i] == timeout)
		return true;
	if (*count == NAT_MAX_AFFINITY_TIMEOUTS)
		return false;
	memmove(timeouts + i + 1, timeouts + i,
		(*count - i) * sizeof(*timeouts));
	timeouts[i] = timeout;
	(*count)++;
	return true;
}

/*
 * The affinity timeouts the layout needs chains for, sorted: kube-proxy's
 * default always (so the usual case never changes the layout), plus those
 * of the desired services, or with services kept, those of the chains in
 * the kernel.
 */
static int affinity_timeouts(struct apply *a, uint32_t *timeouts,
			     size_t *count)
{
	*count = 0;
	add_timeout(timeouts, count, NAT_DEFAULT_AFFINITY_TIMEOUT_S);
	for (size_t i = 0; a->services && i < a->services->count; i++) {
		const struct nat_service_port *p = &a->services->ports[i];
		uint32_t t = nat_affinity_timeout(p->affinity_timeout_s);

		if (!p->affinity_client_ip || !p->endpoint_count ||
		    add_timeout(timeouts, count, t))
			continue;
		set_error(a->nat, "service %s: sessionAffinity timeout %u s "
			  "would make more than %d different affinity "
			  "timeouts", p->name ? p->name : "(unnamed)", t,
			  NAT_MAX_AFFINITY_TIMEOUTS);
		return -EINVAL;
	}
	for (size_t i = 0; !a->services && i < a->kernel.chain_count; i++) {
		enum nat_dnat_mode mode;
		uint32_t buckets, t;

		if (!nat_parse_dnat_chain(a->kernel.chains[i].name, &mode,
					  &buckets, &t) &&
		    mode == NAT_MODE_AFFINITY)
			add_timeout(timeouts, count, t);
	}
	return 0;
}

static int run_apply(struct apply *a)
{
	struct nat *nat = a->nat;
	uint32_t timeouts[NAT_MAX_AFFINITY_TIMEOUTS];
	size_t timeout_count;
	uint32_t generation = 0;
	int err;

	err = nat_netlink_generation(&nat->nl, &generation);
	if (!err)
		err = nat_read_kernel(&nat->nl, &a->kernel);
	if (err) {
		set_error(nat, "reading table inet %s: %s", NAT_TABLE_NAME,
			  strerror(-err));
		return err;
	}
	if ((err = affinity_timeouts(a, timeouts, &timeout_count)))
		return err;
	if ((err = nat_layout_build(a->policy, timeouts, timeout_count,
				    &a->desired.layout))) {
		set_error(nat, "out of memory building the ruleset");
		return err;
	}
	a->rebuild = !layout_matches(&a->kernel, &a->desired.layout);
	if (a->kernel.table_exists &&
	    (!nat->cache_valid || generation != nat->generation ||
	     nat->services.stale)) {
		a->stats->read_back = true;
		/* a table of another layout: keep its services if we can */
		if ((err = load_cache(nat)) && !a->rebuild)
			return err;
		err = 0;
	}
	nat_batch_init(&a->batch, &nat->nl);
	err = a->rebuild ? build_rebuild_batch(a) : build_update_batch(a);
	if (err) {
		if (err == -ENOMEM)
			set_error(nat, "out of memory");
		return err;
	}
	a->stats->table_rebuilt = a->rebuild;
	a->stats->elements_added = nat_changes_count(&a->changes, true);
	a->stats->elements_deleted = nat_changes_count(&a->changes, false);
	a->stats->netlink_messages = nat_batch_messages(&a->batch);
	if (!nat_batch_messages(&a->batch)) {
		commit_cache(a);
		return 0;
	}
	err = nat_batch_commit(&a->batch, &nat->nl, nat->error,
			       sizeof(nat->error));
	if (err) {
		forget_cache(nat);	/* read back next time */
		return err;
	}
	a->stats->kernel_changed = true;
	commit_cache(a);
	return 0;
}

int nat_apply(struct nat *nat, const struct nat_policy *policy,
	      const struct nat_services *services,
	      struct nat_apply_stats *stats)
{
	struct nat_apply_stats local;
	struct apply a = {
		.nat = nat, .policy = policy, .services = services,
		.stats = stats ? stats : &local,
	};
	double start = now_ms();
	char problem[sizeof(nat->error)];
	int err;

	memset(a.stats, 0, sizeof(*a.stats));
	nat->error[0] = '\0';
	if (nat_check_policy(policy, problem, sizeof(problem))) {
		set_error(nat, "%s; the running table was not changed",
			  problem);
		return -EINVAL;
	}
	err = desired_build(policy, &a.desired);
	if (err) {
		set_error(nat, "out of memory building the ruleset");
		return err;
	}
	err = run_apply(&a);
	if (err == -EINVAL && !a.stats->kernel_changed &&
	    !strstr(nat->error, "not changed") &&
	    !strstr(nat->error, "nothing was changed")) {
		snprintf(problem, sizeof(problem), "%s", nat->error);
		set_error(nat, "%s; the running table was not changed",
			  problem);
	}
	if (a.have_plan)
		nat_dnat_plan_free(&a.plan);
	nat_changes_free(&a.changes);
	nat_batch_free(&a.batch);
	nat_kernel_free(&a.kernel);
	desired_free(&a.desired);
	a.stats->service_ports = nat->services.services.count;
	a.stats->duration_ms = now_ms() - start;
	return err;
}

/* ---- counters and cleanup ---------------------------------------------- */

static int counter_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nat_counters *c = data;
	struct nftnl_obj *o = nftnl_obj_alloc();
	const char *name;
	uint64_t packets, bytes;

	if (!o)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, o) < 0 ||
	    strcmp(nftnl_obj_get_str(o, NFTNL_OBJ_TABLE), NAT_TABLE_NAME) ||
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) != NFT_OBJECT_COUNTER) {
		nftnl_obj_free(o);
		return MNL_CB_OK;
	}
	name = nftnl_obj_get_str(o, NFTNL_OBJ_NAME);
	packets = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
	bytes = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
	if (!strcmp(name, "office_snat")) {
		c->snat_packets = packets;
		c->snat_bytes = bytes;
	} else if (!strcmp(name, "policy_drop")) {
		c->policy_drop_packets = packets;
		c->policy_drop_bytes = bytes;
	} else if (!strcmp(name, "service_reject")) {
		c->service_reject_packets = packets;
		c->service_reject_bytes = bytes;
	}
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

int nat_read_counters(struct nat *nat, struct nat_counters *counters)
{
	char buffer[512] = { 0 };
	struct nlmsghdr *nlh;
	struct nat_kernel kernel;
	int err;

	memset(counters, 0, sizeof(*counters));
	err = nat_read_kernel(&nat->nl, &kernel);
	if (!err && !kernel.table_exists)
		err = -ENOENT;
	nat_kernel_free(&kernel);
	if (err) {
		set_error(nat, "table inet %s: %s", NAT_TABLE_NAME,
			  strerror(-err));
		return err;
	}
	nlh = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETOBJ, NFPROTO_INET,
				    NLM_F_DUMP, nat_netlink_next_seq(&nat->nl));
	mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, NAT_TABLE_NAME);
	mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
	err = nat_netlink_dump(&nat->nl, nlh, counter_cb, counters);
	if (err)
		set_error(nat, "reading counters: %s", strerror(-err));
	return err;
}

int nat_cleanup(struct nat *nat, bool *removed)
{
	struct nat_batch batch;
	int err;

	if (removed)
		*removed = false;
	forget_cache(nat);
	nat_batch_init(&batch, &nat->nl);
	nat_put_table(&batch, &nat->nl, false);
	err = nat_batch_commit(&batch, &nat->nl, nat->error,
			       sizeof(nat->error));
	nat_batch_free(&batch);
	if (err == -ENOENT) {
		nat->error[0] = '\0';
		return 0;
	}
	if (!err && removed)
		*removed = true;
	return err;
}
