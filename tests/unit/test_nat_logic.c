/*
 * Unit tests for nat/'s pure logic: the hash map, address ranges, bucket
 * counts and sticky assignment, element encoding, and the DNAT diff.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nat/nat_internal.h"

static void test_hmap(void **unused)
{
	struct nat_hmap map = { 0 };
	uint64_t key, value;
	size_t pos = 0, seen = 0;

	(void)unused;
	for (uint64_t k = 1; k <= 5000; k++)
		assert_int_equal(nat_hmap_put(&map, k * 7919, k), 0);
	assert_int_equal(map.count, 5000);
	for (uint64_t k = 1; k <= 5000; k += 2)
		nat_hmap_remove(&map, k * 7919);
	assert_int_equal(map.count, 2500);
	for (uint64_t k = 1; k <= 5000; k++) {
		uint64_t *slot = nat_hmap_find(&map, k * 7919);

		if (k % 2)
			assert_null(slot);
		else
			assert_int_equal(*slot, k);
	}
	while (nat_hmap_next(&map, &pos, &key, &value)) {
		assert_int_equal(key, value * 7919);
		seen++;
	}
	assert_int_equal(seen, 2500);
	nat_hmap_free(&map);
}

static struct nat_cidr cidr(const char *address, uint8_t len)
{
	struct nat_cidr c = { .prefix_len = len };

	inet_pton(AF_INET, address, &c.address);
	return c;
}

static void test_ranges_merge(void **unused)
{
	struct nat_cidr in[] = {
		cidr("10.0.56.0", 21), cidr("10.0.0.0", 20),
		cidr("10.0.1.0", 24),	/* inside 10.0.0.0/20 */
		cidr("10.0.16.0", 20),	/* adjacent: merges */
		cidr("10.0.56.7", 21),	/* host bits set: same as the first */
	};
	struct nat_range_list out;

	(void)unused;
	assert_int_equal(nat_ranges_from_cidrs(in, 5, &out), 0);
	assert_int_equal(out.count, 2);
	assert_int_equal(out.items[0].first, 0x0a000000);
	assert_int_equal(out.items[0].last, 0x0a001fff);
	assert_int_equal(out.items[1].first, 0x0a003800);
	assert_int_equal(out.items[1].last, 0x0a003fff);
	nat_range_list_free(&out);
}

static void test_ranges_elements_roundtrip(void **unused)
{
	struct nat_cidr in[] = { cidr("172.16.0.0", 24), cidr("10.0.0.0", 8) };
	struct nat_range_list want, have, none = { 0 };
	struct nat_elem_list del = { 0 }, add = { 0 };
	struct nat_elem zero_end;

	(void)unused;
	nat_ranges_from_cidrs(in, 2, &want);
	assert_int_equal(nat_ranges_diff(&none, &want, &del, &add), 0);
	assert_int_equal(del.count, 0);
	assert_int_equal(add.count, 4);		/* two starts, two ends */
	/* nft adds an end element at 0.0.0.0; reading must ignore it */
	nat_elem_ipv4(&zero_end, 0, true);
	nat_elem_list_push(&add, &zero_end);
	assert_int_equal(nat_ranges_from_elems(add.items, add.count, &have), 0);
	assert_int_equal(have.count, 2);
	assert_memory_equal(have.items, want.items, 2 * sizeof(*have.items));
	free(add.items);
	add.items = NULL;
	add.count = add.capacity = 0;
	assert_int_equal(nat_ranges_diff(&have, &want, &del, &add), 0);
	assert_int_equal(del.count + add.count, 0);
	nat_range_list_free(&want);
	nat_range_list_free(&have);
}

static void test_bucket_counts(void **unused)
{
	uint32_t tiers[8];

	(void)unused;
	assert_int_equal(nat_bucket_count(12, 0), 0);
	assert_int_equal(nat_bucket_count(12, 1), 12);
	assert_int_equal(nat_bucket_count(12, 12), 12);
	assert_int_equal(nat_bucket_count(12, 13), 48);
	assert_int_equal(nat_bucket_count(12, 100), 192);
	assert_int_equal(nat_bucket_count(12, 100000), 3072);
	assert_int_equal(nat_bucket_tiers(12, tiers, 8), 5);
	assert_int_equal(tiers[4], 3072);
	assert_int_equal(nat_bucket_tiers(256, tiers, 8), 3);
}

