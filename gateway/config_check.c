/*
 * What only makes sense across sections: overlapping ranges, references
 * that must fall inside other ranges, and the files the config names.
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

/* Office subnets must not overlap any cluster range, nor each other. */
static void check_overlaps(struct reader *r, const struct cg_config *config)
{
	const struct cg_cidr_list *office = &config->office.subnets;
	char path[CG_PATH_MAX], a[CG_CIDR_STRLEN], b[CG_CIDR_STRLEN];
	size_t i, j;

	for (i = 0; i < office->count; i++) {
		const struct cg_cidr *subnet = &office->items[i];

		path_index(path, "office.subnets", i);
		if (cg_cidr_overlaps(subnet, &config->cluster.service_cidr))
			reader_error(r, path, "%s overlaps cluster.service_cidr "
				     "%s", cg_cidr_format(subnet, a),
				     cg_cidr_format(&config->cluster.service_cidr,
						    b));
		for (j = 0; j < config->cluster.pod_cidrs.count; j++)
			if (cg_cidr_overlaps(subnet,
					     &config->cluster.pod_cidrs.items[j]))
				reader_error(r, path, "%s overlaps "
					     "cluster.pod_cidrs[%zu] %s",
					     cg_cidr_format(subnet, a), j,
					     cg_cidr_format(&config->cluster
							    .pod_cidrs.items[j], b));
		for (j = 0; j < config->cluster.node_cidrs.count; j++)
			if (cg_cidr_overlaps(subnet,
					     &config->cluster.node_cidrs.items[j]))
				reader_error(r, path, "%s overlaps "
					     "cluster.node_cidrs[%zu] %s",
					     cg_cidr_format(subnet, a), j,
					     cg_cidr_format(&config->cluster
							    .node_cidrs.items[j], b));
		for (j = 0; j < i; j++)
			if (cg_cidr_overlaps(subnet, &office->items[j]))
				reader_error(r, path, "%s overlaps "
					     "office.subnets[%zu] %s",
					     cg_cidr_format(subnet, a), j,
					     cg_cidr_format(&office->items[j], b));
	}
	for (j = 0; j < config->cluster.pod_cidrs.count; j++)
		if (cg_cidr_overlaps(&config->cluster.service_cidr,
				     &config->cluster.pod_cidrs.items[j]))
			reader_error(r, "cluster.service_cidr", "%s overlaps "
				     "cluster.pod_cidrs[%zu] %s",
				     cg_cidr_format(&config->cluster.service_cidr,
						    a), j,
				     cg_cidr_format(&config->cluster.pod_cidrs
						    .items[j], b));
}

static bool in_office(const struct cg_config *config,
		      const struct cg_cidr *cidr)
{
	size_t i;

	for (i = 0; i < config->office.subnets.count; i++) {
		const struct cg_cidr *office = &config->office.subnets.items[i];

		if (office->prefix_len <= cidr->prefix_len &&
		    cg_cidr_contains(office, cidr->address))
			return true;
	}
	return false;
}

static void check_references(struct reader *r, const struct cg_config *config)
{
	char path[CG_PATH_MAX], text[CG_CIDR_STRLEN];
	size_t i;

	for (i = 0; i < config->services.static_count; i++) {
		const struct cg_static_service *svc =
			&config->services.static_services[i];
		char address[INET_ADDRSTRLEN];

		path_index(path, "services.static", i);
		strcat(path, ".cluster_ip");
		if (svc->cluster_ip.s_addr &&
		    !cg_cidr_contains(&config->cluster.service_cidr,
				      svc->cluster_ip))
			reader_error(r, path, "%s is outside cluster.service_cidr"
				     " %s", inet_ntop(AF_INET, &svc->cluster_ip,
						      address, sizeof(address)),
				     cg_cidr_format(&config->cluster.service_cidr,
						    text));
	}
	for (i = 0; i < config->nat.allow_count; i++) {
		const struct cg_allow_rule *rule = &config->nat.allow[i];

		path_index(path, "nat.allow", i);
		strcat(path, ".office_subnet");
		if (rule->office_subnet.prefix_len &&
		    !in_office(config, &rule->office_subnet))
			reader_error(r, path, "%s is not inside office.subnets",
				     cg_cidr_format(&rule->office_subnet, text));
	}
	if (config->services.mode == CG_MODE_ROUTE &&
	    config->nodes.static_count == 0 && !config->nodes.from_api)
		reader_error(r, "nodes.static", "route mode needs nodes: list "
			     "them here or configure cluster.api");
}

/* Referenced files must exist; secrets must not be group/other readable. */
static void check_file(struct reader *r, const char *path, const char *file,
		       bool secret)
{
	struct stat st;

	if (!file)
		return;
	if (stat(file, &st) != 0) {
		reader_error(r, path, "cannot read '%s': %s", file,
			     strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		reader_error(r, path, "'%s' is not a regular file", file);
		return;
	}
	if (secret && (st.st_mode & 077))
		reader_error(r, path, "'%s' is readable by group or other "
			     "(mode %04o); run chmod 600 on it", file,
			     (unsigned)(st.st_mode & 07777));
}

static void check_files(struct reader *r, const struct cg_config *config)
{
	check_file(r, "auth.psk_file", config->auth.psk_file, true);
	check_file(r, "auth.key_file", config->auth.key_file, true);
	check_file(r, "auth.cert_file", config->auth.cert_file, false);
	check_file(r, "auth.ca_file", config->auth.ca_file, false);
	check_file(r, "cluster.api.ca_file", config->cluster.api.ca_file,
		   false);
	check_file(r, "cluster.api.token_file", config->cluster.api.token_file,
		   false);
	check_file(r, "cluster.api.kubeconfig", config->cluster.api.kubeconfig,
		   false);
}


void config_check(struct reader *r, const struct cg_config *config)
{
	check_overlaps(r, config);
	check_references(r, config);
	check_files(r, config);
}
