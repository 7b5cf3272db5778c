/*
 * clustergate.json, section by section: each parse_* reads one top-level
 * object into its struct, with the defaults for what is absent.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "gateway/config.h"
#include "gateway/config_fields.h"

static const char *const default_ike_proposals[] = {
	"aes256gcm16-prfsha384-x25519", "aes128gcm16-prfsha256-ecp256", NULL,
};
static const char *const default_esp_proposals[] = {
	"aes256gcm16-x25519", "aes128gcm16-ecp256", NULL,
};

static void set_default_list(struct cg_string_list *list,
			     const char *const items[])
{
	size_t count = 0;

	while (items[count])
		count++;
	list->items = calloc(count + 1, sizeof(*list->items));
	if (!list->items)
		return;
	for (list->count = 0; list->count < count; list->count++)
		list->items[list->count] = strdup(items[list->count]);
}

/* Linux interface names are at most 15 characters, with no '/' or space. */
static void check_interface_name(struct reader *r, const char *path,
				 const char *name)
{
	if (name && (strlen(name) >= IFNAMSIZ || strpbrk(name, "/ \t:")))
		reader_error(r, path, "'%s' is not a valid interface name "
			     "(at most %d characters, no '/', ':' or spaces)",
			     name, IFNAMSIZ - 1);
}

static void parse_gateway(struct reader *r, json_t *doc,
			  struct cg_gateway *gateway)
{
	static const char *const keys[] = {
		"public_address", "id", "vpc_address", "vpc_interface",
		"tunnel_interface", "tunnel_mtu", NULL,
	};
	json_t *section = json_object_get(doc, "gateway");
	uint32_t mtu = 1400;

	if (!section) {
		reader_error(r, "gateway", "missing (required)");
		return;
	}
	if (!read_object(r, "gateway", section, keys))
		return;
	read_address(r, "gateway", section, "public_address", true,
		     &gateway->public_address);
	read_string(r, "gateway", section, "id", false, &gateway->ike_id);
	read_address(r, "gateway", section, "vpc_address", true,
		     &gateway->vpc_address);
	read_string(r, "gateway", section, "vpc_interface", false,
		    &gateway->vpc_interface);
	read_string(r, "gateway", section, "tunnel_interface", false,
		    &gateway->tunnel_interface);
	check_interface_name(r, "gateway.vpc_interface",
			     gateway->vpc_interface);
	check_interface_name(r, "gateway.tunnel_interface",
			     gateway->tunnel_interface);
	read_uint(r, "gateway", section, "tunnel_mtu", 576, 9000, &mtu);
	gateway->tunnel_mtu = (uint16_t)mtu;
}

static void parse_office(struct reader *r, json_t *doc,
			 struct cg_office *office)
{
	static const char *const keys[] = { "address", "id", "subnets", NULL };
	json_t *section = json_object_get(doc, "office"), *address;

	if (!section) {
		reader_error(r, "office", "missing (required)");
		return;
	}
	if (!read_object(r, "office", section, keys))
		return;
	address = json_object_get(section, "address");
	if (json_is_string(address) &&
	    strcmp(json_string_value(address), "any") == 0)
		office->address_any = true;
	else if (!address)
		reader_error(r, "office.address",
			     "missing (required): an IPv4 address, or \"any\" "
			     "for an office on a dynamic address");
	else
		read_address(r, "office", section, "address", true,
			     &office->address);
	read_string(r, "office", section, "id", false, &office->ike_id);
	if (office->address_any && !office->ike_id &&
	    json_object_get(section, "id") == NULL)
		reader_error(r, "office.id",
			     "required when office.address is \"any\"");
	read_cidr_list(r, "office", section, "subnets", true,
		       &office->subnets);
}