static void count_held(const uint16_t *buckets, uint32_t n, size_t *held)
{
	for (uint32_t i = 0; i < n; i++)
		held[buckets[i]]++;
}

static void test_assign_balanced(void **unused)
{
	uint64_t endpoints[5] = { 1, 2, 3, 4, 5 };
	uint16_t buckets[12];
	size_t held[5] = { 0 };

	(void)unused;
	nat_assign_buckets(endpoints, 5, NULL, buckets, 12);
	count_held(buckets, 12, held);
	for (int i = 0; i < 5; i++)
		assert_true(held[i] == 2 || held[i] == 3);
	memset(held, 0, sizeof(held));
	nat_assign_buckets(endpoints, 3, NULL, buckets, 12);
	count_held(buckets, 12, held);
	assert_int_equal(held[0], 4);
	assert_int_equal(held[1], 4);
	assert_int_equal(held[2], 4);
}

static void test_assign_sticky(void **unused)
{
	uint64_t three[3] = { 10, 20, 30 }, two[2] = { 10, 30 };
	uint64_t four[4] = { 10, 20, 30, 40 }, previous[12];
	uint16_t old[12], now[12];
	int moved = 0;

	(void)unused;
	nat_assign_buckets(three, 3, NULL, old, 12);
	for (int i = 0; i < 12; i++)
		previous[i] = three[old[i]];
	/* endpoint 20 goes away: only its 4 buckets move */
	nat_assign_buckets(two, 2, previous, now, 12);
	for (int i = 0; i < 12; i++) {
		if (previous[i] != two[now[i]]) {
			assert_int_equal(previous[i], 20);
			moved++;
		}
	}
	assert_int_equal(moved, 4);
	/* endpoint 40 arrives: it takes 3 buckets, nothing else moves */
	moved = 0;
	nat_assign_buckets(four, 4, previous, now, 12);
	for (int i = 0; i < 12; i++) {
		if (previous[i] != four[now[i]]) {
			assert_int_equal(four[now[i]], 40);
			moved++;
		}
	}
	assert_int_equal(moved, 3);
}

static void test_backend_encoding(void **unused)
{
	struct nat_elem e;
	uint32_t ip, endpoint, bucket = 11;
	const uint8_t key_tail[] = { 6, 0, 0, 0, 0, 80, 0, 0 };
	const uint8_t port[] = { 0x1f, 0x90, 0, 0 };

	(void)unused;
	inet_pton(AF_INET, "10.0.58.158", &ip);
	inet_pton(AF_INET, "10.0.0.13", &endpoint);
	nat_elem_backend(&e, ip, IPPROTO_TCP, 80, bucket, endpoint, 8080);
	assert_int_equal(e.key_len, 16);
	assert_memory_equal(e.key, &ip, 4);
	assert_memory_equal(e.key + 4, key_tail, 8);
	assert_memory_equal(e.key + 12, &bucket, 4);	/* host order */
	assert_int_equal(e.data_len, 8);
	assert_memory_equal(e.data, &endpoint, 4);
	assert_memory_equal(e.data + 4, port, 4);
}

/* ---- DNAT plan ------------------------------------------------------------ */

static struct nat_endpoint endpoint(const char *address, uint16_t port)
{
	struct nat_endpoint e = { .port = port };

	inet_pton(AF_INET, address, &e.address);
	return e;
}

static struct nat_service_port service(const char *ip, uint16_t port,
				       struct nat_endpoint *endpoints,
				       size_t count)
{
	struct nat_service_port p = {
		.protocol = IPPROTO_TCP, .port = port, .endpoints = endpoints,
		.endpoint_count = count, .name = "test/svc",
	};

	inet_pton(AF_INET, ip, &p.cluster_ip);
	return p;
}

static void plan_and_commit(struct nat_service_cache *cache,
			    struct nat_service_port *ports, size_t count,
			    struct nat_changes *changes)
{
	struct nat_services desired = { .ports = ports, .count = count };
	struct nat_dnat_plan plan;
	char error[256];

