/*
 * The service catalog on the real-format API samples (tests/k8s/fixtures,
 * copied from shared/k8s-samples): what a proxy-mode gateway programs,
 * exactly as the samples' README table says, then as the watch stream
 * moves on; and malformed objects, which are skipped with a log line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/k8s_catalog.h"
#include "gateway/k8s_catalog_private.h"
#include "gateway/log.h"

#define FIXTURES "tests/k8s/fixtures/"

/* Log lines the code under test wrote, newest last. */
static char logged[4096];

void log_msg(int level, const char *fmt, ...)
{
	size_t used = strlen(logged);
	va_list args;

	(void)level;
	va_start(args, fmt);
	if (used < sizeof(logged) - 2) {
		vsnprintf(logged + used, sizeof(logged) - used - 1, fmt, args);
		strcat(logged, "\n");
	}
	va_end(args);
}

static json_t *load_fixture(const char *name)
{
	char path[256];
	json_error_t error;
	json_t *json;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	json = json_load_file(path, 0, &error);
	if (!json)
		fail_msg("%s: %s", path, error.text);
	return json;
}

static void list_into(struct k8s_catalog *catalog, enum k8s_kind kind,
		      json_t *list)
{
	json_t *item;
	size_t i;

	k8s_catalog_list_begin(catalog, kind);
	json_array_foreach(json_object_get(list, "items"), i, item)
		k8s_catalog_list_add(catalog, kind, item, i);
	k8s_catalog_list_commit(catalog, kind);
}

static struct k8s_catalog *catalog_from_samples(void)
{
	struct k8s_catalog *catalog = k8s_catalog_create();
	json_t *services = load_fixture("services.json");
	json_t *slices = load_fixture("endpointslices.json");

	assert_non_null(catalog);
	list_into(catalog, K8S_SERVICES, services);
	list_into(catalog, K8S_SLICES, slices);
	json_decref(services);
	json_decref(slices);
	return catalog;
}

/*
 * The programmed state as text, one line per ClusterIP port:
 * "10.0.57.20:8080/tcp -> 10.0.0.31:8081 10.0.0.32:8081 affinity=10800".
 */
static char *render_services(const struct nat_services *services)
{
	static const char *protocols[256] = {
		[IPPROTO_TCP] = "tcp", [IPPROTO_UDP] = "udp",
		[IPPROTO_SCTP] = "sctp" };
	char *text = calloc(1, 65536);
	size_t used = 0;

	for (size_t i = 0; i < services->count; i++) {
		const struct nat_service_port *port = &services->ports[i];
		char address[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &port->cluster_ip, address, sizeof(address));
		used += sprintf(text + used, "%s:%u/%s ->", address, port->port,
				protocols[port->protocol]);
		for (size_t e = 0; e < port->endpoint_count; e++) {
			inet_ntop(AF_INET, &port->endpoints[e].address, address,
				  sizeof(address));
			used += sprintf(text + used, " %s:%u", address,
					port->endpoints[e].port);
		}
		if (!port->endpoint_count)
			used += sprintf(text + used, " reject");
		if (port->affinity_client_ip)
			used += sprintf(text + used, " affinity=%u",
					port->affinity_timeout_s);
		used += sprintf(text + used, " (%s)\n", port->name);
	}
	return text;
}

/*
 * The state as the catalog publishes it (incrementally updated), checked
 * against a rebuild from scratch: both must always agree.
 */
static char *render(struct k8s_catalog *catalog)
{
	const struct nat_services *services = k8s_catalog_services(catalog);
	char *incremental, *full;

	assert_non_null(services);
	incremental = render_services(services);
	k8s_catalog_mark_all_services(catalog);
	full = render_services(k8s_catalog_services(catalog));
	assert_string_equal(incremental, full);
	free(full);
	return incremental;
}

static void assert_programs(struct k8s_catalog *catalog,
			    const char *expected)
{
	char *text = render(catalog);

	if (strcmp(text, expected) != 0)
		fail_msg("programmed:\n%s\nexpected:\n%s", text, expected);
	free(text);
}

/* Whether the programmed state has (or lacks) a line containing line. */
static void assert_programs_line(struct k8s_catalog *catalog,
				 const char *line, bool present)
{
	char *text = render(catalog);

	if ((strstr(text, line) != NULL) != present)
		fail_msg("programmed:\n%s\n%s: '%s'", text,
			 present ? "missing" : "unexpected", line);
	free(text);
}