static void parse_auth(struct reader *r, json_t *doc, struct cg_auth *auth)
{
	static const char *const keys[] = {
		"psk_file", "cert_file", "key_file", "ca_file", NULL,
	};
	json_t *section = json_object_get(doc, "auth");
	bool has_psk, has_cert;

	if (!section) {
		reader_error(r, "auth", "missing (required): set psk_file, or "
			     "cert_file, key_file and ca_file");
		return;
	}
	if (!read_object(r, "auth", section, keys))
		return;
	read_string(r, "auth", section, "psk_file", false, &auth->psk_file);
	read_string(r, "auth", section, "cert_file", false, &auth->cert_file);
	read_string(r, "auth", section, "key_file", false, &auth->key_file);
	read_string(r, "auth", section, "ca_file", false, &auth->ca_file);
	has_psk = json_object_get(section, "psk_file") != NULL;
	has_cert = json_object_get(section, "cert_file") ||
		   json_object_get(section, "key_file") ||
		   json_object_get(section, "ca_file");
	if (has_psk && has_cert) {
		reader_error(r, "auth", "set either psk_file or cert_file/"
			     "key_file/ca_file, not both");
	} else if (has_psk) {
		auth->method = CG_AUTH_PSK;
	} else if (has_cert) {
		auth->method = CG_AUTH_CERT;
		if (!json_object_get(section, "cert_file"))
			reader_error(r, "auth.cert_file",
				     "missing (required with key_file/ca_file)");
		if (!json_object_get(section, "key_file"))
			reader_error(r, "auth.key_file",
				     "missing (required with cert_file)");
		if (!json_object_get(section, "ca_file"))
			reader_error(r, "auth.ca_file",
				     "missing (required with cert_file)");
	} else {
		reader_error(r, "auth", "set psk_file, or cert_file, key_file "
			     "and ca_file");
	}
}

static void parse_ike(struct reader *r, json_t *doc, struct cg_ike *ike)
{
	static const char *const keys[] = {
		"ike_proposals", "esp_proposals", "dpd_delay", "dpd_timeout",
		"ike_rekey_time", "child_rekey_time", "mobike", NULL,
	};
	json_t *section = json_object_get(doc, "ike");

	ike->dpd_delay_s = 10;
	ike->dpd_timeout_s = 30;
	ike->ike_rekey_s = 14400;
	ike->child_rekey_s = 3600;
	if (section && read_object(r, "ike", section, keys)) {
		read_string_list(r, "ike", section, "ike_proposals",
				 &ike->ike_proposals);
		read_string_list(r, "ike", section, "esp_proposals",
				 &ike->esp_proposals);
		read_uint(r, "ike", section, "dpd_delay", 1, 3600,
			  &ike->dpd_delay_s);
		read_uint(r, "ike", section, "dpd_timeout", 1, 86400,
			  &ike->dpd_timeout_s);
		read_uint(r, "ike", section, "ike_rekey_time", 60, 31536000,
			  &ike->ike_rekey_s);
		read_uint(r, "ike", section, "child_rekey_time", 60, 31536000,
			  &ike->child_rekey_s);
		read_bool(r, "ike", section, "mobike", &ike->mobike);
	}
	if (!ike->ike_proposals.count)
		set_default_list(&ike->ike_proposals, default_ike_proposals);
	if (!ike->esp_proposals.count)
		set_default_list(&ike->esp_proposals, default_esp_proposals);
}

static void parse_api(struct reader *r, json_t *cluster, struct cg_api *api)
{
	static const char *const keys[] = {
		"server", "ca_file", "token_file", "kubeconfig", "timeout",
		NULL,
	};
	json_t *section = json_object_get(cluster, "api");

	api->timeout_s = 10;
	if (!read_object(r, "cluster.api", section, keys))
		return;
	read_string(r, "cluster.api", section, "server", false, &api->server);
	read_string(r, "cluster.api", section, "ca_file", false,
		    &api->ca_file);
	read_string(r, "cluster.api", section, "token_file", false,
		    &api->token_file);
	read_string(r, "cluster.api", section, "kubeconfig", false,
		    &api->kubeconfig);
	read_uint(r, "cluster.api", section, "timeout", 1, 300,
		  &api->timeout_s);
	if (json_object_get(section, "kubeconfig")) {
		if (json_object_get(section, "server") ||
		    json_object_get(section, "token_file") ||
		    json_object_get(section, "ca_file"))
			reader_error(r, "cluster.api", "set either kubeconfig "
				     "or server/ca_file/token_file, not both");
	} else if (!json_object_get(section, "server")) {
		reader_error(r, "cluster.api.server", "missing (required "
			     "unless cluster.api.kubeconfig is set)");
	} else if (api->server && strncmp(api->server, "https://", 8) != 0 &&
		   strncmp(api->server, "http://", 7) != 0) {
		reader_error(r, "cluster.api.server",
			     "'%s' is not an http(s) URL", api->server);
	}
}

