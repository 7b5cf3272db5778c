/*
 * Reading a kubeconfig file (YAML, with libyaml) into a k8s_connection:
 * the current context's cluster (server, certificate-authority or
 * certificate-authority-data, insecure-skip-tls-verify) and user (token or
 * tokenFile, or client-certificate(-data) + client-key(-data)).
 *
 * Relative file paths are resolved against the kubeconfig's directory, as
 * kubectl does. exec and auth-provider plugins are not supported: the
 * gateway runs unattended and needs static credentials.
 */
#ifndef CLUSTERGATE_KUBECONFIG_H
#define CLUSTERGATE_KUBECONFIG_H

#include <stddef.h>

#include "gateway/k8s_client.h"

/*
 * Fill out from the file at path (out->timeout_s is left 0 for the caller).
 * Returns 0, or -errno with a message in error that names the file and the
 * field ("kubeconfig /etc/k.yaml: users[admin]: exec plugins are not
 * supported"); out is then empty.
 */
int kubeconfig_load(const char *path, struct k8s_connection *out,
		    char *error, size_t error_size);

/* Same, from YAML text in memory; base_dir resolves relative paths. */
int kubeconfig_parse(const char *text, size_t length, const char *base_dir,
		     const char *name, struct k8s_connection *out,
		     char *error, size_t error_size);

#endif
