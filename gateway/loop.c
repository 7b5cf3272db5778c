/*
 * epoll for file descriptors, a sorted list for timers. The daemon has
 * tens of timers at most (probes, backoff, debounce), so a list is enough.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gateway/loop.h"

struct fd_watch {
	int fd;
	loop_fd_cb cb;
	void *data;
	bool removed;
	struct fd_watch *next;
};

struct timer {
	uint64_t id;
	uint64_t due_ms;
	loop_timer_cb cb;
	void *data;
	struct timer *next;
};

struct loop {
	int epoll_fd;
	bool stopping;
	uint64_t next_timer_id;
	struct fd_watch *watches;
	struct timer *timers;		/* sorted by due_ms */
};

uint64_t loop_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

struct loop *loop_create(void)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epoll_fd < 0) {
		free(loop);
		return NULL;
	}
	loop->next_timer_id = 1;
	return loop;
}

static void free_removed_watches(struct loop *loop)
{
	struct fd_watch **link = &loop->watches, *watch;

	while ((watch = *link)) {
		if (watch->removed) {
			*link = watch->next;
			free(watch);
		} else {
			link = &watch->next;
		}
	}
}

void loop_destroy(struct loop *loop)
{
	struct fd_watch *watch;
	struct timer *timer;

	if (!loop)
		return;
	while ((watch = loop->watches)) {
		loop->watches = watch->next;
		free(watch);
	}
	while ((timer = loop->timers)) {
		loop->timers = timer->next;
		free(timer);
	}
	close(loop->epoll_fd);
	free(loop);
}

int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_cb cb,
		void *data)
{
	struct fd_watch *watch = calloc(1, sizeof(*watch));
	struct epoll_event event = { .events = events };

	if (!watch)
		return -ENOMEM;
	watch->fd = fd;
	watch->cb = cb;
	watch->data = data;
	event.data.ptr = watch;
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0) {
		int err = -errno;

		free(watch);
		return err;
	}
	watch->next = loop->watches;
	loop->watches = watch;
	return 0;
}

static struct fd_watch *find_watch(struct loop *loop, int fd)
{
	struct fd_watch *watch;

	for (watch = loop->watches; watch; watch = watch->next)
		if (watch->fd == fd && !watch->removed)
			return watch;
	return NULL;
}

int loop_mod_fd(struct loop *loop, int fd, uint32_t events)
{
	struct fd_watch *watch = find_watch(loop, fd);
	struct epoll_event event = { .events = events };

	if (!watch)
		return -ENOENT;
	event.data.ptr = watch;
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, fd, &event) < 0)
		return -errno;
	return 0;
}

void loop_del_fd(struct loop *loop, int fd)
{
	struct fd_watch *watch = find_watch(loop, fd);

	if (!watch)
		return;
	epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
	/* Freed after the current dispatch round: events may still point at it. */
	watch->removed = true;
}

uint64_t loop_add_timer(struct loop *loop, uint64_t delay_ms,
			loop_timer_cb cb, void *data)
{
	struct timer *timer = calloc(1, sizeof(*timer)), **link;

	if (!timer)
		return 0;
	timer->id = loop->next_timer_id++;
	timer->due_ms = loop_now_ms() + delay_ms;
	timer->cb = cb;
	timer->data = data;
	for (link = &loop->timers; *link && (*link)->due_ms <= timer->due_ms;
	     link = &(*link)->next)
		;
	timer->next = *link;
	*link = timer;
	return timer->id;
}

void loop_cancel_timer(struct loop *loop, uint64_t id)
{
	struct timer **link, *timer;

	for (link = &loop->timers; (timer = *link); link = &timer->next) {
		if (timer->id == id) {
			*link = timer->next;
			free(timer);
			return;
		}
	}
}

static void run_due_timers(struct loop *loop)
{
	uint64_t now = loop_now_ms();
	struct timer *timer;

	while (!loop->stopping && (timer = loop->timers) &&
	       timer->due_ms <= now) {
		loop_timer_cb cb = timer->cb;
		void *data = timer->data;

		loop->timers = timer->next;
		free(timer);
		cb(data);
	}
}

static int next_timeout(struct loop *loop)
{
	uint64_t now;

	if (!loop->timers)
		return -1;
	now = loop_now_ms();
	if (loop->timers->due_ms <= now)
		return 0;
	return (int)(loop->timers->due_ms - now);
}

int loop_run(struct loop *loop)
{
	struct epoll_event events[32];
	int count, i;

	loop->stopping = false;
	while (!loop->stopping) {
		count = epoll_wait(loop->epoll_fd, events, 32,
				   next_timeout(loop));
		if (count < 0 && errno != EINTR)
			return -errno;
		for (i = 0; i < count && !loop->stopping; i++) {
			struct fd_watch *watch = events[i].data.ptr;

			if (!watch->removed)
				watch->cb(watch->fd, events[i].events,
					  watch->data);
		}
		free_removed_watches(loop);
		run_due_timers(loop);
	}
	return 0;
}

void loop_stop(struct loop *loop)
{
	loop->stopping = true;
}