	memset(changes, 0, sizeof(*changes));
	assert_int_equal(nat_dnat_plan(cache, &desired, 12, &plan, changes,
				       error, sizeof(error)), 0);
	nat_dnat_commit(cache, &plan);
}

static void test_plan_lifecycle(void **unused)
{
	struct nat_endpoint eps[] = {
		endpoint("10.0.0.13", 8080), endpoint("10.0.0.14", 8080),
	};
	struct nat_endpoint changed[] = {
		endpoint("10.0.0.13", 8080), endpoint("10.0.0.15", 8080),
	};
	struct nat_service_port ports[] = {
		service("10.0.58.158", 80, eps, 2),
		service("10.0.58.158", 443, NULL, 0),
	};
	struct nat_service_cache cache;
	struct nat_changes c;

	(void)unused;
	nat_service_cache_init(&cache);
	plan_and_commit(&cache, ports, 2, &c);
	assert_int_equal(c.add[NAT_SET_SERVICE_DISPATCH].count, 1);
	assert_int_equal(c.add[NAT_SET_SERVICE_DISPATCH].items[0].verdict_mode,
			 NAT_MODE_RANDOM);
	assert_int_equal(c.add[NAT_SET_SERVICE_BACKENDS].count, 12);
	assert_int_equal(c.add[NAT_SET_REJECTED_SERVICES].count, 1);
	assert_int_equal(c.add[NAT_SET_SERVICE_IPS].count, 1);	/* one IP */
	assert_int_equal(nat_changes_count(&c, false), 0);
	nat_changes_free(&c);

	plan_and_commit(&cache, ports, 2, &c);		/* same again */
	assert_int_equal(nat_changes_count(&c, true) +
			 nat_changes_count(&c, false), 0);
	nat_changes_free(&c);

	ports[0].endpoints = changed;			/* .14 -> .15 */
	plan_and_commit(&cache, ports, 2, &c);
	assert_int_equal(c.del[NAT_SET_SERVICE_BACKENDS].count, 6);
	assert_int_equal(c.add[NAT_SET_SERVICE_BACKENDS].count, 6);
	assert_int_equal(nat_changes_count(&c, true) +
			 nat_changes_count(&c, false), 12);
	nat_changes_free(&c);

	plan_and_commit(&cache, ports + 1, 1, &c);	/* port 80 removed */
	assert_int_equal(c.del[NAT_SET_SERVICE_DISPATCH].count, 1);
	assert_int_equal(c.del[NAT_SET_SERVICE_BACKENDS].count, 12);
	assert_int_equal(c.del[NAT_SET_SERVICE_IPS].count, 0);	/* 443 uses it */
	nat_changes_free(&c);

	plan_and_commit(&cache, NULL, 0, &c);		/* everything gone */
	assert_int_equal(c.del[NAT_SET_REJECTED_SERVICES].count, 1);
	assert_int_equal(c.del[NAT_SET_SERVICE_IPS].count, 1);
	assert_int_equal(cache.services.count, 0);
	assert_int_equal(cache.ip_refs.count, 0);
	nat_changes_free(&c);
	nat_service_cache_clear(&cache);
}

