/*
 * HTTP(S) GET requests to the Kubernetes API server, on the daemon's event
 * loop (curl multi driven by loop.h: nothing here ever blocks).
 *
 * The client authenticates every request with a bearer token or a client
 * certificate. A token file is stat()ed before each request and re-read
 * when it changed (projected service-account tokens rotate by swapping
 * the file).
 */
#ifndef CLUSTERGATE_K8S_CLIENT_H
#define CLUSTERGATE_K8S_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;

/*
 * How to reach the API server. Strings are owned by the struct (free with
 * k8s_connection_clear()); NULL means unset. PEM *_data fields hold the
 * decoded contents of kubeconfig's *-data fields and are handed to curl
 * as memory blobs, never written to disk.
 */
struct k8s_connection {
	char *server;			/* "https://host:port", no trailing / */
	char *ca_file;			/* PEM bundle to verify the server */
	char *ca_data;
	size_t ca_data_len;
	bool insecure_skip_verify;	/* kubeconfig insecure-skip-tls-verify */
	char *token_file;		/* bearer token, re-read on change */
	char *token;			/* a fixed bearer token */
	char *cert_file;		/* client certificate (PEM) */
	char *key_file;			/* its private key (PEM) */
	char *cert_data;
	size_t cert_data_len;
	char *key_data;
	size_t key_data_len;
	uint32_t timeout_s;		/* connect timeout */
};

void k8s_connection_clear(struct k8s_connection *connection);

struct k8s_client;
struct k8s_request;

/*
 * Callbacks of one request; data is the pointer given with the request.
 * headers() is called once the response headers are in; body() with each
 * piece of the body as it arrives (return 0, or -1 to stop the transfer:
 * done() then follows with an error). done() is called exactly once,
 * unless the request is cancelled: http_status is 0 when no response came,
 * error is NULL for a complete transfer and otherwise says what failed
 * ("Failed to connect to ... Connection refused"); timed_out tells that
 * it was a time limit (connect, max_time_s or low_speed_s). The request is freed
 * after done() returns. Callbacks may start new requests and cancel other
 * requests, but must not destroy the client.
 */
struct k8s_response_handler {
	void (*headers)(void *data, long http_status);
	int (*body)(void *data, long http_status, const char *bytes,
		    size_t length);
	void (*done)(void *data, long http_status, const char *error,
		     bool timed_out);
};

/*
 * A client on loop, with a private copy of connection. Returns NULL with
 * a message in error when curl cannot be set up.
 */
struct k8s_client *k8s_client_create(struct loop *loop,
				     const struct k8s_connection *connection,
				     char *error, size_t error_size);
/* Cancel every request (no callbacks) and free. Not from a callback. */
void k8s_client_destroy(struct k8s_client *client);

/*
 * GET server + path (path includes the query). max_time_s bounds the whole
 * transfer (0: no bound); the transfer is also dropped when it moves less
 * than 1 byte/s for low_speed_s seconds, or when the response headers are
 * not in after header_timeout_s (0: never, for each). Returns the request,
 * or NULL with a message in error (e.g. the token file is unreadable).
 */
struct k8s_request *k8s_client_get(struct k8s_client *client,
				   const char *path, uint32_t max_time_s,
				   uint32_t low_speed_s,
				   uint32_t header_timeout_s,
				   const struct k8s_response_handler *handler,
				   void *data, char *error, size_t error_size);

/* Stop a request that has not finished; no callback follows. */
void k8s_request_cancel(struct k8s_request *request);

/* The connect timeout of the client, in seconds. */
uint32_t k8s_client_timeout_s(const struct k8s_client *client);

#endif
