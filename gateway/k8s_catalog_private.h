/* Between k8s_catalog.c (the stores) and k8s_catalog_build.c (their use). */
#ifndef CLUSTERGATE_K8S_CATALOG_PRIVATE_H
#define CLUSTERGATE_K8S_CATALOG_PRIVATE_H

#include "gateway/k8s_catalog.h"
#include "gateway/k8s_slice_index.h"
#include "gateway/k8s_store.h"

/* The committed objects of kind (values: struct k8s_service, ...). */
const struct k8s_store *k8s_catalog_store(const struct k8s_catalog *catalog,
					  enum k8s_kind kind);

/* The committed slices grouped by Service, or NULL when out of memory. */
const struct k8s_slice_index *
k8s_catalog_slice_index(const struct k8s_catalog *catalog);

#endif
