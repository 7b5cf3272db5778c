/*
 * clustergate.json -> one IKEv2 peer_cfg with one child_cfg.
 */

#include "clustergate_config.h"

#include <arpa/inet.h>
#include <stdio.h>

#include <daemon.h>
#include <collections/linked_list.h>
#include <processing/jobs/callback_job.h>

typedef struct private_clustergate_config_t private_clustergate_config_t;

/**
 * Private data of a clustergate_config_t object.
 */
struct private_clustergate_config_t {

	/**
	 * Public clustergate_config_t interface.
	 */
	clustergate_config_t public;

	/**
	 * The one peer config.
	 */
	peer_cfg_t *peer_cfg;

	/**
	 * Its one child config (a reference; peer_cfg holds one too).
	 */
	child_cfg_t *child_cfg;

	/**
	 * FALSE when the office has no fixed address: respond only.
	 */
	bool can_initiate;
};

METHOD(backend_t, create_ike_cfg_enumerator, enumerator_t*,
	private_clustergate_config_t *this, host_t *me, host_t *other)
{
	return enumerator_create_single(this->peer_cfg->get_ike_cfg(this->peer_cfg),
									NULL);
}

METHOD(backend_t, create_peer_cfg_enumerator, enumerator_t*,
	private_clustergate_config_t *this, identification_t *me,
	identification_t *other)
{
	return enumerator_create_single(this->peer_cfg, NULL);
}

METHOD(backend_t, get_peer_cfg_by_name, peer_cfg_t*,
	private_clustergate_config_t *this, char *name)
{
	if (streq(name, CLUSTERGATE_CONNECTION))
	{
		return this->peer_cfg->get_ref(this->peer_cfg);
	}
	return NULL;
}

/**
 * Unique ids of the IKE_SAs of our connection that are not being deleted.
 */
static linked_list_t *our_ike_sas()
{
	enumerator_t *enumerator;
	linked_list_t *ids = linked_list_create();
	peer_cfg_t *peer_cfg;
	ike_sa_t *ike_sa;

	enumerator = charon->ike_sa_manager->create_enumerator(
											charon->ike_sa_manager, TRUE);
	while (enumerator->enumerate(enumerator, &ike_sa))
	{
		peer_cfg = ike_sa->get_peer_cfg(ike_sa);
		if (peer_cfg && streq(peer_cfg->get_name(peer_cfg),
							  CLUSTERGATE_CONNECTION) &&
			ike_sa->get_state(ike_sa) != IKE_DELETING &&
			ike_sa->get_state(ike_sa) != IKE_DESTROYING)
		{
			ids->insert_last(ids,
						(void*)(uintptr_t)ike_sa->get_unique_id(ike_sa));
		}
	}
	enumerator->destroy(enumerator);
	return ids;
}

/**
 * What the initiate job needs; it holds its own references, so the
 * config object may go away (a reload) before the job runs.
 */
typedef struct {
	peer_cfg_t *peer_cfg;
	child_cfg_t *child_cfg;
	bool replace;
} initiate_data_t;

static void initiate_data_destroy(initiate_data_t *data)
{
	data->peer_cfg->destroy(data->peer_cfg);
	data->child_cfg->destroy(data->child_cfg);
	free(data);
}

/**
 * Scheduled job: initiate, unless the office beat us to it.
 */
static job_requeue_t initiate_job(initiate_data_t *data)
{
	linked_list_t *existing;
	status_t status;
	bool exists;

	existing = our_ike_sas();
	exists = existing->get_count(existing) > 0;
	existing->destroy(existing);
	if (exists && !data->replace)
	{
		DBG1(DBG_CFG, "clustergate: tunnel already being set up by the "
			 "office, not initiating");
		return JOB_REQUEUE_NONE;
	}
	DBG1(DBG_CFG, "clustergate: initiating the office tunnel");
	status = charon->controller->initiate(charon->controller,
							data->peer_cfg->get_ref(data->peer_cfg),
							data->child_cfg->get_ref(data->child_cfg),
							NULL, NULL, 0, FALSE);
	if (status != SUCCESS)
	{
		/* with unlimited keying tries charon keeps trying on its own once
		 * an IKE_SA exists; this is only reached if none could be made */
		DBG1(DBG_CFG, "clustergate: initiating the office tunnel failed");
	}
	return JOB_REQUEUE_NONE;
}

METHOD(clustergate_config_t, initiate, void,
	private_clustergate_config_t *this, bool replace)
{
	initiate_data_t *data;

	if (!this->can_initiate)
	{
		DBG1(DBG_CFG, "clustergate: office.address is \"any\", waiting for "
			 "the office to initiate");
		return;
	}
	INIT(data,
		.peer_cfg = this->peer_cfg->get_ref(this->peer_cfg),
		.child_cfg = this->child_cfg->get_ref(this->child_cfg),
		.replace = replace,
	);
	lib->scheduler->schedule_job(lib->scheduler,
				(job_t*)callback_job_create((callback_job_cb_t)initiate_job,
						data, (callback_job_cleanup_t)initiate_data_destroy,
						NULL), 0);
}

