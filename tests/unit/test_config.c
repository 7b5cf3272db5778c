/*
 * Config validator: good files parse with the documented defaults; each
 * bad file gives exactly the message an operator would see.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/config.h"

static char psk_path[64], open_psk_path[64];

static const char *base_config =
	"{"
	" \"gateway\": {\"public_address\": \"203.0.113.10\","
	"   \"vpc_address\": \"10.0.16.5\"},"
	" \"office\": {\"address\": \"198.51.100.10\","
	"   \"subnets\": [\"172.16.0.0/24\"]},"
	" \"auth\": {\"psk_file\": \"PSK\"},"
	" \"cluster\": {\"service_cidr\": \"10.0.56.0/21\","
	"   \"pod_cidrs\": [\"10.0.0.0/20\"], \"node_cidrs\": [\"10.0.32.0/20\"]}"
	"}";

/* The base document with psk_file pointing at a real 0600 file. */
static json_t *base_doc(void)
{
	json_t *doc = json_loads(base_config, 0, NULL);

	assert_non_null(doc);
	json_object_set_new(json_object_get(doc, "auth"), "psk_file",
			    json_string(psk_path));
	return doc;
}

/* Set doc.<dotted path> = value (steals value), creating objects. */
static void set_path(json_t *doc, const char *path, json_t *value)
{
	char *copy = strdup(path), *key = copy, *dot;
	json_t *object = doc;

	while ((dot = strchr(key, '.'))) {
		json_t *child;

		*dot = '\0';
		child = json_object_get(object, key);
		if (!child) {
			child = json_object();
			json_object_set_new(object, key, child);
		}
		object = child;
		key = dot + 1;
	}
	if (value)
		json_object_set_new(object, key, value);
	else
		json_object_del(object, key);
	free(copy);
}

static struct cg_config *parse_doc(json_t *doc, struct cg_errors *errors)
{
	char *text = json_dumps(doc, 0);
	struct cg_config *config = config_parse(text, strlen(text), errors);

	free(text);
	json_decref(doc);
	return config;
}

/* Assert that doc is rejected with exactly one message, expected. */
static void expect_error(json_t *doc, const char *expected)
{
	struct cg_errors errors;
	struct cg_config *config = parse_doc(doc, &errors);

	assert_null(config);
	if (errors.count != 1) {
		size_t i;

		for (i = 0; i < errors.count; i++)
			print_error("got: %s\n", errors.messages[i]);
	}
	assert_int_equal(errors.count, 1);
	assert_string_equal(errors.messages[0], expected);
	config_errors_clear(&errors);
}

static void test_defaults(void **state)
{
	struct cg_errors errors;
	struct cg_config *config;
	char text[CG_CIDR_STRLEN];

	(void)state;
	config = parse_doc(base_doc(), &errors);
	assert_non_null(config);
	assert_int_equal(errors.count, 0);
	assert_string_equal(config->gateway.ike_id, "203.0.113.10");
	assert_string_equal(config->gateway.vpc_interface, "eth0");
	assert_null(config->gateway.tunnel_interface);
	assert_int_equal(config->gateway.tunnel_mtu, 1400);
	assert_string_equal(config->office.ike_id, "198.51.100.10");
	assert_int_equal(config->auth.method, CG_AUTH_PSK);
	assert_string_equal(config->ike.ike_proposals.items[0],
			    "aes256gcm16-prfsha384-x25519");
	assert_string_equal(config->ike.esp_proposals.items[0],
			    "aes256gcm16-x25519");
	assert_int_equal(config->ike.dpd_delay_s, 10);
	assert_false(config->ike.mobike);
	assert_string_equal(cg_cidr_format(&config->cluster.service_cidr, text),
			    "10.0.56.0/21");
	assert_int_equal(config->services.mode, CG_MODE_PROXY);
	assert_true(config->nat.snat);
	assert_true(config->nat.mss_clamp);
	assert_int_equal(config->nat.dnat_buckets, 12);
	assert_int_equal(config->nodes.health.port, 10256);
	assert_string_equal(config->nodes.health.path, "/healthz");
	assert_int_equal(config->nodes.health.interval_ms, 2000);
	assert_int_equal(config->nodes.health.rise, 2);
	assert_int_equal(config->nodes.health.fall, 3);
	assert_int_equal(config->nodes.route_table, 254);
	assert_false(config->nodes.from_api);
	assert_string_equal(config->control_socket, CG_DEFAULT_CONTROL_SOCKET);
	assert_false(config->metrics_enabled);
	config_free(config);
}

