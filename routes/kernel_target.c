/* The kernel route target: struct route_target over routes_*(). */
#include <errno.h>
#include <stdlib.h>

#include "routes/target.h"

struct kernel_target {
	struct route_target public;
	struct routes *routes;
};

static struct routes *routes_of(struct route_target *target)
{
	return ((struct kernel_target *)target)->routes;
}

static int kernel_sync(struct route_target *target,
		       const struct routes_desired *desired,
		       struct routes_sync_result *result, const char **error)
{
	return routes_sync(routes_of(target), desired, result, error);
}

static int kernel_current(struct route_target *target, uint32_t table,
			  const struct cg_cidr *prefix, struct in_addr **nodes)
{
	return routes_current(routes_of(target), table, prefix, nodes);
}

static int kernel_cleanup(struct route_target *target, unsigned *removed)
{
	return routes_cleanup(routes_of(target), removed);
}

static void kernel_destroy(struct route_target *target)
{
	if (!target)
		return;
	routes_close(routes_of(target));
	free(target);
}

static const struct route_target_ops kernel_ops = {
	.name = "kernel",
	.sync = kernel_sync,
	.current = kernel_current,
	.cleanup = kernel_cleanup,
	.destroy = kernel_destroy,
};

int route_target_kernel_create(struct route_target **out)
{
	struct kernel_target *target = calloc(1, sizeof(*target));
	int err;

	if (!target)
		return -ENOMEM;
	err = routes_open(&target->routes);
	if (err) {
		free(target);
		return err;
	}
	target->public.ops = &kernel_ops;
	*out = &target->public;
	return 0;
}