static void parse_cluster(struct reader *r, json_t *doc,
			  struct cg_cluster *cluster)
{
	static const char *const keys[] = {
		"service_cidr", "pod_cidrs", "node_cidrs", "api", NULL,
	};
	json_t *section = json_object_get(doc, "cluster");

	if (!section) {
		reader_error(r, "cluster", "missing (required)");
		return;
	}
	if (!read_object(r, "cluster", section, keys))
		return;
	read_cidr(r, "cluster", section, "service_cidr", true,
		  &cluster->service_cidr);
	read_cidr_list(r, "cluster", section, "pod_cidrs", true,
		       &cluster->pod_cidrs);
	read_cidr_list(r, "cluster", section, "node_cidrs", false,
		       &cluster->node_cidrs);
	if (json_object_get(section, "api")) {
		cluster->api_configured = true;
		parse_api(r, section, &cluster->api);
	}
}

static const char *const protocol_names[] = { "tcp", "udp", "sctp", NULL };

static void parse_static_port(struct reader *r, const char *path,
			      json_t *value, struct cg_static_port *port)
{
	static const char *const keys[] = {
		"name", "protocol", "port", "target_port", NULL,
	};
	uint32_t number = 0, target = 0;
	int protocol = CG_PROTO_TCP;

	if (!read_object(r, path, value, keys))
		return;
	read_string(r, path, value, "name", false, &port->name);
	read_choice(r, path, value, "protocol", protocol_names, &protocol);
	if (!json_object_get(value, "port")) {
		char field[CG_PATH_MAX];

		reader_error(r, path_key(field, path, "port"),
			     "missing (required)");
	}
	read_uint(r, path, value, "port", 1, 65535, &number);
	target = number;
	read_uint(r, path, value, "target_port", 1, 65535, &target);
	port->protocol = (enum cg_protocol)protocol;
	port->port = (uint16_t)number;
	port->target_port = (uint16_t)target;
}

static void parse_static_service(struct reader *r, const char *path,
				 json_t *value, struct cg_static_service *svc)
{
	static const char *const keys[] = {
		"name", "namespace", "cluster_ip", "ports", "endpoints",
		"session_affinity", "affinity_timeout", NULL,
	};
	static const char *const affinities[] = { "None", "ClientIP", NULL };
	char field[CG_PATH_MAX], item[CG_PATH_MAX];
	json_t *list, *entry;
	size_t index;
	int affinity = 0;

	svc->affinity_timeout_s = 10800;
	if (!read_object(r, path, value, keys))
		return;
	read_string(r, path, value, "name", true, &svc->name);
	read_string(r, path, value, "namespace", false, &svc->namespace);
	if (!svc->namespace)
		svc->namespace = strdup("default");
	read_address(r, path, value, "cluster_ip", true, &svc->cluster_ip);
	read_choice(r, path, value, "session_affinity", affinities,
		    &affinity);
	svc->affinity_client_ip = affinity == 1;
	read_uint(r, path, value, "affinity_timeout", 1, 86400,
		  &svc->affinity_timeout_s);

	path_key(field, path, "ports");
	list = json_object_get(value, "ports");
	if (!json_is_array(list) || json_array_size(list) == 0) {
		reader_error(r, field, "needs an array of at least one port");
	} else {
		svc->ports = calloc(json_array_size(list), sizeof(*svc->ports));
		if (!svc->ports)
			return;
		json_array_foreach(list, index, entry) {
			parse_static_port(r, path_index(item, field, index),
					  entry, &svc->ports[index]);
			svc->port_count++;
		}
	}

	path_key(field, path, "endpoints");
	list = json_object_get(value, "endpoints");
	if (list && !json_is_array(list)) {
		reader_error(r, field, "expected an array of IPv4 addresses");
	} else if (list) {
		svc->endpoints = calloc(json_array_size(list) + 1,
					sizeof(*svc->endpoints));
		if (!svc->endpoints)
			return;
		json_array_foreach(list, index, entry) {
			path_index(item, field, index);
			if (!json_is_string(entry) ||
			    inet_pton(AF_INET, json_string_value(entry),
				      &svc->endpoints[svc->endpoint_count]) != 1)
				reader_error(r, item, "'%s' is not an IPv4 "
					     "address", json_is_string(entry) ?
					     json_string_value(entry) : "?");
			else
				svc->endpoint_count++;
		}
	}
}