static void test_full_file(void **state)
{
	struct cg_errors errors;
	struct cg_config *config;
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "services", json_pack(
		"{s:s, s:[{s:s, s:s, s:[{s:s, s:i, s:i}], s:[s, s], s:s}]}",
		"mode", "proxy", "static", "name", "nginx", "cluster_ip",
		"10.0.58.158", "ports", "protocol", "tcp", "port", 80,
		"target_port", 8080, "endpoints", "10.0.0.13", "10.0.0.14",
		"session_affinity", "ClientIP"));
	set_path(doc, "nodes.static", json_pack("[{s:s, s:s}]", "name",
						"node-a", "address",
						"10.0.32.23"));
	set_path(doc, "nat.allow", json_pack("[{s:s, s:[s], s:[i]}]",
					     "office_subnet", "172.16.0.0/25",
					     "destinations", "10.0.56.0/21",
					     "ports", 443));
	set_path(doc, "metrics.listen", json_string("127.0.0.1:9469"));
	config = parse_doc(doc, &errors);
	assert_non_null(config);
	assert_int_equal(config->services.static_count, 1);
	assert_int_equal(config->services.static_services[0].ports[0]
			 .target_port, 8080);
	assert_int_equal(config->services.static_services[0].endpoint_count, 2);
	assert_true(config->services.static_services[0].affinity_client_ip);
	assert_int_equal(config->services.static_services[0].affinity_timeout_s,
			 10800);
	assert_string_equal(config->services.static_services[0].namespace,
			    "default");
	assert_int_equal(config->nodes.static_count, 1);
	assert_int_equal(config->nat.allow[0].ports[0], 443);
	assert_true(config->metrics_enabled);
	config_free(config);
}

static void test_shipped_example_parses_but_needs_files(void **state)
{
	struct cg_errors errors;
	struct cg_config *config;

	(void)state;
	/* etc/clustergate.json names files that exist only on a gateway. */
	config = config_load("etc/clustergate.json", &errors);
	assert_null(config);
	assert_int_equal(errors.count, 2);
	assert_string_equal(errors.messages[0], "auth.psk_file: cannot read "
			    "'/etc/clustergate/psk': No such file or directory");
	assert_string_equal(errors.messages[1], "cluster.api.kubeconfig: "
			    "cannot read '/etc/clustergate/kubeconfig': No "
			    "such file or directory");
	config_errors_clear(&errors);
}

static void test_bad_cidr(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "office.subnets",
		 json_pack("[s, s]", "172.16.0.0/24", "172.16.1.0/33"));
	expect_error(doc, "office.subnets[1]: '172.16.1.0/33' is not an IPv4 "
		     "CIDR");
}

static void test_host_bits(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "cluster.service_cidr", json_string("10.0.58.158/21"));
	expect_error(doc, "cluster.service_cidr: '10.0.58.158/21' has host bits "
		     "set (did you mean 10.0.56.0/21?)");
}

static void test_interface_name(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "gateway.tunnel_interface",
		 json_string("ipsec0-much-too-long"));
	expect_error(doc, "gateway.tunnel_interface: 'ipsec0-much-too-long' is "
		     "not a valid interface name (at most 15 characters, no "
		     "'/', ':' or spaces)");
}

