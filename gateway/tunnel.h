/*
 * The tunnel component of clustergated ("tunnel" in `clustergate status`).
 *
 * It holds what the charon plugin reports about the office tunnel's
 * CHILD_SAs. The plugin (charon-plugin/clustergate_control.h) sends one
 * control request per event:
 *
 *   {"command": "tunnel-event", "event": "up" | "down",
 *    "peer": "198.51.100.10", "peer_id": "office.example",
 *    "child": "clustergate", "local_ts": ["10.0.56.0/21", ...],
 *    "remote_ts": ["172.16.0.0/24"], "spi_in": "c1f5e0a2",
 *    "spi_out": "cd3b8a10", "time": 1764918000}
 *
 * and, after charon or clustergated restarts and then periodically, the
 * whole set: {"command": "tunnel-event", "event": "sync", "sas": [...]}.
 * A CHILD_SA is known by its inbound SPI. The tunnel is up while at least
 * one CHILD_SA is; during a rekeying two briefly are.
 *
 * Status section:
 *   tunnel:
 *     state: up
 *     up: true                        (for metrics: clustergate_tunnel_up 1)
 *     since: 2026-12-05T07:50:00Z
 *     peer: 198.51.100.10
 *     peer_id: office.example
 *     local_ts: 10.0.56.0/21, 10.0.0.0/20
 *     remote_ts: 172.16.0.0/24
 *     spi_in: c1f5e0a2
 *     spi_out: cd3b8a10
 *     child_sas: 1
 *     last_report: 2026-12-05T07:50:10Z
 * last_report is when the plugin last said anything; "never" means charon
 * (or its clustergate plugin) has not reported since clustergated started.
 */
#ifndef CLUSTERGATE_TUNNEL_H
#define CLUSTERGATE_TUNNEL_H

#include <jansson.h>
#include <time.h>

#include "gateway/daemon.h"

extern const struct component_ops tunnel_component;

struct tunnel_state;

/*
 * The pieces the component is made of, for tests: a new empty state (NULL
 * on allocation failure), one "tunnel-event" request applied at time now
 * (0, or -EINVAL with *error set to a static message), the status section.
 */
struct tunnel_state *tunnel_state_new(time_t now);
int tunnel_state_apply(struct tunnel_state *state, json_t *request,
		       time_t now, const char **error);
json_t *tunnel_state_status(const struct tunnel_state *state);
void tunnel_state_free(struct tunnel_state *state);

#endif