/* The table in shared/k8s-samples/README.md, row by row. */
static const char samples_table[] =
	"10.0.56.1:443/tcp -> 10.0.32.10:6443 (default/kubernetes:443/tcp)\n"
	"10.0.56.10:53/tcp -> 10.0.0.21:53 (kube-system/kube-dns:53/tcp)\n"
	"10.0.56.10:9153/tcp -> 10.0.0.21:9153 (kube-system/kube-dns:9153/tcp)\n"
	"10.0.56.10:53/udp -> 10.0.0.21:53 (kube-system/kube-dns:53/udp)\n"
	"10.0.57.20:8080/tcp -> 10.0.0.31:8081 10.0.0.32:8081 affinity=10800 (dev/sticky-web:8080/tcp)\n"
	"10.0.58.158:80/tcp -> 10.0.0.13:80 (default/nginx:80/tcp)\n"
	"10.0.60.80:3306/tcp -> 10.0.0.14:3306 (default/mysql:3306/tcp)\n"
	"10.0.62.200:80/tcp -> reject (default/empty:80/tcp)\n";

static void test_samples_table(void **state)
{
	struct k8s_catalog *catalog = catalog_from_samples();

	(void)state;
	/* headless-db and search (ExternalName) are held but not programmed */
	assert_int_equal(k8s_catalog_count(catalog, K8S_SERVICES), 8);
	assert_int_equal(k8s_catalog_count(catalog, K8S_SLICES), 8);
	assert_programs(catalog, samples_table);
	assert_string_equal(logged, "");
	k8s_catalog_destroy(catalog);
}

static enum k8s_event_type event_type(const char *name)
{
	if (strcmp(name, "ADDED") == 0)
		return K8S_ADDED;
	if (strcmp(name, "DELETED") == 0)
		return K8S_DELETED;
	return K8S_MODIFIED;
}

/* Apply line number `line` (0-based) of the sample watch stream. */
static void apply_watch_line(struct k8s_catalog *catalog, int line,
			     const char *expected_type)
{
	FILE *file = fopen(FIXTURES "watch-endpointslices.jsonl", "r");
	char buf[16384];
	json_t *event;

	assert_non_null(file);
	for (int i = 0; i <= line; i++)
		assert_non_null(fgets(buf, sizeof(buf), file));
	fclose(file);
	event = json_loads(buf, 0, NULL);
	assert_non_null(event);
	assert_string_equal(json_string_value(json_object_get(event, "type")),
			    expected_type);
	assert_int_equal(k8s_catalog_apply(catalog, K8S_SLICES,
					   event_type(expected_type),
					   json_object_get(event, "object")), 0);
	json_decref(event);
}

