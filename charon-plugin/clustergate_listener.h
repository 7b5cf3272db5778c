/*
 * Watches the clustergate tunnel's CHILD_SAs on charon's bus.
 */

/**
 * @defgroup clustergate_listener clustergate_listener
 * @{ @ingroup clustergate
 */

#ifndef CLUSTERGATE_LISTENER_H_
#define CLUSTERGATE_LISTENER_H_

#include <bus/listeners/listener.h>

#include "clustergate_control.h"

typedef struct clustergate_listener_t clustergate_listener_t;

/**
 * Listener that reports the CHILD_SAs of the clustergate connection.
 *
 * Installed CHILD_SAs are reported up, deleted ones down. A rekeying
 * reports the new CHILD_SA up before the old one down, so clustergated
 * never sees the tunnel down while it is rekeyed. CHILD_SAs of other
 * connections (e.g. loaded over vici) are ignored.
 */
struct clustergate_listener_t {

	/**
	 * Implements listener_t interface.
	 */
	listener_t listener;

	/**
	 * Destroy a clustergate_listener_t.
	 */
	void (*destroy)(clustergate_listener_t *this);
};

/**
 * Create a clustergate_listener instance.
 *
 * @param peer_name		name of the clustergate peer config (copied)
 * @param control		where events go (borrowed, must outlive this)
 * @return				listener
 */
clustergate_listener_t *clustergate_listener_create(const char *peer_name,
												clustergate_control_t *control);

#endif /** CLUSTERGATE_LISTENER_H_ @}*/