static void test_unknown_key(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "nat.snta", json_false());
	expect_error(doc, "nat.snta: unknown key");
}

static void test_unknown_top_level_key(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "servces", json_object());
	expect_error(doc, "(top level).servces: unknown key");
}

static void test_missing_required(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "gateway.vpc_address", NULL);
	expect_error(doc, "gateway.vpc_address: missing (required)");
}

static void test_bad_address(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "gateway.public_address", json_string("203.0.113.300"));
	expect_error(doc, "gateway.public_address: '203.0.113.300' is not an "
		     "IPv4 address");
}

static void test_office_overlaps_pods(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "office.subnets", json_pack("[s]", "10.0.0.0/16"));
	set_path(doc, "cluster.node_cidrs", NULL);
	/* 10.0.0.0/16 holds both the service CIDR and the pod CIDR. */
	{
		struct cg_errors errors;

		assert_null(parse_doc(doc, &errors));
		assert_int_equal(errors.count, 2);
		assert_string_equal(errors.messages[0], "office.subnets[0]: "
				    "10.0.0.0/16 overlaps cluster.service_cidr "
				    "10.0.56.0/21");
		assert_string_equal(errors.messages[1], "office.subnets[0]: "
				    "10.0.0.0/16 overlaps cluster.pod_cidrs[0] "
				    "10.0.0.0/20");
		config_errors_clear(&errors);
	}
}

static void test_office_overlaps_nodes(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "office.subnets", json_pack("[s]", "10.0.33.0/24"));
	expect_error(doc, "office.subnets[0]: 10.0.33.0/24 overlaps "
		     "cluster.node_cidrs[0] 10.0.32.0/20");
}

static void test_psk_mode(void **state)
{
	json_t *doc = base_doc();
	char expected[256];

	(void)state;
	set_path(doc, "auth.psk_file", json_string(open_psk_path));
	snprintf(expected, sizeof(expected), "auth.psk_file: '%s' is readable "
		 "by group or other (mode 0644); run chmod 600 on it",
		 open_psk_path);
	expect_error(doc, expected);
}

static void test_key_mode(void **state)
{
	json_t *doc = base_doc();
	char expected[256];

	(void)state;
	set_path(doc, "auth", json_pack("{s:s, s:s, s:s}", "cert_file",
					psk_path, "key_file", open_psk_path,
					"ca_file", psk_path));
	snprintf(expected, sizeof(expected), "auth.key_file: '%s' is readable "
		 "by group or other (mode 0644); run chmod 600 on it",
		 open_psk_path);
	expect_error(doc, expected);
}

static void test_auth_both(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "auth.cert_file", json_string(psk_path));
	expect_error(doc, "auth: set either psk_file or cert_file/key_file/"
		     "ca_file, not both");
}

static void test_bad_mode(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "services.mode", json_string("proxies"));
	expect_error(doc, "services.mode: 'proxies' is not one of \"proxy\", "
		     "\"route\"");
}

static void test_wrong_type(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "nat.snat", json_string("yes"));
	expect_error(doc, "nat.snat: expected true or false, got a string");
}

static void test_out_of_range(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "nodes.health.fall", json_integer(0));
	expect_error(doc, "nodes.health.fall: 0 is out of range (1 to 100)");
}

static void test_static_service_outside_cidr(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "services.static", json_pack(
		"[{s:s, s:s, s:[{s:i}]}]", "name", "web", "cluster_ip",
		"10.1.0.1", "ports", "port", 80));
	expect_error(doc, "services.static[0].cluster_ip: 10.1.0.1 is outside "
		     "cluster.service_cidr 10.0.56.0/21");
}

static void test_route_mode_needs_nodes(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "services.mode", json_string("route"));
	expect_error(doc, "nodes.static: route mode needs nodes: list them here "
		     "or configure cluster.api");
}

