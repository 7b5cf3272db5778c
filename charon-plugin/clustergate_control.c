/*
 * Tunnel events to clustergated: queue from charon's threads, deliver from
 * a thread of our own, resync the full state after failures and on a timer.
 */

#include "clustergate_control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <daemon.h>
#include <collections/linked_list.h>
#include <threading/condvar.h>
#include <threading/mutex.h>
#include <threading/thread.h>

/** Bound for one delivery: connect, send, read the reply. */
#define DELIVERY_TIMEOUT_MS 500

/** Events kept while clustergated is slow; beyond this we resync instead. */
#define MAX_QUEUED 64

typedef struct private_clustergate_control_t private_clustergate_control_t;

/**
 * Private data of a clustergate_control_t object.
 */
struct private_clustergate_control_t {

	/**
	 * Public clustergate_control_t interface.
	 */
	clustergate_control_t public;

	/**
	 * Path of clustergated's control socket.
	 */
	char *socket_path;

	/**
	 * Seconds between full-state syncs.
	 */
	u_int sync_interval;

	/**
	 * Protects everything below.
	 */
	mutex_t *mutex;

	/**
	 * Wakes the sender thread.
	 */
	condvar_t *condvar;

	/**
	 * Event lines waiting for delivery, char*.
	 */
	linked_list_t *queue;

	/**
	 * CHILD_SAs that are up, sa_entry_t.
	 */
	linked_list_t *sas;

	/**
	 * Send a sync at the next chance (after a failure or a dropped event).
	 */
	bool need_sync;

	/**
	 * Whether the last delivery worked, to log only the transitions.
	 */
	bool reachable;

	/**
	 * Set by destroy() to end the sender thread.
	 */
	bool stopping;

	/**
	 * The sender thread.
	 */
	thread_t *thread;
};

/**
 * A CHILD_SA that is up, as clustergated sees it.
 */
typedef struct {
	/** child_sa_t unique id */
	uint32_t unique_id;
	/** its description: peer, selectors, SPIs, time */
	json_t *description;
} sa_entry_t;

static void sa_entry_destroy(sa_entry_t *entry)
{
	json_decref(entry->description);
	free(entry);
}

/**
 * Format an address as text, without printf hooks.
 */
static void host_to_string(host_t *host, char *buf, size_t len)
{
	chunk_t address = host->get_address(host);

	if (!inet_ntop(host->get_family(host), address.ptr, buf, len))
	{
		snprintf(buf, len, "?");
	}
}

/**
 * The traffic selectors of one side as CIDR strings ("10.0.56.0/21"), or
 * "from-to" ranges for selectors that are no subnet.
 */
static json_t *selectors_json(child_sa_t *child_sa, bool local)
{
	enumerator_t *enumerator;
	traffic_selector_t *ts;
	json_t *list = json_array();
	char from[INET6_ADDRSTRLEN], to[INET6_ADDRSTRLEN], text[128];
	host_t *net, *host;
	uint8_t netbits;

	enumerator = child_sa->create_ts_enumerator(child_sa, local);
	while (enumerator->enumerate(enumerator, &ts))
	{
		if (ts->to_subnet(ts, &net, &netbits))
		{
			host_to_string(net, from, sizeof(from));
			snprintf(text, sizeof(text), "%s/%u", from, netbits);
			net->destroy(net);
		}
		else
		{
			net->destroy(net);
			host = host_create_from_chunk(AF_UNSPEC,
									ts->get_from_address(ts), 0);
			from[0] = '\0';
			if (host)
			{
				host_to_string(host, from, sizeof(from));
				host->destroy(host);
			}
			host = host_create_from_chunk(AF_UNSPEC,
									ts->get_to_address(ts), 0);
			to[0] = '\0';
			if (host)
			{
				host_to_string(host, to, sizeof(to));
				host->destroy(host);
			}
			snprintf(text, sizeof(text), "%s-%s", from, to);
		}
		json_array_append_new(list, json_string(text));
	}
	enumerator->destroy(enumerator);
	return list;
}

/**
 * Describe a CHILD_SA for clustergated.
 */
static json_t *describe(ike_sa_t *ike_sa, child_sa_t *child_sa)
{
	char peer[INET6_ADDRSTRLEN], peer_id[256], spi_in[9], spi_out[9];

	host_to_string(ike_sa->get_other_host(ike_sa), peer, sizeof(peer));
	snprintf(peer_id, sizeof(peer_id), "%Y", ike_sa->get_other_id(ike_sa));
	snprintf(spi_in, sizeof(spi_in), "%.8x",
			 ntohl(child_sa->get_spi(child_sa, TRUE)));
	snprintf(spi_out, sizeof(spi_out), "%.8x",
			 ntohl(child_sa->get_spi(child_sa, FALSE)));
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:I}",
					 "peer", peer,
					 "peer_id", peer_id,
					 "child", child_sa->get_name(child_sa),
					 "local_ts", selectors_json(child_sa, TRUE),
					 "remote_ts", selectors_json(child_sa, FALSE),
					 "spi_in", spi_in,
					 "spi_out", spi_out,
					 "time", (json_int_t)time(NULL));
}

