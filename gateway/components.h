#ifndef CLUSTERGATE_COMPONENTS_H
#define CLUSTERGATE_COMPONENTS_H

#include "gateway/daemon.h"

/* NULL-terminated, in start order (see components.c). */
extern const struct component_ops *const components[];

#endif
