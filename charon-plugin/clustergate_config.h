/*
 * The clustergate connection as a charon configuration backend.
 */

/**
 * @defgroup clustergate_config clustergate_config
 * @{ @ingroup clustergate
 */

#ifndef CLUSTERGATE_CONFIG_H_
#define CLUSTERGATE_CONFIG_H_

#include <config/backend.h>

#include "clustergate_creds.h"
#include "gateway/config.h"

typedef struct clustergate_config_t clustergate_config_t;

/** Name of the peer config and of its one child config. */
#define CLUSTERGATE_CONNECTION "clustergate"

/**
 * Configuration backend holding one IKEv2 peer config with one CHILD_SA
 * config, built from clustergate.json:
 *
 * - local: gateway.public_address (or %any when that address is not on a
 *   local interface, e.g. behind a cloud's 1:1 NAT), identity gateway.id;
 * - remote: office.address, or %any for "any", identity office.id;
 * - auth: PSK, or our certificate with the office's certificate checked
 *   against auth.ca_file;
 * - proposals: ike.ike_proposals, ike.esp_proposals;
 * - traffic selectors: cluster.service_cidr, cluster.pod_cidrs and
 *   cluster.node_cidrs locally, office.subnets remotely, in tunnel mode;
 * - DPD every ike.dpd_delay seconds with restart, close action restart
 *   (neither when the office has no fixed address: then it restarts),
 *   IKE rekeying every ike.ike_rekey_time, CHILD_SA rekeying every
 *   ike.child_rekey_time, unlimited keying tries, unique IKE_SA per office
 *   (a new one replaces the old), MOBIKE only if ike.mobike.
 */
struct clustergate_config_t {

	/**
	 * Implements backend_t.
	 */
	backend_t backend;

	/**
	 * Bring the tunnel up from a scheduled job (charon's threads run jobs
	 * only once every plugin is loaded). Does nothing when office.address
	 * is "any": then we can only respond.
	 *
	 * @param replace	FALSE: not if an IKE_SA of ours exists already (the
	 *					office was first); TRUE: anyway, the existing ones
	 *					are being closed
	 */
	void (*initiate)(clustergate_config_t *this, bool replace);

	/**
	 * Close every IKE_SA of the clustergate connection (our own close: the
	 * close action does not fire).
	 */
	void (*terminate)(clustergate_config_t *this);

	/**
	 * Whether other describes the same connection: a reload that changes
	 * nothing here leaves the tunnel alone.
	 *
	 * @param other		another clustergate_config_t
	 * @return			TRUE if peer and child config are the same
	 */
	bool (*equals)(clustergate_config_t *this, clustergate_config_t *other);

	/**
	 * Destroy a clustergate_config_t.
	 */
	void (*destroy)(clustergate_config_t *this);
};

/**
 * Build the connection from the config.
 *
 * @param config		validated clustergate config (borrowed)
 * @param creds			loaded credentials (borrowed)
 * @return				backend, NULL (and logged) if a proposal is invalid
 */
clustergate_config_t *clustergate_config_create(const struct cg_config *config,
												clustergate_creds_t *creds);

#endif /** CLUSTERGATE_CONFIG_H_ @}*/
