/*
 * Registers the clustergate objects with charon, or nothing at all when
 * clustergate.json is invalid.
 */

#include "clustergate_plugin.h"
#include "clustergate_config.h"
#include "clustergate_control.h"
#include "clustergate_creds.h"
#include "clustergate_listener.h"

#include <daemon.h>
#include <threading/mutex.h>

#include "gateway/config.h"

typedef struct private_clustergate_plugin_t private_clustergate_plugin_t;

/** Default seconds between full-state syncs to clustergated. */
#define DEFAULT_SYNC_INTERVAL 10

/**
 * private data of clustergate plugin
 */
struct private_clustergate_plugin_t {

	/**
	 * implements plugin interface
	 */
	clustergate_plugin_t public;

	/**
	 * Credentials of the tunnel
	 */
	clustergate_creds_t *creds;

	/**
	 * Peer and child config backend
	 */
	clustergate_config_t *config;

	/**
	 * Sends tunnel events to clustergated
	 */
	clustergate_control_t *control;

	/**
	 * Reports CHILD_SA up/down to control
	 */
	clustergate_listener_t *listener;

	/**
	 * Socket control reports to (only a restart changes it)
	 */
	char *control_socket;

	/**
	 * Serializes reloads (SIGHUP and vici's reload-settings may overlap)
	 */
	mutex_t *mutex;
};

METHOD(plugin_t, get_name, char*,
	private_clustergate_plugin_t *this)
{
	return "clustergate";
}

/**
 * Where clustergate.json is.
 */
static char *config_path()
{
	return lib->settings->get_str(lib->settings,
								  "%s.plugins.clustergate.config",
								  CG_DEFAULT_CONFIG_PATH, lib->ns);
}

/**
 * Load clustergate.json, logging every problem with its JSON path.
 */
static struct cg_config *load_config()
{
	struct cg_errors errors;
	struct cg_config *config;
	char *path = config_path();
	size_t i;

	config = config_load(path, &errors);
	for (i = 0; i < errors.count; i++)
	{
		if (strpfx(errors.messages[i], path))
		{	/* the message names the file already */
			DBG1(DBG_CFG, "clustergate: %s", errors.messages[i]);
		}
		else
		{
			DBG1(DBG_CFG, "clustergate: %s: %s", path, errors.messages[i]);
		}
	}
	config_errors_clear(&errors);
	if (config)
	{
		DBG1(DBG_CFG, "clustergate: loaded %s", path);
	}
	return config;
}

/**
 * Undo what register_objects() did, in reverse.
 */
static void unregister_objects(private_clustergate_plugin_t *this)
{
	if (this->listener)
	{
		charon->bus->remove_listener(charon->bus, &this->listener->listener);
		this->listener->destroy(this->listener);
		this->listener = NULL;
	}
	if (this->control)
	{
		this->control->destroy(this->control);
		this->control = NULL;
	}
	free(this->control_socket);
	this->control_socket = NULL;
	if (this->config)
	{
		charon->backends->remove_backend(charon->backends,
										 &this->config->backend);
		this->config->destroy(this->config);
		this->config = NULL;
	}
	if (this->creds)
	{
		lib->credmgr->remove_set(lib->credmgr, &this->creds->set);
		this->creds->destroy(this->creds);
		this->creds = NULL;
	}
}

/**
 * Create and register every object; all or nothing.
 */
static bool register_objects(private_clustergate_plugin_t *this,
							 const struct cg_config *config)
{
	u_int sync_interval;

	this->creds = clustergate_creds_create(config);
	if (!this->creds)
	{
		return FALSE;
	}
	lib->credmgr->add_set(lib->credmgr, &this->creds->set);

	this->config = clustergate_config_create(config, this->creds);
	if (!this->config)
	{
		unregister_objects(this);
		return FALSE;
	}
	charon->backends->add_backend(charon->backends, &this->config->backend);

	sync_interval = lib->settings->get_int(lib->settings,
							"%s.plugins.clustergate.sync_interval",
							DEFAULT_SYNC_INTERVAL, lib->ns);
	this->control = clustergate_control_create(config->control_socket,
											   sync_interval);
	this->control_socket = strdup(config->control_socket);
	if (!this->control)
	{
		unregister_objects(this);
		return FALSE;
	}
	this->listener = clustergate_listener_create(CLUSTERGATE_CONNECTION,
												 this->control);
	charon->bus->add_listener(charon->bus, &this->listener->listener);
	return TRUE;
}

/**
 * Load the config and register everything, or nothing with a log line.
 */
