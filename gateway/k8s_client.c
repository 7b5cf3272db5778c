/*
 * Kubernetes API requests as curl easy handles on the daemon's loop
 * (gateway/curl_loop.h), so nothing here ever blocks it.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/curl_loop.h"
#include "gateway/k8s_client.h"
#include "gateway/log.h"
#include "gateway/loop.h"

#define MAX_TOKEN_BYTES 65536

struct k8s_request {
	struct k8s_client *client;
	CURL *easy;
	struct curl_slist *headers;
	const struct k8s_response_handler *handler;
	void *data;
	long http_status;
	bool headers_done;
	uint64_t header_timer;		/* fires if headers are late */
	uint32_t header_timeout_s;
	char error[CURL_ERROR_SIZE];
	struct k8s_request *prev, *next;
};

/* What the token file looked like when it was last read. */
struct token_file_state {
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	off_t size;
};

struct k8s_client {
	struct loop *loop;
	struct curl_loop *curl;		/* curl multi on the daemon loop */
	CURLM *multi;			/* curl_loop_multi(curl) */
	struct k8s_connection connection;
	char *token;			/* current bearer token, or NULL */
	struct token_file_state token_state;
	struct k8s_request *requests;
};

static void free_and_null(char **field)
{
	free(*field);
	*field = NULL;
}

void k8s_connection_clear(struct k8s_connection *connection)
{
	free_and_null(&connection->server);
	free_and_null(&connection->ca_file);
	free_and_null(&connection->ca_data);
	free_and_null(&connection->token_file);
	free_and_null(&connection->token);
	free_and_null(&connection->cert_file);
	free_and_null(&connection->key_file);
	free_and_null(&connection->cert_data);
	free_and_null(&connection->key_data);
	memset(connection, 0, sizeof(*connection));
}

static int copy_string(char **to, const char *from)
{
	*to = NULL;
	if (!from)
		return 0;
	*to = strdup(from);
	return *to ? 0 : -ENOMEM;
}

static int copy_blob(char **to, const char *from, size_t length)
{
	*to = NULL;
	if (!from)
		return 0;
	*to = malloc(length + 1);
	if (!*to)
		return -ENOMEM;
	memcpy(*to, from, length);
	(*to)[length] = '\0';
	return 0;
}

static int copy_connection(struct k8s_connection *to,
			   const struct k8s_connection *from)
{
	*to = *from;
	if (copy_string(&to->server, from->server) ||
	    copy_string(&to->ca_file, from->ca_file) ||
	    copy_blob(&to->ca_data, from->ca_data, from->ca_data_len) ||
	    copy_string(&to->token_file, from->token_file) ||
	    copy_string(&to->token, from->token) ||
	    copy_string(&to->cert_file, from->cert_file) ||
	    copy_string(&to->key_file, from->key_file) ||
	    copy_blob(&to->cert_data, from->cert_data, from->cert_data_len) ||
	    copy_blob(&to->key_data, from->key_data, from->key_data_len))
		return -ENOMEM;
	return 0;
}

static void process_finished(void *data);

/* ---- requests ---- */

static void unlink_request(struct k8s_request *request)
{
	struct k8s_client *client = request->client;

	if (request->prev)
		request->prev->next = request->next;
	else
		client->requests = request->next;
	if (request->next)
		request->next->prev = request->prev;
}

static void free_request(struct k8s_request *request)
{
	if (request->header_timer)
		loop_cancel_timer(request->client->loop, request->header_timer);
	unlink_request(request);
	curl_multi_remove_handle(request->client->multi, request->easy);
	curl_easy_cleanup(request->easy);
	curl_slist_free_all(request->headers);
	free(request);
}

void k8s_request_cancel(struct k8s_request *request)
{
	if (request)
		free_request(request);
}

static void process_finished(void *data)
{
	struct k8s_client *client = data;
	struct k8s_request *request;
	CURLMsg *message;
	int left;

	while ((message = curl_multi_info_read(client->multi, &left))) {
		const char *error = NULL;

		if (message->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE,
				  (char **)&request);
		curl_easy_getinfo(request->easy, CURLINFO_RESPONSE_CODE,
				  &request->http_status);
		if (message->data.result != CURLE_OK)
			error = request->error[0] ? request->error :
				curl_easy_strerror(message->data.result);
		curl_multi_remove_handle(client->multi, request->easy);
		request->handler->done(request->data, request->http_status,
				       error, message->data.result ==
				       CURLE_OPERATION_TIMEDOUT);
		free_request(request);
	}
}

