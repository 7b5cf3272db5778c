/*
 * clustergate configuration model.
 *
 * One JSON file (default /etc/clustergate/clustergate.json) describes the
 * gateway. config_load() parses and validates it into a struct cg_config;
 * both clustergated and the charon plugin use this library, so the two can
 * never disagree about what the file means.
 *
 * Ownership: a struct cg_config returned by config_load()/config_parse() is
 * owned by the caller and released with config_free(). Every pointer inside
 * it belongs to the struct.
 */
#ifndef CLUSTERGATE_CONFIG_H
#define CLUSTERGATE_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_DEFAULT_CONFIG_PATH "/etc/clustergate/clustergate.json"
#define CG_DEFAULT_CONTROL_SOCKET "/run/clustergate/clustergated.sock"

/* An IPv4 prefix, address in network byte order, host bits zero. */
struct cg_cidr {
	struct in_addr address;
	uint8_t prefix_len;
};

struct cg_cidr_list {
	struct cg_cidr *items;
	size_t count;
};

struct cg_string_list {
	char **items;
	size_t count;
};

struct cg_gateway {
	struct in_addr public_address;	/* gateway.public_address */
	char *ike_id;			/* gateway.id, default: public address */
	struct in_addr vpc_address;	/* gateway.vpc_address: SNAT source */
	char *vpc_interface;		/* gateway.vpc_interface, default "eth0" */
	/*
	 * gateway.tunnel_interface: name of the TUN device of strongSwan's
	 * kernel-libipsec ("ipsec0"), or NULL for the kernel XFRM data path,
	 * where tunnel traffic is recognised by its IPsec policy instead.
	 */
	char *tunnel_interface;
	uint16_t tunnel_mtu;		/* gateway.tunnel_mtu, default 1400 */
};

struct cg_office {
	bool address_any;		/* office.address "any": dynamic IP */
	struct in_addr address;		/* office.address otherwise */
	char *ike_id;			/* office.id, default: the address */
	struct cg_cidr_list subnets;	/* office.subnets, at least one */
};

enum cg_auth_method {
	CG_AUTH_PSK,
	CG_AUTH_CERT,
};

struct cg_auth {
	enum cg_auth_method method;
	char *psk_file;			/* auth.psk_file (PSK) */
	char *cert_file;		/* auth.cert_file (CERT) */
	char *key_file;			/* auth.key_file (CERT) */
	char *ca_file;			/* auth.ca_file (CERT) */
};

struct cg_ike {
	struct cg_string_list ike_proposals;	/* ike.ike_proposals */
	struct cg_string_list esp_proposals;	/* ike.esp_proposals */
	uint32_t dpd_delay_s;		/* ike.dpd_delay, default 10 */
	uint32_t dpd_timeout_s;		/* ike.dpd_timeout, default 30 */
	uint32_t ike_rekey_s;		/* ike.ike_rekey_time, default 14400 */
	uint32_t child_rekey_s;		/* ike.child_rekey_time, default 3600 */
	bool mobike;			/* ike.mobike, default false */
};

struct cg_api {
	/* Either server + ca_file + token_file, or kubeconfig. */
	char *server;			/* cluster.api.server (https URL) */
	char *ca_file;			/* cluster.api.ca_file */
	char *token_file;		/* cluster.api.token_file */
	char *kubeconfig;		/* cluster.api.kubeconfig */
	uint32_t timeout_s;		/* cluster.api.timeout, default 10 */
};

struct cg_cluster {
	struct cg_cidr service_cidr;	/* cluster.service_cidr */
	struct cg_cidr_list pod_cidrs;	/* cluster.pod_cidrs, at least one */
	struct cg_cidr_list node_cidrs;	/* cluster.node_cidrs, optional */
	bool api_configured;		/* cluster.api present */
	struct cg_api api;
};

enum cg_services_mode {
	CG_MODE_PROXY,
	CG_MODE_ROUTE,
};

enum cg_protocol {
	CG_PROTO_TCP,
	CG_PROTO_UDP,
	CG_PROTO_SCTP,
};

struct cg_static_port {
	char *name;			/* optional */
	enum cg_protocol protocol;	/* default tcp */
	uint16_t port;			/* port on the ClusterIP */
	uint16_t target_port;		/* port on the endpoints, default = port */
};

