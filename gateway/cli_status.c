/* clustergate status / check-config / reload. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/cli.h"
#include "gateway/control.h"

static const struct option socket_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "socket", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * The socket path: --socket, else control.socket from --config (or the
 * default config), else the default path.
 */
static const char *socket_path(const char *socket, const char *config_path,
			       char *buf, size_t size)
{
	struct cg_errors errors;
	struct cg_config *config;

	if (socket)
		return socket;
	config = config_load(config_path ? config_path : CG_DEFAULT_CONFIG_PATH,
			     &errors);
	config_errors_clear(&errors);
	snprintf(buf, size, "%s", config ? config->control_socket :
		 CG_DEFAULT_CONTROL_SOCKET);
	config_free(config);
	return buf;
}

static void print_value(json_t *value, int depth);

static void print_object(json_t *object, int depth)
{
	const char *key;
	json_t *member;

	json_object_foreach(object, key, member) {
		printf("%*s%s:", depth * 2, "", key);
		if (json_is_object(member) && json_object_size(member)) {
			putchar('\n');
			print_object(member, depth + 1);
		} else {
			putchar(' ');
			print_value(member, depth + 1);
		}
	}
}

static void print_value(json_t *value, int depth)
{
	size_t index;
	json_t *item;

	if (json_is_string(value)) {
		printf("%s\n", json_string_value(value));
	} else if (json_is_array(value) && json_array_size(value) &&
		   json_is_object(json_array_get(value, 0))) {
		putchar('\n');
		json_array_foreach(value, index, item) {
			printf("%*s-\n", depth * 2, "");
			print_object(item, depth + 1);
		}
	} else if (json_is_array(value)) {
		json_array_foreach(value, index, item) {
			char *text = json_is_string(item) ?
				strdup(json_string_value(item)) :
				json_dumps(item, JSON_ENCODE_ANY);

			printf("%s%s", index ? ", " : "", text ? text : "?");
			free(text);
		}
		putchar('\n');
	} else {
		char *text = json_dumps(value, JSON_ENCODE_ANY);

		printf("%s\n", text ? text : "?");
		free(text);
	}
}

static int ask(int argc, char **argv, const char *command, bool *json_out)
{
	const char *config_path = NULL, *socket = NULL, *error = NULL;
	char buf[256];
	json_t *request, *reply;
	int opt, status;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:s:jh", socket_options,
				  NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 's':
			socket = optarg;
			break;
		case 'j':
			if (json_out)
				*json_out = true;
			break;
		case 'h':
			printf("Usage: clustergate %s [-c CONFIG] [-s SOCKET]%s\n",
			       command, json_out ? " [--json]" : "");
			return 0;
		default:
			return 2;
		}
	}
	request = json_pack("{s:s}", "command", command);
	reply = control_request(socket_path(socket, config_path, buf,
					    sizeof(buf)), request, 10000, &error);
	json_decref(request);
	if (!reply) {
		fprintf(stderr, "clustergate %s: %s\n", command, error);
		return 1;
	}
	status = json_is_true(json_object_get(reply, "ok")) ? 0 : 1;
	if (status) {
		fprintf(stderr, "clustergate %s: %s\n", command,
			json_string_value(json_object_get(reply, "error")) ?:
			"failed");
	} else if (json_out && *json_out) {
		json_dumpf(reply, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (json_out) {
		json_object_del(reply, "ok");
		print_object(reply, 0);
	} else {
		printf("OK\n");
	}
	json_decref(reply);
	return status;
}

int cli_status(int argc, char **argv)
{
	bool json = false;

	return ask(argc, argv, "status", &json);
}

int cli_reload(int argc, char **argv)
{
	return ask(argc, argv, "reload", NULL);
}

int cli_check_config(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : CG_DEFAULT_CONFIG_PATH;
	struct cg_config *config;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
			 strcmp(argv[1], "--help") == 0)) {
		printf("Usage: clustergate check-config [FILE]\n");
		return 0;
	}
	config = cli_load_config(path);
	if (!config)
		return 1;
	printf("OK\n");
	config_free(config);
	return 0;
}
