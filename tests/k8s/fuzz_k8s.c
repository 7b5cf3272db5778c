/*
 * libFuzzer target: whatever the API server (or a kubeconfig) sends, the
 * decoders, the catalog and the state built from it never crash.
 *
 * The first input byte picks the path: 0-2 a watch stream of that kind
 * (Service, EndpointSlice, Node) cut into lines, applied as events and as
 * list items, then turned into service and node state; 3 a kubeconfig.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gateway/k8s_catalog.h"
#include "gateway/k8s_lines.h"
#include "gateway/kubeconfig.h"
#include "gateway/log.h"

struct fuzz_run {
	struct k8s_catalog *catalog;
	enum k8s_kind kind;
	size_t index;
};

static int on_line(void *data, const char *line, size_t length)
{
	struct fuzz_run *run = data;
	json_t *event = json_loadb(line, length, 0, NULL);
	json_t *object = json_object_get(event, "object");
	const char *type = json_string_value(json_object_get(event, "type"));

	if (object && type) {
		enum k8s_event_type kind = strcmp(type, "DELETED") == 0 ?
			K8S_DELETED : strcmp(type, "ADDED") == 0 ? K8S_ADDED :
			K8S_MODIFIED;

		k8s_catalog_apply(run->catalog, run->kind, kind, object);
		k8s_catalog_list_add(run->catalog, run->kind, object,
				     run->index++);
	}
	json_decref(event);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_run run = { 0 };
	struct cg_node_info *nodes;
	struct k8s_lines lines;
	size_t count;

	log_set_level(LOG_CRIT);
	if (size < 1)
		return 0;
	if (data[0] % 4 == 3) {
		struct k8s_connection connection;
		char error[256];

		if (kubeconfig_parse((const char *)data + 1, size - 1, "/tmp",
				     "fuzz", &connection, error,
				     sizeof(error)) == 0)
			k8s_connection_clear(&connection);
		return 0;
	}
	run.catalog = k8s_catalog_create();
	run.kind = data[0] % 4;
	k8s_catalog_list_begin(run.catalog, run.kind);
	k8s_lines_init(&lines, 1 << 20);
	k8s_lines_feed(&lines, (const char *)data + 1, size - 1, on_line, &run);
	k8s_lines_feed(&lines, "\n", 1, on_line, &run);
	k8s_lines_free(&lines);
	k8s_catalog_list_commit(run.catalog, run.kind);
	k8s_catalog_services(run.catalog);
	if (k8s_catalog_build_nodes(run.catalog, &nodes, &count) == 0)
		k8s_node_list_free(nodes, count);
	k8s_catalog_destroy(run.catalog);
	return 0;
}
