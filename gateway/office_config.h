/*
 * `clustergate office-config`: the office side of the tunnel, for a stock
 * strongSwan gateway, generated from clustergate.json so both sides match.
 *
 * office_config_write() writes a swanctl.conf "connections" section that
 * mirrors the charon plugin's connection (charon-plugin/clustergate_config.h):
 * same IKEv2 proposals, identities swapped, traffic selectors swapped, DPD
 * with restart. The office side initiates at start (start_action = start),
 * so an office on a dynamic address works too. office_secrets_write()
 * writes the matching "secrets" section: the PSK read from auth.psk_file
 * (hex-encoded, so any byte survives), or for certificates a reference to
 * the office's private key.
 */
#ifndef CLUSTERGATE_OFFICE_CONFIG_H
#define CLUSTERGATE_OFFICE_CONFIG_H

#include <stdio.h>

#include "gateway/config.h"

struct office_files {
	const char *cert;	/* office certificate path (cert auth) */
	const char *key;	/* office private key path (cert auth) */
	const char *ca;		/* CA that signed the gateway, default ca_file */
};

/* Write the connections section. Returns 0 or -errno. */
int office_config_write(FILE *out, const struct cg_config *config,
			const struct office_files *files);

/*
 * Write the secrets section. Reads auth.psk_file; returns 0, or -errno
 * with the problem printed to stderr.
 */
int office_secrets_write(FILE *out, const struct cg_config *config,
			 const struct office_files *files);

#endif
