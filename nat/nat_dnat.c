/*
 * Proxy-mode DNAT: desired service ports vs. what the kernel holds.
 *
 * Each service port is either rejected (no endpoints: an element of
 * rejected_services) or dispatched (an element of service_dispatch that
 * jumps to the chain for its mode and bucket count, plus one
 * service_backends element per bucket). The cache mirrors these elements,
 * so a sync sends only the elements of the service ports that changed,
 * and its cost is linear in what changed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat/nat_internal.h"

/* ip_refs values: port count in the low half, "in the kernel" bit above. */
#define IP_IN_KERNEL (1ULL << 32)

void nat_service_state_free(struct nat_service_state *state)
{
	if (!state)
		return;
	if (!state->inline_arrays) {
		free(state->endpoints);
		free(state->buckets);
	}
	free(state);
}

void nat_service_cache_init(struct nat_service_cache *cache)
{
	memset(cache, 0, sizeof(*cache));
}

void nat_service_cache_clear(struct nat_service_cache *cache)
{
	uint64_t key, value;
	size_t pos = 0;

	while (nat_hmap_next(&cache->services, &pos, &key, &value))
		nat_service_state_free((struct nat_service_state *)value);
	nat_hmap_free(&cache->services);
	nat_hmap_free(&cache->ip_refs);
}

static uint32_t key_ip(uint64_t key)
{
	return htonl((uint32_t)(key >> 24));
}

static uint8_t key_protocol(uint64_t key)
{
	return (key >> 16) & 0xff;
}

static uint16_t key_port(uint64_t key)
{
	return key & 0xffff;
}

static int push_service_elem(struct nat_elem_list *list, uint64_t key,
			     const struct nat_service_state *state)
{
	struct nat_elem e;

	nat_elem_service(&e, key_ip(key), key_protocol(key), key_port(key));
	if (state) {
		e.verdict_mode = state->mode;
		e.verdict_buckets = state->bucket_count;
		e.verdict_timeout = state->affinity_timeout_s;
	}
	return nat_elem_list_push(list, &e);
}

static bool dispatched(const struct nat_service_state *s)
{
	return s && (s->mode == NAT_MODE_RANDOM || s->mode == NAT_MODE_AFFINITY);
}

static bool rejected(const struct nat_service_state *s)
{
	return s && s->mode == NAT_MODE_REJECT;
}

static uint64_t bucket_value(const struct nat_service_state *s, uint32_t i)
{
	if (!s || i >= s->bucket_count || s->buckets[i] == NAT_BUCKET_EMPTY)
		return UINT64_MAX;
	return s->endpoints[s->buckets[i]];
}

/* Element changes turning old into new (either may be NULL). */
static int diff_service(uint64_t key, const struct nat_service_state *old,
			const struct nat_service_state *new,
			struct nat_changes *c)
{
	uint32_t count = 0;
	int err = 0;

