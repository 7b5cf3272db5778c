/*
 * The components clustergated runs, in start order. Each lives in its own
 * file; add a line here to add one.
 */
#include <stddef.h>

#include "gateway/components.h"

const struct component_ops *const components[] = {
	NULL,
};