/* A new affinity timeout re-points the dispatch element, nothing else. */
static void test_plan_affinity_timeout(void **unused)
{
	struct nat_endpoint eps[] = {
		endpoint("10.0.0.13", 8080), endpoint("10.0.0.14", 8080),
	};
	struct nat_service_port ports[] = {
		service("10.0.58.160", 80, eps, 2),
	};
	struct nat_service_cache cache;
	struct nat_changes c;
	char chain[32];

	(void)unused;
	ports[0].affinity_client_ip = true;
	ports[0].affinity_timeout_s = 0;		/* unset: 10800 */
	nat_service_cache_init(&cache);
	plan_and_commit(&cache, ports, 1, &c);
	assert_int_equal(c.add[NAT_SET_SERVICE_DISPATCH].count, 1);
	assert_int_equal(c.add[NAT_SET_SERVICE_DISPATCH].items[0].verdict_mode,
			 NAT_MODE_AFFINITY);
	assert_int_equal(
		c.add[NAT_SET_SERVICE_DISPATCH].items[0].verdict_timeout, 10800);
	nat_dnat_chain_name(NAT_MODE_AFFINITY, 12, 10800, chain, sizeof(chain));
	assert_string_equal(chain, "dnat_affinity_12_10800");
	nat_changes_free(&c);

	ports[0].affinity_timeout_s = 10800;		/* the same, explicit */
	plan_and_commit(&cache, ports, 1, &c);
	assert_int_equal(nat_changes_count(&c, true) +
			 nat_changes_count(&c, false), 0);
	nat_changes_free(&c);

	ports[0].affinity_timeout_s = 2;
	plan_and_commit(&cache, ports, 1, &c);
	assert_int_equal(c.del[NAT_SET_SERVICE_DISPATCH].count, 1);
	assert_int_equal(c.add[NAT_SET_SERVICE_DISPATCH].count, 1);
	assert_int_equal(
		c.add[NAT_SET_SERVICE_DISPATCH].items[0].verdict_timeout, 2);
	assert_int_equal(nat_changes_count(&c, true) +
			 nat_changes_count(&c, false), 2);
	nat_changes_free(&c);

	ports[0].affinity_client_ip = false;		/* affinity off */
	plan_and_commit(&cache, ports, 1, &c);
	assert_int_equal(c.add[NAT_SET_SERVICE_DISPATCH].items[0].verdict_mode,
			 NAT_MODE_RANDOM);
	assert_int_equal(
		c.add[NAT_SET_SERVICE_DISPATCH].items[0].verdict_timeout, 0);
	nat_dnat_chain_name(NAT_MODE_RANDOM, 12, 0, chain, sizeof(chain));
	assert_string_equal(chain, "dnat_random_12");
	nat_changes_free(&c);
	nat_service_cache_clear(&cache);
}

static void test_plan_refuses_bad_state(void **unused)
{
	struct nat_endpoint eps[] = { endpoint("10.0.0.13", 0) };
	struct nat_service_port ports[] = {
		service("10.0.58.158", 80, NULL, 0),
		service("10.0.58.158", 80, NULL, 0),
	};
	struct nat_services desired = { .ports = ports, .count = 2 };
	struct nat_service_cache cache;
	struct nat_changes c = { 0 };
	struct nat_dnat_plan plan;
	char error[256];

	(void)unused;
	nat_service_cache_init(&cache);
	ports[1].name = "other/svc";
	assert_int_equal(nat_dnat_plan(&cache, &desired, 12, &plan, &c, error,
				       sizeof(error)), -EINVAL);
	assert_string_equal(error, "services test/svc and other/svc use the "
			    "same ClusterIP, protocol and port");
	nat_changes_free(&c);
	ports[0].endpoints = eps;
	ports[0].endpoint_count = 1;
	desired.count = 1;
	assert_int_equal(nat_dnat_plan(&cache, &desired, 12, &plan, &c, error,
				       sizeof(error)), -EINVAL);
	assert_string_equal(error, "service test/svc (10.0.58.158:80): "
			    "endpoint 0 has no address or port");
	nat_changes_free(&c);
	nat_service_cache_clear(&cache);
}

