/*
 * clustergated's core: the running config, the event loop, and the
 * components that turn config + Kubernetes state + health + tunnel events
 * into kernel state.
 *
 * A component is a small object with the hooks below. daemon.c holds the
 * list of components; each one lives in its own gateway/<name>.c file.
 * Data moves between components only through daemon_publish_*(): the
 * producer keeps ownership of what it publishes, and a consumer copies what
 * it wants to keep.
 */
#ifndef CLUSTERGATE_DAEMON_H
#define CLUSTERGATE_DAEMON_H

#include <jansson.h>
#include <stdbool.h>

#include "gateway/config.h"
#include "nat/nat_services.h"

struct loop;

/* A cluster node as the route manager needs it. */
struct cg_node_info {
	char *name;
	struct in_addr address;		/* InternalIP */
	bool ready;			/* Ready condition True */
	bool schedulable;		/* false when cordoned */
	bool deleting;			/* deletionTimestamp set */
	bool has_pod_cidr;
	struct cg_cidr pod_cidr;
};

struct daemon {
	struct loop *loop;
	struct cg_config *config;	/* running config, owned by daemon.c */
	const char *config_path;
};

struct component_ops {
	const char *name;		/* its section in `status --json` */
	/* Start with daemon->config. Return 0 and set *state, or -errno. */
	int (*start)(struct daemon *daemon, void **state);
	/*
	 * daemon->config is now new_config (already validated). Apply it.
	 * On failure keep what runs now, log why, return -errno.
	 */
	int (*reload)(void *state, const struct cg_config *new_config);
	/* This component's status section, a new reference, or NULL. */
	json_t *(*status)(void *state);
	/*
	 * A control-socket command the core does not know. Return 1 and set
	 * *reply (new reference) if handled, 0 if not this component's.
	 */
	int (*command)(void *state, const char *command, json_t *request,
		       json_t **reply);
	/* Proxy-mode service state changed (optional). */
	void (*services_changed)(void *state,
				 const struct nat_services *services);
	/* Node list changed (optional). */
	void (*nodes_changed)(void *state, const struct cg_node_info *nodes,
			      size_t count);
	/* Stop and free. Leaves kernel state in place (hitless restart). */
	void (*stop)(void *state);
};

/* Hand the current service state to every component that wants it. */
void daemon_publish_services(struct daemon *daemon,
			     const struct nat_services *services);
/* Hand the current node list to every component that wants it. */
void daemon_publish_nodes(struct daemon *daemon,
			  const struct cg_node_info *nodes, size_t count);

#endif
