/*
 * EndpointSlices grouped by their Service ("namespace/service-name"), kept
 * up to date as slices come and go so that building the service state
 * does not regroup every slice on every change.
 *
 * Only slices that can serve an IPv4 gateway are indexed: IPv4 ones with a
 * kubernetes.io/service-name label. The index borrows the slices: remove
 * a slice before freeing it.
 */
#ifndef CLUSTERGATE_K8S_SLICE_INDEX_H
#define CLUSTERGATE_K8S_SLICE_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/k8s_objects.h"
#include "gateway/k8s_store.h"

struct k8s_slice_group {
	const struct k8s_slice **slices;
	size_t count, capacity;
};

struct k8s_slice_index;

/* Returns an empty index, or NULL when out of memory. */
struct k8s_slice_index *k8s_slice_index_create(void);
void k8s_slice_index_destroy(struct k8s_slice_index *index);

/* Index slice (borrowed). Returns 0 or -ENOMEM (index then invalid). */
int k8s_slice_index_add(struct k8s_slice_index *index,
			const struct k8s_slice *slice);
void k8s_slice_index_remove(struct k8s_slice_index *index,
			    const struct k8s_slice *slice);
/* Drop everything and index every slice of store (values: k8s_slice). */
int k8s_slice_index_rebuild(struct k8s_slice_index *index,
			    const struct k8s_store *slices);
/* The slices of the Service "namespace/name", or NULL if none. */
const struct k8s_slice_group *
k8s_slice_index_get(const struct k8s_slice_index *index,
		    const char *service_key);
/*
 * The key of the Service slice belongs to ("namespace/service-name") into
 * key; false for slices that are not indexed.
 */
bool k8s_slice_service_key(const struct k8s_slice *slice, char *key,
			   size_t size);
/* false after an allocation failure: rebuild before use. */
bool k8s_slice_index_valid(const struct k8s_slice_index *index);

#endif
