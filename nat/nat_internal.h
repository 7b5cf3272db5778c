/*
 * Inside nat/: the pieces nat.c puts together. Nothing here is public.
 *
 * - nat_check.c: validation of a desired policy.
 * - nat_hmap.c: a small open-addressing hash map, 56-bit keys -> u64.
 * - nat_ranges.c: CIDR lists -> merged address ranges, and the elements
 *   of an interval set.
 * - nat_buckets.c: DNAT bucket counts and sticky endpoint -> bucket
 *   assignment.
 * - nat_dnat.c: desired services vs. the service cache -> element changes.
 * - nat_layout.c: the table's sets and chains, and batch builders.
 * - nat_rules.c: every rule, as libnftnl expressions.
 * - nat_netlink.c: the socket, the batch buffer, dumps.
 * - nat_readback.c: what our table holds now, read from the kernel.
 */
#ifndef CLUSTERGATE_NAT_INTERNAL_H
#define CLUSTERGATE_NAT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nat/nat.h"

/* ---- validation -------------------------------------------------------- */

/*
 * 0 if policy can be applied, else -EINVAL with the problem in error,
 * naming the field: "vpc_address is empty (0.0.0.0); ...".
 */
int nat_check_policy(const struct nat_policy *policy, char *error,
		     size_t error_size);

/* ---- hash map ---------------------------------------------------------- */

struct nat_hmap_slot {
	uint64_t key;		/* key | NAT_HMAP_USED, 0 when free */
	uint64_t value;
};

struct nat_hmap {
	struct nat_hmap_slot *slots;	/* key and value share a cache line */
	size_t capacity;		/* power of two */
	size_t count;
};

#define NAT_HMAP_USED (1ULL << 63)

int nat_hmap_init(struct nat_hmap *map, size_t expected);
void nat_hmap_free(struct nat_hmap *map);
/* Returns a pointer to the value slot, or NULL if key is absent. */
uint64_t *nat_hmap_find(const struct nat_hmap *map, uint64_t key);
/* Insert or overwrite. Returns 0 or -ENOMEM. */
int nat_hmap_put(struct nat_hmap *map, uint64_t key, uint64_t value);
/* Remove key if present. */
void nat_hmap_remove(struct nat_hmap *map, uint64_t key);
/* Iterate: for (i = 0; nat_hmap_next(map, &i, &k, &v); ) */
bool nat_hmap_next(const struct nat_hmap *map, size_t *pos, uint64_t *key,
		   uint64_t *value);

/* ---- sets and their elements ------------------------------------------ */

enum nat_set_index {
	NAT_SET_OFFICE_SUBNETS,
	NAT_SET_CLUSTER_DESTINATIONS,
	NAT_SET_NARROWED_SUBNETS,
	NAT_SET_SERVICE_IPS,
	NAT_SET_REJECTED_SERVICES,
	NAT_SET_SERVICE_DISPATCH,
	NAT_SET_SERVICE_BACKENDS,
	NAT_SET_COUNT,
};

extern const char *const nat_set_names[NAT_SET_COUNT];

enum nat_dnat_mode {
	NAT_MODE_NONE,
	NAT_MODE_REJECT,	/* no endpoints */
	NAT_MODE_RANDOM,	/* numgen random mod buckets */
	NAT_MODE_AFFINITY,	/* @affinity_clients, else numgen random */
};

/*
 * The dynamic map of ClientIP affinity (client . service -> bucket).
 * Its elements are the kernel's (added and expired by the packet path),
 * so it is not one of the diffed sets above.
 */
#define NAT_AFFINITY_CLIENTS "affinity_clients"
#define NAT_AFFINITY_CLIENTS_SIZE 65535
/* kube-proxy's default, used when a port gives none */
#define NAT_DEFAULT_AFFINITY_TIMEOUT_S 10800
/* distinct timeouts one table holds (each is a chain per bucket tier) */
#define NAT_MAX_AFFINITY_TIMEOUTS 8

static inline uint32_t nat_affinity_timeout(uint32_t timeout_s)
{
	return timeout_s ? timeout_s : NAT_DEFAULT_AFFINITY_TIMEOUT_S;
}

/* One set element as the kernel stores it (keys in register layout). */
struct nat_elem {
	uint8_t key[16];
	uint8_t data[8];
	uint8_t key_len;
	uint8_t data_len;
	bool interval_end;
	uint8_t verdict_mode;		/* service_dispatch: goto which chain */
	uint16_t verdict_buckets;
	uint32_t verdict_timeout;	/* affinity chains: seconds */
};

struct nat_elem_list {
	struct nat_elem *items;
	size_t count;
	size_t capacity;
};

/* Element changes for one batch: deletes go first, then adds. */
struct nat_changes {
	struct nat_elem_list del[NAT_SET_COUNT];
	struct nat_elem_list add[NAT_SET_COUNT];
};

int nat_elem_list_push(struct nat_elem_list *list, const struct nat_elem *e);
void nat_changes_free(struct nat_changes *changes);
size_t nat_changes_count(const struct nat_changes *changes, bool adds);

/*
 * Element encodings. ip is in network byte order, ports in host order.
 * Keys follow nftables' register layout: every field of a concatenation
 * takes a multiple of 4 bytes; the bucket is in host byte order, as
 * numgen and jhash write it.
 */
void nat_elem_ipv4(struct nat_elem *e, uint32_t ip, bool interval_end);
void nat_elem_service(struct nat_elem *e, uint32_t ip, uint8_t protocol,
		      uint16_t port);
void nat_elem_backend(struct nat_elem *e, uint32_t ip, uint8_t protocol,
		      uint16_t port, uint32_t bucket, uint32_t endpoint_ip,
		      uint16_t endpoint_port);