static size_t on_header(char *bytes, size_t size, size_t count, void *data)
{
	struct k8s_request *request = data;

	/* The blank line after the headers; skip interim 1xx responses. */
	if (size * count <= 2 && (bytes[0] == '\r' || bytes[0] == '\n')) {
		curl_easy_getinfo(request->easy, CURLINFO_RESPONSE_CODE,
				  &request->http_status);
		if (request->http_status >= 200 && !request->headers_done) {
			request->headers_done = true;
			if (request->header_timer)
				loop_cancel_timer(request->client->loop,
						  request->header_timer);
			request->header_timer = 0;
			if (request->handler->headers)
				request->handler->headers(request->data,
							  request->http_status);
		}
	}
	return size * count;
}

static size_t on_body(char *bytes, size_t size, size_t count, void *data)
{
	struct k8s_request *request = data;

	if (!request->http_status)
		curl_easy_getinfo(request->easy, CURLINFO_RESPONSE_CODE,
				  &request->http_status);
	if (request->handler->body(request->data, request->http_status, bytes,
				   size * count) < 0) {
		snprintf(request->error, sizeof(request->error),
			 "stopped by the reader");
		return 0;
	}
	return size * count;
}

/*
 * The current bearer token: re-read the token file when its identity,
 * size or mtime changed. Keeps the previous token if the file is
 * momentarily unreadable during a rotation.
 */
static int refresh_token(struct k8s_client *client, char *error,
			 size_t error_size)
{
	struct token_file_state *old = &client->token_state;
	const char *path = client->connection.token_file;
	char *token;
	struct stat st;
	ssize_t length;
	int fd;

	if (!path)
		return 0;
	if (stat(path, &st) < 0)
		goto unreadable;
	if (client->token && st.st_dev == old->dev && st.st_ino == old->ino &&
	    st.st_size == old->size &&
	    st.st_mtim.tv_sec == old->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == old->mtime.tv_nsec)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto unreadable;
	token = malloc(MAX_TOKEN_BYTES + 1);
	if (!token) {
		close(fd);
		return -ENOMEM;
	}
	length = read(fd, token, MAX_TOKEN_BYTES);
	close(fd);
	if (length < 0) {
		free(token);
		goto unreadable;
	}
	while (length > 0 && (token[length - 1] == '\n' ||
			      token[length - 1] == '\r' ||
			      token[length - 1] == ' '))
		length--;
	token[length] = '\0';
	if (!length || strpbrk(token, "\r\n")) {
		free(token);
		snprintf(error, error_size, "token file %s: %s", path,
			 length ? "holds more than one line" : "is empty");
		return client->token ? 0 : -EINVAL;
	}
	if (client->token)
		log_info("kubernetes: token file %s changed, using the new token",
			 path);
	free(client->token);
	client->token = token;
	old->dev = st.st_dev;
	old->ino = st.st_ino;
	old->size = st.st_size;
	old->mtime = st.st_mtim;
	return 0;
unreadable:
	snprintf(error, error_size, "token file %s: %s", path,
		 strerror(errno));
	return client->token ? 0 : -errno;
}

/*
 * A watch may legitimately stay silent for minutes, so curl's low-speed
 * limit cannot catch a server that accepts the connection but never
 * answers; this timer does.
 */
static void on_header_timeout(void *data)
{
	struct k8s_request *request = data;
	char error[128];

	request->header_timer = 0;
	snprintf(error, sizeof(error),
		 "timed out after %u s waiting for the response headers",
		 request->header_timeout_s);
	curl_multi_remove_handle(request->client->multi, request->easy);
	request->handler->done(request->data, 0, error, true);
	free_request(request);
}

static int set_tls_options(CURL *easy, const struct k8s_connection *c)
{
	struct curl_blob blob = { .flags = CURL_BLOB_COPY };
	CURLcode result = CURLE_OK;

	if (c->ca_file)
		result |= curl_easy_setopt(easy, CURLOPT_CAINFO, c->ca_file);
	if (c->ca_data) {
		blob.data = c->ca_data;
		blob.len = c->ca_data_len;
		result |= curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (c->insecure_skip_verify) {
		result |= curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		result |= curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->cert_file)
		result |= curl_easy_setopt(easy, CURLOPT_SSLCERT, c->cert_file);
	if (c->key_file)
		result |= curl_easy_setopt(easy, CURLOPT_SSLKEY, c->key_file);
	if (c->cert_data) {
		blob.data = c->cert_data;
		blob.len = c->cert_data_len;
		result |= curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &blob);
	}
	if (c->key_data) {
		blob.data = c->key_data;
		blob.len = c->key_data_len;
		result |= curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &blob);
	}
	return result == CURLE_OK ? 0 : -EINVAL;
}