static void test_watch_stream_samples(void **state)
{
	struct k8s_catalog *catalog = catalog_from_samples();
	json_t *redis;

	(void)state;
	/* nginx gains 10.0.0.15, not ready yet: not chosen */
	apply_watch_line(catalog, 0, "MODIFIED");
	assert_programs(catalog, samples_table);
	/* now ready: both serve */
	apply_watch_line(catalog, 1, "MODIFIED");
	assert_programs_line(catalog,
		"10.0.58.158:80/tcp -> 10.0.0.13:80 10.0.0.15:80 (default/nginx:80/tcp)\n", true);
	/* a slice for dev/redis without its Service: nothing programmed */
	apply_watch_line(catalog, 2, "ADDED");
	assert_programs_line(catalog, "redis", false);
	assert_int_equal(k8s_catalog_count(catalog, K8S_SLICES), 9);
	/* mysql's slice deleted: mysql rejects */
	apply_watch_line(catalog, 4, "DELETED");
	assert_programs(catalog,
		"10.0.56.1:443/tcp -> 10.0.32.10:6443 (default/kubernetes:443/tcp)\n"
		"10.0.56.10:53/tcp -> 10.0.0.21:53 (kube-system/kube-dns:53/tcp)\n"
		"10.0.56.10:9153/tcp -> 10.0.0.21:9153 (kube-system/kube-dns:9153/tcp)\n"
		"10.0.56.10:53/udp -> 10.0.0.21:53 (kube-system/kube-dns:53/udp)\n"
		"10.0.57.20:8080/tcp -> 10.0.0.31:8081 10.0.0.32:8081 affinity=10800 (dev/sticky-web:8080/tcp)\n"
		"10.0.58.158:80/tcp -> 10.0.0.13:80 10.0.0.15:80 (default/nginx:80/tcp)\n"
		"10.0.60.80:3306/tcp -> reject (default/mysql:3306/tcp)\n"
		"10.0.62.200:80/tcp -> reject (default/empty:80/tcp)\n");
	/* once the redis Service exists, its slice is used (named port) */
	redis = json_loads("{\"metadata\":{\"name\":\"redis\",\"namespace\":\"dev\"},"
			   "\"spec\":{\"clusterIP\":\"10.0.57.30\",\"ports\":[{\"name\":\"redis\","
			   "\"port\":6379,\"targetPort\":\"redis\"}]}}", 0, NULL);
	assert_int_equal(k8s_catalog_apply(catalog, K8S_SERVICES, K8S_ADDED,
					   redis), 0);
	assert_programs_line(catalog,
		"10.0.57.30:6379/tcp -> 10.0.0.50:6379 (dev/redis:6379/tcp)\n", true);
	/* deleting the Service removes it, whatever its slices say */
	assert_int_equal(k8s_catalog_apply(catalog, K8S_SERVICES, K8S_DELETED,
					   redis), 0);
	assert_programs_line(catalog, "redis", false);
	json_decref(redis);
	assert_string_equal(logged, "");
	k8s_catalog_destroy(catalog);
}

/* Replace endpoint conditions of kube-dns's slice and apply it. */
static void set_dns_conditions(struct k8s_catalog *catalog,
			       const char *first, const char *second)
{
	char text[2048];
	json_t *slice;

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"kube-dns-7xk2p\",\"namespace\":\"kube-system\","
		 "\"labels\":{\"kubernetes.io/service-name\":\"kube-dns\"}},"
		 "\"addressType\":\"IPv4\",\"endpoints\":["
		 "{\"addresses\":[\"10.0.0.21\"],\"conditions\":%s},"
		 "{\"addresses\":[\"10.0.0.22\"],\"conditions\":%s}],"
		 "\"ports\":[{\"name\":\"dns\",\"protocol\":\"UDP\",\"port\":53},"
		 "{\"name\":\"dns-tcp\",\"protocol\":\"TCP\",\"port\":53},"
		 "{\"name\":\"metrics\",\"protocol\":\"TCP\",\"port\":9153}]}",
		 first, second);
	slice = json_loads(text, 0, NULL);
	assert_non_null(slice);
	assert_int_equal(k8s_catalog_apply(catalog, K8S_SLICES, K8S_MODIFIED,
					   slice), 0);
	json_decref(slice);
}

static void test_terminating_fallback(void **state)
{
	struct k8s_catalog *catalog = catalog_from_samples();
	char *text;

	(void)state;
	/* the ready one goes away: the serving+terminating one takes over */
	set_dns_conditions(catalog,
		"{\"ready\":false,\"serving\":false,\"terminating\":true}",
		"{\"ready\":false,\"serving\":true,\"terminating\":true}");
	text = render(catalog);
	assert_non_null(strstr(text, "10.0.56.10:53/udp -> 10.0.0.22:53 (kube-system"));
	assert_non_null(strstr(text, "10.0.56.10:9153/tcp -> 10.0.0.22:9153 (kube-system"));
	free(text);
	/* not ready and not serving: the Service rejects */
	set_dns_conditions(catalog,
		"{\"ready\":false,\"serving\":false,\"terminating\":false}",
		"{\"ready\":false,\"serving\":false,\"terminating\":true}");
	text = render(catalog);
	assert_non_null(strstr(text, "10.0.56.10:53/udp -> reject (kube-system"));
	free(text);
	/* absent conditions mean ready (as in kube-proxy) */
	set_dns_conditions(catalog, "{}", "{\"ready\":false}");
	text = render(catalog);
	assert_non_null(strstr(text, "10.0.56.10:53/udp -> 10.0.0.21:53 (kube-system"));
	free(text);
	k8s_catalog_destroy(catalog);
}

