/*
 * What only makes sense across sections: overlapping ranges, references
 * that must fall inside other ranges, and the files the config names.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "gateway/config.h"
#include "gateway/config_fields.h"

/*
 * Report every entry of list (named list_name, the first limit entries)
 * that cidr, found at path, overlaps.
 */
static void check_against(struct reader *r, const char *path,
			  const struct cg_cidr *cidr,
			  const struct cg_cidr_list *list,
			  const char *list_name, size_t limit)
{
	char a[CG_CIDR_STRLEN], b[CG_CIDR_STRLEN];
	size_t j;

	for (j = 0; j < limit && j < list->count; j++)
		if (cg_cidr_overlaps(cidr, &list->items[j]))
			reader_error(r, path, "%s overlaps %s[%zu] %s",
				     cg_cidr_format(cidr, a), list_name, j,
				     cg_cidr_format(&list->items[j], b));
}

/* Office subnets must not overlap any cluster range, nor each other. */
static void check_overlaps(struct reader *r, const struct cg_config *config)
{
	const struct cg_cidr_list *office = &config->office.subnets;
	const struct cg_cluster *cluster = &config->cluster;
	char path[CG_PATH_MAX], a[CG_CIDR_STRLEN], b[CG_CIDR_STRLEN];
	size_t i;

	for (i = 0; i < office->count; i++) {
		const struct cg_cidr *subnet = &office->items[i];

		path_index(path, "office.subnets", i);
		if (cg_cidr_overlaps(subnet, &cluster->service_cidr))
			reader_error(r, path, "%s overlaps cluster.service_cidr "
				     "%s", cg_cidr_format(subnet, a),
				     cg_cidr_format(&cluster->service_cidr, b));
		check_against(r, path, subnet, &cluster->pod_cidrs,
			      "cluster.pod_cidrs", SIZE_MAX);
		check_against(r, path, subnet, &cluster->node_cidrs,
			      "cluster.node_cidrs", SIZE_MAX);
		check_against(r, path, subnet, office, "office.subnets", i);
	}
	check_against(r, "cluster.service_cidr", &cluster->service_cidr,
		      &cluster->pod_cidrs, "cluster.pod_cidrs", SIZE_MAX);
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