static bool plugin_cb(private_clustergate_plugin_t *this,
					  plugin_feature_t *feature, bool reg, void *cb_data)
{
	struct cg_config *config;
	bool registered;

	if (!reg)
	{
		unregister_objects(this);
		return TRUE;
	}
	config = load_config();
	if (!config)
	{
		DBG1(DBG_CFG, "clustergate: plugin disabled, no tunnel configured: "
			 "fix %s and restart charon", config_path());
		return FALSE;
	}
	registered = register_objects(this, config);
	config_free(config);
	if (!registered)
	{
		DBG1(DBG_CFG, "clustergate: plugin disabled, no tunnel configured");
		return FALSE;
	}
	this->config->initiate(this->config, FALSE);
	return TRUE;
}

/**
 * Take the connection from a new config: credentials always (a new PSK is
 * used from the next authentication on), the backend only if the
 * connection changed; then the tunnel is closed and brought up again.
 */
static bool apply_config(private_clustergate_plugin_t *this,
						 const struct cg_config *config)
{
	clustergate_creds_t *creds;
	clustergate_config_t *backend;

	creds = clustergate_creds_create(config);
	if (!creds)
	{
		return FALSE;
	}
	backend = clustergate_config_create(config, creds);
	if (!backend)
	{
		creds->destroy(creds);
		return FALSE;
	}
	lib->credmgr->add_set(lib->credmgr, &creds->set);
	lib->credmgr->remove_set(lib->credmgr, &this->creds->set);
	this->creds->destroy(this->creds);
	this->creds = creds;

	if (backend->equals(backend, this->config))
	{
		DBG1(DBG_CFG, "clustergate: tunnel configuration unchanged");
		backend->destroy(backend);
		return TRUE;
	}
	charon->backends->remove_backend(charon->backends,
									 &this->config->backend);
	charon->backends->add_backend(charon->backends, &backend->backend);
	DBG1(DBG_CFG, "clustergate: tunnel configuration changed, "
		 "re-establishing the tunnel");
	this->config->terminate(this->config);
	this->config->destroy(this->config);
	this->config = backend;
	this->config->initiate(this->config, TRUE);
	return TRUE;
}

METHOD(plugin_t, reload, bool,
	private_clustergate_plugin_t *this)
{
	struct cg_config *config;
	bool applied;

	if (!this->config)
	{
		DBG1(DBG_CFG, "clustergate: plugin is disabled, restart charon to "
			 "load the tunnel configuration");
		return TRUE;
	}
	this->mutex->lock(this->mutex);
	config = load_config();
	if (!config)
	{
		DBG1(DBG_CFG, "clustergate: keeping the running tunnel "
			 "configuration");
		this->mutex->unlock(this->mutex);
		return TRUE;
	}
	if (!streq(config->control_socket, this->control_socket))
	{
		DBG1(DBG_CFG, "clustergate: control.socket changes when charon "
			 "restarts, still reporting to %s", this->control_socket);
	}
	applied = apply_config(this, config);
	config_free(config);
	if (!applied)
	{
		DBG1(DBG_CFG, "clustergate: keeping the running tunnel "
			 "configuration");
	}
	this->mutex->unlock(this->mutex);
	return TRUE;
}

METHOD(plugin_t, get_features, int,
	private_clustergate_plugin_t *this, plugin_feature_t *features[])
{
	static plugin_feature_t f[] = {
		PLUGIN_CALLBACK((plugin_feature_callback_t)plugin_cb, NULL),
			PLUGIN_PROVIDE(CUSTOM, "clustergate"),
				/* the local address check asks the kernel interface, and
				 * certificates and keys are parsed while we register */
				PLUGIN_SDEPEND(CUSTOM, "kernel-net"),
				PLUGIN_SDEPEND(CERT_DECODE, CERT_X509),
				PLUGIN_SDEPEND(PRIVKEY, KEY_ANY),
				PLUGIN_SDEPEND(PRIVKEY, KEY_RSA),
				PLUGIN_SDEPEND(PRIVKEY, KEY_ECDSA),
				PLUGIN_SDEPEND(PRIVKEY, KEY_ED25519),
	};
	*features = f;
	return countof(f);
}

METHOD(plugin_t, destroy, void,
	private_clustergate_plugin_t *this)
{
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * see header file
 */
__attribute__((visibility("default")))
plugin_t *clustergate_plugin_create()
{
	private_clustergate_plugin_t *this;

	INIT(this,
		.public = {
			.plugin = {
				.get_name = _get_name,
				.get_features = _get_features,
				.reload = _reload,
				.destroy = _destroy,
			},
		},
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);

	return &this->public.plugin;
}