/* Two slices of one Service resolve the named port "web" differently. */
static void test_named_port_per_slice(void **state)
{
	struct k8s_catalog *catalog = catalog_from_samples();
	json_t *slice = json_loads(
		"{\"metadata\":{\"name\":\"sticky-web-cccc3\",\"namespace\":\"dev\","
		"\"labels\":{\"kubernetes.io/service-name\":\"sticky-web\"}},"
		"\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"10.0.0.34\"],"
		"\"conditions\":{\"ready\":true}}],"
		"\"ports\":[{\"name\":\"web\",\"protocol\":\"TCP\",\"port\":9090}]}",
		0, NULL);
	char *text;

	(void)state;
	assert_int_equal(k8s_catalog_apply(catalog, K8S_SLICES, K8S_ADDED,
					   slice), 0);
	text = render(catalog);
	assert_non_null(strstr(text,
		"10.0.57.20:8080/tcp -> 10.0.0.31:8081 10.0.0.32:8081 10.0.0.34:9090 affinity=10800"));
	free(text);
	json_decref(slice);
	k8s_catalog_destroy(catalog);
}

/* A slice relabelled to another Service moves with its label. */
static void test_slice_changes_service(void **state)
{
	struct k8s_catalog *catalog = catalog_from_samples();
	json_t *slice = json_loads(
		"{\"metadata\":{\"name\":\"mysql-9d8f7\",\"namespace\":\"default\","
		"\"labels\":{\"kubernetes.io/service-name\":\"nginx\"}},"
		"\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"10.0.0.14\"]}],"
		"\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":80}]}",
		0, NULL);

	(void)state;
	assert_int_equal(k8s_catalog_apply(catalog, K8S_SLICES, K8S_MODIFIED,
					   slice), 0);
	assert_programs_line(catalog,
		"10.0.58.158:80/tcp -> 10.0.0.13:80 10.0.0.14:80 (default/nginx:80/tcp)\n",
		true);
	assert_programs_line(catalog,
		"10.0.60.80:3306/tcp -> reject (default/mysql:3306/tcp)\n", true);
	json_decref(slice);
	k8s_catalog_destroy(catalog);
}

/* Two Services claiming one ClusterIP and port: the first by name wins. */
static void test_duplicate_cluster_ip(void **state)
{
	struct k8s_catalog *catalog = catalog_from_samples();
	json_t *twin = json_loads(
		"{\"metadata\":{\"name\":\"aaa-twin\",\"namespace\":\"default\"},"
		"\"spec\":{\"clusterIP\":\"10.0.58.158\",\"ports\":[{\"name\":\"http\",\"port\":80}]}}",
		0, NULL);
	json_t *nginx = json_loads(
		"{\"metadata\":{\"name\":\"nginx\",\"namespace\":\"default\"}}", 0, NULL);

	(void)state;
	assert_int_equal(k8s_catalog_apply(catalog, K8S_SERVICES, K8S_ADDED,
					   twin), 0);
	assert_programs_line(catalog,
		"10.0.58.158:80/tcp -> reject (default/aaa-twin:80/tcp)\n", true);
	assert_programs_line(catalog, "(default/nginx:80/tcp)", false);
	assert_non_null(strstr(logged,
		"kubernetes: default/nginx:80/tcp uses the same ClusterIP and port as default/aaa-twin:80/tcp; ignoring it\n"));
	/* the winner goes: the other one is programmed again */
	assert_int_equal(k8s_catalog_apply(catalog, K8S_SERVICES, K8S_DELETED,
					   twin), 0);
	assert_programs(catalog, samples_table);
	/* and the other way round */
	assert_int_equal(k8s_catalog_apply(catalog, K8S_SERVICES, K8S_ADDED,
					   twin), 0);
	assert_int_equal(k8s_catalog_apply(catalog, K8S_SERVICES, K8S_DELETED,
					   nginx), 0);
	assert_programs_line(catalog,
		"10.0.58.158:80/tcp -> reject (default/aaa-twin:80/tcp)\n", true);
	json_decref(twin);
	json_decref(nginx);
	k8s_catalog_destroy(catalog);
}

