/*
 * routes_tool: drive routes/ directly, for tests and debugging.
 *
 *   routes_tool sync TABLE PREFIX=NODE[,NODE...] ...
 *   routes_tool current TABLE PREFIX
 *   routes_tool cleanup
 *   routes_tool pin MARK TABLE PRIORITY DESTINATION NODE
 *   routes_tool unpin MARK TABLE PRIORITY DESTINATION
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/routes.h"

static int usage(void)
{
	fprintf(stderr, "usage: routes_tool sync TABLE PREFIX=NODE[,NODE...] ...\n"
		"       routes_tool current TABLE PREFIX\n"
		"       routes_tool cleanup\n"
		"       routes_tool pin MARK TABLE PRIORITY DESTINATION NODE\n"
		"       routes_tool unpin MARK TABLE PRIORITY DESTINATION\n");
	return 2;
}

static int parse_destination(char *arg, struct routes_destination *dest)
{
	char *equals = strchr(arg, '='), *node, *save = NULL;

	if (!equals)
		return -EINVAL;
	*equals = '\0';
	if (cg_cidr_parse(arg, &dest->prefix))
		return -EINVAL;
	dest->nodes = calloc(1024, sizeof(*dest->nodes));
	dest->node_count = 0;
	for (node = strtok_r(equals + 1, ",", &save); node && dest->node_count < 1024;
	     node = strtok_r(NULL, ",", &save))
		if (inet_pton(AF_INET, node, &dest->nodes[dest->node_count++]) != 1)
			return -EINVAL;
	return 0;
}

static int cmd_sync(struct routes *r, int argc, char **argv)
{
	struct routes_destination dests[16];
	struct routes_desired desired = { .destinations = dests };
	struct routes_sync_result res;
	const char *error;
	int err;

	if (argc < 1)
		return usage();
	desired.table = (uint32_t)strtoul(argv[0], NULL, 0);
	for (int i = 1; i < argc && desired.count < 16; i++) {
		if (parse_destination(argv[i], &dests[desired.count++])) {
			fprintf(stderr, "routes_tool: bad destination '%s'\n", argv[i]);
			return 2;
		}
	}
	err = routes_sync(r, &desired, &res, &error);
	printf("nexthops +%u -%u, groups +%u ~%u -%u, routes ~%u -%u, rules -0\n",
	       res.nexthops_added, res.nexthops_deleted, res.groups_added,
	       res.groups_replaced, res.groups_deleted, res.routes_replaced,
	       res.routes_deleted);
	for (size_t i = 0; i < desired.count; i++)
		free(dests[i].nodes);
	if (err) {
		fprintf(stderr, "routes_tool: %s\n", error);
		return 1;
	}
	return 0;
}

static int cmd_current(struct routes *r, int argc, char **argv)
{
	struct cg_cidr prefix;
	struct in_addr *nodes;
	char text[INET_ADDRSTRLEN];
	int count;

	if (argc != 2 || cg_cidr_parse(argv[1], &prefix))
		return usage();
	count = routes_current(r, (uint32_t)strtoul(argv[0], NULL, 0), &prefix,
			       &nodes);
	if (count < 0) {
		fprintf(stderr, "routes_tool: %s\n", routes_last_error(r));
		return 1;
	}
	for (int i = 0; i < count; i++)
		printf("%s\n", inet_ntop(AF_INET, &nodes[i], text, sizeof(text)));
	free(nodes);
	return 0;
}

int main(int argc, char **argv)
{
	struct in_addr dst, node;
	struct routes *r;
	unsigned removed;
	int err, rc;

	if (argc < 2)
		return usage();
	err = routes_open(&r);
	if (err) {
		fprintf(stderr, "routes_tool: netlink: %s\n", strerror(-err));
		return 1;
	}
	if (!strcmp(argv[1], "sync")) {
		rc = cmd_sync(r, argc - 2, argv + 2);
	} else if (!strcmp(argv[1], "current")) {
		rc = cmd_current(r, argc - 2, argv + 2);
	} else if (!strcmp(argv[1], "cleanup")) {
		err = routes_cleanup(r, &removed);
		printf("removed %u\n", removed);
		rc = err ? 1 : 0;
		if (err)
			fprintf(stderr, "routes_tool: %s\n", routes_last_error(r));
	} else if (!strcmp(argv[1], "pin") && argc == 7 &&
		   inet_pton(AF_INET, argv[5], &dst) == 1 &&
		   inet_pton(AF_INET, argv[6], &node) == 1) {
		err = routes_pin(r, strtoul(argv[2], NULL, 0),
				 strtoul(argv[3], NULL, 0),
				 strtoul(argv[4], NULL, 0), dst, node);
		rc = err ? 1 : 0;
		if (err)
			fprintf(stderr, "routes_tool: %s\n", routes_last_error(r));
	} else if (!strcmp(argv[1], "unpin") && argc == 6 &&
		   inet_pton(AF_INET, argv[5], &dst) == 1) {
		err = routes_unpin(r, strtoul(argv[2], NULL, 0),
				   strtoul(argv[3], NULL, 0),
				   strtoul(argv[4], NULL, 0), dst);
		rc = err ? 1 : 0;
		if (err)
			fprintf(stderr, "routes_tool: %s\n", routes_last_error(r));
	} else {
		rc = usage();
	}
	routes_close(r);
	return rc;
}
