/*
 * DNAT buckets. A service port owns bucket_count elements in
 * service_backends, one per bucket; the rule picks a bucket with
 * `numgen random mod N` (or `jhash ip saddr mod N` for ClientIP affinity),
 * so each endpoint's share of traffic is its share of buckets.
 *
 * The base count (nat.dnat_buckets, default 12) divides evenly by 1, 2, 3,
 * 4 and 6 endpoints. A service with more endpoints than buckets moves to
 * a larger tier (base*4, base*16, ...) so every endpoint gets a bucket.
 */
#include <stdlib.h>
#include <string.h>

#include "nat/nat_internal.h"

uint32_t nat_bucket_count(uint32_t base, size_t endpoint_count)
{
	uint32_t buckets = base;

	if (!endpoint_count)
		return 0;
	while (buckets < endpoint_count && buckets * 4 <= NAT_MAX_BUCKETS)
		buckets *= 4;
	return buckets;
}

size_t nat_bucket_tiers(uint32_t base, uint32_t *tiers, size_t max)
{
	size_t n = 0;

	for (uint32_t b = base; n < max; b *= 4) {
		tiers[n++] = b;
		if (b * 4 > NAT_MAX_BUCKETS)
			break;
	}
	return n;
}

static size_t find_endpoint(const uint64_t *endpoints, size_t count,
			    uint64_t value)
{
	size_t low = 0, high = count;

	while (low < high) {
		size_t mid = (low + high) / 2;

		if (endpoints[mid] == value)
			return mid;
		if (endpoints[mid] < value)
			low = mid + 1;
		else
			high = mid;
	}
	return SIZE_MAX;
}

void nat_assign_buckets(const uint64_t *endpoints, size_t endpoint_count,
			const uint64_t *previous, uint16_t *buckets,
			uint32_t bucket_count)
{
	size_t base = endpoint_count ? bucket_count / endpoint_count : 0;
	size_t extra = endpoint_count ? bucket_count % endpoint_count : 0;
	size_t extra_used = 0, next = 0;
	uint32_t held_small[64];
	uint32_t *held = held_small;

	if (!endpoint_count) {
		for (uint32_t i = 0; i < bucket_count; i++)
			buckets[i] = NAT_BUCKET_EMPTY;
		return;
	}
	if (endpoint_count > 64) {
		held = calloc(endpoint_count, sizeof(*held));
		if (!held) {	/* out of memory: balanced, not sticky */
			for (uint32_t i = 0; i < bucket_count; i++)
				buckets[i] = (uint16_t)(i % endpoint_count);
			return;
		}
	} else {
		memset(held_small, 0, sizeof(held_small));
	}

	/* Keep old buckets: first up to the even share, then the extras. */
	for (uint32_t i = 0; i < bucket_count; i++) {
		size_t e = previous ? find_endpoint(endpoints, endpoint_count,
						    previous[i]) : SIZE_MAX;

		buckets[i] = NAT_BUCKET_EMPTY;
		if (e != SIZE_MAX && held[e] < base) {
			buckets[i] = (uint16_t)e;
			held[e]++;
		}
	}
	for (uint32_t i = 0; previous && i < bucket_count; i++) {
		size_t e;

		if (buckets[i] != NAT_BUCKET_EMPTY || extra_used == extra)
			continue;
		e = find_endpoint(endpoints, endpoint_count, previous[i]);
		if (e != SIZE_MAX && held[e] == base) {
			buckets[i] = (uint16_t)e;
			held[e]++;
			extra_used++;
		}
	}
	/* Fill the rest with whichever endpoints are below their share. */
	for (uint32_t i = 0; i < bucket_count; i++) {
		if (buckets[i] != NAT_BUCKET_EMPTY)
			continue;
		while (held[next] > base ||
		       (held[next] == base && extra_used == extra))
			next = (next + 1) % endpoint_count;
		if (held[next] == base)
			extra_used++;
		buckets[i] = (uint16_t)next;
		held[next]++;
		next = (next + 1) % endpoint_count;
	}
	if (held != held_small)
		free(held);
}