static void test_any_office_needs_id(void **state)
{
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "office.address", json_string("any"));
	expect_error(doc, "office.id: required when office.address is \"any\"");
}

static void test_invalid_json(void **state)
{
	struct cg_errors errors;

	(void)state;
	assert_null(config_parse("{\"gateway\": ", 12, &errors));
	assert_int_equal(errors.count, 1);
	assert_string_equal(errors.messages[0], "(file): invalid JSON at line 1 "
			    "column 12: unexpected token near end of file");
	config_errors_clear(&errors);
}

static void test_every_error_reported(void **state)
{
	struct cg_errors errors;
	json_t *doc = base_doc();

	(void)state;
	set_path(doc, "gateway.vpc_address", json_string("x"));
	set_path(doc, "office.subnets", json_pack("[s]", "nope"));
	set_path(doc, "log.level", json_string("loud"));
	assert_null(parse_doc(doc, &errors));
	assert_int_equal(errors.count, 3);
	assert_string_equal(errors.messages[0], "gateway.vpc_address: 'x' is "
			    "not an IPv4 address");
	assert_string_equal(errors.messages[1], "office.subnets[0]: 'nope' is "
			    "not an IPv4 CIDR");
	assert_string_equal(errors.messages[2], "log.level: 'loud' is not one "
			    "of \"error\", \"warning\", \"info\", \"debug\"");
	config_errors_clear(&errors);
}

static void test_cidr_helpers(void **state)
{
	struct cg_cidr a, b;
	struct in_addr inside;

	(void)state;
	assert_int_equal(cg_cidr_parse("10.0.56.0/21", &a), 0);
	assert_int_equal(cg_cidr_parse("10.0.58.0/24", &b), 0);
	assert_true(cg_cidr_overlaps(&a, &b));
	inet_pton(AF_INET, "10.0.63.255", &inside);
	assert_true(cg_cidr_contains(&a, inside));
	inet_pton(AF_INET, "10.0.64.0", &inside);
	assert_false(cg_cidr_contains(&a, inside));
	assert_int_equal(cg_cidr_parse("0.0.0.0/0", &a), 0);
	assert_true(cg_cidr_contains(&a, inside));
	assert_int_not_equal(cg_cidr_parse("10.0.0.0/", &a), 0);
	assert_int_not_equal(cg_cidr_parse("10.0.0.0/-1", &a), 0);
	assert_int_not_equal(cg_cidr_parse("10.0.0.0", &a), 0);
}

static int make_files(void **state)
{
	int fd;

	(void)state;
	strcpy(psk_path, "/tmp/cgpskXXXXXX");
	fd = mkstemp(psk_path);
	if (fd < 0)
		return -1;
	close(fd);
	strcpy(open_psk_path, "/tmp/cgpskXXXXXX");
	fd = mkstemp(open_psk_path);
	if (fd < 0)
		return -1;
	fchmod(fd, 0644);
	close(fd);
	return 0;
}

static int remove_files(void **state)
{
	(void)state;
	unlink(psk_path);
	unlink(open_psk_path);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_shipped_example_parses_but_needs_files),
		cmocka_unit_test(test_bad_cidr),
		cmocka_unit_test(test_host_bits),
		cmocka_unit_test(test_interface_name),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_unknown_top_level_key),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_bad_address),
		cmocka_unit_test(test_office_overlaps_pods),
		cmocka_unit_test(test_office_overlaps_nodes),
		cmocka_unit_test(test_psk_mode),
		cmocka_unit_test(test_key_mode),
		cmocka_unit_test(test_auth_both),
		cmocka_unit_test(test_bad_mode),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_static_service_outside_cidr),
		cmocka_unit_test(test_route_mode_needs_nodes),
		cmocka_unit_test(test_any_office_needs_id),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_every_error_reported),
		cmocka_unit_test(test_cidr_helpers),
	};

	return cmocka_run_group_tests(tests, make_files, remove_files);
}
