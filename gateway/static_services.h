/*
 * Static services from the config file (services.static), as the proxy-mode
 * DNAT state nat/ takes. For clusters without API access: the gateway
 * programs these exactly as it would Services read from the API.
 */
#ifndef CLUSTERGATE_STATIC_SERVICES_H
#define CLUSTERGATE_STATIC_SERVICES_H

#include "gateway/config.h"
#include "nat/nat_services.h"

/*
 * One nat_service_port per port of each static service, its endpoints on
 * the port's target_port. Returns 0 or -ENOMEM; free out with
 * static_services_free().
 */
int static_services_build(const struct cg_config *config,
			  struct nat_services *out);

/* Deep copy (for keeping a published state). Returns 0 or -ENOMEM. */
int nat_services_copy(const struct nat_services *from, struct nat_services *to);

/* Free what static_services_build() or nat_services_copy() made. */
void static_services_free(struct nat_services *services);

#endif
