/*
 * The components clustergated runs, in start order. Each lives in its own
 * file; declare it and add a line here to add one.
 */
#include <stddef.h>

#include "gateway/components.h"

extern const struct component_ops k8s_component;
extern const struct component_ops metrics_component;
extern const struct component_ops nat_component;
extern const struct component_ops route_component;
extern const struct component_ops tunnel_component;

const struct component_ops *const components[] = {
	&metrics_component,
	&nat_component,		/* before k8s: it takes the first publish */
	&k8s_component,
	&route_component,
	&tunnel_component,
	NULL,
};
