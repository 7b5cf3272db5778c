/*
 * Credentials of the clustergate tunnel: a PSK, or our certificate, key and
 * the CA that signs the office's certificate.
 */

/**
 * @defgroup clustergate_creds clustergate_creds
 * @{ @ingroup clustergate
 */

#ifndef CLUSTERGATE_CREDS_H_
#define CLUSTERGATE_CREDS_H_

#include <credentials/credential_set.h>

#include "gateway/config.h"

typedef struct clustergate_creds_t clustergate_creds_t;

/**
 * Credential set loaded from the files clustergate.json names.
 *
 * PSK: the secret is the content of auth.psk_file, with trailing
 * whitespace (the newline an editor adds) removed. It is bound to the
 * gateway id and the office id.
 *
 * Certificates: auth.cert_file (PEM or DER X.509) and auth.key_file
 * (RSA/ECDSA/Ed25519, PEM or DER) are ours; auth.ca_file is trusted and
 * must have signed the office's certificate.
 */
struct clustergate_creds_t {

	/**
	 * Implements credential_set_t.
	 */
	credential_set_t set;

	/**
	 * Our own certificate.
	 *
	 * @return			certificate (borrowed), NULL with PSK auth
	 */
	certificate_t *(*get_cert)(clustergate_creds_t *this);

	/**
	 * The CA that signs the office's certificate.
	 *
	 * @return			certificate (borrowed), NULL with PSK auth
	 */
	certificate_t *(*get_ca)(clustergate_creds_t *this);

	/**
	 * Destroy a clustergate_creds_t.
	 */
	void (*destroy)(clustergate_creds_t *this);
};

/**
 * Load the credentials config names.
 *
 * Every problem is logged with the config key and file it concerns.
 *
 * @param config		validated clustergate config (borrowed)
 * @return				credential set, NULL if a file cannot be used
 */
clustergate_creds_t *clustergate_creds_create(const struct cg_config *config);

#endif /** CLUSTERGATE_CREDS_H_ @}*/
