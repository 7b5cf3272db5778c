/*
 * nat_apply_tool: drives nat/ from shell tests and the benchmark.
 *
 *   nat_apply_tool apply STATE.json [STATE.json ...]
 *       Apply each desired state in turn, in one process (so later
 *       applies use the cache, as the daemon does). Prints one JSON line
 *       of nat_apply_stats per state.
 *   nat_apply_tool counters     print the named counters as JSON
 *   nat_apply_tool cleanup      delete the table
 *
 * STATE.json: {"policy": {...}, "services": [...]} (see tests/nat/README
 * in nat/README.md). "services" absent keeps the service maps.
 * With --rss, the last line also gives the process's VmRSS and VmHWM.
 * With --cycle N, the last two states are then applied alternately N more
 * times (for timing one change against a warm cache).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nat/nat.h"

struct state {
	struct nat_policy policy;
	struct nat_cidr *office, *cluster;
	struct nat_allow_rule *allow;
	bool has_services;
	struct nat_services services;
	char *tunnel_interface, *vpc_interface;
};

static int parse_cidr(const char *text, struct nat_cidr *out)
{
	char buf[32], *slash;
	unsigned int len = 32;

	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		len = (unsigned int)atoi(slash + 1);
	}
	out->prefix_len = (uint8_t)len;
	return inet_pton(AF_INET, buf, &out->address) == 1 ? 0 : -1;
}

static struct nat_cidr *cidr_array(json_t *list, size_t *count)
{
	struct nat_cidr *out = calloc(json_array_size(list) + 1, sizeof(*out));
	size_t i;
	json_t *v;

	*count = 0;
	json_array_foreach(list, i, v) {
		if (!json_is_string(v) || parse_cidr(json_string_value(v),
						     &out[i]) < 0) {
			fprintf(stderr, "bad CIDR in state file\n");
			exit(2);
		}
		(*count)++;
	}
	return out;
}

static uint8_t protocol_number(const char *name)
{
	if (!name || !strcmp(name, "tcp"))
		return IPPROTO_TCP;
	if (!strcmp(name, "udp"))
		return IPPROTO_UDP;
	if (!strcmp(name, "sctp"))
		return IPPROTO_SCTP;
	return (uint8_t)atoi(name);
}

static void parse_services(json_t *list, struct nat_services *out)
{
	size_t i, j;
	json_t *s, *e;

	out->count = json_array_size(list);
	out->ports = calloc(out->count + 1, sizeof(*out->ports));
	json_array_foreach(list, i, s) {
		struct nat_service_port *p = &out->ports[i];
		json_t *eps = json_object_get(s, "endpoints");
		const char *name = json_string_value(json_object_get(s, "name"));

		inet_pton(AF_INET, json_string_value(json_object_get(s,
			  "cluster_ip")) ?: "0.0.0.0", &p->cluster_ip);
		p->protocol = protocol_number(json_string_value(
			json_object_get(s, "protocol")));
		p->port = (uint16_t)json_integer_value(json_object_get(s, "port"));
		p->affinity_client_ip = json_is_true(json_object_get(s,
							"affinity"));
		p->affinity_timeout_s = 10800;
		if (json_is_integer(json_object_get(s, "affinity_timeout")))
			p->affinity_timeout_s = (uint32_t)json_integer_value(
				json_object_get(s, "affinity_timeout"));
		p->name = name ? strdup(name) : NULL;
		p->endpoint_count = json_array_size(eps);
		p->endpoints = calloc(p->endpoint_count + 1,
				      sizeof(*p->endpoints));
		json_array_foreach(eps, j, e) {
			char buf[32], *colon;

			snprintf(buf, sizeof(buf), "%s",
				 json_string_value(e) ?: "");
			colon = strchr(buf, ':');
			if (colon) {
				*colon = '\0';
				p->endpoints[j].port = (uint16_t)atoi(colon + 1);
			}
			inet_pton(AF_INET, buf, &p->endpoints[j].address);
		}
	}
}

static void parse_state(const char *path, struct state *st)
{
	json_error_t error;
	json_t *root = json_load_file(path, 0, &error), *p, *list, *a;
	size_t i;

	memset(st, 0, sizeof(*st));
	if (!root) {
		fprintf(stderr, "%s:%d: %s\n", path, error.line, error.text);
		exit(2);
	}
	p = json_object_get(root, "policy");
	if (json_is_string(json_object_get(p, "tunnel_interface")))
		st->tunnel_interface = strdup(json_string_value(
			json_object_get(p, "tunnel_interface")));
	if (json_is_string(json_object_get(p, "vpc_interface")))
		st->vpc_interface = strdup(json_string_value(
			json_object_get(p, "vpc_interface")));
	st->policy.tunnel_interface = st->tunnel_interface;
	st->policy.vpc_interface = st->vpc_interface;
	inet_pton(AF_INET, json_string_value(json_object_get(p,
		  "vpc_address")) ?: "0.0.0.0", &st->policy.vpc_address);
	if (!json_string_value(json_object_get(p, "vpc_address")) ||
	    !*json_string_value(json_object_get(p, "vpc_address")))
		st->policy.vpc_address.s_addr = 0;
	st->policy.snat = !json_is_false(json_object_get(p, "snat"));
	st->policy.tunnel_mtu = (uint16_t)json_integer_value(
		json_object_get(p, "tunnel_mtu"));
	st->policy.dnat_buckets = (uint32_t)json_integer_value(
		json_object_get(p, "dnat_buckets"));
	st->office = cidr_array(json_object_get(p, "office_subnets"),
				&st->policy.office_subnet_count);
	st->policy.office_subnets = st->office;
	st->cluster = cidr_array(json_object_get(p, "cluster_destinations"),
				 &st->policy.cluster_destination_count);
	st->policy.cluster_destinations = st->cluster;
	list = json_object_get(p, "allow");
	st->allow = calloc(json_array_size(list) + 1, sizeof(*st->allow));
	json_array_foreach(list, i, a) {
		struct nat_allow_rule *r = &st->allow[i];
		json_t *ports = json_object_get(a, "ports"), *port;
		uint16_t *values = calloc(json_array_size(ports) + 1, 2);
		size_t j;

		parse_cidr(json_string_value(json_object_get(a,
			   "office_subnet")) ?: "0.0.0.0/33", &r->office_subnet);
		r->destinations = cidr_array(json_object_get(a, "destinations"),
					     &r->destination_count);
		json_array_foreach(ports, j, port)
			values[j] = (uint16_t)json_integer_value(port);
		r->ports = values;
		r->port_count = json_array_size(ports);
	}
	st->policy.allow = st->allow;
	st->policy.allow_count = json_array_size(list);
	list = json_object_get(root, "services");
	if (list) {
		st->has_services = true;
		parse_services(list, &st->services);
	}
	json_decref(root);
}

static void free_state(struct state *st)
{
	for (size_t i = 0; i < st->services.count; i++) {
		free(st->services.ports[i].endpoints);
		free(st->services.ports[i].name);
	}
	free(st->services.ports);
	for (size_t i = 0; i < st->policy.allow_count; i++) {
		free((void *)st->allow[i].destinations);
		free((void *)st->allow[i].ports);
	}
	free(st->allow);
	free(st->office);
	free(st->cluster);
	free(st->tunnel_interface);
	free(st->vpc_interface);
}

static long status_kib(const char *field)
{
	char line[256];
	long value = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, strlen(field)))
			value = atol(line + strlen(field) + 1);
	}
	if (f)
		fclose(f);
	return value;
}

static void print_stats(const char *file, const struct nat_apply_stats *stats)
{
	printf("{\"file\": \"%s\", \"kernel_changed\": %s, "
	       "\"table_rebuilt\": %s, \"read_back\": %s, "
	       "\"chains_rewritten\": %zu, \"elements_added\": %zu, "
	       "\"elements_deleted\": %zu, \"service_ports\": %zu, "
	       "\"netlink_messages\": %zu, \"duration_ms\": %.3f",
	       file, stats->kernel_changed ? "true" : "false",
	       stats->table_rebuilt ? "true" : "false",
	       stats->read_back ? "true" : "false",
	       stats->chains_rewritten, stats->elements_added,
	       stats->elements_deleted, stats->service_ports,
	       stats->netlink_messages, stats->duration_ms);
}

/*
 * Apply each state in order; then, with cycle > 0, apply the last two
 * states alternately cycle more times (parsed once, as a daemon would
 * hold them).
 */
