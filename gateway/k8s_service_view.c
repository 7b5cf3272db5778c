/* Incremental service state: per-Service ports, merged into a sorted array. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/k8s_catalog_private.h"
#include "gateway/k8s_service_view.h"
#include "gateway/log.h"

/* The ports built for one Service; the view's array points into them. */
struct built_service {
	struct nat_service_port *ports;
	size_t count;
};

struct k8s_service_view {
	struct k8s_store *built;	/* "namespace/name" -> built_service */
	struct k8s_store *marked;	/* keys changed since the last update */
	bool all_marked;
	bool has_duplicates;		/* the last full build dropped some */
	struct nat_services view;	/* shallow copies, sorted */
	size_t capacity;
};

static char marker;

static void free_built(void *value)
{
	struct built_service *built = value;

	k8s_service_ports_free(built->ports, built->count);
	free(built);
}

static void free_nothing(void *value)
{
	(void)value;
}

struct k8s_service_view *k8s_service_view_create(void)
{
	struct k8s_service_view *view = calloc(1, sizeof(*view));

	if (!view)
		return NULL;
	view->built = k8s_store_create(free_built);
	view->marked = k8s_store_create(free_nothing);
	if (!view->built || !view->marked) {
		k8s_service_view_destroy(view);
		return NULL;
	}
	view->all_marked = true;
	return view;
}

void k8s_service_view_destroy(struct k8s_service_view *view)
{
	if (!view)
		return;
	k8s_store_destroy(view->built);
	k8s_store_destroy(view->marked);
	free(view->view.ports);
	free(view);
}

void k8s_service_view_mark(struct k8s_service_view *view, const char *key)
{
	if (!view->all_marked && k8s_store_put(view->marked, key, &marker))
		view->all_marked = true;
}

void k8s_service_view_mark_all(struct k8s_service_view *view)
{
	view->all_marked = true;
}

static int reserve(struct k8s_service_view *view, size_t count)
{
	struct nat_service_port *ports;
	size_t capacity = view->capacity ? view->capacity : 64;

	if (count <= view->capacity)
		return 0;
	while (capacity < count)
		capacity *= 2;
	ports = realloc(view->view.ports, capacity * sizeof(*ports));
	if (!ports)
		return -ENOMEM;
	view->view.ports = ports;
	view->capacity = capacity;
	return 0;
}

/* Build one Service's entry in the built store (none if not programmed). */
static int build_one(struct k8s_service_view *view, const char *key,
		     const struct k8s_service *service,
		     const struct k8s_slice_index *slices)
{
	struct built_service *built;
	int err;

	if (!service || !service->has_cluster_ip || !service->port_count)
		return 0;
	built = calloc(1, sizeof(*built));
	if (!built)
		return -ENOMEM;
	err = k8s_service_ports_build(service, k8s_slice_index_get(slices, key),
				      &built->ports, &built->count);
	if (err) {
		free(built);
		return err;
	}
	return k8s_store_put(view->built, key, built);
}

struct full_build {
	struct k8s_service_view *view;
	const struct k8s_slice_index *slices;
	int error;
};

static void build_visit(const char *key, void *value, void *data)
{
	struct full_build *build = data;

	if (!build->error)
		build->error = build_one(build->view, key, value,
					 build->slices);
}

static void append_visit(const char *key, void *value, void *data)
{
	struct k8s_service_view *view = data;
	struct built_service *built = value;

	(void)key;
	memcpy(view->view.ports + view->view.count, built->ports,
	       built->count * sizeof(*built->ports));
	view->view.count += built->count;
}

static void count_visit(const char *key, void *value, void *data)
{
	(void)key;
	*(size_t *)data += ((struct built_service *)value)->count;
}

static bool same_address(const struct nat_service_port *a,
			 const struct nat_service_port *b)
{
	return a->cluster_ip.s_addr == b->cluster_ip.s_addr &&
		a->protocol == b->protocol && a->port == b->port;
}