static void test_nodes(void **state)
{
	struct k8s_catalog *catalog = k8s_catalog_create();
	json_t *list = load_fixture("nodes.json");
	struct cg_node_info *nodes;
	char buf[CG_CIDR_STRLEN];
	size_t count;

	(void)state;
	list_into(catalog, K8S_NODES, list);
	assert_int_equal(k8s_catalog_build_nodes(catalog, &nodes, &count), 0);
	assert_int_equal(count, 4);
	/* sorted by name */
	assert_string_equal(nodes[0].name, "k8s-node-vmcrm9-bst9jq8pua");
	assert_string_equal(inet_ntoa(nodes[0].address), "10.0.32.24");
	assert_true(nodes[0].ready && nodes[0].schedulable && !nodes[0].deleting);
	assert_true(nodes[0].has_pod_cidr);
	assert_string_equal(cg_cidr_format(&nodes[0].pod_cidr, buf),
			    "10.244.2.0/24");
	assert_string_equal(nodes[1].name, "k8s-node-vmlppp-bs9jq8pua");
	assert_string_equal(inet_ntoa(nodes[1].address), "10.0.32.23");
	assert_true(nodes[1].ready && nodes[1].schedulable);
	assert_string_equal(nodes[2].name, "k8s-node-vmzz01-cordoned");
	assert_true(nodes[2].ready);
	assert_false(nodes[2].schedulable);
	assert_string_equal(nodes[3].name, "k8s-node-vmzz02-notready");
	assert_string_equal(inet_ntoa(nodes[3].address), "10.0.32.26");
	assert_false(nodes[3].ready);
	assert_true(nodes[3].schedulable);
	k8s_node_list_free(nodes, count);
	json_decref(list);
	k8s_catalog_destroy(catalog);
}

static void test_node_deleting(void **state)
{
	struct k8s_catalog *catalog = k8s_catalog_create();
	json_t *node = json_loads(
		"{\"metadata\":{\"name\":\"n1\",\"deletionTimestamp\":\"2026-11-26T09:00:00Z\"},"
		"\"spec\":{},\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"fd00::1\"},"
		"{\"type\":\"InternalIP\",\"address\":\"10.0.32.30\"}],"
		"\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}", 0, NULL);
	struct cg_node_info *nodes;
	size_t count;

	(void)state;
	assert_int_equal(k8s_catalog_apply(catalog, K8S_NODES, K8S_ADDED, node),
			 0);
	assert_int_equal(k8s_catalog_build_nodes(catalog, &nodes, &count), 0);
	assert_int_equal(count, 1);
	assert_true(nodes[0].deleting);
	assert_false(nodes[0].ready);
	assert_false(nodes[0].has_pod_cidr);
	assert_string_equal(inet_ntoa(nodes[0].address), "10.0.32.30");
	k8s_node_list_free(nodes, count);
	json_decref(node);
	k8s_catalog_destroy(catalog);
}

