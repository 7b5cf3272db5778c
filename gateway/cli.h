/*
 * clustergate CLI subcommands. Each takes the arguments after its own
 * name (argv[0] is the subcommand) and returns the process exit status.
 */
#ifndef CLUSTERGATE_CLI_H
#define CLUSTERGATE_CLI_H

#include "gateway/config.h"

int cli_status(int argc, char **argv);
int cli_check_config(int argc, char **argv);
int cli_reload(int argc, char **argv);
int cli_office_config(int argc, char **argv);
int cli_doctor(int argc, char **argv);
int cli_cleanup(int argc, char **argv);

/*
 * Load the config at path (NULL: the default path), printing every
 * problem to stderr. Returns NULL if invalid.
 */
struct cg_config *cli_load_config(const char *path);

#endif
