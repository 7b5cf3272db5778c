/*
 * Open-addressing hash map with linear probing and backward-shift delete.
 * Keys are below 2^63 (service keys use 56 bits); the top bit marks a used
 * slot, so a zeroed table is empty.
 */
#include <errno.h>
#include <stdlib.h>

#include "nat/nat_internal.h"

static size_t slot_of(const struct nat_hmap *map, uint64_t key)
{
	/* splitmix64 finaliser: service keys are far from random */
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebULL;
	key ^= key >> 31;
	return key & (map->capacity - 1);
}

int nat_hmap_init(struct nat_hmap *map, size_t expected)
{
	size_t capacity = 16;

	while (capacity < expected * 2)
		capacity *= 2;
	map->slots = calloc(capacity, sizeof(*map->slots));
	if (!map->slots)
		return -ENOMEM;
	map->capacity = capacity;
	map->count = 0;
	return 0;
}

void nat_hmap_free(struct nat_hmap *map)
{
	free(map->slots);
	map->slots = NULL;
	map->capacity = 0;
	map->count = 0;
}

uint64_t *nat_hmap_find(const struct nat_hmap *map, uint64_t key)
{
	size_t i;

	if (!map->capacity)
		return NULL;
	for (i = slot_of(map, key); map->slots[i].key;
	     i = (i + 1) & (map->capacity - 1)) {
		if (map->slots[i].key == (key | NAT_HMAP_USED))
			return &map->slots[i].value;
	}
	return NULL;
}

static int grow(struct nat_hmap *map)
{
	struct nat_hmap bigger;
	size_t i;

	if (nat_hmap_init(&bigger, map->capacity) < 0)
		return -ENOMEM;
	for (i = 0; i < map->capacity; i++) {
		if (map->slots[i].key)
			nat_hmap_put(&bigger, map->slots[i].key & ~NAT_HMAP_USED,
				     map->slots[i].value);
	}
	nat_hmap_free(map);
	*map = bigger;
	return 0;
}

int nat_hmap_put(struct nat_hmap *map, uint64_t key, uint64_t value)
{
	uint64_t *slot = nat_hmap_find(map, key);
	size_t i;

	if (slot) {
		*slot = value;
		return 0;
	}
	if (!map->capacity && nat_hmap_init(map, 8) < 0)
		return -ENOMEM;
	if ((map->count + 1) * 4 > map->capacity * 3 && grow(map) < 0)
		return -ENOMEM;
	for (i = slot_of(map, key); map->slots[i].key;
	     i = (i + 1) & (map->capacity - 1))
		;
	map->slots[i].key = key | NAT_HMAP_USED;
	map->slots[i].value = value;
	map->count++;
	return 0;
}

void nat_hmap_remove(struct nat_hmap *map, uint64_t key)
{
	size_t mask = map->capacity - 1, i, j, home;

	if (!map->capacity)
		return;
	for (i = slot_of(map, key); map->slots[i].key; i = (i + 1) & mask) {
		if (map->slots[i].key == (key | NAT_HMAP_USED))
			break;
	}
	if (!map->slots[i].key)
		return;
	/* Shift later members of the probe run back into the hole. */
	for (j = (i + 1) & mask; map->slots[j].key; j = (j + 1) & mask) {
		home = slot_of(map, map->slots[j].key & ~NAT_HMAP_USED);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			map->slots[i] = map->slots[j];
			i = j;
		}
	}
	map->slots[i].key = 0;
	map->slots[i].value = 0;
	map->count--;
}

bool nat_hmap_next(const struct nat_hmap *map, size_t *pos, uint64_t *key,
		   uint64_t *value)
{
	for (; *pos < map->capacity; (*pos)++) {
		if (map->slots[*pos].key) {
			*key = map->slots[*pos].key & ~NAT_HMAP_USED;
			*value = map->slots[*pos].value;
			(*pos)++;
			return true;
		}
	}
	return false;
}
