/*
 * The control socket protocol, shared by clustergated, the clustergate CLI
 * and the charon plugin.
 *
 * A unix stream socket (mode 0600). A client sends one JSON object on one
 * line, {"command": "status", ...}, and reads one JSON object line back:
 * {"ok": true, ...} or {"ok": false, "error": "..."}. Then the server
 * closes the connection.
 */
#ifndef CLUSTERGATE_CONTROL_H
#define CLUSTERGATE_CONTROL_H

#include <jansson.h>

/*
 * Client side: send request (borrowed) to the socket at path and return the
 * reply (new reference), or NULL with *error set to a static message.
 * timeout_ms bounds the whole exchange.
 */
json_t *control_request(const char *path, json_t *request, int timeout_ms,
			const char **error);

#endif