/* A list with malformed items: each is skipped and named in the log. */
static void test_malformed_list(void **state)
{
	struct k8s_catalog *catalog = k8s_catalog_create();
	json_t *services = json_loads("{\"items\":["
		"{\"metadata\":{\"name\":\"good\",\"namespace\":\"default\"},"
		" \"spec\":{\"clusterIP\":\"10.0.56.50\",\"ports\":[{\"port\":80}]}},"
		"{\"metadata\":{\"name\":\"bad-port\",\"namespace\":\"default\"},"
		" \"spec\":{\"clusterIP\":\"10.0.56.51\",\"ports\":[{\"port\":\"eighty\"}]}},"
		"{\"metadata\":{\"namespace\":\"default\"},\"spec\":{}},"
		"42,"
		"{\"metadata\":{\"name\":\"bad-ip\",\"namespace\":\"dev\"},"
		" \"spec\":{\"clusterIP\":\"10.0.56.300\",\"ports\":[{\"port\":80}]}},"
		"{\"metadata\":{\"name\":\"bad-proto\",\"namespace\":\"dev\"},"
		" \"spec\":{\"clusterIP\":\"10.0.56.52\",\"ports\":[{\"port\":80,\"protocol\":\"ICMP\"}]}},"
		"{\"metadata\":{\"name\":\"bad-affinity\",\"namespace\":\"dev\"},"
		" \"spec\":{\"clusterIP\":\"10.0.56.53\",\"sessionAffinity\":\"ClientIP\","
		"  \"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":\"long\"}},\"ports\":[{\"port\":80}]}},"
		"{\"metadata\":{\"name\":\"no-spec\",\"namespace\":\"dev\"}}"
		"]}", 0, NULL);
	json_t *slices = json_loads("{\"items\":["
		"{\"metadata\":{\"name\":\"good-1\",\"namespace\":\"default\","
		"  \"labels\":{\"kubernetes.io/service-name\":\"good\"}},"
		" \"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"10.0.0.60\"]}],"
		" \"ports\":[{\"name\":\"\",\"port\":8080}]},"
		"{\"metadata\":{\"name\":\"good-2\",\"namespace\":\"default\","
		"  \"labels\":{\"kubernetes.io/service-name\":\"good\"}},"
		" \"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"10.0.0.999\"]}],"
		" \"ports\":[{\"name\":\"\",\"port\":8080}]},"
		"{\"metadata\":{\"name\":\"good-3\",\"namespace\":\"default\","
		"  \"labels\":{\"kubernetes.io/service-name\":\"good\"}},"
		" \"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"10.0.0.61\"],"
		"  \"conditions\":{\"ready\":\"yes\"}}],\"ports\":[{\"port\":8080}]},"
		"{\"metadata\":{\"name\":\"good-4\",\"namespace\":\"default\","
		"  \"labels\":{\"kubernetes.io/service-name\":\"good\"}},"
		" \"endpoints\":[],\"ports\":[]},"
		"{\"metadata\":{\"name\":\"good-5\",\"namespace\":\"default\","
		"  \"labels\":{\"kubernetes.io/service-name\":\"good\"}},"
		" \"addressType\":\"IPv4\",\"endpoints\":{},\"ports\":[]}"
		"]}", 0, NULL);

	(void)state;
	assert_non_null(services);
	assert_non_null(slices);
	list_into(catalog, K8S_SERVICES, services);
	list_into(catalog, K8S_SLICES, slices);
	assert_int_equal(k8s_catalog_count(catalog, K8S_SERVICES), 1);
	assert_int_equal(k8s_catalog_count(catalog, K8S_SLICES), 1);
	assert_string_equal(logged,
		"kubernetes: skipping malformed Service default/bad-port: spec.ports[0].port: not a port number\n"
		"kubernetes: skipping malformed Service (list item 2): metadata.name: missing\n"
		"kubernetes: skipping malformed Service (list item 3): not a JSON object\n"
		"kubernetes: skipping malformed Service dev/bad-ip: spec.clusterIP: '10.0.56.300' is not an IP address\n"
		"kubernetes: skipping malformed Service dev/bad-proto: spec.ports[0].protocol: not TCP, UDP or SCTP\n"
		"kubernetes: skipping malformed Service dev/bad-affinity: spec.sessionAffinityConfig.clientIP.timeoutSeconds: not 1-86400\n"
		"kubernetes: skipping malformed Service dev/no-spec: spec: missing\n"
		"kubernetes: skipping malformed EndpointSlice default/good-2: endpoints[0].addresses[0]: not an IPv4 address\n"
		"kubernetes: skipping malformed EndpointSlice default/good-3: endpoints[0].conditions: not true/false\n"
		"kubernetes: skipping malformed EndpointSlice default/good-4: addressType: missing\n"
		"kubernetes: skipping malformed EndpointSlice default/good-5: endpoints: not a list\n");
	assert_programs(catalog,
		"10.0.56.50:80/tcp -> 10.0.0.60:8080 (default/good:80/tcp)\n");
	json_decref(services);
	json_decref(slices);
	k8s_catalog_destroy(catalog);
}

