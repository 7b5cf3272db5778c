/* curl multi's socket interface on top of gateway/loop.h. */
#include <stdlib.h>

#include "gateway/curl_loop.h"
#include "gateway/loop.h"

struct curl_loop {
	struct loop *loop;
	CURLM *multi;
	uint64_t timer_id;
	curl_loop_progress_cb on_progress;
	void *data;
};

static void on_socket_ready(int fd, uint32_t events, void *data)
{
	struct curl_loop *driver = data;
	int flags = 0, running;

	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(driver->multi, fd, flags, &running);
	driver->on_progress(driver->data);
}

static void on_timer(void *data)
{
	struct curl_loop *driver = data;
	int running;

	driver->timer_id = 0;
	curl_multi_socket_action(driver->multi, CURL_SOCKET_TIMEOUT, 0,
				 &running);
	driver->on_progress(driver->data);
}

static int socket_callback(CURL *easy, curl_socket_t fd, int what,
			   void *data, void *socket_data)
{
	struct curl_loop *driver = data;
	uint32_t events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (socket_data)
			loop_del_fd(driver->loop, fd);
		curl_multi_assign(driver->multi, fd, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (socket_data)
		return loop_mod_fd(driver->loop, fd, events) ? -1 : 0;
	if (loop_add_fd(driver->loop, fd, events, on_socket_ready, driver))
		return -1;
	curl_multi_assign(driver->multi, fd, driver);
	return 0;
}

static int timer_callback(CURLM *multi, long timeout_ms, void *data)
{
	struct curl_loop *driver = data;

	(void)multi;
	if (driver->timer_id)
		loop_cancel_timer(driver->loop, driver->timer_id);
	driver->timer_id = 0;
	if (timeout_ms >= 0) {
		driver->timer_id = loop_add_timer(driver->loop,
						  (uint64_t)timeout_ms,
						  on_timer, driver);
		if (!driver->timer_id)
			return -1;
	}
	return 0;
}

struct curl_loop *curl_loop_create(struct loop *loop,
				   curl_loop_progress_cb on_progress,
				   void *data)
{
	struct curl_loop *driver = calloc(1, sizeof(*driver));

	if (!driver)
		return NULL;
	driver->multi = curl_multi_init();
	if (!driver->multi) {
		free(driver);
		return NULL;
	}
	driver->loop = loop;
	driver->on_progress = on_progress;
	driver->data = data;
	curl_multi_setopt(driver->multi, CURLMOPT_SOCKETFUNCTION,
			  socket_callback);
	curl_multi_setopt(driver->multi, CURLMOPT_SOCKETDATA, driver);
	curl_multi_setopt(driver->multi, CURLMOPT_TIMERFUNCTION,
			  timer_callback);
	curl_multi_setopt(driver->multi, CURLMOPT_TIMERDATA, driver);
	return driver;
}

CURLM *curl_loop_multi(struct curl_loop *driver)
{
	return driver->multi;
}

void curl_loop_destroy(struct curl_loop *driver)
{
	if (!driver)
		return;
	if (driver->timer_id)
		loop_cancel_timer(driver->loop, driver->timer_id);
	curl_multi_cleanup(driver->multi);
	free(driver);
}
