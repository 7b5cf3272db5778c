/*
 * Component lifecycle, reload and the control-request dispatcher.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/components.h"
#include "gateway/daemon_core.h"
#include "gateway/log.h"

#define MAX_COMPONENTS 16

static void *component_states[MAX_COMPONENTS];
static bool component_started[MAX_COMPONENTS];
static time_t started_at, loaded_at;
static char *last_reload_error;

static json_t *cidr_json(const struct cg_cidr *cidr)
{
	char text[CG_CIDR_STRLEN];

	return json_string(cg_cidr_format(cidr, text));
}

static json_t *cidr_list_json(const struct cg_cidr_list *list)
{
	json_t *array = json_array();
	size_t i;

	for (i = 0; i < list->count; i++)
		json_array_append_new(array, cidr_json(&list->items[i]));
	return array;
}

static json_t *address_json(struct in_addr address)
{
	char text[INET_ADDRSTRLEN];

	return json_string(inet_ntop(AF_INET, &address, text, sizeof(text)));
}

json_t *config_summary(const struct cg_config *config)
{
	return json_pack(
		"{s:o, s:s, s:o, s:s, s:s?, s:o, s:o, s:s, s:o, s:o, s:o, "
		"s:s, s:b, s:i, s:i, s:s, s:s?}",
		"public_address", address_json(config->gateway.public_address),
		"ike_id", config->gateway.ike_id,
		"vpc_address", address_json(config->gateway.vpc_address),
		"vpc_interface", config->gateway.vpc_interface,
		"tunnel_interface", config->gateway.tunnel_interface,
		"office_address", config->office.address_any ?
			json_string("any") :
			address_json(config->office.address),
		"office_subnets", cidr_list_json(&config->office.subnets),
		"auth", config->auth.method == CG_AUTH_PSK ? "psk" : "cert",
		"service_cidr", cidr_json(&config->cluster.service_cidr),
		"pod_cidrs", cidr_list_json(&config->cluster.pod_cidrs),
		"node_cidrs", cidr_list_json(&config->cluster.node_cidrs),
		"services_mode", config->services.mode == CG_MODE_PROXY ?
			"proxy" : "route",
		"snat", config->nat.snat,
		"static_services", (int)config->services.static_count,
		"static_nodes", (int)config->nodes.static_count,
		"kubernetes_api", config->cluster.api_configured ?
			(config->cluster.api.kubeconfig ? "kubeconfig" :
			 "server") : "none",
		"metrics_listen", config->metrics_listen);
}

int daemon_start_components(struct daemon *daemon)
{
	size_t i;
	int err;

	started_at = loaded_at = time(NULL);
	for (i = 0; components[i] && i < MAX_COMPONENTS; i++) {
		err = components[i]->start(daemon, &component_states[i]);
		if (err < 0) {
			log_err("%s: cannot start: %s", components[i]->name,
				strerror(-err));
			return err;
		}
		component_started[i] = true;
	}
	return 0;
}

void daemon_stop_components(struct daemon *daemon)
{
	size_t i = 0;

	(void)daemon;
	while (components[i] && i < MAX_COMPONENTS)
		i++;
	while (i-- > 0) {
		if (component_started[i] && components[i]->stop)
			components[i]->stop(component_states[i]);
		component_started[i] = false;
		component_states[i] = NULL;
	}
	free(last_reload_error);
	last_reload_error = NULL;
}

static void remember_reload_error(const char *message)
{
	free(last_reload_error);
	last_reload_error = message ? strdup(message) : NULL;
}

int daemon_reload(struct daemon *daemon)
{
	struct cg_errors errors;
	struct cg_config *next, *previous;
	size_t i;

	next = config_load(daemon->config_path, &errors);
	if (!next) {
		for (i = 0; i < errors.count; i++)
			log_err("%s: %s", daemon->config_path,
				errors.messages[i]);
		log_err("reload: %s is invalid (%zu problem%s); keeping the "
			"running configuration", daemon->config_path,
			errors.count, errors.count == 1 ? "" : "s");
		remember_reload_error(errors.count ? errors.messages[0] :
				      "invalid configuration");
		config_errors_clear(&errors);
		return -EINVAL;
	}
	if (strcmp(next->control_socket, daemon->config->control_socket))
		log_warn("reload: control.socket changes take effect on "
			 "restart; still listening on %s",
			 daemon->config->control_socket);
	previous = daemon->config;
	daemon->config = next;
	for (i = 0; components[i] && i < MAX_COMPONENTS; i++)
		if (component_started[i] && components[i]->reload &&
		    components[i]->reload(component_states[i], next) < 0)
			log_err("reload: %s kept its previous state",
				components[i]->name);
	config_free(previous);
	log_open("clustergated", next->log_level,
		 next->log_target == CG_LOG_SYSLOG);
	loaded_at = time(NULL);
	remember_reload_error(NULL);
	log_info("reload: configuration from %s is now running",
		 daemon->config_path);
	return 0;
}

json_t *daemon_status(struct daemon *daemon)
{
	json_t *status, *section;
	size_t i;

	status = json_pack("{s:b, s:{s:i, s:s, s:I, s:I, s:s?}, s:o}",
			   "ok", 1,
			   "daemon", "pid", (int)getpid(),
			   "config_path", daemon->config_path,
			   "started", (json_int_t)started_at,
			   "config_loaded", (json_int_t)loaded_at,
			   "last_reload_error", last_reload_error,
			   "config", config_summary(daemon->config));
	for (i = 0; status && components[i] && i < MAX_COMPONENTS; i++) {
		if (!component_started[i] || !components[i]->status)
			continue;
		section = components[i]->status(component_states[i]);
		if (section)
			json_object_set_new(status, components[i]->name,
					    section);
	}
	return status;
}

static json_t *error_reply(const char *message)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", message);
}

json_t *daemon_handle_request(json_t *request, void *data)
{
	struct daemon *daemon = data;
	const char *command = json_string_value(json_object_get(request,
								"command"));
	json_t *reply = NULL;
	size_t i;

	if (!command)
		return error_reply("request has no \"command\" string");
	if (strcmp(command, "status") == 0)
		return daemon_status(daemon);
	if (strcmp(command, "ping") == 0)
		return json_pack("{s:b}", "ok", 1);
	if (strcmp(command, "reload") == 0) {
		if (daemon_reload(daemon) == 0)
			return json_pack("{s:b}", "ok", 1);
		return error_reply(last_reload_error ? last_reload_error :
				   "reload failed");
	}
	for (i = 0; components[i] && i < MAX_COMPONENTS; i++) {
		if (!component_started[i] || !components[i]->command)
			continue;
		if (components[i]->command(component_states[i], command,
					   request, &reply) > 0)
			return reply ? reply : json_pack("{s:b}", "ok", 1);
	}
	return error_reply("unknown command");
}

void daemon_publish_services(struct daemon *daemon,
			     const struct nat_services *services)
{
	size_t i;

	(void)daemon;
	for (i = 0; components[i] && i < MAX_COMPONENTS; i++)
		if (component_started[i] && components[i]->services_changed)
			components[i]->services_changed(component_states[i],
							services);
}

void daemon_publish_nodes(struct daemon *daemon,
			  const struct cg_node_info *nodes, size_t count)
{
	size_t i;

	(void)daemon;
	for (i = 0; components[i] && i < MAX_COMPONENTS; i++)
		if (component_started[i] && components[i]->nodes_changed)
			components[i]->nodes_changed(component_states[i], nodes,
						     count);
}