/* Two Services claiming one ClusterIP . proto . port: keep the first. */
static void drop_duplicates(struct k8s_service_view *view)
{
	struct nat_services *out = &view->view;
	size_t kept = 0;

	view->has_duplicates = false;
	for (size_t i = 0; i < out->count; i++) {
		if (kept && same_address(&out->ports[kept - 1],
					 &out->ports[i])) {
			log_warn("kubernetes: %s uses the same ClusterIP and port as %s; ignoring it",
				 out->ports[i].name, out->ports[kept - 1].name);
			view->has_duplicates = true;
			continue;
		}
		out->ports[kept++] = out->ports[i];
	}
	out->count = kept;
}

static int full_build(struct k8s_service_view *view,
		      const struct k8s_store *services,
		      const struct k8s_slice_index *slices)
{
	struct full_build build = { view, slices, 0 };
	struct k8s_store *empty = k8s_store_create(free_built);
	size_t total = 0;

	if (!empty)
		return -ENOMEM;
	view->view.count = 0;
	k8s_store_swap(view->built, empty);
	k8s_store_destroy(empty);
	k8s_store_foreach(services, build_visit, &build);
	k8s_store_foreach(view->built, count_visit, &total);
	if (!build.error)
		build.error = reserve(view, total);
	if (build.error)
		return build.error;
	k8s_store_foreach(view->built, append_visit, view);
	qsort(view->view.ports, view->view.count, sizeof(*view->view.ports),
	      k8s_service_port_compare);
	drop_duplicates(view);
	return 0;
}

/* Where port sits (or would sit) in the sorted array. */
static size_t position(const struct nat_services *out,
		       const struct nat_service_port *port)
{
	size_t low = 0, high = out->count;

	while (low < high) {
		size_t middle = low + (high - low) / 2;

		if (k8s_service_port_compare(&out->ports[middle], port) < 0)
			low = middle + 1;
		else
			high = middle;
	}
	return low;
}

static void remove_port(struct nat_services *out,
			const struct nat_service_port *port)
{
	size_t at = position(out, port);

	if (at < out->count && out->ports[at].name == port->name) {
		memmove(&out->ports[at], &out->ports[at + 1],
			(out->count - at - 1) * sizeof(*out->ports));
		out->count--;
	}
}

/* Insert port; false if another Service holds its address (conflict). */
static bool insert_port(struct nat_services *out,
			const struct nat_service_port *port)
{
	size_t at = position(out, port);

	if ((at > 0 && same_address(&out->ports[at - 1], port)) ||
	    (at < out->count && same_address(&out->ports[at], port)))
		return false;
	memmove(&out->ports[at + 1], &out->ports[at],
		(out->count - at) * sizeof(*out->ports));
	out->ports[at] = *port;
	out->count++;
	return true;
}

struct marked_update {
	struct k8s_service_view *view;
	const struct k8s_store *services;
	const struct k8s_slice_index *slices;
	int error;
	bool conflict;
};

static void update_visit(const char *key, void *value, void *data)
{
	struct marked_update *update = data;
	struct k8s_service_view *view = update->view;
	struct built_service *built = k8s_store_get(view->built, key);

	(void)value;
	if (update->error || update->conflict)
		return;
	for (size_t i = 0; built && i < built->count; i++)
		remove_port(&view->view, &built->ports[i]);
	k8s_store_remove(view->built, key);
	update->error = build_one(view, key, k8s_store_get(update->services,
							   key),
				  update->slices);
	built = k8s_store_get(view->built, key);
	if (update->error || !built)
		return;
	update->error = reserve(view, view->view.count + built->count);
	for (size_t i = 0; !update->error && i < built->count; i++)
		if (!insert_port(&view->view, &built->ports[i]))
			update->conflict = true;
}

const struct nat_services *
k8s_service_view_update(struct k8s_service_view *view,
			const struct k8s_store *services,
			const struct k8s_slice_index *slices)
{
	struct marked_update update = { view, services, slices, 0, false };
	struct k8s_store *empty;

	if (!slices)
		return NULL;
	if (!view->all_marked && !view->has_duplicates) {
		k8s_store_foreach(view->marked, update_visit, &update);
		if (!update.error && !update.conflict)
			goto done;
	}
	if (full_build(view, services, slices)) {
		view->all_marked = true;
		return NULL;
	}
done:
	empty = k8s_store_create(free_nothing);
	if (empty) {
		k8s_store_destroy(view->marked);
		view->marked = empty;
		view->all_marked = false;
	} else {
		view->all_marked = true;
	}
	return &view->view;
}