struct cg_static_service {
	char *name;			/* services.static[i].name */
	char *namespace;		/* default "default" */
	struct in_addr cluster_ip;	/* inside cluster.service_cidr */
	struct cg_static_port *ports;
	size_t port_count;
	struct in_addr *endpoints;	/* ready endpoint addresses */
	size_t endpoint_count;
	bool affinity_client_ip;	/* session_affinity "ClientIP" */
	uint32_t affinity_timeout_s;	/* default 10800 */
};

struct cg_services {
	enum cg_services_mode mode;	/* services.mode, default proxy */
	struct cg_static_service *static_services;
	size_t static_count;
};

struct cg_static_node {
	char *name;
	struct in_addr address;
	bool has_pod_cidr;
	struct cg_cidr pod_cidr;	/* optional, for pod_cidr_routes */
};

enum cg_probe_method {
	CG_PROBE_HTTP,
	CG_PROBE_TCP,
};

struct cg_health {
	enum cg_probe_method method;	/* nodes.health.method, default http */
	uint16_t port;			/* default 10256 */
	char *path;			/* default "/healthz" */
	uint32_t interval_ms;		/* default 2000 */
	uint32_t timeout_ms;		/* default 1000 */
	uint32_t rise;			/* default 2 */
	uint32_t fall;			/* default 3 */
};

struct cg_nodes {
	struct cg_static_node *static_nodes;	/* nodes.static */
	size_t static_count;
	bool from_api;			/* nodes.from_api, default: api set */
	struct cg_health health;
	uint32_t route_table;		/* nodes.route_table, default 254 */
	bool pod_cidr_routes;		/* nodes.pod_cidr_routes, default false */
};

struct cg_allow_rule {
	struct cg_cidr office_subnet;	/* nat.allow[i].office_subnet */
	struct cg_cidr_list destinations; /* empty: all cluster CIDRs */
	uint16_t *ports;		/* empty: all ports */
	size_t port_count;
};

struct cg_nat {
	bool snat;			/* nat.snat, default true */
	bool allow_node_subnet;		/* nat.allow_node_subnet, default false */
	bool mss_clamp;			/* nat.mss_clamp, default true */
	struct cg_allow_rule *allow;	/* nat.allow, optional narrowing */
	size_t allow_count;
	uint32_t dnat_buckets;		/* nat.dnat_buckets, default 12 */
};

enum cg_log_target {
	CG_LOG_STDERR,
	CG_LOG_SYSLOG,
};

struct cg_config {
	struct cg_gateway gateway;
	struct cg_office office;
	struct cg_auth auth;
	struct cg_ike ike;
	struct cg_cluster cluster;
	struct cg_services services;
	struct cg_nodes nodes;
	struct cg_nat nat;
	char *control_socket;		/* control.socket */
	bool metrics_enabled;		/* metrics.listen present and not "" */
	char *metrics_listen;		/* metrics.listen "127.0.0.1:9469" */
	int log_level;			/* log.level, syslog LOG_* value */
	enum cg_log_target log_target;	/* log.target */
};

/*
 * A list of validation errors. Each message names the JSON path and the
 * problem, e.g. "office.subnets[1]: '172.16.0.0/33' is not an IPv4 CIDR".
 */
struct cg_errors {
	char **messages;
	size_t count;
};

/*
 * Parse and validate the file at path. On success returns a new config and
 * leaves errors empty. On failure returns NULL and fills errors with every
 * problem found. Either way the caller frees errors with
 * config_errors_clear(). Files the config names must exist, and PSK/key
 * files must not be readable by group or other.
 */
struct cg_config *config_load(const char *path, struct cg_errors *errors);

/* Same, from a JSON text in memory (length bytes, need not be 0-ended). */
struct cg_config *config_parse(const char *text, size_t length,
			       struct cg_errors *errors);

void config_free(struct cg_config *config);
void config_errors_clear(struct cg_errors *errors);

/* Formatting helpers: write into buf (at least CG_CIDR_STRLEN bytes). */
#define CG_CIDR_STRLEN 20
const char *cg_cidr_format(const struct cg_cidr *cidr, char *buf);
bool cg_cidr_contains(const struct cg_cidr *cidr, struct in_addr address);
bool cg_cidr_overlaps(const struct cg_cidr *a, const struct cg_cidr *b);
int cg_cidr_parse(const char *text, struct cg_cidr *out);
const char *cg_protocol_name(enum cg_protocol protocol); /* "tcp" ... */

#endif