METHOD(clustergate_config_t, terminate, void,
	private_clustergate_config_t *this)
{
	linked_list_t *ids = our_ike_sas();
	void *id;

	while (ids->remove_first(ids, &id) == SUCCESS)
	{
		DBG1(DBG_CFG, "clustergate: closing IKE_SA #%u of the previous "
			 "configuration", (u_int)(uintptr_t)id);
		charon->controller->terminate_ike(charon->controller,
							(uint32_t)(uintptr_t)id, FALSE, NULL, NULL, 0);
	}
	ids->destroy(ids);
}

METHOD(clustergate_config_t, equals, bool,
	private_clustergate_config_t *this, clustergate_config_t *other_public)
{
	private_clustergate_config_t *other = (private_clustergate_config_t*)
											other_public;

	return this->can_initiate == other->can_initiate &&
		   this->peer_cfg->equals(this->peer_cfg, other->peer_cfg) &&
		   this->child_cfg->equals(this->child_cfg, other->child_cfg);
}

/**
 * Parse list->items[i] as a proposal; log it with its JSON path if invalid.
 */
static proposal_t *parse_proposal(const char *key,
								  const struct cg_string_list *list, size_t i,
								  protocol_id_t protocol)
{
	proposal_t *proposal;

	proposal = proposal_create_from_string(protocol, list->items[i]);
	if (!proposal)
	{
		DBG1(DBG_CFG, "clustergate: %s[%zu]: '%s' is not a valid %s proposal",
			 key, i, list->items[i], protocol == PROTO_IKE ? "IKE" : "ESP");
	}
	return proposal;
}

/**
 * Add a list of CIDRs as traffic selectors of one side.
 */
static void add_selectors(child_cfg_t *child_cfg, bool local,
						  const struct cg_cidr *cidrs, size_t count)
{
	host_t *net;
	size_t i;

	for (i = 0; i < count; i++)
	{
		net = host_create_from_chunk(AF_INET,
					chunk_create((u_char*)&cidrs[i].address, 4), 0);
		child_cfg->add_traffic_selector(child_cfg, local,
					traffic_selector_create_from_subnet(net,
										cidrs[i].prefix_len, 0, 0, 65535));
	}
}

/**
 * The local address for IKE: the public address if it is ours, else %any.
 */
static char *local_address(const struct cg_config *config, char *buf,
						   size_t len)
{
	host_t *host;
	bool local;

	inet_ntop(AF_INET, &config->gateway.public_address, buf, len);
	host = host_create_from_string(buf, 0);
	local = host && charon->kernel->get_interface(charon->kernel, host, NULL);
	DESTROY_IF(host);
	if (!local)
	{
		DBG1(DBG_CFG, "clustergate: gateway.public_address %s is not on a "
			 "local interface (1:1 NAT?), accepting IKE on any address", buf);
		snprintf(buf, len, "%%any");
	}
	return buf;
}

static ike_cfg_t *build_ike_cfg(const struct cg_config *config)
{
	char local[INET_ADDRSTRLEN], remote[INET_ADDRSTRLEN];
	ike_cfg_t *ike_cfg;
	proposal_t *proposal;
	size_t i;
	ike_cfg_create_t ike = {
		.version = IKEV2,
		.local = local_address(config, local, sizeof(local)),
		.local_port = charon->socket->get_port(charon->socket, FALSE),
		.remote = remote,
		.remote_port = IKEV2_UDP_PORT,
		.fragmentation = FRAGMENTATION_YES,
	};

	if (config->office.address_any)
	{
		snprintf(remote, sizeof(remote), "%%any");
	}
	else
	{
		inet_ntop(AF_INET, &config->office.address, remote, sizeof(remote));
	}
	ike_cfg = ike_cfg_create(&ike);
	for (i = 0; i < config->ike.ike_proposals.count; i++)
	{
		proposal = parse_proposal("ike.ike_proposals",
								  &config->ike.ike_proposals, i, PROTO_IKE);
		if (!proposal)
		{
			ike_cfg->destroy(ike_cfg);
			return NULL;
		}
		ike_cfg->add_proposal(ike_cfg, proposal);
	}
	return ike_cfg;
}

