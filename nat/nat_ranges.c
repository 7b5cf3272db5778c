/*
 * Address ranges for the interval sets (office_subnets and friends).
 *
 * The kernel keeps an interval set as start elements and end elements
 * (the first address after the range, flagged NFT_SET_ELEM_INTERVAL_END).
 * Ranges must not overlap or touch, so CIDR lists are merged first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nat/nat_internal.h"

static int compare_ranges(const void *a, const void *b)
{
	const struct nat_range *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->last < y->last ? -1 : x->last > y->last;
}

/* Sort and merge overlapping or adjacent ranges, in place. */
static void merge_ranges(struct nat_range_list *list)
{
	size_t out = 0;

	if (!list->count)
		return;
	qsort(list->items, list->count, sizeof(*list->items), compare_ranges);
	for (size_t i = 1; i < list->count; i++) {
		struct nat_range *last = &list->items[out];

		if (last->last == UINT32_MAX ||
		    list->items[i].first <= last->last + 1) {
			if (list->items[i].last > last->last)
				last->last = list->items[i].last;
		} else {
			list->items[++out] = list->items[i];
		}
	}
	list->count = out + 1;
}

int nat_ranges_from_cidrs(const struct nat_cidr *cidrs, size_t count,
			  struct nat_range_list *out)
{
	out->items = calloc(count ? count : 1, sizeof(*out->items));
	out->count = 0;
	if (!out->items)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		uint32_t mask = cidrs[i].prefix_len ?
			~0U << (32 - cidrs[i].prefix_len) : 0;
		uint32_t first = ntohl(cidrs[i].address.s_addr) & mask;

		out->items[out->count].first = first;
		out->items[out->count].last = first | ~mask;
		out->count++;
	}
	merge_ranges(out);
	return 0;
}

static int compare_elem_keys(const void *a, const void *b)
{
	const struct nat_elem *x = a, *y = b;
	uint32_t kx, ky;

	memcpy(&kx, x->key, 4);
	memcpy(&ky, y->key, 4);
	kx = ntohl(kx);
	ky = ntohl(ky);
	if (kx != ky)
		return kx < ky ? -1 : 1;
	/* an end element sorts before a start at the same address */
	return (int)y->interval_end - (int)x->interval_end;
}

int nat_ranges_from_elems(const struct nat_elem *elems, size_t count,
			  struct nat_range_list *out)
{
	struct nat_elem *sorted;
	bool open = false;
	uint32_t key;

	out->items = calloc(count ? count : 1, sizeof(*out->items));
	out->count = 0;
	sorted = malloc((count ? count : 1) * sizeof(*sorted));
	if (!out->items || !sorted) {
		free(sorted);
		nat_range_list_free(out);
		return -ENOMEM;
	}
	memcpy(sorted, elems, count * sizeof(*sorted));
	qsort(sorted, count, sizeof(*sorted), compare_elem_keys);
	for (size_t i = 0; i < count; i++) {
		memcpy(&key, sorted[i].key, 4);
		key = ntohl(key);
		if (!sorted[i].interval_end) {
			if (open)	/* start without end: runs to the top */
				out->items[out->count - 1].last = key - 1;
			out->items[out->count].first = key;
			out->items[out->count].last = UINT32_MAX;
			out->count++;
			open = true;
		} else if (open) {
			out->items[out->count - 1].last = key - 1;
			open = false;
		}
		/* an end with no start (nft's leading 0.0.0.0) adds nothing */
	}
	free(sorted);
	return 0;
}

void nat_range_list_free(struct nat_range_list *list)
{
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

static int push_range(struct nat_elem_list *list, const struct nat_range *r)
{
	struct nat_elem e;
	int err;

	nat_elem_ipv4(&e, htonl(r->first), false);
	err = nat_elem_list_push(list, &e);
	if (err || r->last == UINT32_MAX)
		return err;
	nat_elem_ipv4(&e, htonl(r->last + 1), true);
	return nat_elem_list_push(list, &e);
}

static bool range_in(const struct nat_range_list *list,
		     const struct nat_range *r)
{
	for (size_t i = 0; i < list->count; i++) {
		if (list->items[i].first == r->first &&
		    list->items[i].last == r->last)
			return true;
	}
	return false;
}

int nat_ranges_diff(const struct nat_range_list *have,
		    const struct nat_range_list *want,
		    struct nat_elem_list *del, struct nat_elem_list *add)
{
	int err;

	for (size_t i = 0; i < have->count; i++) {
		if (!range_in(want, &have->items[i]) &&
		    (err = push_range(del, &have->items[i])))
			return err;
	}
	for (size_t i = 0; i < want->count; i++) {
		if (!range_in(have, &want->items[i]) &&
		    (err = push_range(add, &want->items[i])))
			return err;
	}
	return 0;
}