/*
 * "dnat_random_12" / "dnat_affinity_48_10800" (timeout_s is used only
 * for affinity).
 */
void nat_dnat_chain_name(enum nat_dnat_mode mode, uint32_t buckets,
			 uint32_t timeout_s, char *buf, size_t size);

/* ---- address ranges (interval sets) ----------------------------------- */

struct nat_range {
	uint32_t first;		/* host byte order, inclusive */
	uint32_t last;
};

struct nat_range_list {
	struct nat_range *items;
	size_t count;
};

/* Sorted, overlapping and adjacent ranges merged. Returns 0 or -ENOMEM. */
int nat_ranges_from_cidrs(const struct nat_cidr *cidrs, size_t count,
			  struct nat_range_list *out);
/* Rebuild ranges from interval set elements (start / end elements). */
int nat_ranges_from_elems(const struct nat_elem *elems, size_t count,
			  struct nat_range_list *out);
void nat_range_list_free(struct nat_range_list *list);
/* Push the element changes that turn have into want. */
int nat_ranges_diff(const struct nat_range_list *have,
		    const struct nat_range_list *want,
		    struct nat_elem_list *del, struct nat_elem_list *add);

/* ---- buckets ----------------------------------------------------------- */

/*
 * Bucket count for a service with endpoint_count endpoints: base for up
 * to base endpoints, then base*4, base*16, ... up to NAT_MAX_BUCKETS.
 */
#define NAT_MAX_BUCKETS 4096
uint32_t nat_bucket_count(uint32_t base, size_t endpoint_count);
/* The tier bucket counts for base, in order; returns how many. */
size_t nat_bucket_tiers(uint32_t base, uint32_t *tiers, size_t max);

#define NAT_BUCKET_EMPTY UINT16_MAX
/*
 * Fill buckets[0..bucket_count) with endpoint indexes so each of the
 * endpoint_count endpoints holds bucket_count/endpoint_count buckets (one
 * more for some). previous (may be NULL) is the old assignment as endpoint
 * values; a bucket keeps its endpoint when it can, so one endpoint change
 * moves only that endpoint's buckets. endpoints is sorted.
 */
void nat_assign_buckets(const uint64_t *endpoints, size_t endpoint_count,
			const uint64_t *previous, uint16_t *buckets,
			uint32_t bucket_count);

/* ---- service cache and DNAT diff -------------------------------------- */

/* A packed endpoint: address (host order) << 16 | port. */
static inline uint64_t nat_endpoint_pack(uint32_t ip_host, uint16_t port)
{
	return ((uint64_t)ip_host << 16) | port;
}

/* ClusterIP . protocol . port packed into 56 bits (ip in host order). */
static inline uint64_t nat_service_key(uint32_t ip_host, uint8_t protocol,
				       uint16_t port)
{
	return ((uint64_t)ip_host << 24) | ((uint64_t)protocol << 16) | port;
}

/* One service port as the kernel holds it. */
struct nat_service_state {
	uint64_t key;
	enum nat_dnat_mode mode;
	uint32_t bucket_count;		/* 0 for NAT_MODE_REJECT */
	uint32_t affinity_timeout_s;	/* NAT_MODE_AFFINITY only */
	size_t endpoint_count;
	uint64_t *endpoints;		/* sorted, packed */
	uint16_t *buckets;		/* index into endpoints, or EMPTY */
	uint32_t stamp;			/* last plan that saw it */
	uint32_t seen_index;		/* its index in that plan's input */
	bool inline_arrays;		/* endpoints/buckets in this block */
};

void nat_service_state_free(struct nat_service_state *state);

/* All service ports in the kernel, and how many ports use each ClusterIP. */
struct nat_service_cache {
	struct nat_hmap services;	/* key -> struct nat_service_state * */
	struct nat_hmap ip_refs;	/* ip (host order) -> port count */
	bool stale;			/* lost track: read back next time */
	uint32_t stamp;			/* counts plans */
};

void nat_service_cache_init(struct nat_service_cache *cache);
void nat_service_cache_clear(struct nat_service_cache *cache);

/* A computed change, applied to the cache once the kernel took it. */
struct nat_service_update {
	uint64_t key;
	struct nat_service_state *state;	/* NULL: removed */
};

struct nat_dnat_plan {
	struct nat_service_update *updates;
	size_t count;
	size_t capacity;
	struct nat_hmap ip_delta;	/* ip -> signed change in port count */
	size_t desired_ports;
};

/*
 * Compare desired with cache and push element changes to changes.
 * base_buckets: the configured bucket count. On a bad desired state
 * returns -EINVAL with a message in error. The cache's content is not
 * modified (only the stamps that mark what this plan saw).
 */
int nat_dnat_plan(struct nat_service_cache *cache,
		  const struct nat_services *desired, uint32_t base_buckets,
		  struct nat_dnat_plan *plan, struct nat_changes *changes,
		  char *error, size_t error_size);
/* The kernel took the batch: move the plan into the cache. */
void nat_dnat_commit(struct nat_service_cache *cache, struct nat_dnat_plan *plan);
void nat_dnat_plan_free(struct nat_dnat_plan *plan);
/* Every element of the cache, as adds (for a rebuilt table). */
int nat_dnat_all_elements(const struct nat_service_cache *cache,
			  struct nat_changes *changes);
/*
 * Rebuild the cache from the elements of service_dispatch,
 * rejected_services, service_backends and service_ips as read from the
 * kernel (lists indexed by enum nat_set_index). The cache must be empty.
 */
int nat_service_cache_load(struct nat_service_cache *cache,
			   const struct nat_elem_list *sets);

#endif
