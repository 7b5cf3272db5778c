/* The service catalog: stores per kind, and the desired state built from them. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/k8s_catalog.h"
#include "gateway/k8s_catalog_private.h"
#include "gateway/k8s_objects.h"
#include "gateway/k8s_service_view.h"
#include "gateway/k8s_slice_index.h"
#include "gateway/k8s_store.h"
#include "gateway/log.h"

struct k8s_catalog {
	struct k8s_store *objects[K8S_KIND_COUNT];
	struct k8s_store *snapshot[K8S_KIND_COUNT];	/* during a relist */
	struct k8s_slice_index *slices_by_service;	/* of objects[SLICES] */
	struct k8s_service_view *services_view;		/* what is published */
};

static void free_service(void *value)
{
	k8s_service_clear(value);
	free(value);
}

static void free_slice(void *value)
{
	k8s_slice_clear(value);
	free(value);
}

static void free_node(void *value)
{
	k8s_node_info_clear(value);
	free(value);
}

static int decode_service(json_t *object, void *out, char *error,
			  size_t size)
{
	return k8s_service_decode(object, out, error, size);
}

static int decode_slice(json_t *object, void *out, char *error, size_t size)
{
	return k8s_slice_decode(object, out, error, size);
}

static int decode_node(json_t *object, void *out, char *error, size_t size)
{
	return k8s_node_decode(object, out, error, size);
}

static const struct {
	const char *name;
	size_t size;
	int (*decode)(json_t *object, void *out, char *error, size_t size);
	k8s_store_free_fn free_value;
} kinds[K8S_KIND_COUNT] = {
	[K8S_SERVICES] = { "Service", sizeof(struct k8s_service),
			   decode_service, free_service },
	[K8S_SLICES] = { "EndpointSlice", sizeof(struct k8s_slice),
			 decode_slice, free_slice },
	[K8S_NODES] = { "Node", sizeof(struct cg_node_info),
			decode_node, free_node },
};

const char *k8s_kind_name(enum k8s_kind kind)
{
	return kinds[kind].name;
}

struct k8s_catalog *k8s_catalog_create(void)
{
	struct k8s_catalog *catalog = calloc(1, sizeof(*catalog));

	if (!catalog)
		return NULL;
	catalog->slices_by_service = k8s_slice_index_create();
	catalog->services_view = k8s_service_view_create();
	if (!catalog->slices_by_service || !catalog->services_view) {
		k8s_slice_index_destroy(catalog->slices_by_service);
		k8s_service_view_destroy(catalog->services_view);
		free(catalog);
		return NULL;
	}
	for (int kind = 0; kind < K8S_KIND_COUNT; kind++) {
		catalog->objects[kind] = k8s_store_create(kinds[kind].free_value);
		if (!catalog->objects[kind]) {
			k8s_catalog_destroy(catalog);
			return NULL;
		}
	}
	return catalog;
}

void k8s_catalog_destroy(struct k8s_catalog *catalog)
{
	if (!catalog)
		return;
	k8s_slice_index_destroy(catalog->slices_by_service);
	k8s_service_view_destroy(catalog->services_view);
	for (int kind = 0; kind < K8S_KIND_COUNT; kind++) {
		k8s_store_destroy(catalog->objects[kind]);
		k8s_store_destroy(catalog->snapshot[kind]);
	}
	free(catalog);
}

size_t k8s_catalog_count(const struct k8s_catalog *catalog,
			 enum k8s_kind kind)
{
	return k8s_store_count(catalog->objects[kind]);
}

/*
 * Decode object into a new value. what names it for the log when it has no
 * usable name ("list item 3", "ADDED event"). Returns NULL if malformed.
 */
static void *decode_object(enum k8s_kind kind, json_t *object,
			   const char *what, char *key, size_t key_size)
{
	char error[256];
	void *value = malloc(kinds[kind].size);

	if (!value) {
		log_err("kubernetes: out of memory decoding a %s",
			kinds[kind].name);
		return NULL;
	}
	if (kinds[kind].decode(object, value, error, sizeof(error)) == 0 &&
	    k8s_object_key(object, key, key_size))
		return value;
	if (k8s_object_key(object, key, key_size))
		log_warn("kubernetes: skipping malformed %s %s: %s",
			 kinds[kind].name, key, error);
	else
		log_warn("kubernetes: skipping malformed %s (%s): %s",
			 kinds[kind].name, what, error);
	free(value);
	return NULL;
}

void k8s_catalog_list_begin(struct k8s_catalog *catalog, enum k8s_kind kind)
{
	k8s_store_destroy(catalog->snapshot[kind]);
	catalog->snapshot[kind] = k8s_store_create(kinds[kind].free_value);
	if (!catalog->snapshot[kind])
		log_err("kubernetes: out of memory listing %ss",
			kinds[kind].name);
}

