/*
 * clustergate doctor: does service traffic come back the way it went?
 *
 * In route mode the gateway hands ClusterIP traffic to a node. A node
 * without a local backend DNATs to a pod elsewhere; unless kube-proxy also
 * masquerades, the pod answers straight to the gateway and the reply never
 * passes that node's conntrack (the incident). doctor tests each service
 * port through each node in the group in turn: a policy rule for one
 * firewall mark pins its own probe connection to one node
 * (routes_pin), so real traffic is never moved. A TCP handshake that
 * completes proves the return path; one that does not, while another node
 * or the pod itself answers, proves the asymmetry. It also counts the
 * gateway's conntrack entries to the service CIDR that never saw a reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gateway/cli.h"
#include "gateway/control.h"
#include "gateway/doctor.h"
#include "routes/routes.h"

/* The probe's own mark, table and rule priority (ROUTES_PROTOCOL = 97). */
#define DOCTOR_MARK 0x43470097u
#define DOCTOR_TABLE 9797u
#define DOCTOR_PRIORITY 97u
#define MAX_NODES 64
#define MAX_TARGETS 64
#define MAX_ENDPOINTS 8			/* per port: enough to tell */

struct doctor_node {
	char name[64];
	struct in_addr address;
};

struct doctor_endpoint {
	struct in_addr address;
	uint16_t port;
};

struct doctor_target {
	char label[96];			/* "default/nginx 10.0.58.158:80" */
	struct in_addr ip;
	uint16_t port;
	struct doctor_endpoint endpoints[MAX_ENDPOINTS];
	size_t endpoint_count;
};

struct doctor {
	const struct cg_config *config;
	struct doctor_node nodes[MAX_NODES];
	size_t node_count;
	struct doctor_target targets[MAX_TARGETS];
	size_t target_count;
	int timeout_ms;
	struct routes *routes;
	unsigned asymmetric, unreachable, healthy;
};

static const char *ntoa(struct in_addr address, char *buf)
{
	return inet_ntop(AF_INET, &address, buf, INET_ADDRSTRLEN);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * One TCP handshake to ip:port, with SO_MARK mark if not 0. Returns true
 * if it completed; detail says what happened.
 */
static bool try_connect(struct in_addr ip, uint16_t port, uint32_t mark,
			int timeout_ms, char *detail, size_t size)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port), .sin_addr = ip };
	struct pollfd pfd = { .events = POLLOUT };
	uint64_t start = now_ms();
	socklen_t len = sizeof(int);
	int error = 0, rc;

	pfd.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (pfd.fd < 0 || (mark && setsockopt(pfd.fd, SOL_SOCKET, SO_MARK,
					      &mark, sizeof(mark)) < 0)) {
		snprintf(detail, size, "cannot open a probe socket: %s",
			 strerror(errno));
		if (pfd.fd >= 0)
			close(pfd.fd);
		return false;
	}
	if (connect(pfd.fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 &&
	    errno != EINPROGRESS) {
		error = errno;
	} else {
		rc = poll(&pfd, 1, timeout_ms);
		if (rc == 0)
			error = ETIMEDOUT;
		else if (rc < 0 || getsockopt(pfd.fd, SOL_SOCKET, SO_ERROR,
					      &error, &len) < 0)
			error = errno;
	}
	close(pfd.fd);
	if (error == ETIMEDOUT)
		snprintf(detail, size, "no answer within %d ms", timeout_ms);
	else if (error)
		snprintf(detail, size, "%s", strerror(error));
	else
		snprintf(detail, size, "handshake completed in %llu ms",
			 (unsigned long long)(now_ms() - start));
	return error == 0;
}

/* ---- what to test ---- */

static struct doctor_target *add_target(struct doctor *d, const char *label,
				       struct in_addr ip, uint16_t port)
{
	struct doctor_target *t;

	if (d->target_count == MAX_TARGETS)
		return NULL;
	t = &d->targets[d->target_count++];
	snprintf(t->label, sizeof(t->label), "%s", label);
	t->ip = ip;
	t->port = port;
	return t;
}

static void add_endpoint(struct doctor_target *t, struct in_addr address,
			 uint16_t port)
{
	if (t && t->endpoint_count < MAX_ENDPOINTS) {
		t->endpoints[t->endpoint_count].address = address;
		t->endpoints[t->endpoint_count++].port = port;
	}
}