static void parse_services(struct reader *r, json_t *doc,
			   struct cg_services *services)
{
	static const char *const keys[] = { "mode", "static", NULL };
	static const char *const modes[] = { "proxy", "route", NULL };
	json_t *section = json_object_get(doc, "services"), *list, *entry;
	char item[CG_PATH_MAX];
	size_t index;
	int mode = CG_MODE_PROXY;

	if (!section || !read_object(r, "services", section, keys))
		return;
	read_choice(r, "services", section, "mode", modes, &mode);
	services->mode = (enum cg_services_mode)mode;
	list = json_object_get(section, "static");
	if (!list)
		return;
	if (!json_is_array(list)) {
		reader_error(r, "services.static", "expected an array");
		return;
	}
	services->static_services = calloc(json_array_size(list) + 1,
					   sizeof(*services->static_services));
	if (!services->static_services)
		return;
	json_array_foreach(list, index, entry) {
		parse_static_service(r, path_index(item, "services.static",
						   index),
				     entry, &services->static_services[index]);
		services->static_count++;
	}
}

static void parse_health(struct reader *r, json_t *nodes,
			 struct cg_health *health)
{
	static const char *const keys[] = {
		"method", "port", "path", "interval_ms", "timeout_ms", "rise",
		"fall", NULL,
	};
	static const char *const methods[] = { "http", "tcp", NULL };
	json_t *section = json_object_get(nodes, "health");
	uint32_t port = 10256;
	int method = CG_PROBE_HTTP;

	health->interval_ms = 2000;
	health->timeout_ms = 1000;
	health->rise = 2;
	health->fall = 3;
	if (section && read_object(r, "nodes.health", section, keys)) {
		read_choice(r, "nodes.health", section, "method", methods,
			    &method);
		read_uint(r, "nodes.health", section, "port", 1, 65535, &port);
		read_string(r, "nodes.health", section, "path", false,
			    &health->path);
		read_uint(r, "nodes.health", section, "interval_ms", 100,
			  600000, &health->interval_ms);
		read_uint(r, "nodes.health", section, "timeout_ms", 50,
			  600000, &health->timeout_ms);
		read_uint(r, "nodes.health", section, "rise", 1, 100,
			  &health->rise);
		read_uint(r, "nodes.health", section, "fall", 1, 100,
			  &health->fall);
		if (health->timeout_ms > health->interval_ms)
			reader_error(r, "nodes.health.timeout_ms", "%u is longer "
				     "than interval_ms (%u)", health->timeout_ms,
				     health->interval_ms);
	}
	health->method = (enum cg_probe_method)method;
	health->port = (uint16_t)port;
	if (!health->path)
		health->path = strdup("/healthz");
	else if (health->path[0] != '/')
		reader_error(r, "nodes.health.path", "'%s' must start with '/'",
			     health->path);
}

