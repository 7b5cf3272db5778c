/* Chained hash table of Kubernetes objects keyed by namespace/name. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/k8s_store.h"

struct store_entry {
	struct store_entry *next;
	uint32_t hash;
	void *value;
	char key[];
};

struct k8s_store {
	struct store_entry **buckets;
	size_t bucket_count;		/* a power of two */
	size_t count;
	k8s_store_free_fn free_value;
};

#define INITIAL_BUCKETS 64

static uint32_t key_hash(const char *key)
{
	uint32_t hash = 2166136261u;	/* FNV-1a */

	for (; *key; key++)
		hash = (hash ^ (uint8_t)*key) * 16777619u;
	return hash;
}

struct k8s_store *k8s_store_create(k8s_store_free_fn free_value)
{
	struct k8s_store *store = calloc(1, sizeof(*store));

	if (!store)
		return NULL;
	store->buckets = calloc(INITIAL_BUCKETS, sizeof(*store->buckets));
	if (!store->buckets) {
		free(store);
		return NULL;
	}
	store->bucket_count = INITIAL_BUCKETS;
	store->free_value = free_value;
	return store;
}

void k8s_store_destroy(struct k8s_store *store)
{
	if (!store)
		return;
	for (size_t i = 0; i < store->bucket_count; i++) {
		struct store_entry *entry = store->buckets[i], *next;

		for (; entry; entry = next) {
			next = entry->next;
			store->free_value(entry->value);
			free(entry);
		}
	}
	free(store->buckets);
	free(store);
}

/* Double the bucket array; on allocation failure just stay slower. */
static void store_grow(struct k8s_store *store)
{
	size_t new_count = store->bucket_count * 2;
	struct store_entry **buckets = calloc(new_count, sizeof(*buckets));

	if (!buckets)
		return;
	for (size_t i = 0; i < store->bucket_count; i++) {
		struct store_entry *entry = store->buckets[i], *next;

		for (; entry; entry = next) {
			size_t slot = entry->hash & (new_count - 1);

			next = entry->next;
			entry->next = buckets[slot];
			buckets[slot] = entry;
		}
	}
	free(store->buckets);
	store->buckets = buckets;
	store->bucket_count = new_count;
}

static struct store_entry **store_find(const struct k8s_store *store,
				       const char *key, uint32_t hash)
{
	struct store_entry **link = &store->buckets[hash &
						    (store->bucket_count - 1)];

	for (; *link; link = &(*link)->next)
		if ((*link)->hash == hash && strcmp((*link)->key, key) == 0)
			break;
	return link;
}

int k8s_store_put(struct k8s_store *store, const char *key, void *value)
{
	uint32_t hash = key_hash(key);
	struct store_entry **link = store_find(store, key, hash);
	size_t key_len = strlen(key);
	struct store_entry *entry;

	if (*link) {
		store->free_value((*link)->value);
		(*link)->value = value;
		return 0;
	}
	entry = malloc(sizeof(*entry) + key_len + 1);
	if (!entry) {
		store->free_value(value);
		return -ENOMEM;
	}
	entry->next = NULL;
	entry->hash = hash;
	entry->value = value;
	memcpy(entry->key, key, key_len + 1);
	*link = entry;
	store->count++;
	if (store->count > store->bucket_count)
		store_grow(store);
	return 0;
}

void *k8s_store_get(const struct k8s_store *store, const char *key)
{
	struct store_entry **link = store_find(store, key, key_hash(key));

	return *link ? (*link)->value : NULL;
}

bool k8s_store_remove(struct k8s_store *store, const char *key)
{
	struct store_entry **link = store_find(store, key, key_hash(key));
	struct store_entry *entry = *link;

	if (!entry)
		return false;
	*link = entry->next;
	store->free_value(entry->value);
	free(entry);
	store->count--;
	return true;
}

size_t k8s_store_count(const struct k8s_store *store)
{
	return store->count;
}

void k8s_store_foreach(const struct k8s_store *store,
		       void (*visit)(const char *key, void *value, void *data),
		       void *data)
{
	for (size_t i = 0; i < store->bucket_count; i++)
		for (struct store_entry *entry = store->buckets[i]; entry;
		     entry = entry->next)
			visit(entry->key, entry->value, data);
}

void k8s_store_swap(struct k8s_store *a, struct k8s_store *b)
{
	struct k8s_store tmp = *a;

	*a = *b;
	*b = tmp;
}
