/*
 * The service catalog: the gateway's local copy of the cluster's Services,
 * EndpointSlices and Nodes, and the desired state derived from them.
 *
 * The watcher feeds it lists (a relist replaces a whole kind at once) and
 * watch events. Malformed objects are skipped with a log line that names
 * them; the previous version of the object, if any, is kept.
 *
 * k8s_catalog_services() turns the catalog into struct nat_services
 * with kube-proxy's endpoint semantics:
 * - every Service with an IPv4 ClusterIP (not headless, not ExternalName)
 *   gets one entry per port: ClusterIP . protocol . port;
 * - its endpoints come from the IPv4 EndpointSlices labelled
 *   kubernetes.io/service-name=<name> in the same namespace; the slice port
 *   with the Service port's name gives the target port, so named target
 *   ports work and may differ between slices;
 * - ready endpoints are used; only when none is ready, the serving and
 *   terminating ones are;
 * - sessionAffinity ClientIP and its timeout are passed on.
 * Slices without a Service program nothing.
 */
#ifndef CLUSTERGATE_K8S_CATALOG_H
#define CLUSTERGATE_K8S_CATALOG_H

#include <jansson.h>
#include <stddef.h>

#include "gateway/daemon.h"
#include "nat/nat_services.h"

enum k8s_kind {
	K8S_SERVICES,
	K8S_SLICES,
	K8S_NODES,
	K8S_KIND_COUNT,
};

enum k8s_event_type {
	K8S_ADDED,
	K8S_MODIFIED,
	K8S_DELETED,
};

struct k8s_catalog;

/* Returns an empty catalog, or NULL when out of memory. */
struct k8s_catalog *k8s_catalog_create(void);
void k8s_catalog_destroy(struct k8s_catalog *catalog);

/* "Service", "EndpointSlice", "Node": used in log lines. */
const char *k8s_kind_name(enum k8s_kind kind);

/*
 * A relist: begin() starts an empty snapshot of kind, add() decodes one
 * list item into it (a malformed item is logged, naming it or its index,
 * and skipped: returns -EINVAL), commit() replaces what the catalog held
 * for kind with the snapshot; abort() discards the snapshot and keeps the
 * old state (the API went away mid-list).
 */
void k8s_catalog_list_begin(struct k8s_catalog *catalog, enum k8s_kind kind);
int k8s_catalog_list_add(struct k8s_catalog *catalog, enum k8s_kind kind,
			 json_t *item, size_t index);
void k8s_catalog_list_commit(struct k8s_catalog *catalog, enum k8s_kind kind);
void k8s_catalog_list_abort(struct k8s_catalog *catalog, enum k8s_kind kind);

/*
 * Apply one watch event (object borrowed). Returns 0, or -EINVAL when the
 * object is malformed (logged, skipped, old version kept).
 */
int k8s_catalog_apply(struct k8s_catalog *catalog, enum k8s_kind kind,
		      enum k8s_event_type type, json_t *object);

/* Objects of kind held now (not counting a snapshot being listed). */
size_t k8s_catalog_count(const struct k8s_catalog *catalog,
			 enum k8s_kind kind);

/*
 * The desired DNAT state, sorted by ClusterIP, protocol, port, with
 * endpoints sorted by address and port. Only what changed since the last
 * call is rebuilt. Owned by the catalog: valid until the catalog next
 * changes. NULL when out of memory.
 */
const struct nat_services *k8s_catalog_services(struct k8s_catalog *catalog);

/*
 * The node list, sorted by name. Returns 0 and sets *nodes (free with
 * k8s_node_list_free()) and *count, or -ENOMEM.
 */
int k8s_catalog_build_nodes(const struct k8s_catalog *catalog,
			    struct cg_node_info **nodes, size_t *count);
void k8s_node_list_free(struct cg_node_info *nodes, size_t count);

#endif