/**
 * Add an event line to the queue; mutex held.
 */
static void enqueue(private_clustergate_control_t *this, json_t *event)
{
	char *line = json_dumps(event, JSON_COMPACT);

	if (!line)
	{
		return;
	}
	if (this->queue->get_count(this->queue) >= MAX_QUEUED)
	{
		/* clustergated is not keeping up; the next sync carries the state */
		this->queue->destroy_function(this->queue, free);
		this->queue = linked_list_create();
		this->need_sync = TRUE;
	}
	this->queue->insert_last(this->queue, line);
	this->condvar->signal(this->condvar);
}

METHOD(clustergate_control_t, report, void,
	private_clustergate_control_t *this, ike_sa_t *ike_sa,
	child_sa_t *child_sa, bool up)
{
	enumerator_t *enumerator;
	sa_entry_t *entry;
	json_t *description, *event;
	uint32_t unique_id = child_sa->get_unique_id(child_sa);

	description = describe(ike_sa, child_sa);
	if (!description)
	{
		return;
	}
	event = json_deep_copy(description);
	json_object_set_new(event, "command", json_string("tunnel-event"));
	json_object_set_new(event, "event", json_string(up ? "up" : "down"));

	this->mutex->lock(this->mutex);
	enumerator = this->sas->create_enumerator(this->sas);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (entry->unique_id == unique_id)
		{
			this->sas->remove_at(this->sas, enumerator);
			sa_entry_destroy(entry);
		}
	}
	enumerator->destroy(enumerator);
	if (up)
	{
		INIT(entry,
			.unique_id = unique_id,
			.description = description,
		);
		this->sas->insert_last(this->sas, entry);
	}
	else
	{
		json_decref(description);
	}
	enqueue(this, event);
	this->mutex->unlock(this->mutex);
	json_decref(event);
}

/**
 * Wait until fd is ready for events or the deadline passes.
 */
static bool wait_fd(int fd, short events, timeval_t *deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	timeval_t now;
	int timeout_ms, ret;

	do
	{
		time_monotonic(&now);
		timeout_ms = (deadline->tv_sec - now.tv_sec) * 1000 +
					 (deadline->tv_usec - now.tv_usec) / 1000;
		if (timeout_ms <= 0)
		{
			errno = ETIMEDOUT;
			return FALSE;
		}
		ret = poll(&pfd, 1, timeout_ms);
	}
	while (ret < 0 && errno == EINTR);
	if (ret == 0)
	{
		errno = ETIMEDOUT;
	}
	return ret > 0;
}

/**
 * Send one request line and read the one-line reply, within
 * DELIVERY_TIMEOUT_MS. Returns the reply (caller frees), or NULL with errno.
 */
static char *exchange(char *path, char *line)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char reply[4096];
	size_t sent = 0, length = strlen(line), received = 0;
	timeval_t deadline;
	ssize_t len;
	int fd, err;

	if (strlen(path) >= sizeof(addr.sun_path))
	{
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(addr.sun_path, path);
	time_monotonic(&deadline);
	timeval_add_ms(&deadline, DELIVERY_TIMEOUT_MS);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
	{
		return NULL;
	}
	if (connect(fd, (struct sockaddr*)&addr, sizeof(addr)) < 0 &&
		(errno != EAGAIN && errno != EINPROGRESS))
	{
		goto failed;
	}
	while (sent < length + 1)
	{
		if (!wait_fd(fd, POLLOUT, &deadline))
		{
			goto failed;
		}
		if (sent < length)
		{
			len = send(fd, line + sent, length - sent, MSG_NOSIGNAL);
		}
		else
		{
			len = send(fd, "\n", 1, MSG_NOSIGNAL);
		}
		if (len < 0 && errno != EAGAIN && errno != EINTR)
		{
			goto failed;
		}
		sent += len > 0 ? len : 0;
	}
	while (received < sizeof(reply) - 1)
	{
		if (!wait_fd(fd, POLLIN, &deadline))
		{
			goto failed;
		}
		len = recv(fd, reply + received, sizeof(reply) - 1 - received, 0);
		if (len < 0 && (errno == EAGAIN || errno == EINTR))
		{
			continue;
		}
		if (len <= 0)
		{
			break;
		}
		received += len;
		if (memchr(reply, '\n', received))
		{
			break;
		}
	}
	close(fd);
	if (!received)
	{
		errno = ECONNRESET;
		return NULL;
	}
	reply[received] = '\0';
	return strdup(reply);

failed:
	err = errno;
	close(fd);
	errno = err;
	return NULL;
}

