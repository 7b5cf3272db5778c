/* EndpointSlices by Service, on top of a k8s_store of groups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/k8s_slice_index.h"

struct k8s_slice_index {
	struct k8s_store *groups;
	bool valid;
};

static void free_group(void *value)
{
	struct k8s_slice_group *group = value;

	free(group->slices);
	free(group);
}

bool k8s_slice_service_key(const struct k8s_slice *slice, char *key,
			   size_t size)
{
	int len;

	if (!slice->service_name || !slice->ipv4)
		return false;
	len = snprintf(key, size, "%s/%s", slice->namespace,
		       slice->service_name);
	return len > 0 && (size_t)len < size;
}

struct k8s_slice_index *k8s_slice_index_create(void)
{
	struct k8s_slice_index *index = calloc(1, sizeof(*index));

	if (!index)
		return NULL;
	index->groups = k8s_store_create(free_group);
	if (!index->groups) {
		free(index);
		return NULL;
	}
	index->valid = true;
	return index;
}

void k8s_slice_index_destroy(struct k8s_slice_index *index)
{
	if (!index)
		return;
	k8s_store_destroy(index->groups);
	free(index);
}

int k8s_slice_index_add(struct k8s_slice_index *index,
			const struct k8s_slice *slice)
{
	char key[K8S_NAME_MAX];
	struct k8s_slice_group *group;

	if (!k8s_slice_service_key(slice, key, sizeof(key)))
		return 0;
	group = k8s_store_get(index->groups, key);
	if (!group) {
		group = calloc(1, sizeof(*group));
		if (!group || k8s_store_put(index->groups, key, group))
			goto out_of_memory;
	}
	if (group->count == group->capacity) {
		size_t capacity = group->capacity ? group->capacity * 2 : 2;
		const struct k8s_slice **slices =
			realloc(group->slices, capacity * sizeof(*slices));

		if (!slices)
			goto out_of_memory;
		group->slices = slices;
		group->capacity = capacity;
	}
	group->slices[group->count++] = slice;
	return 0;
out_of_memory:
	index->valid = false;
	return -ENOMEM;
}

void k8s_slice_index_remove(struct k8s_slice_index *index,
			    const struct k8s_slice *slice)
{
	char key[K8S_NAME_MAX];
	struct k8s_slice_group *group;

	if (!k8s_slice_service_key(slice, key, sizeof(key)))
		return;
	group = k8s_store_get(index->groups, key);
	for (size_t i = 0; group && i < group->count; i++) {
		if (group->slices[i] != slice)
			continue;
		group->slices[i] = group->slices[--group->count];
		if (!group->count)
			k8s_store_remove(index->groups, key);
		return;
	}
}

static void add_visit(const char *key, void *value, void *data)
{
	(void)key;
	k8s_slice_index_add(data, value);
}

int k8s_slice_index_rebuild(struct k8s_slice_index *index,
			    const struct k8s_store *slices)
{
	struct k8s_store *groups = k8s_store_create(free_group);

	if (!groups) {
		index->valid = false;
		return -ENOMEM;
	}
	k8s_store_destroy(index->groups);
	index->groups = groups;
	index->valid = true;
	k8s_store_foreach(slices, add_visit, index);
	return index->valid ? 0 : -ENOMEM;
}

const struct k8s_slice_group *
k8s_slice_index_get(const struct k8s_slice_index *index,
		    const char *service_key)
{
	return k8s_store_get(index->groups, service_key);
}

bool k8s_slice_index_valid(const struct k8s_slice_index *index)
{
	return index->valid;
}
