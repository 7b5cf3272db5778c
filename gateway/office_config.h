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
 * (hex-encoded, so any byte survives); with certificates it holds no
 * secret, only where swanctl expects the office's private key.
 */
#ifndef CLUSTERGATE_OFFICE_CONFIG_H
#define CLUSTERGATE_OFFICE_CONFIG_H

#include <stdio.h>

#include "gateway/config.h"

struct office_files {
	/* cert auth: names as swanctl.conf takes them (relative to its
	 * x509/, private/ and x509ca/ folders, or absolute) */
	const char *cert;	/* the office's certificate */
	const char *key;	/* the office's private key (only mentioned) */
	const char *ca;		/* the CA that signed the gateway's certificate */
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
