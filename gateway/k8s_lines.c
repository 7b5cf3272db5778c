/* Newline framing of a watch stream. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/k8s_lines.h"

void k8s_lines_init(struct k8s_lines *lines, size_t max_line)
{
	memset(lines, 0, sizeof(*lines));
	lines->max_line = max_line;
}

void k8s_lines_reset(struct k8s_lines *lines)
{
	lines->length = 0;
}

void k8s_lines_free(struct k8s_lines *lines)
{
	free(lines->buffer);
	k8s_lines_init(lines, lines->max_line);
}

static int append(struct k8s_lines *lines, const char *bytes, size_t length)
{
	if (lines->length + length > lines->max_line)
		return -E2BIG;
	if (lines->length + length > lines->capacity) {
		size_t capacity = lines->capacity ? lines->capacity : 4096;
		char *buffer;

		while (capacity < lines->length + length)
			capacity *= 2;
		buffer = realloc(lines->buffer, capacity);
		if (!buffer)
			return -ENOMEM;
		lines->buffer = buffer;
		lines->capacity = capacity;
	}
	memcpy(lines->buffer + lines->length, bytes, length);
	lines->length += length;
	return 0;
}

static int emit(const char *line, size_t length, k8s_line_fn fn, void *data)
{
	while (length && (line[length - 1] == '\r' || line[length - 1] == ' '))
		length--;
	return length ? fn(data, line, length) : 0;
}

int k8s_lines_feed(struct k8s_lines *lines, const char *bytes, size_t length,
		   k8s_line_fn fn, void *data)
{
	const char *newline;
	int err;

	while ((newline = memchr(bytes, '\n', length))) {
		size_t part = (size_t)(newline - bytes);

		if (lines->length) {
			/* complete the buffered line */
			size_t total;

			err = append(lines, bytes, part);
			if (err)
				return err;
			total = lines->length;
			lines->length = 0;
			err = emit(lines->buffer, total, fn, data);
		} else {
			/* a whole line in this piece: no copy */
			if (part > lines->max_line)
				return -E2BIG;
			err = emit(bytes, part, fn, data);
		}
		if (err)
			return err;
		bytes += part + 1;
		length -= part + 1;
	}
	return length ? append(lines, bytes, length) : 0;
}
