/* Between k8s_catalog.c (the stores) and k8s_catalog_build.c (their use). */
#ifndef CLUSTERGATE_K8S_CATALOG_PRIVATE_H
#define CLUSTERGATE_K8S_CATALOG_PRIVATE_H

#include "gateway/k8s_catalog.h"
#include "gateway/k8s_objects.h"
#include "gateway/k8s_slice_index.h"
#include "gateway/k8s_store.h"

/* The committed objects of kind (values: struct k8s_service, ...). */
const struct k8s_store *k8s_catalog_store(const struct k8s_catalog *catalog,
					  enum k8s_kind kind);

/* The committed slices grouped by Service, or NULL when out of memory. */
const struct k8s_slice_index *
k8s_catalog_slice_index(const struct k8s_catalog *catalog);

/*
 * The ports of one Service (ClusterIP . protocol . port each) with their
 * endpoints chosen from group (may be NULL). Sets *ports (free with
 * k8s_service_ports_free()) and *count; none for Services without an
 * IPv4 ClusterIP. Returns 0 or -ENOMEM.
 */
int k8s_service_ports_build(const struct k8s_service *service,
			    const struct k8s_slice_group *group,
			    struct nat_service_port **ports, size_t *count);
void k8s_service_ports_free(struct nat_service_port *ports, size_t count);
/* Forget what was built: the next k8s_catalog_services() rebuilds all. */
void k8s_catalog_mark_all_services(struct k8s_catalog *catalog);
/* Order of the published state: ClusterIP, protocol, port, then name. */
int k8s_service_port_compare(const void *a, const void *b);

#endif
