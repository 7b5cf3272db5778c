/*
 * clustergate cleanup: remove what clustergate put into the kernel. Each
 * part that owns kernel state has one step below; a step removes only
 * objects of its own (routes: protocol 97, nat: its own nftables table).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "gateway/cli.h"
#include "gateway/control.h"
#include "nat/nat.h"
#include "routes/routes.h"

struct cleanup_step {
	const char *part;
	/* Remove, set *removed (objects) and return 0, or return -errno and
	 * set *error. */
	int (*run)(unsigned *removed, const char **error);
};

static int cleanup_routes(unsigned *removed, const char **error)
{
	static char message[256];
	struct routes *routes;
	int err = routes_open(&routes);

	if (err) {
		snprintf(message, sizeof(message), "netlink: %s",
			 strerror(-err));
		*error = message;
		return err;
	}
	err = routes_cleanup(routes, removed);
	if (err) {
		snprintf(message, sizeof(message), "%s",
			 routes_last_error(routes));
		*error = message;
	}
	routes_close(routes);
	return err;
}

static int cleanup_nat(unsigned *removed, const char **error)
{
	static char message[600];
	struct nat *nat = nat_open();
	bool table = false;
	int err;

	*removed = 0;
	if (!nat) {
		snprintf(message, sizeof(message), "netlink: %s",
			 strerror(errno));
		*error = message;
		return -errno;
	}
	err = nat_cleanup(nat, &table);
	if (err) {
		snprintf(message, sizeof(message), "%s", nat_error(nat));
		*error = message;
	}
	*removed = table;	/* table inet clustergate */
	nat_close(nat);
	return err;
}

static const struct cleanup_step steps[] = {
	{ "routes", cleanup_routes },
	{ "nat", cleanup_nat },
	{ NULL, NULL },
};

/* True if clustergated answers on socket: it would put it all back. */
static bool daemon_running(const char *socket)
{
	json_t *request = json_pack("{s:s}", "command", "ping");
	const char *error;
	json_t *reply = control_request(socket, request, 1000, &error);
	bool running = reply != NULL;

	json_decref(request);
	json_decref(reply);
	return running;
}

int cli_cleanup(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *socket = NULL, *error = NULL;
	struct cg_config *config = NULL;
	bool force = false;
	unsigned removed;
	int opt, rc = 0;

	while ((opt = getopt_long(argc, argv, "c:s:fh", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 's':
			socket = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			printf("Usage: clustergate cleanup [-c FILE] [-s SOCKET] "
			       "[--force]\nRemoves clustergate's routes, nexthops, "
			       "rules and nftables table.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!socket) {
		config = cli_load_config(config_path);
		socket = config ? config->control_socket :
			 CG_DEFAULT_CONTROL_SOCKET;
	}
	if (!force && daemon_running(socket)) {
		fprintf(stderr, "clustergate cleanup: clustergated is running "
			"(%s) and would put everything back; stop it first, or "
			"pass --force\n", socket);
		config_free(config);
		return 1;
	}
	config_free(config);
	for (const struct cleanup_step *step = steps; step->part; step++) {
		removed = 0;
		if (step->run(&removed, &error)) {
			fprintf(stderr, "clustergate cleanup: %s: %s\n",
				step->part, error);
			rc = 1;
			continue;
		}
		printf("%s: removed %u object(s)\n", step->part, removed);
	}
	return rc;
}
