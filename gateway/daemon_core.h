/*
 * What clustergated.c needs from daemon.c: starting and stopping the
 * component list, reloading, and answering control requests.
 */
#ifndef CLUSTERGATE_DAEMON_CORE_H
#define CLUSTERGATE_DAEMON_CORE_H

#include <jansson.h>

#include "gateway/daemon.h"

/* Start every component in order. Returns 0 or the first -errno. */
int daemon_start_components(struct daemon *daemon);
void daemon_stop_components(struct daemon *daemon);

/*
 * Re-read daemon->config_path. An invalid file keeps the running config
 * and returns -EINVAL; each problem is logged. On success the components
 * get the new config.
 */
int daemon_reload(struct daemon *daemon);

/* Control socket handler (see control_server.h). data is the daemon. */
json_t *daemon_handle_request(json_t *request, void *data);

/* The full status document that `clustergate status --json` prints. */
json_t *daemon_status(struct daemon *daemon);

/* The config section of the status: a summary of the running config. */
json_t *config_summary(const struct cg_config *config);

#endif
