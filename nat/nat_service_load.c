/*
 * The service cache rebuilt from the kernel's elements, for when the
 * cache cannot be trusted (first sync, or someone else changed the
 * ruleset since our last commit).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nat/nat_internal.h"

#define IP_IN_KERNEL (1ULL << 32)

static uint64_t elem_service_key(const struct nat_elem *e)
{
	uint32_t ip;
	uint16_t port;

	memcpy(&ip, e->key, 4);
	memcpy(&port, e->key + 8, 2);
	return nat_service_key(ntohl(ip), e->key[4], ntohs(port));
}

static struct nat_service_state *state_for(struct nat_service_cache *cache,
					   uint64_t key)
{
	uint64_t *slot = nat_hmap_find(&cache->services, key);
	struct nat_service_state *s;

	if (slot)
		return (struct nat_service_state *)*slot;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->key = key;
	s->mode = NAT_MODE_NONE;
	if (nat_hmap_put(&cache->services, key, (uint64_t)s) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

static int grow_buckets(struct nat_service_state *s, uint32_t count)
{
	uint16_t *grown;

	if (count <= s->bucket_count)
		return 0;
	grown = realloc(s->buckets, count * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	for (uint32_t i = s->bucket_count; i < count; i++)
		grown[i] = NAT_BUCKET_EMPTY;
	s->buckets = grown;
	s->bucket_count = count;
	return 0;
}

static int add_endpoint(struct nat_service_state *s, uint64_t endpoint,
			uint16_t *index)
{
	uint64_t *grown;
	size_t i;

	for (i = 0; i < s->endpoint_count; i++) {
		if (s->endpoints[i] == endpoint) {
			*index = (uint16_t)i;
			return 0;
		}
	}
	if (s->endpoint_count >= 65535)
		return -ERANGE;
	grown = realloc(s->endpoints, (i + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	s->endpoints = grown;
	s->endpoints[i] = endpoint;
	s->endpoint_count++;
	*index = (uint16_t)i;
	return 0;
}

static int load_backend(struct nat_service_cache *cache,
			const struct nat_elem *e)
{
	struct nat_service_state *s = state_for(cache, elem_service_key(e));
	uint32_t bucket, ip;
	uint16_t port, index;
	int err;

	if (!s)
		return -ENOMEM;
	memcpy(&bucket, e->key + 12, 4);
	memcpy(&ip, e->data, 4);
	memcpy(&port, e->data + 4, 2);
	if (bucket >= NAT_MAX_BUCKETS)
		bucket = NAT_MAX_BUCKETS - 1;	/* foreign; gets deleted */
	if ((err = grow_buckets(s, bucket + 1)) ||
	    (err = add_endpoint(s, nat_endpoint_pack(ntohl(ip), ntohs(port)),
				&index)))
		return err;
	s->buckets[bucket] = index;
	return 0;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Endpoints in sorted order, bucket indexes renumbered to match. */
static void sort_endpoints(struct nat_service_state *s)
{
	uint64_t *by_index;

	if (s->endpoint_count < 2)
		return;
	by_index = malloc(s->endpoint_count * sizeof(*by_index));
	if (!by_index)
		return;		/* unsorted only costs a rewrite later */
	memcpy(by_index, s->endpoints, s->endpoint_count * sizeof(*by_index));
	qsort(s->endpoints, s->endpoint_count, sizeof(*s->endpoints),
	      compare_u64);
	for (uint32_t i = 0; i < s->bucket_count; i++) {
		uint64_t value;

		if (s->buckets[i] == NAT_BUCKET_EMPTY)
			continue;
		value = by_index[s->buckets[i]];
		for (size_t j = 0; j < s->endpoint_count; j++) {
			if (s->endpoints[j] == value) {
				s->buckets[i] = (uint16_t)j;
				break;
			}
		}
	}
	free(by_index);
}

int nat_service_cache_load(struct nat_service_cache *cache,
			   const struct nat_elem_list *sets)
{
	const struct nat_elem_list *list;
	uint64_t key, value, *slot;
	size_t pos = 0;
	int err = 0;

	list = &sets[NAT_SET_SERVICE_DISPATCH];
	for (size_t i = 0; !err && i < list->count; i++) {
		const struct nat_elem *e = &list->items[i];
		struct nat_service_state *s = state_for(cache,
							elem_service_key(e));

		if (!s)
			return -ENOMEM;
		s->mode = e->verdict_mode;
		s->affinity_timeout_s = e->verdict_timeout;
		err = grow_buckets(s, e->verdict_buckets);
		/* a dispatch entry promises exactly this many buckets */
		s->bucket_count = e->verdict_buckets;
	}
	list = &sets[NAT_SET_REJECTED_SERVICES];
	for (size_t i = 0; !err && i < list->count; i++) {
		struct nat_service_state *s =
			state_for(cache, elem_service_key(&list->items[i]));

		if (!s)
			return -ENOMEM;
		if (s->mode == NAT_MODE_NONE)
			s->mode = NAT_MODE_REJECT;
	}
	list = &sets[NAT_SET_SERVICE_BACKENDS];
	for (size_t i = 0; !err && i < list->count; i++)
		err = load_backend(cache, &list->items[i]);
	if (err)
		return err;

	while (nat_hmap_next(&cache->services, &pos, &key, &value)) {
		struct nat_service_state *s = (struct nat_service_state *)value;
		uint32_t ip = (uint32_t)(key >> 24);

		sort_endpoints(s);
		slot = nat_hmap_find(&cache->ip_refs, ip);
		if ((err = nat_hmap_put(&cache->ip_refs, ip,
					slot ? *slot + 1 : 1)))
			return err;
	}
	list = &sets[NAT_SET_SERVICE_IPS];
	for (size_t i = 0; i < list->count; i++) {
		uint32_t ip;

		memcpy(&ip, list->items[i].key, 4);
		ip = ntohl(ip);
		slot = nat_hmap_find(&cache->ip_refs, ip);
		if ((err = nat_hmap_put(&cache->ip_refs, ip,
					(slot ? *slot : 0) | IP_IN_KERNEL)))
			return err;
	}
	return 0;
}
