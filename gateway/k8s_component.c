/*
 * The "kubernetes" component: watches Services, EndpointSlices and Nodes
 * through the API (when cluster.api is configured) and publishes the
 * derived service DNAT state and node list to the other components.
 *
 * Changes are coalesced: an event marks the state dirty and a short timer
 * publishes once, so a relist of 10k objects publishes one time. While the
 * API is unreachable nothing is withdrawn: the last state keeps being
 * served, and status says since when it is stale.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/daemon.h"
#include "gateway/k8s_catalog.h"
#include "gateway/k8s_client.h"
#include "gateway/k8s_component.h"
#include "gateway/k8s_watch.h"
#include "gateway/kubeconfig.h"
#include "gateway/log.h"
#include "gateway/loop.h"

/* Coalescing delay between a change and its publication. */
#define PUBLISH_DELAY_MS 20

static const char *const paths[K8S_KIND_COUNT] = {
	[K8S_SERVICES] = "/api/v1/services",
	[K8S_SLICES] = "/apis/discovery.k8s.io/v1/endpointslices",
	[K8S_NODES] = "/api/v1/nodes",
};
static const char *const section_names[K8S_KIND_COUNT] = {
	[K8S_SERVICES] = "services",
	[K8S_SLICES] = "endpointslices",
	[K8S_NODES] = "nodes",
};

struct k8s_component;

struct watch_context {
	struct k8s_component *component;
	enum k8s_kind kind;
};

struct k8s_component {
	struct daemon *daemon;
	struct cg_api api;		/* copy of what the client runs with */
	bool want[K8S_KIND_COUNT];
	struct k8s_client *client;
	struct k8s_watch *watches[K8S_KIND_COUNT];
	struct watch_context contexts[K8S_KIND_COUNT];
	struct k8s_catalog *catalog;
	char *setup_error;		/* client could not be set up */

	bool services_dirty, nodes_dirty;
	uint64_t publish_timer;
	bool published_services;	/* something was published */
	size_t ports_programmed, endpoints_programmed, nodes_published;
	double build_ms, publish_ms;	/* the last service publication */
	time_t last_publish;
	bool was_stale;
};

/* ---- publishing ---- */

static double now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec * 1000 + (double)now.tv_nsec / 1e6;
}

static void publish_services(struct k8s_component *component)
{
	const struct nat_services *services;
	double start = now_ms(), built;

	services = k8s_catalog_services(component->catalog);
	if (!services) {
		log_err("kubernetes: out of memory building the service state");
		return;
	}
	built = now_ms();
	component->ports_programmed = services->count;
	component->endpoints_programmed = 0;
	for (size_t i = 0; i < services->count; i++)
		component->endpoints_programmed +=
			services->ports[i].endpoint_count;
	log_debug("kubernetes: publishing %zu service ports, %zu endpoints",
		  component->ports_programmed, component->endpoints_programmed);
	daemon_publish_services(component->daemon, services);
	component->build_ms = built - start;
	component->publish_ms = now_ms() - built;
	component->published_services = true;
}

static void publish_nodes(struct k8s_component *component)
{
	struct cg_node_info *nodes;
	size_t count;

	if (k8s_catalog_build_nodes(component->catalog, &nodes, &count)) {
		log_err("kubernetes: out of memory building the node list");
		return;
	}
	component->nodes_published = count;
	daemon_publish_nodes(component->daemon, nodes, count);
	k8s_node_list_free(nodes, count);
}

static bool kind_synced(const struct k8s_component *component,
			enum k8s_kind kind)
{
	return component->watches[kind] &&
		k8s_watch_synced(component->watches[kind]);
}

static void on_publish(void *data)
{
	struct k8s_component *component = data;

	component->publish_timer = 0;
	/* Services without their slices would reject: wait for both lists. */
	if (component->services_dirty &&
	    kind_synced(component, K8S_SERVICES) &&
	    kind_synced(component, K8S_SLICES)) {
		component->services_dirty = false;
		publish_services(component);
		component->last_publish = time(NULL);
	}
	if (component->nodes_dirty && kind_synced(component, K8S_NODES)) {
		component->nodes_dirty = false;
		publish_nodes(component);
		component->last_publish = time(NULL);
	}
}

static void mark_dirty(struct k8s_component *component, enum k8s_kind kind)
{
	if (kind == K8S_NODES)
		component->nodes_dirty = true;
	else
		component->services_dirty = true;
	if (!component->publish_timer)
		component->publish_timer = loop_add_timer(
			component->daemon->loop, PUBLISH_DELAY_MS, on_publish,
			component);
}

/* ---- watch callbacks ---- */

