/*
 * clustergate.json: walk the document section by section, fill struct
 * cg_config with defaults for what is absent, then check what only makes
 * sense across sections (overlaps, file modes, mode requirements).
 * Every problem is collected, so one run of check-config shows them all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "gateway/config.h"
#include "gateway/config_fields.h"

static void fill_defaults(struct cg_config *config)
{
	if (!config->gateway.ike_id)
		config->gateway.ike_id =
			address_string(config->gateway.public_address);
	if (!config->gateway.vpc_interface)
		config->gateway.vpc_interface = strdup("eth0");
	if (!config->office.ike_id && !config->office.address_any)
		config->office.ike_id = address_string(config->office.address);
}

struct cg_config *config_parse(const char *text, size_t length,
			       struct cg_errors *errors)
{
	static const char *const keys[] = {
		"gateway", "office", "auth", "ike", "cluster", "services",
		"nodes", "nat", "control", "metrics", "log", NULL,
	};
	struct reader reader = { .errors = errors };
	struct cg_config *config;
	json_error_t json_error;
	json_t *doc;

	errors->messages = NULL;
	errors->count = 0;
	doc = json_loadb(text, length, JSON_REJECT_DUPLICATES, &json_error);
	if (!doc) {
		reader_error(&reader, "(file)", "invalid JSON at line %d column "
			     "%d: %s", json_error.line, json_error.column,
			     json_error.text);
		return NULL;
	}
	config = calloc(1, sizeof(*config));
	if (!config) {
		json_decref(doc);
		reader_error(&reader, "(file)", "out of memory");
		return NULL;
	}
	if (read_object(&reader, "(top level)", doc, keys)) {
		config_parse_sections(&reader, doc, config);
	}
	json_decref(doc);
	if (errors->count == 0) {
		fill_defaults(config);
		config_check(&reader, config);
	}
	if (errors->count) {
		config_free(config);
		return NULL;
	}
	return config;
}

struct cg_config *config_load(const char *path, struct cg_errors *errors)
{
	struct reader reader = { .errors = errors };
	struct cg_config *config;
	char *text = NULL;
	size_t length = 0;
	FILE *file;

	errors->messages = NULL;
	errors->count = 0;
	file = fopen(path, "re");
	if (!file) {
		reader_error(&reader, path, "cannot open: %s", strerror(errno));
		return NULL;
	}
	/* getdelim with NUL reads the whole (text) file in one call. */
	if (getdelim(&text, &length, '\0', file) < 0 && ferror(file)) {
		reader_error(&reader, path, "cannot read: %s", strerror(errno));
		fclose(file);
		free(text);
		return NULL;
	}
	fclose(file);
	config = config_parse(text ? text : "", text ? strlen(text) : 0,
			      errors);
	free(text);
	return config;
}

static void free_string_list(struct cg_string_list *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
}

static void free_services(struct cg_services *services)
{
	size_t i, j;

	for (i = 0; i < services->static_count; i++) {
		struct cg_static_service *svc = &services->static_services[i];

		for (j = 0; j < svc->port_count; j++)
			free(svc->ports[j].name);
		free(svc->ports);
		free(svc->endpoints);
		free(svc->name);
		free(svc->namespace);
	}
	free(services->static_services);
}

void config_free(struct cg_config *config)
{
	size_t i;

	if (!config)
		return;
	free(config->gateway.ike_id);
	free(config->gateway.vpc_interface);
	free(config->gateway.tunnel_interface);
	free(config->office.ike_id);
	free(config->office.subnets.items);
	free(config->auth.psk_file);
	free(config->auth.cert_file);
	free(config->auth.key_file);
	free(config->auth.ca_file);
	free_string_list(&config->ike.ike_proposals);
	free_string_list(&config->ike.esp_proposals);
	free(config->cluster.pod_cidrs.items);
	free(config->cluster.node_cidrs.items);
	free(config->cluster.api.server);
	free(config->cluster.api.ca_file);
	free(config->cluster.api.token_file);
	free(config->cluster.api.kubeconfig);
	free_services(&config->services);
	for (i = 0; i < config->nodes.static_count; i++)
		free(config->nodes.static_nodes[i].name);
	free(config->nodes.static_nodes);
	free(config->nodes.health.path);
	for (i = 0; i < config->nat.allow_count; i++) {
		free(config->nat.allow[i].destinations.items);
		free(config->nat.allow[i].ports);
	}
	free(config->nat.allow);
	free(config->control_socket);
	free(config->metrics_listen);
	free(config);
}

void config_errors_clear(struct cg_errors *errors)
{
	size_t i;

	for (i = 0; i < errors->count; i++)
		free(errors->messages[i]);
	free(errors->messages);
	errors->messages = NULL;
	errors->count = 0;
}