	if (rejected(old) && !rejected(new))
		err = push_service_elem(&c->del[NAT_SET_REJECTED_SERVICES],
					key, NULL);
	if (!err && rejected(new) && !rejected(old))
		err = push_service_elem(&c->add[NAT_SET_REJECTED_SERVICES],
					key, NULL);
	if (!err && (dispatched(old) || dispatched(new)) &&
	    (!old || !new || old->mode != new->mode ||
	     old->bucket_count != new->bucket_count ||
	     old->affinity_timeout_s != new->affinity_timeout_s)) {
		if (dispatched(old))
			err = push_service_elem(
				&c->del[NAT_SET_SERVICE_DISPATCH], key, old);
		if (!err && dispatched(new))
			err = push_service_elem(
				&c->add[NAT_SET_SERVICE_DISPATCH], key, new);
	}
	if (old && old->bucket_count > count)
		count = old->bucket_count;
	if (new && new->bucket_count > count)
		count = new->bucket_count;
	for (uint32_t i = 0; !err && i < count; i++) {
		uint64_t was = bucket_value(old, i), now = bucket_value(new, i);
		struct nat_elem e;

		if (was == now)
			continue;
		if (was != UINT64_MAX) {
			nat_elem_backend(&e, key_ip(key), key_protocol(key),
					 key_port(key), i, htonl(was >> 16),
					 was & 0xffff);
			err = nat_elem_list_push(
				&c->del[NAT_SET_SERVICE_BACKENDS], &e);
		}
		if (!err && now != UINT64_MAX) {
			nat_elem_backend(&e, key_ip(key), key_protocol(key),
					 key_port(key), i, htonl(now >> 16),
					 now & 0xffff);
			err = nat_elem_list_push(
				&c->add[NAT_SET_SERVICE_BACKENDS], &e);
		}
	}
	return err;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted, de-duplicated endpoints of port into *out (grown as needed). */
static int sorted_endpoints(const struct nat_service_port *port,
			    uint64_t **out, size_t *capacity, size_t *count)
{
	size_t n = 0;

	if (port->endpoint_count > *capacity) {
		uint64_t *grown = realloc(*out, port->endpoint_count *
					  sizeof(**out));
		if (!grown)
			return -ENOMEM;
		*out = grown;
		*capacity = port->endpoint_count;
	}
	for (size_t i = 0; i < port->endpoint_count; i++)
		(*out)[i] = nat_endpoint_pack(
			ntohl(port->endpoints[i].address.s_addr),
			port->endpoints[i].port);
	if (port->endpoint_count > 16) {
		qsort(*out, port->endpoint_count, sizeof(**out), compare_u64);
	} else {
		for (size_t i = 1; i < port->endpoint_count; i++) {
			uint64_t v = (*out)[i];
			size_t j = i;

			for (; j > 0 && (*out)[j - 1] > v; j--)
				(*out)[j] = (*out)[j - 1];
			(*out)[j] = v;
		}
	}
	for (size_t i = 0; i < port->endpoint_count; i++) {
		if (!n || (*out)[n - 1] != (*out)[i])
			(*out)[n++] = (*out)[i];
	}
	*count = n > 65535 ? 65535 : n;
	return 0;
}

static const char *port_name(const struct nat_service_port *port)
{
	return port->name ? port->name : "(unnamed)";
}

static int port_error(const struct nat_service_port *port, char *error,
		      size_t error_size, const char *problem)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &port->cluster_ip, ip, sizeof(ip));
	snprintf(error, error_size, "service %s (%s:%u): %s", port_name(port),
		 ip, port->port, problem);
	return -EINVAL;
}

static int check_port(const struct nat_service_port *port, char *error,
		      size_t error_size)
{
	char problem[64];

	if (!port->cluster_ip.s_addr)
		return port_error(port, error, error_size,
				  "ClusterIP is empty");
	if (port->protocol != IPPROTO_TCP && port->protocol != IPPROTO_UDP &&
	    port->protocol != IPPROTO_SCTP) {
		snprintf(problem, sizeof(problem),
			 "protocol %u is not tcp, udp or sctp", port->protocol);
		return port_error(port, error, error_size, problem);
	}
	if (!port->port)
		return port_error(port, error, error_size, "port is 0");
	for (size_t i = 0; i < port->endpoint_count; i++) {
		if (!port->endpoints[i].address.s_addr ||
		    !port->endpoints[i].port) {
			snprintf(problem, sizeof(problem),
				 "endpoint %zu has no address or port", i);
			return port_error(port, error, error_size, problem);
		}
	}
	return 0;
}