static void targets_from_config(struct doctor *d)
{
	const struct cg_services *services = &d->config->services;
	char label[96], ip[INET_ADDRSTRLEN];
	struct doctor_target *t;

	for (size_t i = 0; i < services->static_count; i++) {
		const struct cg_static_service *s = &services->static_services[i];

		for (size_t p = 0; p < s->port_count; p++) {
			if (s->ports[p].protocol != CG_PROTO_TCP)
				continue;
			snprintf(label, sizeof(label), "%s/%s %s:%u",
				 s->namespace ? s->namespace : "default",
				 s->name, ntoa(s->cluster_ip, ip),
				 s->ports[p].port);
			t = add_target(d, label, s->cluster_ip,
				       s->ports[p].port);
			for (size_t e = 0; e < s->endpoint_count; e++)
				add_endpoint(t, s->endpoints[e],
					     s->ports[p].target_port ?
					     s->ports[p].target_port :
					     s->ports[p].port);
		}
	}
}

static int target_from_arg(struct doctor *d, const char *arg)
{
	char ip_text[INET_ADDRSTRLEN] = "";
	struct in_addr ip;
	unsigned port;
	char end;

	if (sscanf(arg, "%15[0-9.]:%u%c", ip_text, &port, &end) != 2 ||
	    inet_pton(AF_INET, ip_text, &ip) != 1 || port == 0 || port > 65535) {
		fprintf(stderr, "clustergate doctor: --service '%s': expected "
			"CLUSTER_IP:PORT\n", arg);
		return -EINVAL;
	}
	add_target(d, arg, ip, (uint16_t)port);
	return 0;
}

/* One "ADDRESS:PORT" endpoint of the kubernetes-services reply. */
static void add_endpoint_text(struct doctor_target *t, const char *text)
{
	char address_text[INET_ADDRSTRLEN] = "";
	struct in_addr address;
	unsigned port;

	if (text && sscanf(text, "%15[0-9.]:%u", address_text, &port) == 2 &&
	    inet_pton(AF_INET, address_text, &address) == 1 && port <= 65535)
		add_endpoint(t, address, (uint16_t)port);
}

/* The TCP service ports clustergated knows from the Kubernetes API. */
static void targets_from_daemon(struct doctor *d, const char *socket)
{
	json_t *request = json_pack("{s:s}", "command", "kubernetes-services");
	const char *error = NULL;
	json_t *reply = control_request(socket, request, 3000, &error);
	json_t *port, *endpoint;
	size_t i, e;

	json_decref(request);
	json_array_foreach(json_object_get(reply, "services"), i, port) {
		const char *ip_text = json_string_value(
			json_object_get(port, "cluster_ip"));
		const char *name = json_string_value(json_object_get(port, "name"));
		const char *protocol = json_string_value(
			json_object_get(port, "protocol"));
		json_int_t number = json_integer_value(json_object_get(port, "port"));
		struct doctor_target *t;
		struct in_addr ip;
		char label[96];

		if (!ip_text || !protocol || strcmp(protocol, "tcp") ||
		    inet_pton(AF_INET, ip_text, &ip) != 1 || number <= 0 ||
		    number > 65535)
			continue;
		snprintf(label, sizeof(label), "%s %s:%lld", name ? name : "?",
			 ip_text, (long long)number);
		t = add_target(d, label, ip, (uint16_t)number);
		json_array_foreach(json_object_get(port, "endpoints"), e, endpoint)
			add_endpoint_text(t, json_string_value(endpoint));
	}
	json_decref(reply);
}

/* The nodes in clustergated's group, or the config's static nodes. */
static void load_nodes(struct doctor *d, const char *socket)
{
	json_t *request = json_pack("{s:s}", "command", "status");
	const char *error = NULL;
	json_t *reply, *node;
	size_t i;

	reply = control_request(socket, request, 3000, &error);
	json_decref(request);
	json_array_foreach(json_object_get(json_object_get(reply, "nodes"),
					   "nodes"), i, node) {
		const char *address = json_string_value(
			json_object_get(node, "address"));
		struct doctor_node *n = &d->nodes[d->node_count];

		if (d->node_count == MAX_NODES || !address ||
		    !json_is_true(json_object_get(node, "in_group")) ||
		    inet_pton(AF_INET, address, &n->address) != 1)
			continue;
		snprintf(n->name, sizeof(n->name), "%s", json_string_value(
			 json_object_get(node, "name")) ?: address);
		d->node_count++;
	}
	if (reply && d->node_count) {
		printf("nodes: %zu in clustergated's group\n", d->node_count);
		json_decref(reply);
		return;
	}
	json_decref(reply);
	for (i = 0; i < d->config->nodes.static_count && i < MAX_NODES; i++) {
		const struct cg_static_node *s = &d->config->nodes.static_nodes[i];

		snprintf(d->nodes[i].name, sizeof(d->nodes[i].name), "%s",
			 s->name);
		d->nodes[i].address = s->address;
		d->node_count++;
	}
	printf("nodes: %zu from the config (clustergated: %s)\n", d->node_count,
	       reply ? "no node in its group" : error ? error : "no answer");
}