static int apply(int argc, char **argv, bool rss, int cycle)
{
	struct nat *nat = nat_open();
	struct state *states = calloc((size_t)argc, sizeof(*states));
	int status = 0, total = argc + (argc >= 2 ? cycle : 0);

	if (!nat || !states) {
		fprintf(stderr, "nat_open: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < total; i++) {
		int which = i < argc ? i : argc - 2 + (i - argc + 1) % 2;
		struct state *st = &states[which];
		struct nat_apply_stats stats;
		int err;

		if (i < argc)
			parse_state(argv[which], st);
		err = nat_apply(nat, &st->policy,
				st->has_services ? &st->services : NULL,
				&stats);
		if (err) {
			fprintf(stderr, "error: %s\n", nat_error(nat));
			status = 1;
			break;
		}
		print_stats(argv[which], &stats);
		if (rss && i == total - 1)
			printf(", \"rss_kib\": %ld, \"hwm_kib\": %ld",
			       status_kib("VmRSS:"), status_kib("VmHWM:"));
		printf("}\n");
		fflush(stdout);
	}
	for (int i = 0; i < argc; i++)
		free_state(&states[i]);
	free(states);
	nat_close(nat);
	return status;
}

int main(int argc, char **argv)
{
	struct nat *nat;
	bool rss = false;
	int err = 0;

	int cycle = 0;

	for (;;) {
		if (argc > 2 && !strcmp(argv[1], "--rss")) {
			rss = true;
		} else if (argc > 3 && !strcmp(argv[1], "--cycle")) {
			cycle = atoi(argv[2]);
			argv++;
			argc--;
		} else {
			break;
		}
		argv++;
		argc--;
	}
	if (argc >= 3 && !strcmp(argv[1], "apply"))
		return apply(argc - 2, argv + 2, rss, cycle);
	if (argc != 2 || (strcmp(argv[1], "counters") &&
			  strcmp(argv[1], "cleanup"))) {
		fprintf(stderr, "usage: nat_apply_tool [--rss] [--cycle N] "
			"apply STATE.json... | counters | cleanup\n");
		return 2;
	}
	nat = nat_open();
	if (!nat) {
		fprintf(stderr, "nat_open: %s\n", strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "cleanup")) {
		err = nat_cleanup(nat, NULL);
	} else {
		struct nat_counters c;

		err = nat_read_counters(nat, &c);
		if (!err)
			printf("{\"snat_packets\": %llu, \"snat_bytes\": %llu, "
			       "\"policy_drop_packets\": %llu, "
			       "\"policy_drop_bytes\": %llu, "
			       "\"service_reject_packets\": %llu}\n",
			       (unsigned long long)c.snat_packets,
			       (unsigned long long)c.snat_bytes,
			       (unsigned long long)c.policy_drop_packets,
			       (unsigned long long)c.policy_drop_bytes,
			       (unsigned long long)c.service_reject_packets);
	}
	if (err)
		fprintf(stderr, "error: %s\n", nat_error(nat));
	nat_close(nat);
	return err ? 1 : 0;
}
