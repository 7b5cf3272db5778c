/* Control socket client: one JSON line out, one JSON line back. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gateway/control.h"
#include "gateway/loop.h"

static int connect_socket(const char *path, const char **error)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(address.sun_path)) {
		*error = "socket path too long";
		return -1;
	}
	strcpy(address.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error = "cannot create socket";
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
		*error = errno == ENOENT || errno == ECONNREFUSED ?
			"clustergated is not running (no control socket)" :
			"cannot connect to the control socket";
		close(fd);
		return -1;
	}
	return fd;
}

static int wait_fd(int fd, short events, uint64_t deadline_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now = loop_now_ms();

	if (now >= deadline_ms)
		return 0;
	return poll(&pfd, 1, (int)(deadline_ms - now));
}

json_t *control_request(const char *path, json_t *request, int timeout_ms,
			const char **error)
{
	uint64_t deadline = loop_now_ms() + (uint64_t)timeout_ms;
	char *line = json_dumps(request, JSON_COMPACT), *reply_text = NULL;
	size_t sent = 0, length, used = 0, capacity = 0;
	json_t *reply = NULL;
	int fd;

	if (!line) {
		*error = "cannot encode request";
		return NULL;
	}
	fd = connect_socket(path, error);
	if (fd < 0) {
		free(line);
		return NULL;
	}
	length = strlen(line);
	line[length++] = '\n';	/* json_dumps' NUL is replaced: length+1 alloc */
	while (sent < length) {
		ssize_t n;

		if (wait_fd(fd, POLLOUT, deadline) <= 0) {
			*error = "timed out sending to clustergated";
			goto out;
		}
		n = send(fd, line + sent, length - sent, MSG_NOSIGNAL);
		if (n < 0) {
			*error = "cannot send to clustergated";
			goto out;
		}
		sent += (size_t)n;
	}
	for (;;) {
		ssize_t n;

		if (used + 4096 > capacity) {
			char *grown = realloc(reply_text, capacity + 65536);

			if (!grown) {
				*error = "out of memory";
				goto out;
			}
			reply_text = grown;
			capacity += 65536;
		}
		if (wait_fd(fd, POLLIN, deadline) <= 0) {
			*error = "timed out waiting for clustergated";
			goto out;
		}
		n = recv(fd, reply_text + used, capacity - used - 1, 0);
		if (n < 0) {
			*error = "cannot read from clustergated";
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (memchr(reply_text + used - n, '\n', (size_t)n))
			break;
	}
	reply = used ? json_loadb(reply_text, used, JSON_DISABLE_EOF_CHECK,
				  NULL) : NULL;
	if (!reply)
		*error = "clustergated sent no valid reply";
out:
	free(line);
	free(reply_text);
	close(fd);
	return reply;
}