/* ---- checks ---- */

static void check_conntrack(struct doctor *d)
{
	const struct cg_cidr *cidr = &d->config->cluster.service_cidr;
	struct doctor_conntrack ct;
	char text[CG_CIDR_STRLEN];
	int err = doctor_conntrack_count(cidr, &ct);

	cg_cidr_format(cidr, text);
	if (err)
		printf("conntrack: cannot read (%s)\n", strerror(-err));
	else if (ct.unreplied)
		printf("conntrack: %zu of %zu connections to %s never saw a "
		       "reply [UNREPLIED]\n", ct.unreplied, ct.total, text);
	else
		printf("conntrack: %zu connections to %s, all answered\n",
		       ct.total, text);
}

/* Probe target through node (pinned). Returns 1 ok, 0 failed, -1 untestable. */
static int via_node(struct doctor *d, const struct doctor_target *t,
		    const struct doctor_node *node)
{
	char detail[128], ip[INET_ADDRSTRLEN];
	bool ok;

	if (routes_pin(d->routes, DOCTOR_MARK, DOCTOR_TABLE, DOCTOR_PRIORITY,
		       t->ip, node->address)) {
		printf("  via %s (%s): cannot pin a path: %s\n", node->name,
		       ntoa(node->address, ip), routes_last_error(d->routes));
		return -1;
	}
	ok = try_connect(t->ip, t->port, DOCTOR_MARK, d->timeout_ms, detail,
			 sizeof(detail));
	routes_unpin(d->routes, DOCTOR_MARK, DOCTOR_TABLE, DOCTOR_PRIORITY,
		     t->ip);
	printf("  via %s (%s): %s: %s\n", node->name, ntoa(node->address, ip),
	       ok ? "ok" : "FAIL", detail);
	return ok;
}

static unsigned endpoints_answering(struct doctor *d,
				    const struct doctor_target *t)
{
	char detail[128], ip[INET_ADDRSTRLEN];
	unsigned answering = 0;

	for (size_t i = 0; i < t->endpoint_count; i++) {
		const struct doctor_endpoint *ep = &t->endpoints[i];
		bool ok = try_connect(ep->address, ep->port, 0, d->timeout_ms,
				      detail, sizeof(detail));

		printf("  endpoint %s:%u directly: %s: %s\n",
		       ntoa(ep->address, ip), ep->port, ok ? "ok" : "FAIL",
		       detail);
		answering += ok;
	}
	return answering;
}

static void check_target(struct doctor *d, const struct doctor_target *t)
{
	unsigned ok = 0, failed = 0;
	char detail[128];

	printf("service %s\n", t->label);
	for (size_t i = 0; d->routes && i < d->node_count; i++) {
		int r = via_node(d, t, &d->nodes[i]);

		ok += r == 1;
		failed += r == 0;
	}
	if (ok + failed == 0) {
		bool answered = try_connect(t->ip, t->port, 0, d->timeout_ms,
					    detail, sizeof(detail));

		printf("  via the current route: %s: %s\n",
		       answered ? "ok" : "FAIL", detail);
		ok += answered;
		failed += !answered;
	}
	if (!failed) {
		printf("  -> symmetric\n");
		d->healthy++;
	} else if (ok) {
		printf("  -> ASYMMETRIC: answers through %u node(s), not "
		       "through %u\n", ok, failed);
		d->asymmetric++;
	} else if (endpoints_answering(d, t)) {
		printf("  -> ASYMMETRIC: the pod answers directly, the "
		       "ClusterIP through no node\n");
		d->asymmetric++;
	} else {
		printf("  -> UNREACHABLE: nothing answers (not a return-path "
		       "problem: check the service's endpoints)\n");
		d->unreachable++;
	}
}

/*
 * Proxy mode: office traffic is DNATed at the gateway straight to the
 * endpoints, so what matters is that the gateway reaches them.
 */