static struct nat_service_state *new_state(const struct nat_service_port *port,
					   const uint64_t *endpoints,
					   size_t endpoint_count,
					   uint32_t base_buckets,
					   const struct nat_service_state *old)
{
	uint32_t bucket_count = nat_bucket_count(base_buckets, endpoint_count);
	struct nat_service_state *s;
	uint64_t *previous = NULL;

	/* one block: the state, its endpoints, its buckets */
	s = calloc(1, sizeof(*s) + endpoint_count * sizeof(*s->endpoints) +
		   bucket_count * sizeof(*s->buckets));
	if (!s)
		return NULL;
	s->inline_arrays = true;
	s->key = nat_service_key(ntohl(port->cluster_ip.s_addr),
				 port->protocol, port->port);
	s->endpoint_count = endpoint_count;
	if (!endpoint_count) {
		s->mode = NAT_MODE_REJECT;
		return s;
	}
	s->mode = port->affinity_client_ip ? NAT_MODE_AFFINITY :
		  NAT_MODE_RANDOM;
	s->bucket_count = bucket_count;
	if (s->mode == NAT_MODE_AFFINITY)
		s->affinity_timeout_s =
			nat_affinity_timeout(port->affinity_timeout_s);
	s->endpoints = (uint64_t *)(s + 1);
	s->buckets = (uint16_t *)(s->endpoints + endpoint_count);
	if (old && old->bucket_count == bucket_count) {
		previous = malloc(bucket_count * sizeof(*previous));
		if (!previous) {
			free(s);
			return NULL;
		}
	}
	memcpy(s->endpoints, endpoints, endpoint_count * sizeof(*endpoints));
	for (uint32_t i = 0; previous && i < bucket_count; i++)
		previous[i] = bucket_value(old, i);
	nat_assign_buckets(s->endpoints, endpoint_count, previous, s->buckets,
			   bucket_count);
	free(previous);
	return s;
}

static bool unchanged(const struct nat_service_state *old,
		      const struct nat_service_port *port,
		      const uint64_t *endpoints, size_t endpoint_count,
		      uint32_t base_buckets)
{
	enum nat_dnat_mode mode = !endpoint_count ? NAT_MODE_REJECT :
		port->affinity_client_ip ? NAT_MODE_AFFINITY : NAT_MODE_RANDOM;

	if (!old || old->mode != mode || old->endpoint_count != endpoint_count)
		return false;
	if (mode == NAT_MODE_AFFINITY && old->affinity_timeout_s !=
	    nat_affinity_timeout(port->affinity_timeout_s))
		return false;
	if (old->bucket_count != nat_bucket_count(base_buckets, endpoint_count))
		return false;
	for (uint32_t i = 0; i < old->bucket_count; i++) {
		if (old->buckets[i] == NAT_BUCKET_EMPTY)
			return false;
	}
	return !endpoint_count || !memcmp(old->endpoints, endpoints,
					  endpoint_count * sizeof(*endpoints));
}

static int push_update(struct nat_dnat_plan *plan, uint64_t key,
		       struct nat_service_state *state)
{
	if (plan->count == plan->capacity) {
		size_t capacity = plan->capacity ? plan->capacity * 2 : 64;
		struct nat_service_update *grown;

		grown = realloc(plan->updates, capacity * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		plan->updates = grown;
		plan->capacity = capacity;
	}
	plan->updates[plan->count].key = key;
	plan->updates[plan->count].state = state;
	plan->count++;
	return 0;
}

static int add_ip_delta(struct nat_dnat_plan *plan, uint64_t key, int delta)
{
	uint32_t ip = (uint32_t)(key >> 24);
	uint64_t *slot = nat_hmap_find(&plan->ip_delta, ip);

	if (slot) {
		*slot = (uint64_t)((int64_t)*slot + delta);
		return 0;
	}
	return nat_hmap_put(&plan->ip_delta, ip, (uint64_t)(int64_t)delta);
}

static int duplicate(const struct nat_services *desired, size_t first,
		     size_t second, char *error, size_t error_size)
{
	snprintf(error, error_size, "services %s and %s use the same "
		 "ClusterIP, protocol and port",
		 port_name(&desired->ports[first]),
		 port_name(&desired->ports[second]));
	return -EINVAL;
}

/*
 * Plan every desired port. A port already in the cache is marked with
 * this plan's stamp (which also finds duplicates); new ports are tracked
 * in fresh. *matched counts the cached ports seen.
 */
static int plan_desired(struct nat_service_cache *cache,
			const struct nat_services *desired,
			uint32_t base_buckets, struct nat_hmap *fresh,
			size_t *matched, struct nat_dnat_plan *plan,
			struct nat_changes *c, char *error, size_t error_size)
{
	uint64_t *endpoints = NULL, *slot;
	size_t capacity = 0, count;
	int err = 0;

