/* clustergate: the operator's CLI. Dispatches to one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "gateway/cli.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct subcommand subcommands[] = {
	{ "status", cli_status, "show what clustergated knows [--json]" },
	{ "check-config", cli_check_config, "validate a config file [FILE]" },
	{ "reload", cli_reload, "make clustergated re-read its config" },
	{ "office-config", cli_office_config,
	  "print the office side's swanctl.conf and secrets" },
	{ "doctor", cli_doctor,
	  "check that service traffic returns symmetrically (route mode)" },
	{ "cleanup", cli_cleanup,
	  "remove clustergate's routes, nexthops and rules from the kernel" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *out)
{
	const struct subcommand *sub;

	fprintf(out, "Usage: clustergate COMMAND [OPTIONS]\n\nCommands:\n");
	for (sub = subcommands; sub->name; sub++)
		fprintf(out, "  %-14s %s\n", sub->name, sub->help);
	fprintf(out, "\nRun 'clustergate COMMAND --help' for a command's "
		"options.\n");
}

struct cg_config *cli_load_config(const char *path)
{
	struct cg_errors errors;
	struct cg_config *config;
	size_t i;

	if (!path)
		path = CG_DEFAULT_CONFIG_PATH;
	config = config_load(path, &errors);
	for (i = 0; i < errors.count; i++)
		fprintf(stderr, "%s: %s\n", path, errors.messages[i]);
	config_errors_clear(&errors);
	return config;
}

int main(int argc, char **argv)
{
	const struct subcommand *sub;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (sub = subcommands; sub->name; sub++)
		if (strcmp(sub->name, argv[1]) == 0)
			return sub->run(argc - 1, argv + 1);
	fprintf(stderr, "clustergate: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