static void check_target_proxy(struct doctor *d, const struct doctor_target *t)
{
	printf("service %s\n", t->label);
	if (!t->endpoint_count) {
		printf("  -> UNREACHABLE: no ready endpoint (the gateway "
		       "rejects it)\n");
		d->unreachable++;
	} else if (endpoints_answering(d, t)) {
		printf("  -> reachable\n");
		d->healthy++;
	} else {
		printf("  -> UNREACHABLE: no endpoint answers the gateway\n");
		d->unreachable++;
	}
}

static int verdict(const struct doctor *d)
{
	bool route_mode = d->config->services.mode == CG_MODE_ROUTE;

	if (d->asymmetric) {
		printf("verdict: ASYMMETRIC: %u service port(s) do not answer "
		       "through every node.\n"
		       "  A node without a local backend DNATs to a pod on "
		       "another node without SNAT,\n"
		       "  so the pod's reply bypasses it and is dropped.\n"
		       "  Fix one of:\n"
		       "  - set services.mode to \"proxy\": the gateway does "
		       "the Service DNAT itself\n"
		       "  - make kube-proxy masquerade off-cluster traffic: "
		       "masqueradeAll: true, or set\n"
		       "    clusterCIDR / detectLocalMode so traffic from "
		       "outside the cluster is masqueraded\n",
		       d->asymmetric);
		return 1;
	}
	if (d->unreachable) {
		printf("verdict: UNREACHABLE: %u service port(s) answer "
		       "through no %s\n", d->unreachable,
		       route_mode ? "node and no endpoint" : "endpoint");
		return 1;
	}
	if (!d->healthy) {
		printf("verdict: UNKNOWN: no service to test; list "
		       "services.static in the config, pass --service "
		       "CLUSTER_IP:PORT, or let clustergated watch the "
		       "Kubernetes API\n");
		return 2;
	}
	printf("verdict: OK: %u service port(s) answer%s\n", d->healthy,
	       route_mode ? " symmetrically through every node" : "");
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: clustergate doctor [-c FILE] [-s SOCKET] "
		"[--service IP:PORT]... [--timeout MS]\n"
		"Checks that service traffic returns the way it went (route "
		"mode: through each node).\n"
		"Services: --service, else services.static from the config,\n"
		"else the TCP services clustergated knows from the Kubernetes API.\n"
		"Exit status: 0 ok, 1 a problem was found, 2 nothing to test.\n");
}

static int run(struct doctor *d, const char *socket)
{
	char cidr[CG_CIDR_STRLEN];
	bool route_mode = d->config->services.mode == CG_MODE_ROUTE;
	int err;

	printf("mode: %s, service CIDR %s\n", route_mode ? "route" : "proxy",
	       cg_cidr_format(&d->config->cluster.service_cidr, cidr));
	if (!route_mode)
		printf("proxy mode: the gateway DNATs to the endpoints itself, "
		       "so replies come back\nthrough it; testing each "
		       "service's endpoints from the gateway\n");
	check_conntrack(d);
	if (route_mode) {
		load_nodes(d, socket);
		err = routes_open(&d->routes);
		if (err)
			printf("cannot open netlink to pin paths (%s); testing "
			       "the current route only\n", strerror(-err));
	}
	for (size_t i = 0; i < d->target_count; i++) {
		if (route_mode)
			check_target(d, &d->targets[i]);
		else
			check_target_proxy(d, &d->targets[i]);
	}
	routes_close(d->routes);
	return verdict(d);
}

int cli_doctor(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "service", required_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct doctor d;
	const char *config_path = NULL, *socket = NULL;
	char **services = calloc((size_t)argc + 1, sizeof(*services));
	size_t service_count = 0;
	int opt, rc = 2;

	d.timeout_ms = 2000;
	while (services && (opt = getopt_long(argc, argv, "c:s:h", options,
					      NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 's':
			socket = optarg;
			break;
		case 'S':
			services[service_count++] = optarg;
			break;
		case 't':
			d.timeout_ms = atoi(optarg) > 0 ? atoi(optarg) : 2000;
			break;
		case 'h':
			usage(stdout);
			free(services);
			return 0;
		default:
			usage(stderr);
			free(services);
			return 2;
		}
	}
	d.config = cli_load_config(config_path);
	if (d.config) {
		rc = 0;
		for (size_t i = 0; i < service_count && !rc; i++)
			rc = target_from_arg(&d, services[i]) ? 2 : 0;
		if (!socket)
			socket = d.config->control_socket;
		if (!service_count)
			targets_from_config(&d);
		if (!service_count && !d.target_count)
			targets_from_daemon(&d, socket);
		if (!rc)
			rc = run(&d, socket);
		config_free((struct cg_config *)d.config);
	}
	free(services);
	return rc;
}