static int set_request_options(struct k8s_request *request, const char *url,
			       uint32_t max_time_s, uint32_t low_speed_s)
{
	const struct k8s_connection *c = &request->client->connection;
	CURL *easy = request->easy;
	CURLcode result = CURLE_OK;

	result |= curl_easy_setopt(easy, CURLOPT_URL, url);
	result |= curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	result |= curl_easy_setopt(easy, CURLOPT_PRIVATE, request);
	result |= curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, request->error);
	result |= curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	result |= curl_easy_setopt(easy, CURLOPT_HTTPHEADER, request->headers);
	result |= curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	result |= curl_easy_setopt(easy, CURLOPT_HEADERDATA, request);
	result |= curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	result |= curl_easy_setopt(easy, CURLOPT_WRITEDATA, request);
	result |= curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT,
				   (long)(c->timeout_s ? c->timeout_s : 10));
	result |= curl_easy_setopt(easy, CURLOPT_TIMEOUT, (long)max_time_s);
	if (low_speed_s) {
		result |= curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
		result |= curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
					   (long)low_speed_s);
	}
	/* A silently dead peer (no RST) is noticed within about 2 minutes. */
	result |= curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	result |= curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE, 30L);
	result |= curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL, 10L);
	result |= curl_easy_setopt(easy, CURLOPT_USERAGENT, "clustergate");
	if (result != CURLE_OK)
		return -EINVAL;
	return set_tls_options(easy, c);
}

static struct curl_slist *request_headers(const struct k8s_client *client)
{
	struct curl_slist *headers = NULL, *next;
	char *authorization = NULL;
	const char *token = client->token ? client->token :
		client->connection.token;

	headers = curl_slist_append(NULL, "Accept: application/json");
	if (!headers)
		return NULL;
	if (!token)
		return headers;
	if (asprintf(&authorization, "Authorization: Bearer %s", token) < 0) {
		curl_slist_free_all(headers);
		return NULL;
	}
	next = curl_slist_append(headers, authorization);
	free(authorization);
	if (!next)
		curl_slist_free_all(headers);
	return next;
}

struct k8s_request *k8s_client_get(struct k8s_client *client,
				   const char *path, uint32_t max_time_s,
				   uint32_t low_speed_s,
				   uint32_t header_timeout_s,
				   const struct k8s_response_handler *handler,
				   void *data, char *error, size_t error_size)
{
	struct k8s_request *request;
	char *url = NULL;
	int err;

	err = refresh_token(client, error, error_size);
	if (err)
		return NULL;
	request = calloc(1, sizeof(*request));
	if (!request || asprintf(&url, "%s%s", client->connection.server,
				 path) < 0) {
		free(request);
		snprintf(error, error_size, "out of memory");
		return NULL;
	}
	request->client = client;
	request->handler = handler;
	request->data = data;
	request->easy = curl_easy_init();
	request->headers = request_headers(client);
	if (!request->easy || !request->headers ||
	    set_request_options(request, url, max_time_s, low_speed_s) ||
	    curl_multi_add_handle(client->multi, request->easy) != CURLM_OK) {
		snprintf(error, error_size, "cannot set up a request to %s",
			 url);
		curl_easy_cleanup(request->easy);
		curl_slist_free_all(request->headers);
		free(request);
		free(url);
		return NULL;
	}
	free(url);
	request->header_timeout_s = header_timeout_s;
	if (header_timeout_s)
		request->header_timer = loop_add_timer(client->loop,
						       header_timeout_s * 1000ull,
						       on_header_timeout,
						       request);
	request->next = client->requests;
	if (client->requests)
		client->requests->prev = request;
	client->requests = request;
	return request;
}

struct k8s_client *k8s_client_create(struct loop *loop,
				     const struct k8s_connection *connection,
				     char *error, size_t error_size)
{
	struct k8s_client *client;
	size_t length;

	if (!connection->server) {
		snprintf(error, error_size, "no API server URL");
		return NULL;
	}
	client = calloc(1, sizeof(*client));
	if (!client || copy_connection(&client->connection, connection)) {
		if (client)
			k8s_connection_clear(&client->connection);
		free(client);
		snprintf(error, error_size, "out of memory");
		return NULL;
	}
	length = strlen(client->connection.server);
	while (length && client->connection.server[length - 1] == '/')
		client->connection.server[--length] = '\0';
	client->loop = loop;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	client->curl = curl_loop_create(loop, process_finished, client);
	if (!client->curl) {
		snprintf(error, error_size, "curl_multi_init failed");
		k8s_client_destroy(client);
		return NULL;
	}
	client->multi = curl_loop_multi(client->curl);
	return client;
}

void k8s_client_destroy(struct k8s_client *client)
{
	if (!client)
		return;
	while (client->requests)
		free_request(client->requests);
	curl_loop_destroy(client->curl);
	if (client->token)
		explicit_bzero(client->token, strlen(client->token));
	free(client->token);
	k8s_connection_clear(&client->connection);
	free(client);
}

uint32_t k8s_client_timeout_s(const struct k8s_client *client)
{
	return client->connection.timeout_s ? client->connection.timeout_s :
		10;
}
