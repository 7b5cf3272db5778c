/*
 * Splitting a watch response into events. The API server writes one JSON
 * object per line; chunk boundaries fall anywhere, so bytes are buffered
 * until a newline completes a line.
 */
#ifndef CLUSTERGATE_K8S_LINES_H
#define CLUSTERGATE_K8S_LINES_H

#include <stddef.h>

struct k8s_lines {
	char *buffer;			/* an incomplete line, owned */
	size_t length, capacity;
	size_t max_line;		/* longer lines are an error */
};

/* Called with each complete line (no newline, not 0-terminated). Return
 * 0 to go on, non-zero to stop: k8s_lines_feed() then returns that. */
typedef int (*k8s_line_fn)(void *data, const char *line, size_t length);

void k8s_lines_init(struct k8s_lines *lines, size_t max_line);
/* Drop any partial line (a new response starts). */
void k8s_lines_reset(struct k8s_lines *lines);
void k8s_lines_free(struct k8s_lines *lines);

/*
 * Add bytes and call line() for every line they complete; empty lines are
 * skipped. Returns 0, what line() returned, -E2BIG when a line grows past
 * max_line, or -ENOMEM.
 */
int k8s_lines_feed(struct k8s_lines *lines, const char *bytes, size_t length,
		   k8s_line_fn line, void *data);

#endif
