/*
 * The published service state, kept up to date incrementally: each Service
 * whose object or EndpointSlices changed is marked, and only its ports are
 * rebuilt and moved in the sorted array. A relist marks everything. At 10k
 * Services a one-endpoint change costs microseconds instead of a full
 * rebuild (about 10 ms).
 */
#ifndef CLUSTERGATE_K8S_SERVICE_VIEW_H
#define CLUSTERGATE_K8S_SERVICE_VIEW_H

#include "gateway/k8s_slice_index.h"
#include "gateway/k8s_store.h"
#include "nat/nat_services.h"

struct k8s_service_view;

/* Returns an empty view (everything marked), or NULL when out of memory. */
struct k8s_service_view *k8s_service_view_create(void);
void k8s_service_view_destroy(struct k8s_service_view *view);

/* The Service "namespace/name" (or its slices) changed. */
void k8s_service_view_mark(struct k8s_service_view *view, const char *key);
/* Everything changed (a relist). */
void k8s_service_view_mark_all(struct k8s_service_view *view);

/*
 * Bring the view up to date with services (values: struct k8s_service)
 * and slices, and return it: sorted by ClusterIP, protocol, port; a
 * ClusterIP . protocol . port claimed by two Services is kept once, for
 * the first by name (logged). Owned by the view, valid until the next
 * call. NULL when out of memory (everything stays marked).
 */
const struct nat_services *
k8s_service_view_update(struct k8s_service_view *view,
			const struct k8s_store *services,
			const struct k8s_slice_index *slices);

#endif