static void on_list_begin(void *data)
{
	struct watch_context *context = data;

	k8s_catalog_list_begin(context->component->catalog, context->kind);
}

static void on_list_item(void *data, json_t *item, size_t index)
{
	struct watch_context *context = data;

	k8s_catalog_list_add(context->component->catalog, context->kind, item,
			     index);
}

static void on_list_end(void *data, bool complete)
{
	struct watch_context *context = data;

	if (!complete) {
		k8s_catalog_list_abort(context->component->catalog,
				       context->kind);
		return;
	}
	k8s_catalog_list_commit(context->component->catalog, context->kind);
	mark_dirty(context->component, context->kind);
}

static void on_event(void *data, enum k8s_event_type type, json_t *object)
{
	struct watch_context *context = data;

	if (k8s_catalog_apply(context->component->catalog, context->kind,
			      type, object) == 0)
		mark_dirty(context->component, context->kind);
}

static time_t stale_since(const struct k8s_component *component)
{
	time_t since = 0;

	for (int kind = 0; kind < K8S_KIND_COUNT; kind++) {
		const struct k8s_watch *watch = component->watches[kind];

		if (watch && k8s_watch_failing(watch) &&
		    (!since || k8s_watch_failing_since(watch) < since))
			since = k8s_watch_failing_since(watch);
	}
	return since;
}

static void on_state_changed(void *data)
{
	struct watch_context *context = data;
	struct k8s_component *component = context->component;
	bool stale = stale_since(component) != 0;

	if (stale && !component->was_stale)
		log_warn("kubernetes: API server unreachable; keeping the last known state (%zu service ports)",
			 component->ports_programmed);
	else if (!stale && component->was_stale)
		log_info("kubernetes: API server reachable again");
	component->was_stale = stale;
}

static const struct k8s_watch_handler watch_handler = {
	.list_begin = on_list_begin,
	.list_item = on_list_item,
	.list_end = on_list_end,
	.event = on_event,
	.state_changed = on_state_changed,
};

/* ---- setup ---- */

static void stop_watching(struct k8s_component *component)
{
	for (int kind = 0; kind < K8S_KIND_COUNT; kind++) {
		k8s_watch_destroy(component->watches[kind]);
		component->watches[kind] = NULL;
	}
	k8s_client_destroy(component->client);
	component->client = NULL;
	free(component->setup_error);
	component->setup_error = NULL;
}

static void clear_api(struct cg_api *api)
{
	free(api->server);
	free(api->ca_file);
	free(api->token_file);
	free(api->kubeconfig);
	memset(api, 0, sizeof(*api));
}

static int copy_api(struct cg_api *to, const struct cg_api *from)
{
	memset(to, 0, sizeof(*to));
	to->timeout_s = from->timeout_s;
	if ((from->server && !(to->server = strdup(from->server))) ||
	    (from->ca_file && !(to->ca_file = strdup(from->ca_file))) ||
	    (from->token_file && !(to->token_file = strdup(from->token_file))) ||
	    (from->kubeconfig && !(to->kubeconfig = strdup(from->kubeconfig)))) {
		clear_api(to);
		return -ENOMEM;
	}
	return 0;
}