	for (size_t i = 0; !err && i < desired->count; i++) {
		const struct nat_service_port *port = &desired->ports[i];
		struct nat_service_state *old = NULL, *state;
		uint64_t key;

		if ((err = check_port(port, error, error_size)))
			break;
		key = nat_service_key(ntohl(port->cluster_ip.s_addr),
				      port->protocol, port->port);
		if ((slot = nat_hmap_find(&cache->services, key))) {
			old = (struct nat_service_state *)*slot;
			if (old->stamp == cache->stamp) {
				err = duplicate(desired, old->seen_index, i,
						error, error_size);
				break;
			}
			old->stamp = cache->stamp;
			old->seen_index = (uint32_t)i;
			(*matched)++;
		} else if ((slot = nat_hmap_find(fresh, key))) {
			err = duplicate(desired, *slot, i, error, error_size);
			break;
		} else if ((err = nat_hmap_put(fresh, key, i))) {
			break;
		}
		if ((err = sorted_endpoints(port, &endpoints, &capacity,
					    &count)))
			break;
		if (unchanged(old, port, endpoints, count, base_buckets))
			continue;
		state = new_state(port, endpoints, count, base_buckets, old);
		if (!state) {
			err = -ENOMEM;
			break;
		}
		if ((err = push_update(plan, key, state))) {
			nat_service_state_free(state);
			break;
		}
		err = diff_service(key, old, state, c);
		if (!err && !old)
			err = add_ip_delta(plan, key, 1);
	}
	free(endpoints);
	return err;
}

/* Cached ports the plan did not see are removed. */
static int plan_removed(const struct nat_service_cache *cache,
			size_t matched, struct nat_dnat_plan *plan,
			struct nat_changes *c)
{
	uint64_t key, value;
	size_t pos = 0;
	int err = 0;

	if (matched == cache->services.count)
		return 0;
	while (!err && nat_hmap_next(&cache->services, &pos, &key, &value)) {
		const struct nat_service_state *s = (const void *)value;

		if (s->stamp == cache->stamp)
			continue;
		err = diff_service(key, s, NULL, c);
		if (!err)
			err = push_update(plan, key, NULL);
		if (!err)
			err = add_ip_delta(plan, key, -1);
	}
	return err;
}

/* service_ips elements for addresses whose port count crosses zero. */
static int plan_ips(const struct nat_service_cache *cache,
		    struct nat_dnat_plan *plan, struct nat_changes *c)
{
	uint64_t ip, delta, *slot;
	size_t pos = 0;
	struct nat_elem e;
	int err = 0;