int k8s_catalog_list_add(struct k8s_catalog *catalog, enum k8s_kind kind,
			 json_t *item, size_t index)
{
	char what[32], key[K8S_NAME_MAX];
	void *value;

	if (!catalog->snapshot[kind])
		return -ENOMEM;
	snprintf(what, sizeof(what), "list item %zu", index);
	value = decode_object(kind, item, what, key, sizeof(key));
	if (!value)
		return -EINVAL;
	return k8s_store_put(catalog->snapshot[kind], key, value);
}

void k8s_catalog_list_commit(struct k8s_catalog *catalog, enum k8s_kind kind)
{
	if (!catalog->snapshot[kind])
		return;
	k8s_store_swap(catalog->objects[kind], catalog->snapshot[kind]);
	/* the index points into the old slices: regroup before freeing them */
	if (kind == K8S_SLICES)
		k8s_slice_index_rebuild(catalog->slices_by_service,
					catalog->objects[kind]);
	if (kind != K8S_NODES)
		k8s_service_view_mark_all(catalog->services_view);
	k8s_store_destroy(catalog->snapshot[kind]);
	catalog->snapshot[kind] = NULL;
}

void k8s_catalog_list_abort(struct k8s_catalog *catalog, enum k8s_kind kind)
{
	k8s_store_destroy(catalog->snapshot[kind]);
	catalog->snapshot[kind] = NULL;
}

/*
 * The object under key is about to change: mark the Service it belongs to
 * for the next build, and take an old slice out of the index.
 */
static void unindex(struct k8s_catalog *catalog, enum k8s_kind kind,
		    const char *key)
{
	const struct k8s_slice *old;
	char service_key[K8S_NAME_MAX];

	if (kind == K8S_SERVICES)
		k8s_service_view_mark(catalog->services_view, key);
	if (kind != K8S_SLICES)
		return;
	old = k8s_store_get(catalog->objects[kind], key);
	if (!old)
		return;
	if (k8s_slice_service_key(old, service_key, sizeof(service_key)))
		k8s_service_view_mark(catalog->services_view, service_key);
	k8s_slice_index_remove(catalog->slices_by_service, old);
}

/* A slice was stored: index it and mark its Service. */
static int index_slice(struct k8s_catalog *catalog,
		       const struct k8s_slice *slice)
{
	char service_key[K8S_NAME_MAX];

	if (k8s_slice_service_key(slice, service_key, sizeof(service_key)))
		k8s_service_view_mark(catalog->services_view, service_key);
	return k8s_slice_index_add(catalog->slices_by_service, slice);
}

int k8s_catalog_apply(struct k8s_catalog *catalog, enum k8s_kind kind,
		      enum k8s_event_type type, json_t *object)
{
	char key[K8S_NAME_MAX];
	void *value;
	int err;

	if (type == K8S_DELETED) {
		/* Only the name matters; the last state may be partial. */
		if (!k8s_object_key(object, key, sizeof(key))) {
			log_warn("kubernetes: skipping malformed %s (DELETED event): metadata.name: missing",
				 kinds[kind].name);
			return -EINVAL;
		}
		unindex(catalog, kind, key);
		k8s_store_remove(catalog->objects[kind], key);
		return 0;
	}
	value = decode_object(kind, object,
			      type == K8S_ADDED ? "ADDED event" :
			      "MODIFIED event", key, sizeof(key));
	if (!value)
		return -EINVAL;
	unindex(catalog, kind, key);
	err = k8s_store_put(catalog->objects[kind], key, value);
	if (!err && kind == K8S_SLICES)
		err = index_slice(catalog, value);
	return err;
}

const struct k8s_store *k8s_catalog_store(const struct k8s_catalog *catalog,
					  enum k8s_kind kind)
{
	return catalog->objects[kind];
}

const struct nat_services *k8s_catalog_services(struct k8s_catalog *catalog)
{
	return k8s_service_view_update(catalog->services_view,
				       catalog->objects[K8S_SERVICES],
				       k8s_catalog_slice_index(catalog));
}

void k8s_catalog_mark_all_services(struct k8s_catalog *catalog)
{
	k8s_service_view_mark_all(catalog->services_view);
}

const struct k8s_slice_index *
k8s_catalog_slice_index(const struct k8s_catalog *catalog)
{
	/* after an allocation failure, regroup (the catalog stays const) */
	if (!k8s_slice_index_valid(catalog->slices_by_service))
		k8s_slice_index_rebuild(catalog->slices_by_service,
					catalog->objects[K8S_SLICES]);
	return k8s_slice_index_valid(catalog->slices_by_service) ?
		catalog->slices_by_service : NULL;
}
