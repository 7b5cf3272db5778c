/*
 * clustergate: brings up and keeps up the office tunnel described by
 * clustergate.json, and reports CHILD_SA up/down to clustergated.
 */

/**
 * @defgroup clustergate clustergate
 * @ingroup cplugins
 *
 * @defgroup clustergate_plugin clustergate_plugin
 * @{ @ingroup clustergate
 */

#ifndef CLUSTERGATE_PLUGIN_H_
#define CLUSTERGATE_PLUGIN_H_

#include <plugins/plugin.h>

typedef struct clustergate_plugin_t clustergate_plugin_t;

/**
 * Plugin that configures charon from clustergate.json.
 *
 * It registers a configuration backend (clustergate_config_t), a credential
 * set (clustergate_creds_t) and a listener (clustergate_listener_t) that
 * forwards tunnel events through clustergate_control_t.
 */
struct clustergate_plugin_t {

	/**
	 * Implements plugin interface.
	 */
	plugin_t plugin;
};

#endif /** CLUSTERGATE_PLUGIN_H_ @}*/