static void parse_static_node(struct reader *r, const char *path,
			      json_t *value, struct cg_static_node *node)
{
	static const char *const keys[] = {
		"name", "address", "pod_cidr", NULL,
	};

	if (!read_object(r, path, value, keys))
		return;
	read_string(r, path, value, "name", false, &node->name);
	read_address(r, path, value, "address", true, &node->address);
	node->has_pod_cidr = json_object_get(value, "pod_cidr") != NULL;
	read_cidr(r, path, value, "pod_cidr", false, &node->pod_cidr);
	if (!node->name)
		node->name = address_string(node->address);
}

static void parse_nodes(struct reader *r, json_t *doc, bool api_configured,
			struct cg_nodes *nodes)
{
	static const char *const keys[] = {
		"static", "from_api", "health", "route_table",
		"pod_cidr_routes", NULL,
	};
	json_t *section = json_object_get(doc, "nodes"), *list, *entry;
	char item[CG_PATH_MAX];
	size_t index;

	nodes->from_api = api_configured;
	nodes->route_table = 254;
	if (!section || !read_object(r, "nodes", section, keys)) {
		parse_health(r, NULL, &nodes->health);
		return;
	}
	read_bool(r, "nodes", section, "from_api", &nodes->from_api);
	if (nodes->from_api && !api_configured)
		reader_error(r, "nodes.from_api",
			     "true needs cluster.api to be configured");
	read_uint(r, "nodes", section, "route_table", 1, 0xfffffffe,
		  &nodes->route_table);
	read_bool(r, "nodes", section, "pod_cidr_routes",
		  &nodes->pod_cidr_routes);
	parse_health(r, section, &nodes->health);
	list = json_object_get(section, "static");
	if (!list)
		return;
	if (!json_is_array(list)) {
		reader_error(r, "nodes.static", "expected an array");
		return;
	}
	nodes->static_nodes = calloc(json_array_size(list) + 1,
				     sizeof(*nodes->static_nodes));
	if (!nodes->static_nodes)
		return;
	json_array_foreach(list, index, entry) {
		parse_static_node(r, path_index(item, "nodes.static", index),
				  entry, &nodes->static_nodes[index]);
		nodes->static_count++;
	}
}

static void parse_allow_rule(struct reader *r, const char *path,
			     json_t *value, struct cg_allow_rule *rule)
{
	static const char *const keys[] = {
		"office_subnet", "destinations", "ports", NULL,
	};
	char field[CG_PATH_MAX], item[CG_PATH_MAX];
	json_t *ports, *entry;
	size_t index;

	if (!read_object(r, path, value, keys))
		return;
	read_cidr(r, path, value, "office_subnet", true, &rule->office_subnet);
	read_cidr_list(r, path, value, "destinations", false,
		       &rule->destinations);
	ports = json_object_get(value, "ports");
	if (!ports)
		return;
	path_key(field, path, "ports");
	if (!json_is_array(ports)) {
		reader_error(r, field, "expected an array of port numbers");
		return;
	}
	rule->ports = calloc(json_array_size(ports) + 1, sizeof(*rule->ports));
	if (!rule->ports)
		return;
	json_array_foreach(ports, index, entry) {
		json_int_t port = json_integer_value(entry);

		if (!json_is_integer(entry) || port < 1 || port > 65535)
			reader_error(r, path_index(item, field, index),
				     "expected a port number (1 to 65535)");
		else
			rule->ports[rule->port_count++] = (uint16_t)port;
	}
}