static child_cfg_t *build_child_cfg(const struct cg_config *config)
{
	child_cfg_t *child_cfg;
	proposal_t *proposal;
	uint32_t rekey = config->ike.child_rekey_s;
	bool can_initiate = !config->office.address_any;
	size_t i;
	child_cfg_create_t child = {
		.mode = MODE_TUNNEL,
		.lifetime = {
			.time = {
				.rekey = rekey,
				.life = rekey + rekey / 10,
				.jitter = rekey / 10,
			},
		},
		/* with an office on a dynamic address there is nobody to call:
		 * then the office restarts, as its generated config says */
		.start_action = can_initiate ? ACTION_START : ACTION_NONE,
		.dpd_action = can_initiate ? ACTION_START : ACTION_NONE,
		.close_action = can_initiate ? ACTION_START : ACTION_NONE,
	};

	child_cfg = child_cfg_create(CLUSTERGATE_CONNECTION, &child);
	for (i = 0; i < config->ike.esp_proposals.count; i++)
	{
		proposal = parse_proposal("ike.esp_proposals",
								  &config->ike.esp_proposals, i, PROTO_ESP);
		if (!proposal)
		{
			child_cfg->destroy(child_cfg);
			return NULL;
		}
		child_cfg->add_proposal(child_cfg, proposal);
	}
	add_selectors(child_cfg, TRUE, &config->cluster.service_cidr, 1);
	add_selectors(child_cfg, TRUE, config->cluster.pod_cidrs.items,
				  config->cluster.pod_cidrs.count);
	add_selectors(child_cfg, TRUE, config->cluster.node_cidrs.items,
				  config->cluster.node_cidrs.count);
	add_selectors(child_cfg, FALSE, config->office.subnets.items,
				  config->office.subnets.count);
	return child_cfg;
}

/**
 * Our auth round and the one we require from the office.
 */
static void add_auth_cfgs(peer_cfg_t *peer_cfg, const struct cg_config *config,
						  clustergate_creds_t *creds)
{
	auth_cfg_t *local = auth_cfg_create(), *remote = auth_cfg_create();
	certificate_t *cert = creds->get_cert(creds), *ca = creds->get_ca(creds);

	local->add(local, AUTH_RULE_IDENTITY,
			   identification_create_from_string(config->gateway.ike_id));
	remote->add(remote, AUTH_RULE_IDENTITY,
			   identification_create_from_string(config->office.ike_id));
	if (config->auth.method == CG_AUTH_PSK)
	{
		local->add(local, AUTH_RULE_AUTH_CLASS, AUTH_CLASS_PSK);
		remote->add(remote, AUTH_RULE_AUTH_CLASS, AUTH_CLASS_PSK);
	}
	else
	{
		local->add(local, AUTH_RULE_AUTH_CLASS, AUTH_CLASS_PUBKEY);
		local->add(local, AUTH_RULE_SUBJECT_CERT, cert->get_ref(cert));
		remote->add(remote, AUTH_RULE_AUTH_CLASS, AUTH_CLASS_PUBKEY);
		remote->add(remote, AUTH_RULE_CA_CERT, ca->get_ref(ca));
	}
	peer_cfg->add_auth_cfg(peer_cfg, local, TRUE);
	peer_cfg->add_auth_cfg(peer_cfg, remote, FALSE);
}

METHOD(clustergate_config_t, destroy, void,
	private_clustergate_config_t *this)
{
	this->child_cfg->destroy(this->child_cfg);
	this->peer_cfg->destroy(this->peer_cfg);
	free(this);
}

/*
 * Described in header
 */
clustergate_config_t *clustergate_config_create(const struct cg_config *config,
												clustergate_creds_t *creds)
{
	private_clustergate_config_t *this;
	ike_cfg_t *ike_cfg;
	child_cfg_t *child_cfg;
	uint32_t rekey = config->ike.ike_rekey_s;
	peer_cfg_create_t peer = {
		.cert_policy = config->auth.method == CG_AUTH_CERT ? CERT_ALWAYS_SEND
														   : CERT_NEVER_SEND,
		.unique = UNIQUE_REPLACE,
		.keyingtries = 0,
		.rekey_time = rekey,
		.jitter_time = rekey / 10,
		.over_time = rekey / 10,
		.no_mobike = !config->ike.mobike,
		.dpd = config->ike.dpd_delay_s,
		.dpd_timeout = config->ike.dpd_timeout_s,
	};

	ike_cfg = build_ike_cfg(config);
	if (!ike_cfg)
	{
		return NULL;
	}
	child_cfg = build_child_cfg(config);
	if (!child_cfg)
	{
		ike_cfg->destroy(ike_cfg);
		return NULL;
	}

	INIT(this,
		.public = {
			.backend = {
				.create_ike_cfg_enumerator = _create_ike_cfg_enumerator,
				.create_peer_cfg_enumerator = _create_peer_cfg_enumerator,
				.get_peer_cfg_by_name = _get_peer_cfg_by_name,
			},
			.initiate = _initiate,
			.terminate = _terminate,
			.equals = _equals,
			.destroy = _destroy,
		},
		.peer_cfg = peer_cfg_create(CLUSTERGATE_CONNECTION, ike_cfg, &peer),
		.child_cfg = child_cfg,
		.can_initiate = !config->office.address_any,
	);
	add_auth_cfgs(this->peer_cfg, config, creds);
	this->peer_cfg->add_child_cfg(this->peer_cfg,
								  child_cfg->get_ref(child_cfg));
	return &this->public;
}
