/* Control socket server: accept, read one line, answer, close. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gateway/control_server.h"
#include "gateway/log.h"
#include "gateway/loop.h"

#define MAX_REQUEST 65536

struct client {
	struct control_server *server;
	int fd;
	char *input;
	size_t input_used;
	char *output;
	size_t output_length, output_sent;
	uint64_t timeout_id;
	struct client *next;
};

struct control_server {
	struct loop *loop;
	int fd;
	char *path;
	control_handler handler;
	void *data;
	struct client *clients;
};

static void client_close(struct client *client)
{
	struct control_server *server = client->server;
	struct client **link;

	for (link = &server->clients; *link; link = &(*link)->next)
		if (*link == client) {
			*link = client->next;
			break;
		}
	loop_cancel_timer(server->loop, client->timeout_id);
	loop_del_fd(server->loop, client->fd);
	close(client->fd);
	free(client->input);
	free(client->output);
	free(client);
}

static void client_timeout(void *data)
{
	struct client *client = data;

	client->timeout_id = 0;
	client_close(client);
}

static void client_write(struct client *client)
{
	while (client->output_sent < client->output_length) {
		ssize_t n = send(client->fd, client->output + client->output_sent,
				 client->output_length - client->output_sent,
				 MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		client->output_sent += (size_t)n;
	}
	client_close(client);
}

static void client_answer(struct client *client, const char *line,
			  size_t length)
{
	struct control_server *server = client->server;
	json_error_t error;
	json_t *request = json_loadb(line, length, 0, &error), *reply;

	if (!request || !json_is_object(request))
		reply = json_pack("{s:b, s:s}", "ok", 0, "error",
				  "request is not a JSON object");
	else
		reply = server->handler(request, server->data);
	json_decref(request);
	client->output = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	json_decref(reply);
	if (!client->output) {
		client_close(client);
		return;
	}
	client->output_length = strlen(client->output);
	client->output[client->output_length++] = '\n';
	loop_mod_fd(server->loop, client->fd, EPOLLOUT);
	client_write(client);
}

static void client_event(int fd, uint32_t events, void *data)
{
	struct client *client = data;
	char *newline;
	ssize_t n;

	(void)fd;
	if (client->output) {
		client_write(client);
		return;
	}
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		client_close(client);
		return;
	}
	n = recv(client->fd, client->input + client->input_used,
		 MAX_REQUEST - client->input_used, 0);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		client_close(client);
		return;
	}
	client->input_used += (size_t)n;
	newline = memchr(client->input, '\n', client->input_used);
	if (newline)
		client_answer(client, client->input,
			      (size_t)(newline - client->input));
	else if (client->input_used == MAX_REQUEST)
		client_close(client);
}

static void server_accept(int fd, uint32_t events, void *data)
{
	struct control_server *server = data;
	struct client *client;
	int client_fd;

	(void)events;
	client_fd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (client_fd < 0)
		return;
	client = calloc(1, sizeof(*client));
	if (client)
		client->input = malloc(MAX_REQUEST);
	if (!client || !client->input ||
	    loop_add_fd(server->loop, client_fd, EPOLLIN, client_event,
			client) < 0) {
		if (client)
			free(client->input);
		free(client);
		close(client_fd);
		return;
	}
	client->server = server;
	client->fd = client_fd;
	client->timeout_id = loop_add_timer(server->loop, 5000, client_timeout,
					    client);
	client->next = server->clients;
	server->clients = client;
}

/* A socket file nobody answers on is left over from a crash. */
static bool socket_is_live(const struct sockaddr_un *address)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)address,
		       sizeof(*address)) == 0;
	close(fd);
	return live;
}

static void make_parent_dir(const char *path)
{
	char *dir = strdup(path), *slash;

	if (!dir)
		return;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	free(dir);
}

struct control_server *control_server_create(struct loop *loop,
					     const char *path,
					     control_handler handler,
					     void *data, const char **error)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	struct control_server *server;
	struct stat st;
	mode_t old_mask;
	int rc;

	if (strlen(path) >= sizeof(address.sun_path)) {
		*error = "control socket path too long";
		return NULL;
	}
	strcpy(address.sun_path, path);
	if (socket_is_live(&address)) {
		*error = "another clustergated is already listening on the "
			 "control socket";
		return NULL;
	}
	server = calloc(1, sizeof(*server));
	if (!server || !(server->path = strdup(path))) {
		free(server);
		*error = "out of memory";
		return NULL;
	}
	server->loop = loop;
	server->handler = handler;
	server->data = data;
	make_parent_dir(path);
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		*error = "the control socket path exists and is not a socket";
		free(server->path);
		free(server);
		return NULL;
	}
	unlink(path);
	server->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0);
	/* The umask makes the socket 0600 from the start: no window. */
	old_mask = umask(0177);
	rc = server->fd < 0 ? -1 :
		bind(server->fd, (struct sockaddr *)&address, sizeof(address));
	umask(old_mask);
	if (rc < 0 || listen(server->fd, 16) < 0 ||
	    loop_add_fd(loop, server->fd, EPOLLIN, server_accept, server) < 0) {
		*error = "cannot listen on the control socket";
		if (server->fd >= 0)
			close(server->fd);
		free(server->path);
		free(server);
		return NULL;
	}
	return server;
}

void control_server_destroy(struct control_server *server)
{
	if (!server)
		return;
	while (server->clients)
		client_close(server->clients);
	loop_del_fd(server->loop, server->fd);
	close(server->fd);
	unlink(server->path);
	free(server->path);
	free(server);
}