/* Elements written for a cache, read back, give the same cache. */
static void test_cache_load_roundtrip(void **unused)
{
	struct nat_endpoint eps[20];
	struct nat_service_port ports[3];
	struct nat_service_cache cache, loaded;
	struct nat_changes all = { 0 }, c;
	struct nat_services desired = { .ports = ports, .count = 3 };
	struct nat_dnat_plan plan;
	char error[256], address[32];

	(void)unused;
	for (int i = 0; i < 20; i++) {
		snprintf(address, sizeof(address), "10.0.1.%d", i + 1);
		eps[i] = endpoint(address, 9000);
	}
	ports[0] = service("10.0.58.1", 80, eps, 3);
	ports[1] = service("10.0.58.2", 80, eps, 20);	/* 48 buckets */
	ports[1].affinity_client_ip = true;
	ports[2] = service("10.0.58.3", 53, NULL, 0);
	nat_service_cache_init(&cache);
	plan_and_commit(&cache, ports, 3, &c);
	nat_changes_free(&c);

	assert_int_equal(nat_dnat_all_elements(&cache, &all), 0);
	assert_int_equal(all.add[NAT_SET_SERVICE_BACKENDS].count, 12 + 48);
	nat_service_cache_init(&loaded);
	assert_int_equal(nat_service_cache_load(&loaded, all.add), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(nat_dnat_plan(&loaded, &desired, 12, &plan, &c,
				       error, sizeof(error)), 0);
	assert_int_equal(nat_changes_count(&c, true) +
			 nat_changes_count(&c, false), 0);
	nat_dnat_plan_free(&plan);
	nat_changes_free(&c);
	nat_changes_free(&all);
	nat_service_cache_clear(&cache);
	nat_service_cache_clear(&loaded);
}

static void test_check_policy(void **unused)
{
	struct nat_cidr office = cidr("172.16.0.0", 24);
	struct nat_cidr cluster = cidr("10.0.56.0", 21);
	struct nat_allow_rule allow = { .office_subnet = cidr("172.17.0.0", 26) };
	struct nat_policy p = {
		.tunnel_interface = "ipsec0", .vpc_interface = "eth0",
		.snat = true, .tunnel_mtu = 1400,
		.office_subnets = &office, .office_subnet_count = 1,
		.cluster_destinations = &cluster,
		.cluster_destination_count = 1,
	};
	char error[256];

	(void)unused;
	assert_int_equal(nat_check_policy(&p, error, sizeof(error)), -EINVAL);
	assert_string_equal(error, "vpc_address is empty (0.0.0.0); SNAT and "
			    "ClusterIP ping replies need the gateway's VPC "
			    "address");
	inet_pton(AF_INET, "10.0.16.5", &p.vpc_address);
	assert_int_equal(nat_check_policy(&p, error, sizeof(error)), 0);
	p.vpc_interface = "";
	assert_int_equal(nat_check_policy(&p, error, sizeof(error)), -EINVAL);
	assert_string_equal(error, "vpc_interface is empty");
	p.snat = false;		/* no SNAT: no interface needed */
	assert_int_equal(nat_check_policy(&p, error, sizeof(error)), 0);
	p.tunnel_interface = "a-very-long-tunnel-name";
	assert_int_equal(nat_check_policy(&p, error, sizeof(error)), -EINVAL);
	assert_string_equal(error, "tunnel_interface 'a-very-long-tunnel-name' "
			    "is longer than 15 characters");
	p.tunnel_interface = NULL;	/* XFRM */
	p.tunnel_mtu = 100;
	assert_int_equal(nat_check_policy(&p, error, sizeof(error)), -EINVAL);
	assert_string_equal(error, "tunnel_mtu 100 is outside 576-9000");
	p.tunnel_mtu = 0;		/* no clamping */
	p.allow = &allow;
	p.allow_count = 1;
	assert_int_equal(nat_check_policy(&p, error, sizeof(error)), -EINVAL);
	assert_string_equal(error, "allow[0].office_subnet 172.17.0.0/26 is "
			    "not inside any office subnet");
	allow.office_subnet = cidr("172.16.0.64", 26);
	assert_int_equal(nat_check_policy(&p, error, sizeof(error)), 0);
	p.office_subnet_count = 0;
	assert_int_equal(nat_check_policy(&p, error, sizeof(error)), -EINVAL);
	assert_string_equal(error, "no office subnets");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmap),
		cmocka_unit_test(test_ranges_merge),
		cmocka_unit_test(test_ranges_elements_roundtrip),
		cmocka_unit_test(test_bucket_counts),
		cmocka_unit_test(test_assign_balanced),
		cmocka_unit_test(test_assign_sticky),
		cmocka_unit_test(test_backend_encoding),
		cmocka_unit_test(test_plan_lifecycle),
		cmocka_unit_test(test_plan_affinity_timeout),
		cmocka_unit_test(test_plan_refuses_bad_state),
		cmocka_unit_test(test_cache_load_roundtrip),
		cmocka_unit_test(test_check_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
