/*
 * Reports tunnel events to clustergated over its control socket.
 */

/**
 * @defgroup clustergate_control clustergate_control
 * @{ @ingroup clustergate
 */

#ifndef CLUSTERGATE_CONTROL_H_
#define CLUSTERGATE_CONTROL_H_

#include <sa/ike_sa.h>
#include <sa/child_sa.h>

typedef struct clustergate_control_t clustergate_control_t;

/**
 * Sends CHILD_SA up/down events to clustergated.
 *
 * charon's threads only queue events here; a thread of its own sends them,
 * one JSON line per connection:
 *
 *   {"command": "tunnel-event", "event": "up"|"down", "peer": "198.51.100.10",
 *    "peer_id": "office.example", "child": "clustergate",
 *    "local_ts": ["10.0.56.0/21", ...], "remote_ts": ["172.16.0.0/24"],
 *    "spi_in": "c1f5e0a2", "spi_out": "cd3b8a10", "time": 1764918000}
 *
 * clustergated may be absent or restarting. Every connection attempt is
 * bounded by a short timeout, and events that cannot be delivered are
 * dropped. Instead the object keeps the set of CHILD_SAs that are up and
 * sends all of it ("event": "sync", "sas": [...]) after a failed delivery
 * and then every sync interval, so a restarted clustergated learns the
 * current state without charon doing anything.
 */
struct clustergate_control_t {

	/**
	 * Report that a CHILD_SA was installed (up) or is gone (down).
	 *
	 * Never blocks on the socket; safe to call from bus listeners.
	 *
	 * @param ike_sa		IKE_SA the CHILD_SA belongs to
	 * @param child_sa		the CHILD_SA
	 * @param up			TRUE when installed, FALSE when gone
	 */
	void (*report)(clustergate_control_t *this, ike_sa_t *ike_sa,
				   child_sa_t *child_sa, bool up);

	/**
	 * Stop the sender thread and free everything.
	 */
	void (*destroy)(clustergate_control_t *this);
};

/**
 * Create the reporter and start its sender thread.
 *
 * @param socket_path		clustergated's control socket (copied)
 * @param sync_interval		seconds between full-state syncs, > 0
 * @return					reporter, NULL if the thread cannot start
 */
clustergate_control_t *clustergate_control_create(const char *socket_path,
												  u_int sync_interval);

#endif /** CLUSTERGATE_CONTROL_H_ @}*/
