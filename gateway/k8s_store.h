/*
 * A set of decoded Kubernetes objects keyed by "namespace/name" (or "name"
 * for cluster-scoped objects): the local copy of one resource the watcher
 * keeps in sync.
 *
 * The store owns its values and frees them with the free function given at
 * creation. Keys are copied.
 */
#ifndef CLUSTERGATE_K8S_STORE_H
#define CLUSTERGATE_K8S_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct k8s_store;

typedef void (*k8s_store_free_fn)(void *value);

/* Returns a new empty store, or NULL when out of memory. */
struct k8s_store *k8s_store_create(k8s_store_free_fn free_value);
/* Frees the store and every value in it. NULL is harmless. */
void k8s_store_destroy(struct k8s_store *store);

/*
 * Insert value under key, or replace (and free) the value already there.
 * The store takes value. Returns 0, or -ENOMEM (value is then freed).
 */
int k8s_store_put(struct k8s_store *store, const char *key, void *value);
/* The value under key, or NULL. */
void *k8s_store_get(const struct k8s_store *store, const char *key);
/* Remove and free the value under key. Returns true if there was one. */
bool k8s_store_remove(struct k8s_store *store, const char *key);
size_t k8s_store_count(const struct k8s_store *store);

/* Visit every value (in no particular order). Do not modify the store. */
void k8s_store_foreach(const struct k8s_store *store,
		       void (*visit)(const char *key, void *value, void *data),
		       void *data);

/* Exchange the contents of a and b (used to commit a relist at once). */
void k8s_store_swap(struct k8s_store *a, struct k8s_store *b);

#endif
