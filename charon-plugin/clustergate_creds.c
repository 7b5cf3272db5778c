/*
 * The tunnel's credentials, loaded once from the files clustergate.json
 * names and served to charon through an in-memory set.
 */

#include "clustergate_creds.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <daemon.h>
#include <credentials/sets/mem_cred.h>

typedef struct private_clustergate_creds_t private_clustergate_creds_t;

/** A PSK file larger than this is certainly not a PSK. */
#define MAX_PSK_LENGTH 1024

/**
 * Private data of a clustergate_creds_t object.
 */
struct private_clustergate_creds_t {

	/**
	 * Public clustergate_creds_t interface.
	 */
	clustergate_creds_t public;

	/**
	 * Holds the loaded credentials.
	 */
	mem_cred_t *creds;

	/**
	 * Our certificate (a reference held by creds too), or NULL.
	 */
	certificate_t *cert;

	/**
	 * The trusted CA (a reference held by creds too), or NULL.
	 */
	certificate_t *ca;
};

METHOD(credential_set_t, create_private_enumerator, enumerator_t*,
	private_clustergate_creds_t *this, key_type_t type, identification_t *id)
{
	return this->creds->set.create_private_enumerator(&this->creds->set,
													  type, id);
}

METHOD(credential_set_t, create_cert_enumerator, enumerator_t*,
	private_clustergate_creds_t *this, certificate_type_t cert, key_type_t key,
	identification_t *id, bool trusted)
{
	return this->creds->set.create_cert_enumerator(&this->creds->set,
												   cert, key, id, trusted);
}

METHOD(credential_set_t, create_shared_enumerator, enumerator_t*,
	private_clustergate_creds_t *this, shared_key_type_t type,
	identification_t *me, identification_t *other)
{
	return this->creds->set.create_shared_enumerator(&this->creds->set,
													 type, me, other);
}

METHOD(clustergate_creds_t, get_cert, certificate_t*,
	private_clustergate_creds_t *this)
{
	return this->cert;
}

METHOD(clustergate_creds_t, get_ca, certificate_t*,
	private_clustergate_creds_t *this)
{
	return this->ca;
}

/**
 * Read the PSK file, without trailing whitespace.
 */
static bool load_psk(private_clustergate_creds_t *this,
					 const struct cg_config *config)
{
	char buf[MAX_PSK_LENGTH + 2];
	size_t length;
	FILE *file;
	shared_key_t *shared;

	file = fopen(config->auth.psk_file, "r");
	if (!file)
	{
		DBG1(DBG_CFG, "clustergate: auth.psk_file: cannot read '%s': %s",
			 config->auth.psk_file, strerror(errno));
		return FALSE;
	}
	length = fread(buf, 1, sizeof(buf) - 1, file);
	fclose(file);
	if (length > MAX_PSK_LENGTH)
	{
		DBG1(DBG_CFG, "clustergate: auth.psk_file: '%s' is longer than %d "
			 "bytes", config->auth.psk_file, MAX_PSK_LENGTH);
		return FALSE;
	}
	while (length && isspace((unsigned char)buf[length - 1]))
	{
		length--;
	}
	if (!length)
	{
		DBG1(DBG_CFG, "clustergate: auth.psk_file: '%s' is empty",
			 config->auth.psk_file);
		return FALSE;
	}
	shared = shared_key_create(SHARED_IKE,
							   chunk_clone(chunk_create((u_char*)buf, length)));
	memwipe(buf, sizeof(buf));
	this->creds->add_shared(this->creds, shared,
				identification_create_from_string(config->gateway.ike_id),
				identification_create_from_string(config->office.ike_id),
				NULL);
	return TRUE;
}

/**
 * Load an X.509 certificate from a file.
 */
static certificate_t *load_cert(const char *key, const char *path)
{
	certificate_t *cert;

	cert = lib->creds->create(lib->creds, CRED_CERTIFICATE, CERT_X509,
							  BUILD_FROM_FILE, path, BUILD_END);
	if (!cert)
	{
		DBG1(DBG_CFG, "clustergate: %s: '%s' is no readable X.509 "
			 "certificate", key, path);
	}
	return cert;
}

/**
 * Load our certificate, its key and the CA.
 */
static bool load_certs(private_clustergate_creds_t *this,
					   const struct cg_config *config)
{
	private_key_t *key;
	public_key_t *public;
	bool matches;

	this->cert = load_cert("auth.cert_file", config->auth.cert_file);
	this->ca = load_cert("auth.ca_file", config->auth.ca_file);
	key = lib->creds->create(lib->creds, CRED_PRIVATE_KEY, KEY_ANY,
							 BUILD_FROM_FILE, config->auth.key_file,
							 BUILD_END);
	if (!key)
	{
		DBG1(DBG_CFG, "clustergate: auth.key_file: '%s' is no readable "
			 "private key", config->auth.key_file);
	}
	if (!this->cert || !this->ca || !key)
	{
		DESTROY_IF(key);
		return FALSE;
	}
	public = this->cert->get_public_key(this->cert);
	matches = public && key->belongs_to(key, public);
	DESTROY_IF(public);
	if (!matches)
	{
		DBG1(DBG_CFG, "clustergate: auth.key_file: '%s' is not the key of "
			 "auth.cert_file '%s'", config->auth.key_file,
			 config->auth.cert_file);
		key->destroy(key);
		return FALSE;
	}
	this->creds->add_key(this->creds, key);
	this->cert = this->creds->add_cert_ref(this->creds, FALSE, this->cert);
	this->ca = this->creds->add_cert_ref(this->creds, TRUE, this->ca);
	return TRUE;
}

METHOD(clustergate_creds_t, destroy, void,
	private_clustergate_creds_t *this)
{
	DESTROY_IF(this->cert);
	DESTROY_IF(this->ca);
	this->creds->destroy(this->creds);
	free(this);
}

/*
 * Described in header
 */
clustergate_creds_t *clustergate_creds_create(const struct cg_config *config)
{
	private_clustergate_creds_t *this;
	bool loaded;

	INIT(this,
		.public = {
			.set = {
				.create_private_enumerator = _create_private_enumerator,
				.create_cert_enumerator = _create_cert_enumerator,
				.create_shared_enumerator = _create_shared_enumerator,
				.create_cdp_enumerator = (void*)return_null,
				.cache_cert = (void*)nop,
			},
			.get_cert = _get_cert,
			.get_ca = _get_ca,
			.destroy = _destroy,
		},
		.creds = mem_cred_create(),
	);

	if (config->auth.method == CG_AUTH_PSK)
	{
		loaded = load_psk(this, config);
	}
	else
	{
		loaded = load_certs(this, config);
	}
	if (!loaded)
	{
		destroy(this);
		return NULL;
	}
	return &this->public;
}