	while (!err && nat_hmap_next(&plan->ip_delta, &pos, &ip, &delta)) {
		uint64_t was = (slot = nat_hmap_find(&cache->ip_refs, ip)) ?
			       *slot : 0;
		int64_t refs = (int64_t)(was & 0xffffffff) + (int64_t)delta;
		bool in_kernel = was & IP_IN_KERNEL;

		nat_elem_ipv4(&e, htonl((uint32_t)ip), false);
		if (refs > 0 && !in_kernel)
			err = nat_elem_list_push(
				&c->add[NAT_SET_SERVICE_IPS], &e);
		else if (refs <= 0 && in_kernel)
			err = nat_elem_list_push(
				&c->del[NAT_SET_SERVICE_IPS], &e);
	}
	/* After a read back, service_ips may not match the services. */
	pos = 0;
	while (!err && nat_hmap_next(&cache->ip_refs, &pos, &ip, &delta)) {
		bool used = delta & 0xffffffff, in_kernel = delta & IP_IN_KERNEL;

		if (used == in_kernel || nat_hmap_find(&plan->ip_delta, ip))
			continue;
		nat_elem_ipv4(&e, htonl((uint32_t)ip), false);
		err = nat_elem_list_push(used ? &c->add[NAT_SET_SERVICE_IPS] :
					 &c->del[NAT_SET_SERVICE_IPS], &e);
	}
	return err;
}

int nat_dnat_plan(struct nat_service_cache *cache,
		  const struct nat_services *desired, uint32_t base_buckets,
		  struct nat_dnat_plan *plan, struct nat_changes *changes,
		  char *error, size_t error_size)
{
	struct nat_hmap fresh = { 0 };
	size_t matched = 0;
	int err;

	memset(plan, 0, sizeof(*plan));
	plan->desired_ports = desired->count;
	cache->stamp++;
	err = nat_hmap_init(&fresh, desired->count > cache->services.count ?
			    desired->count - cache->services.count : 8);
	if (!err)
		err = plan_desired(cache, desired, base_buckets, &fresh, &matched,
			   plan, changes, error, error_size);
	if (!err)
		err = plan_removed(cache, matched, plan, changes);
	if (!err)
		err = plan_ips(cache, plan, changes);
	nat_hmap_free(&fresh);
	if (err == -ENOMEM)
		snprintf(error, error_size, "out of memory planning services");
	if (err)
		nat_dnat_plan_free(plan);
	return err;
}

void nat_dnat_plan_free(struct nat_dnat_plan *plan)
{
	for (size_t i = 0; i < plan->count; i++)
		nat_service_state_free(plan->updates[i].state);
	free(plan->updates);
	nat_hmap_free(&plan->ip_delta);
	memset(plan, 0, sizeof(*plan));
}

void nat_dnat_commit(struct nat_service_cache *cache,
		     struct nat_dnat_plan *plan)
{
	uint64_t ip, delta, *slot;
	size_t pos = 0;

	for (size_t i = 0; i < plan->count; i++) {
		struct nat_service_update *u = &plan->updates[i];

		if ((slot = nat_hmap_find(&cache->services, u->key))) {
			nat_service_state_free(
				(struct nat_service_state *)*slot);
			if (u->state)
				*slot = (uint64_t)u->state;
			else
				nat_hmap_remove(&cache->services, u->key);
		} else if (u->state &&
			   nat_hmap_put(&cache->services, u->key,
					(uint64_t)u->state) < 0) {
			/* cannot remember it: forget everything, read back */
			nat_service_state_free(u->state);
			cache->stale = true;
		}
		u->state = NULL;
	}
	while (nat_hmap_next(&plan->ip_delta, &pos, &ip, &delta)) {
		uint64_t was = (slot = nat_hmap_find(&cache->ip_refs, ip)) ?
			       *slot : 0;
		int64_t refs = (int64_t)(was & 0xffffffff) + (int64_t)delta;

		if (refs <= 0)
			nat_hmap_remove(&cache->ip_refs, ip);
		else if (nat_hmap_put(&cache->ip_refs, ip,
				      (uint64_t)refs | IP_IN_KERNEL) < 0)
			cache->stale = true;
	}
	/* service_ips now matches the services (see plan_ips) */
	for (pos = 0; nat_hmap_next(&cache->ip_refs, &pos, &ip, &delta);) {
		if (!(delta & 0xffffffff)) {
			nat_hmap_remove(&cache->ip_refs, ip);
			pos = 0;
		} else if (!(delta & IP_IN_KERNEL)) {
			nat_hmap_put(&cache->ip_refs, ip, delta | IP_IN_KERNEL);
		}
	}
	nat_dnat_plan_free(plan);
}

int nat_dnat_all_elements(const struct nat_service_cache *cache,
			  struct nat_changes *changes)
{
	uint64_t key, value;
	size_t pos = 0;
	struct nat_elem e;
	int err = 0;

	while (!err && nat_hmap_next(&cache->services, &pos, &key, &value))
		err = diff_service(key, NULL,
				   (struct nat_service_state *)value, changes);
	pos = 0;
	while (!err && nat_hmap_next(&cache->ip_refs, &pos, &key, &value)) {
		if (!(value & 0xffffffff))
			continue;
		nat_elem_ipv4(&e, htonl((uint32_t)key), false);
		err = nat_elem_list_push(&changes->add[NAT_SET_SERVICE_IPS], &e);
	}
	return err;
}
