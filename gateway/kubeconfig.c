/* kubeconfig files, read with libyaml's document API. */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "gateway/kubeconfig.h"

#define MAX_KUBECONFIG_BYTES (4u << 20)

struct kubeconfig {
	yaml_document_t document;
	const char *name;		/* the file, for messages */
	const char *base_dir;
	char *error;
	size_t error_size;
};

static int fail(struct kubeconfig *kc, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct kubeconfig *kc, int err, const char *fmt, ...)
{
	int used = snprintf(kc->error, kc->error_size, "kubeconfig %s: ",
			    kc->name);
	va_list args;

	if (used > 0 && (size_t)used < kc->error_size) {
		va_start(args, fmt);
		vsnprintf(kc->error + used, kc->error_size - used, fmt, args);
		va_end(args);
	}
	return err;
}

/* The value under key in a mapping node, or NULL. */
static yaml_node_t *mapping_get(struct kubeconfig *kc, yaml_node_t *node,
				const char *key)
{
	yaml_node_pair_t *pair;

	if (!node || node->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = node->data.mapping.pairs.start;
	     pair < node->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(&kc->document,
							pair->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(&kc->document,
						      pair->value);
	}
	return NULL;
}

/* The scalar text under key, or NULL (also for "" and non-scalars). */
static const char *scalar_get(struct kubeconfig *kc, yaml_node_t *node,
			      const char *key)
{
	yaml_node_t *value = mapping_get(kc, node, key);

	if (!value || value->type != YAML_SCALAR_NODE ||
	    !value->data.scalar.length)
		return NULL;
	return (const char *)value->data.scalar.value;
}

/*
 * The entry of a named list ("clusters", "users", "contexts") whose name
 * is name, returning its inner mapping (field "cluster", "user", ...).
 */
static yaml_node_t *named_entry(struct kubeconfig *kc, const char *list,
				const char *field, const char *name)
{
	yaml_node_t *root = yaml_document_get_root_node(&kc->document);
	yaml_node_t *sequence = mapping_get(kc, root, list);
	yaml_node_item_t *item;

	if (!sequence || sequence->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (item = sequence->data.sequence.items.start;
	     item < sequence->data.sequence.items.top; item++) {
		yaml_node_t *entry = yaml_document_get_node(&kc->document,
							    *item);
		const char *entry_name = scalar_get(kc, entry, "name");

		if (entry_name && strcmp(entry_name, name) == 0)
			return mapping_get(kc, entry, field);
	}
	return NULL;
}

/* The only context, when the file names no current-context. */
static const char *only_context(struct kubeconfig *kc)
{
	yaml_node_t *root = yaml_document_get_root_node(&kc->document);
	yaml_node_t *contexts = mapping_get(kc, root, "contexts");

	if (!contexts || contexts->type != YAML_SEQUENCE_NODE ||
	    contexts->data.sequence.items.top -
	    contexts->data.sequence.items.start != 1)
		return NULL;
	return scalar_get(kc, yaml_document_get_node(&kc->document,
			  *contexts->data.sequence.items.start), "name");
}

static int base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decode base64 text (whitespace ignored). Returns 0 or -EINVAL. */
static int base64_decode(const char *text, char **out, size_t *out_len)
{
	size_t length = strlen(text), used = 0;
	uint32_t bits = 0;
	int count = 0;
	char *data = malloc(length / 4 * 3 + 4);

	if (!data)
		return -ENOMEM;
	for (; *text && *text != '='; text++) {
		int value;

		if (*text == ' ' || *text == '\n' || *text == '\r' ||
		    *text == '\t')
			continue;
		value = base64_value(*text);
		if (value < 0) {
			free(data);
			return -EINVAL;
		}
		bits = bits << 6 | (uint32_t)value;
		if (++count == 4) {
			data[used++] = (char)(bits >> 16);
			data[used++] = (char)(bits >> 8);
			data[used++] = (char)bits;
			bits = 0;
			count = 0;
		}
	}
	if (count == 1) {
		free(data);
		return -EINVAL;
	}
	if (count == 2) {
		data[used++] = (char)(bits >> 4);
	} else if (count == 3) {
		data[used++] = (char)(bits >> 10);
		data[used++] = (char)(bits >> 2);
	}
	data[used] = '\0';
	*out = data;
	*out_len = used;
	return 0;
}

/* A file path from the kubeconfig, relative ones against its directory. */
static int take_path(struct kubeconfig *kc, const char *value, char **out)
{
	if (!value)
		return 0;
	if (value[0] == '/' || !kc->base_dir)
		*out = strdup(value);
	else if (asprintf(out, "%s/%s", kc->base_dir, value) < 0)
		*out = NULL;
	return *out ? 0 : -ENOMEM;
}

static int take_data(struct kubeconfig *kc, yaml_node_t *node,
		     const char *where, const char *field, char **out,
		     size_t *out_len)
{
	const char *value = scalar_get(kc, node, field);
	int err;

	if (!value)
		return 0;
	err = base64_decode(value, out, out_len);
	if (err == -EINVAL)
		return fail(kc, err, "%s.%s: not valid base64", where, field);
	return err;
}

static int read_cluster(struct kubeconfig *kc, const char *name,
			struct k8s_connection *out)
{
	yaml_node_t *cluster = named_entry(kc, "clusters", "cluster", name);
	const char *server, *insecure;
	char where[300];
	int err;

	snprintf(where, sizeof(where), "clusters[%s].cluster", name);
	if (!cluster)
		return fail(kc, -ENOENT, "cluster '%s' is not defined", name);
	server = scalar_get(kc, cluster, "server");
	if (!server)
		return fail(kc, -EINVAL, "%s.server: missing", where);
	if (strncmp(server, "https://", 8) && strncmp(server, "http://", 7))
		return fail(kc, -EINVAL, "%s.server: '%s' is not an http(s) URL",
			    where, server);
	out->server = strdup(server);
	if (!out->server)
		return -ENOMEM;
	insecure = scalar_get(kc, cluster, "insecure-skip-tls-verify");
	out->insecure_skip_verify = insecure && strcmp(insecure, "true") == 0;
	err = take_path(kc, scalar_get(kc, cluster, "certificate-authority"),
			&out->ca_file);
	if (!err)
		err = take_data(kc, cluster, where,
				"certificate-authority-data", &out->ca_data,
				&out->ca_data_len);
	return err;
}

static int read_user(struct kubeconfig *kc, const char *name,
		     struct k8s_connection *out)
{
	yaml_node_t *user = named_entry(kc, "users", "user", name);
	char where[300];
	int err = 0;

	snprintf(where, sizeof(where), "users[%s].user", name);
	if (!user)
		return fail(kc, -ENOENT, "user '%s' is not defined", name);
	if (mapping_get(kc, user, "exec") ||
	    mapping_get(kc, user, "auth-provider"))
		return fail(kc, -ENOTSUP,
			    "%s: exec and auth-provider plugins are not supported; use a token, tokenFile or a client certificate",
			    where);
	if (scalar_get(kc, user, "token") &&
	    !(out->token = strdup(scalar_get(kc, user, "token"))))
		return -ENOMEM;
	err = take_path(kc, scalar_get(kc, user, "tokenFile"),
			&out->token_file);
	if (!err)
		err = take_path(kc, scalar_get(kc, user, "client-certificate"),
				&out->cert_file);
	if (!err)
		err = take_path(kc, scalar_get(kc, user, "client-key"),
				&out->key_file);
	if (!err)
		err = take_data(kc, user, where, "client-certificate-data",
				&out->cert_data, &out->cert_data_len);
	if (!err)
		err = take_data(kc, user, where, "client-key-data",
				&out->key_data, &out->key_data_len);
	if (err)
		return err;
	if ((out->cert_file || out->cert_data) !=
	    (out->key_file || out->key_data))
		return fail(kc, -EINVAL,
			    "%s: a client certificate needs both client-certificate(-data) and client-key(-data)",
			    where);
	if (!out->token && !out->token_file && !out->cert_file &&
	    !out->cert_data)
		return fail(kc, -EINVAL,
			    "%s: no credentials (token, tokenFile or client-certificate)",
			    where);
	return 0;
}

static int read_document(struct kubeconfig *kc, struct k8s_connection *out)
{
	yaml_node_t *root = yaml_document_get_root_node(&kc->document);
	yaml_node_t *context;
	const char *current, *cluster, *user;
	int err;

	if (!root || root->type != YAML_MAPPING_NODE)
		return fail(kc, -EINVAL, "not a kubeconfig (no mapping at the top)");
	current = scalar_get(kc, root, "current-context");
	if (!current)
		current = only_context(kc);
	if (!current)
		return fail(kc, -EINVAL, "current-context: missing");
	context = named_entry(kc, "contexts", "context", current);
	if (!context)
		return fail(kc, -ENOENT, "context '%s' is not defined",
			    current);
	cluster = scalar_get(kc, context, "cluster");
	user = scalar_get(kc, context, "user");
	if (!cluster || !user)
		return fail(kc, -EINVAL, "contexts[%s].context.%s: missing",
			    current, cluster ? "user" : "cluster");
	err = read_cluster(kc, cluster, out);
	if (!err)
		err = read_user(kc, user, out);
	return err;
}

int kubeconfig_parse(const char *text, size_t length, const char *base_dir,
		     const char *name, struct k8s_connection *out,
		     char *error, size_t error_size)
{
	struct kubeconfig kc = {
		.name = name, .base_dir = base_dir,
		.error = error, .error_size = error_size,
	};
	yaml_parser_t parser;
	int err;

	memset(out, 0, sizeof(*out));
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
				     length);
	if (!yaml_parser_load(&parser, &kc.document)) {
		err = fail(&kc, -EINVAL, "line %zu: %s",
			   parser.problem_mark.line + 1,
			   parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		return err;
	}
	err = read_document(&kc, out);
	if (err == -ENOMEM)
		fail(&kc, err, "out of memory");
	yaml_document_delete(&kc.document);
	yaml_parser_delete(&parser);
	if (err)
		k8s_connection_clear(out);
	return err;
}

int kubeconfig_load(const char *path, struct k8s_connection *out,
		    char *error, size_t error_size)
{
	char *text, *dir_copy;
	size_t length;
	FILE *file;
	int err;

	memset(out, 0, sizeof(*out));
	file = fopen(path, "re");
	if (!file) {
		err = -errno;
		snprintf(error, error_size, "kubeconfig %s: %s", path,
			 strerror(errno));
		return err;
	}
	text = malloc(MAX_KUBECONFIG_BYTES);
	if (!text) {
		fclose(file);
		return -ENOMEM;
	}
	length = fread(text, 1, MAX_KUBECONFIG_BYTES, file);
	fclose(file);
	if (length == MAX_KUBECONFIG_BYTES) {
		free(text);
		snprintf(error, error_size, "kubeconfig %s: larger than 4 MiB",
			 path);
		return -EFBIG;
	}
	dir_copy = strdup(path);
	if (!dir_copy) {
		free(text);
		return -ENOMEM;
	}
	err = kubeconfig_parse(text, length, dirname(dir_copy), path, out,
			       error, error_size);
	free(dir_copy);
	explicit_bzero(text, length);
	free(text);
	return err;
}
