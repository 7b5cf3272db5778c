/*
 * CHILD_SA events of the clustergate connection -> clustergate_control.
 */

#include "clustergate_listener.h"

#include <daemon.h>

typedef struct private_clustergate_listener_t private_clustergate_listener_t;

/**
 * Private data of a clustergate_listener_t object.
 */
struct private_clustergate_listener_t {

	/**
	 * Public clustergate_listener_t interface.
	 */
	clustergate_listener_t public;

	/**
	 * Name of the peer config whose CHILD_SAs we report.
	 */
	char *peer_name;

	/**
	 * Receives the events.
	 */
	clustergate_control_t *control;
};

/**
 * Whether ike_sa belongs to the clustergate connection.
 */
static bool is_ours(private_clustergate_listener_t *this, ike_sa_t *ike_sa)
{
	peer_cfg_t *peer_cfg = ike_sa->get_peer_cfg(ike_sa);

	return peer_cfg && streq(peer_cfg->get_name(peer_cfg), this->peer_name);
}

METHOD(listener_t, child_updown, bool,
	private_clustergate_listener_t *this, ike_sa_t *ike_sa,
	child_sa_t *child_sa, bool up)
{
	if (is_ours(this, ike_sa))
	{
		this->control->report(this->control, ike_sa, child_sa, up);
	}
	return TRUE;
}

METHOD(listener_t, child_rekey, bool,
	private_clustergate_listener_t *this, ike_sa_t *ike_sa,
	child_sa_t *old, child_sa_t *new)
{
	if (is_ours(this, ike_sa))
	{
		this->control->report(this->control, ike_sa, new, TRUE);
		this->control->report(this->control, ike_sa, old, FALSE);
	}
	return TRUE;
}

METHOD(clustergate_listener_t, destroy, void,
	private_clustergate_listener_t *this)
{
	free(this->peer_name);
	free(this);
}

/*
 * Described in header
 */
clustergate_listener_t *clustergate_listener_create(const char *peer_name,
												clustergate_control_t *control)
{
	private_clustergate_listener_t *this;

	INIT(this,
		.public = {
			.listener = {
				.child_updown = _child_updown,
				.child_rekey = _child_rekey,
			},
			.destroy = _destroy,
		},
		.peer_name = strdup(peer_name),
		.control = control,
	);

	return &this->public;
}