/**
 * Deliver one line; log only changes of reachability. Runs unlocked.
 */
static bool deliver(private_clustergate_control_t *this, char *line)
{
	json_t *reply;
	char *text;

	text = exchange(this->socket_path, line);
	if (!text)
	{
		if (this->reachable)
		{
			DBG1(DBG_CFG, "clustergate: clustergated at %s unreachable (%s), "
				 "tunnel state is resent when it is back", this->socket_path,
				 strerror(errno));
		}
		this->reachable = FALSE;
		return FALSE;
	}
	if (!this->reachable)
	{
		DBG1(DBG_CFG, "clustergate: reached clustergated at %s",
			 this->socket_path);
	}
	this->reachable = TRUE;
	reply = json_loads(text, 0, NULL);
	if (!json_is_true(json_object_get(reply, "ok")))
	{
		DBG1(DBG_CFG, "clustergate: clustergated refused a tunnel event: %s",
			 json_string_value(json_object_get(reply, "error")) ?: text);
	}
	json_decref(reply);
	free(text);
	return TRUE;
}

/**
 * The full-state line; mutex held.
 */
static char *sync_line(private_clustergate_control_t *this)
{
	enumerator_t *enumerator;
	sa_entry_t *entry;
	json_t *sync, *sas = json_array();
	char *line;

	enumerator = this->sas->create_enumerator(this->sas);
	while (enumerator->enumerate(enumerator, &entry))
	{
		json_array_append(sas, entry->description);
	}
	enumerator->destroy(enumerator);
	sync = json_pack("{s:s, s:s, s:o, s:I}", "command", "tunnel-event",
					 "event", "sync", "sas", sas,
					 "time", (json_int_t)time(NULL));
	line = sync ? json_dumps(sync, JSON_COMPACT) : NULL;
	json_decref(sync);
	return line;
}

/**
 * Sender thread: deliver queued events, sync when due.
 */
static void *sender(private_clustergate_control_t *this)
{
	timeval_t now, next_sync;
	char *line;

	time_monotonic(&next_sync);
	this->mutex->lock(this->mutex);
	while (!this->stopping)
	{
		time_monotonic(&now);
		if (this->queue->remove_first(this->queue, (void**)&line) == SUCCESS)
		{
			/* a sync is due anyway: it carries this event's outcome */
		}
		else if (this->need_sync || !timercmp(&now, &next_sync, <))
		{
			line = sync_line(this);
			this->need_sync = FALSE;
			next_sync = now;
			next_sync.tv_sec += this->sync_interval;
		}
		else
		{
			this->condvar->timed_wait_abs(this->condvar, this->mutex,
										  next_sync);
			continue;
		}
		this->mutex->unlock(this->mutex);
		if (line && !deliver(this, line))
		{
			this->mutex->lock(this->mutex);
			/* queued events are stale once one fails; resync later */
			this->queue->destroy_function(this->queue, free);
			this->queue = linked_list_create();
			this->mutex->unlock(this->mutex);
		}
		free(line);
		this->mutex->lock(this->mutex);
	}
	this->mutex->unlock(this->mutex);
	return NULL;
}

METHOD(clustergate_control_t, destroy, void,
	private_clustergate_control_t *this)
{
	this->mutex->lock(this->mutex);
	this->stopping = TRUE;
	this->condvar->signal(this->condvar);
	this->mutex->unlock(this->mutex);
	this->thread->join(this->thread);
	this->queue->destroy_function(this->queue, free);
	this->sas->destroy_function(this->sas, (void*)sa_entry_destroy);
	this->condvar->destroy(this->condvar);
	this->mutex->destroy(this->mutex);
	free(this->socket_path);
	free(this);
}

/*
 * Described in header
 */
clustergate_control_t *clustergate_control_create(const char *socket_path,
												  u_int sync_interval)
{
	private_clustergate_control_t *this;

	INIT(this,
		.public = {
			.report = _report,
			.destroy = _destroy,
		},
		.socket_path = strdup(socket_path),
		.sync_interval = max(sync_interval, 1),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
		.queue = linked_list_create(),
		.sas = linked_list_create(),
		.reachable = TRUE,
	);

	this->thread = thread_create((thread_main_t)sender, this);
	if (!this->thread)
	{
		this->queue->destroy(this->queue);
		this->sas->destroy(this->sas);
		this->condvar->destroy(this->condvar);
		this->mutex->destroy(this->mutex);
		free(this->socket_path);
		free(this);
		return NULL;
	}
	return &this->public;
}