static void parse_nat(struct reader *r, json_t *doc, struct cg_nat *nat)
{
	static const char *const keys[] = {
		"snat", "allow_node_subnet", "mss_clamp", "allow",
		"dnat_buckets", NULL,
	};
	json_t *section = json_object_get(doc, "nat"), *list, *entry;
	char item[CG_PATH_MAX];
	size_t index;

	nat->snat = true;
	nat->mss_clamp = true;
	nat->dnat_buckets = 12;
	if (!section || !read_object(r, "nat", section, keys))
		return;
	read_bool(r, "nat", section, "snat", &nat->snat);
	read_bool(r, "nat", section, "allow_node_subnet",
		  &nat->allow_node_subnet);
	read_bool(r, "nat", section, "mss_clamp", &nat->mss_clamp);
	read_uint(r, "nat", section, "dnat_buckets", 1, 256,
		  &nat->dnat_buckets);
	list = json_object_get(section, "allow");
	if (!list)
		return;
	if (!json_is_array(list)) {
		reader_error(r, "nat.allow", "expected an array");
		return;
	}
	nat->allow = calloc(json_array_size(list) + 1, sizeof(*nat->allow));
	if (!nat->allow)
		return;
	json_array_foreach(list, index, entry) {
		parse_allow_rule(r, path_index(item, "nat.allow", index), entry,
				 &nat->allow[index]);
		nat->allow_count++;
	}
}

static void parse_runtime(struct reader *r, json_t *doc,
			  struct cg_config *config)
{
	static const char *const control_keys[] = { "socket", NULL };
	static const char *const metrics_keys[] = { "listen", NULL };
	static const char *const log_keys[] = { "level", "target", NULL };
	static const char *const levels[] = {
		"error", "warning", "info", "debug", NULL,
	};
	static const int level_values[] = {
		LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG,
	};
	static const char *const targets[] = { "stderr", "syslog", NULL };
	json_t *section;
	int level = 2, target = CG_LOG_STDERR;

	section = json_object_get(doc, "control");
	if (section && read_object(r, "control", section, control_keys))
		read_string(r, "control", section, "socket", false,
			    &config->control_socket);
	if (!config->control_socket)
		config->control_socket = strdup(CG_DEFAULT_CONTROL_SOCKET);
	else if (config->control_socket[0] != '/')
		reader_error(r, "control.socket",
			     "'%s' must be an absolute path",
			     config->control_socket);
	else if (strlen(config->control_socket) >= 108)
		reader_error(r, "control.socket",
			     "path is longer than 107 characters");

	section = json_object_get(doc, "metrics");
	if (section && read_object(r, "metrics", section, metrics_keys))
		read_string(r, "metrics", section, "listen", false,
			    &config->metrics_listen);
	config->metrics_enabled = config->metrics_listen != NULL;
	if (config->metrics_listen) {
		const char *colon = strrchr(config->metrics_listen, ':');
		struct in_addr unused;
		char host[INET_ADDRSTRLEN] = "";
		long port = colon ? strtol(colon + 1, NULL, 10) : 0;

		if (colon && (size_t)(colon - config->metrics_listen) <
				     sizeof(host))
			memcpy(host, config->metrics_listen,
			       colon - config->metrics_listen);
		if (!colon || port < 1 || port > 65535 ||
		    inet_pton(AF_INET, host, &unused) != 1)
			reader_error(r, "metrics.listen", "'%s' is not "
				     "ADDRESS:PORT (e.g. 127.0.0.1:9469)",
				     config->metrics_listen);
	}

	section = json_object_get(doc, "log");
	if (section && read_object(r, "log", section, log_keys)) {
		read_choice(r, "log", section, "level", levels, &level);
		read_choice(r, "log", section, "target", targets, &target);
	}
	config->log_level = level_values[level];
	config->log_target = (enum cg_log_target)target;
}


void config_parse_sections(struct reader *r, json_t *doc,
			   struct cg_config *config)
{
	parse_gateway(r, doc, &config->gateway);
	parse_office(r, doc, &config->office);
	parse_auth(r, doc, &config->auth);
	parse_ike(r, doc, &config->ike);
	parse_cluster(r, doc, &config->cluster);
	parse_services(r, doc, &config->services);
	parse_nodes(r, doc, config->cluster.api_configured, &config->nodes);
	parse_nat(r, doc, &config->nat);
	parse_runtime(r, doc, config);
}