static bool same_string(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_api(const struct cg_api *a, const struct cg_api *b)
{
	return same_string(a->server, b->server) &&
		same_string(a->ca_file, b->ca_file) &&
		same_string(a->token_file, b->token_file) &&
		same_string(a->kubeconfig, b->kubeconfig) &&
		a->timeout_s == b->timeout_s;
}

static int connection_from_api(const struct cg_api *api,
			       struct k8s_connection *connection,
			       char *error, size_t size)
{
	int err;

	memset(connection, 0, sizeof(*connection));
	if (api->kubeconfig) {
		err = kubeconfig_load(api->kubeconfig, connection, error, size);
		if (err)
			return err;
	} else {
		connection->server = api->server ? strdup(api->server) : NULL;
		connection->ca_file = api->ca_file ? strdup(api->ca_file) :
			NULL;
		connection->token_file = api->token_file ?
			strdup(api->token_file) : NULL;
		if (!connection->server) {
			k8s_connection_clear(connection);
			snprintf(error, size, "cluster.api.server: missing");
			return -EINVAL;
		}
	}
	connection->timeout_s = api->timeout_s ? api->timeout_s : 10;
	return 0;
}

static void start_watching(struct k8s_component *component)
{
	struct k8s_connection connection;
	char error[512];

	if (connection_from_api(&component->api, &connection, error,
				sizeof(error)) == 0) {
		if (connection.insecure_skip_verify)
			log_warn("kubernetes: %s sets insecure-skip-tls-verify: the API server's certificate is not checked",
				 component->api.kubeconfig);
		component->client = k8s_client_create(component->daemon->loop,
						      &connection, error,
						      sizeof(error));
		k8s_connection_clear(&connection);
	}
	if (!component->client) {
		log_err("kubernetes: %s; not watching the API", error);
		component->setup_error = strdup(error);
		return;
	}
	log_info("kubernetes: watching %s%s%s at %s",
		 component->want[K8S_SERVICES] ? "Services, EndpointSlices" : "",
		 component->want[K8S_SERVICES] && component->want[K8S_NODES] ?
			" and " : "",
		 component->want[K8S_NODES] ? "Nodes" : "",
		 component->api.kubeconfig ? component->api.kubeconfig :
			component->api.server);
	for (int kind = 0; kind < K8S_KIND_COUNT; kind++) {
		if (!component->want[kind])
			continue;
		component->contexts[kind].component = component;
		component->contexts[kind].kind = kind;
		component->watches[kind] = k8s_watch_create(
			component->daemon->loop, component->client,
			k8s_kind_name(kind), paths[kind], &watch_handler,
			&component->contexts[kind]);
		if (!component->watches[kind])
			log_err("kubernetes: out of memory starting the %s watch",
				k8s_kind_name(kind));
	}
}

static void set_wanted(struct k8s_component *component,
		       const struct cg_config *config, bool *want)
{
	bool api = config->cluster.api_configured;

	(void)component;
	want[K8S_SERVICES] = api && config->services.mode == CG_MODE_PROXY;
	want[K8S_SLICES] = want[K8S_SERVICES];
	want[K8S_NODES] = api && config->nodes.from_api;
}

static int k8s_start(struct daemon *daemon, void **state)
{
	struct k8s_component *component = calloc(1, sizeof(*component));

	if (!component)
		return -ENOMEM;
	component->daemon = daemon;
	component->catalog = k8s_catalog_create();
	if (!component->catalog ||
	    copy_api(&component->api, &daemon->config->cluster.api)) {
		k8s_catalog_destroy(component->catalog);
		free(component);
		return -ENOMEM;
	}
	set_wanted(component, daemon->config, component->want);
	if (component->want[K8S_SERVICES] || component->want[K8S_NODES])
		start_watching(component);
	*state = component;
	return 0;
}

static int k8s_reload(void *state, const struct cg_config *config)
{
	struct k8s_component *component = state;
	bool want[K8S_KIND_COUNT];
	struct cg_api api;

	set_wanted(component, config, want);
	if (memcmp(want, component->want, sizeof(want)) == 0 &&
	    same_api(&config->cluster.api, &component->api) &&
	    !component->setup_error)
		return 0;
	if (copy_api(&api, &config->cluster.api))
		return -ENOMEM;
	stop_watching(component);
	clear_api(&component->api);
	component->api = api;
	/* What is no longer watched is withdrawn, not left to go stale. */
	for (int kind = 0; kind < K8S_KIND_COUNT; kind++) {
		if (want[kind] || !component->want[kind])
			continue;
		k8s_catalog_list_begin(component->catalog, kind);
		k8s_catalog_list_commit(component->catalog, kind);
		if (kind == K8S_NODES)
			publish_nodes(component);
		else if (component->published_services)
			publish_services(component);
	}
	memcpy(component->want, want, sizeof(want));
	if (want[K8S_SERVICES] || want[K8S_NODES])
		start_watching(component);
	return 0;
}

static const char *component_state(const struct k8s_component *component)
{
	bool all_synced = true, any_synced = false;

	if (component->setup_error)
		return "error";
	for (int kind = 0; kind < K8S_KIND_COUNT; kind++) {
		if (!component->want[kind])
			continue;
		all_synced &= kind_synced(component, kind);
		any_synced |= kind_synced(component, kind);
	}
	if (stale_since(component))
		return any_synced ? "stale" : "disconnected";
	return all_synced ? "connected" : "connecting";
}

/* The most recent error of any watch, with its time. */
static void last_error(json_t *watches, json_t *status)
{
	const char *key, *latest_at = NULL;
	json_t *watch, *latest = NULL;

	json_object_foreach(watches, key, watch) {
		const char *at = json_string_value(json_object_get(watch,
							"last_error_at"));

		if (at && (!latest_at || strcmp(at, latest_at) > 0)) {
			latest_at = at;
			latest = json_object_get(watch, "last_error");
		}
	}
	json_object_set(status, "last_error", latest ? latest : json_null());
	json_object_set_new(status, "last_error_at", latest_at ?
			    json_string(latest_at) : json_null());
}

static json_t *k8s_status(void *state)
{
	struct k8s_component *component = state;
	json_t *status, *watches, *versions;
	json_int_t reconnects = 0;
	time_t since = stale_since(component);
	char at[32];

	if (!component->want[K8S_SERVICES] && !component->want[K8S_NODES])
		return NULL;
	watches = json_object();
	versions = json_object();
	for (int kind = 0; kind < K8S_KIND_COUNT; kind++) {
		json_t *watch;

		if (!component->watches[kind])
			continue;
		watch = k8s_watch_status(component->watches[kind]);
		reconnects += json_integer_value(json_object_get(watch,
								 "reconnects"));
		json_object_set(versions, section_names[kind],
				json_object_get(watch, "resource_version"));
		json_object_set_new(watches, section_names[kind], watch);
	}
	status = json_pack("{s:s, s:s?, s:s?, s:I, s:I, s:I, s:I, s:I, s:I, "
			   "s:f, s:f, s:I, s:o}",
		"state", component_state(component),
		"server", component->api.kubeconfig ? component->api.kubeconfig :
			component->api.server,
		"stale_since", since ? k8s_format_time(since, at, sizeof(at)) :
			NULL,
		"services", (json_int_t)k8s_catalog_count(component->catalog,
							  K8S_SERVICES),
		"endpoint_slices", (json_int_t)k8s_catalog_count(
			component->catalog, K8S_SLICES),
		"nodes", (json_int_t)k8s_catalog_count(component->catalog,
						       K8S_NODES),
		"service_ports_programmed",
			(json_int_t)component->ports_programmed,
		"endpoints_programmed",
			(json_int_t)component->endpoints_programmed,
		"reconnects", reconnects,
		"last_build_ms", component->build_ms,
		"last_publish_ms", component->publish_ms,
		"last_publish", (json_int_t)component->last_publish,
		"resource_versions", versions);
	if (!status) {
		json_decref(watches);
		return NULL;
	}
	last_error(watches, status);
	if (component->setup_error)
		json_object_set_new(status, "last_error",
				    json_string(component->setup_error));
	json_object_set_new(status, "watches", watches);
	return status;
}

static json_t *endpoint_json(const struct nat_endpoint *endpoint)
{
	char address[INET_ADDRSTRLEN], text[INET_ADDRSTRLEN + 8];

	inet_ntop(AF_INET, &endpoint->address, address, sizeof(address));
	snprintf(text, sizeof(text), "%s:%u", address, endpoint->port);
	return json_string(text);
}

/* {"command": "kubernetes-services"}: the state the API gives now. */
static json_t *services_reply(struct k8s_component *component)
{
	const struct nat_services *services;
	json_t *list;

	services = k8s_catalog_services(component->catalog);
	if (!services)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "out of memory");
	list = json_array();
	for (size_t i = 0; i < services->count; i++) {
		const struct nat_service_port *port = &services->ports[i];
		char address[INET_ADDRSTRLEN];
		json_t *endpoints = json_array();

		for (size_t e = 0; e < port->endpoint_count; e++)
			json_array_append_new(endpoints,
					      endpoint_json(&port->endpoints[e]));
		inet_ntop(AF_INET, &port->cluster_ip, address, sizeof(address));
		json_array_append_new(list, json_pack(
			"{s:s, s:s, s:s, s:i, s:o, s:b, s:i}",
			"name", port->name, "cluster_ip", address,
			"protocol", port->protocol == IPPROTO_UDP ? "udp" :
				port->protocol == IPPROTO_SCTP ? "sctp" : "tcp",
			"port", port->port, "endpoints", endpoints,
			"affinity_client_ip", port->affinity_client_ip,
			"affinity_timeout", (int)port->affinity_timeout_s));
	}
	return json_pack("{s:b, s:o}", "ok", 1, "services", list);
}

static int k8s_command(void *state, const char *command, json_t *request,
		       json_t **reply)
{
	(void)request;
	if (strcmp(command, "kubernetes-services") != 0)
		return 0;
	*reply = services_reply(state);
	return 1;
}

static void k8s_stop(void *state)
{
	struct k8s_component *component = state;

	stop_watching(component);
	if (component->publish_timer)
		loop_cancel_timer(component->daemon->loop,
				  component->publish_timer);
	k8s_catalog_destroy(component->catalog);
	clear_api(&component->api);
	free(component);
}

const struct component_ops k8s_component = {
	.name = "kubernetes",
	.start = k8s_start,
	.reload = k8s_reload,
	.status = k8s_status,
	.command = k8s_command,
	.stop = k8s_stop,
};