/* A malformed MODIFIED keeps the last good version of the object. */
static void test_malformed_event_keeps_old(void **state)
{
	struct k8s_catalog *catalog = catalog_from_samples();
	json_t *bad = json_loads(
		"{\"metadata\":{\"name\":\"nginx\",\"namespace\":\"default\"},"
		"\"spec\":{\"clusterIP\":\"10.0.58.158\",\"ports\":[{\"port\":70000}]}}",
		0, NULL);
	json_t *nameless = json_loads("{\"metadata\":{}}", 0, NULL);
	json_t *node = json_loads(
		"{\"metadata\":{\"name\":\"n2\"},\"status\":{\"addresses\":[]}}",
		0, NULL);

	(void)state;
	assert_int_equal(k8s_catalog_apply(catalog, K8S_SERVICES, K8S_MODIFIED,
					   bad), -EINVAL);
	assert_int_equal(k8s_catalog_apply(catalog, K8S_SERVICES, K8S_DELETED,
					   nameless), -EINVAL);
	assert_int_equal(k8s_catalog_apply(catalog, K8S_NODES, K8S_ADDED,
					   node), -EINVAL);
	assert_programs(catalog, samples_table);
	assert_string_equal(logged,
		"kubernetes: skipping malformed Service default/nginx: spec.ports[0].port: not a port number\n"
		"kubernetes: skipping malformed Service (DELETED event): metadata.name: missing\n"
		"kubernetes: skipping malformed Node n2: status.addresses: no IPv4 InternalIP\n");
	json_decref(bad);
	json_decref(nameless);
	json_decref(node);
	k8s_catalog_destroy(catalog);
}

/* A relist replaces everything of its kind; an aborted one changes nothing. */
static void test_relist(void **state)
{
	struct k8s_catalog *catalog = catalog_from_samples();
	json_t *list = json_loads("{\"items\":["
		"{\"metadata\":{\"name\":\"nginx\",\"namespace\":\"default\"},"
		" \"spec\":{\"clusterIP\":\"10.0.58.158\",\"ports\":[{\"name\":\"http\",\"port\":80}]}}]}",
		0, NULL);
	json_t *item;
	size_t i;

	(void)state;
	k8s_catalog_list_begin(catalog, K8S_SERVICES);
	json_array_foreach(json_object_get(list, "items"), i, item)
		k8s_catalog_list_add(catalog, K8S_SERVICES, item, i);
	k8s_catalog_list_abort(catalog, K8S_SERVICES);
	assert_programs(catalog, samples_table);
	list_into(catalog, K8S_SERVICES, list);
	assert_programs(catalog,
		"10.0.58.158:80/tcp -> 10.0.0.13:80 (default/nginx:80/tcp)\n");
	json_decref(list);
	k8s_catalog_destroy(catalog);
}

/* Dual-stack, IPv6-only and nil fields as the API may send them. */
static void test_address_families(void **state)
{
	struct k8s_catalog *catalog = k8s_catalog_create();
	json_t *list = json_loads("{\"items\":["
		"{\"metadata\":{\"name\":\"dual\",\"namespace\":\"a\"},"
		" \"spec\":{\"clusterIP\":\"fd00::10\",\"clusterIPs\":[\"fd00::10\",\"10.0.56.70\"],"
		"  \"ports\":[{\"port\":80,\"protocol\":\"SCTP\"}]}},"
		"{\"metadata\":{\"name\":\"v6\",\"namespace\":\"a\"},"
		" \"spec\":{\"clusterIP\":\"fd00::11\",\"ports\":[{\"port\":80}]}}]}",
		0, NULL);

	(void)state;
	list_into(catalog, K8S_SERVICES, list);
	assert_int_equal(k8s_catalog_count(catalog, K8S_SERVICES), 2);
	assert_programs(catalog, "10.0.56.70:80/sctp -> reject (a/dual:80/sctp)\n");
	assert_string_equal(logged, "");
	json_decref(list);
	k8s_catalog_destroy(catalog);
}

static int reset_log(void **state)
{
	(void)state;
	logged[0] = '\0';
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_samples_table, reset_log),
		cmocka_unit_test_setup(test_watch_stream_samples, reset_log),
		cmocka_unit_test_setup(test_terminating_fallback, reset_log),
		cmocka_unit_test_setup(test_named_port_per_slice, reset_log),
		cmocka_unit_test_setup(test_slice_changes_service, reset_log),
		cmocka_unit_test_setup(test_duplicate_cluster_ip, reset_log),
		cmocka_unit_test_setup(test_nodes, reset_log),
		cmocka_unit_test_setup(test_node_deleting, reset_log),
		cmocka_unit_test_setup(test_malformed_list, reset_log),
		cmocka_unit_test_setup(test_malformed_event_keeps_old, reset_log),
		cmocka_unit_test_setup(test_relist, reset_log),
		cmocka_unit_test_setup(test_address_families, reset_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
