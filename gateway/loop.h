/*
 * The daemon's single event loop: file descriptors (epoll) and one-shot
 * millisecond timers. Everything in clustergated runs from here; nothing
 * blocks it.
 */
#ifndef CLUSTERGATE_LOOP_H
#define CLUSTERGATE_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct loop;

/* events is a mask of EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP. */
typedef void (*loop_fd_cb)(int fd, uint32_t events, void *data);
typedef void (*loop_timer_cb)(void *data);

/* Returns a new loop, or NULL with errno set. Free with loop_destroy(). */
struct loop *loop_create(void);
void loop_destroy(struct loop *loop);

/* Watch fd for events. One registration per fd. Returns 0 or -errno. */
int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_cb cb,
		void *data);
int loop_mod_fd(struct loop *loop, int fd, uint32_t events);
/* Stop watching fd (does not close it). Safe to call from a callback. */
void loop_del_fd(struct loop *loop, int fd);

/*
 * Call cb once, delay_ms from now. Returns a timer id (never 0), or 0 on
 * allocation failure. Cancelling an id that already fired is harmless.
 */
uint64_t loop_add_timer(struct loop *loop, uint64_t delay_ms,
			loop_timer_cb cb, void *data);
void loop_cancel_timer(struct loop *loop, uint64_t id);

/* Run until loop_stop(). Returns 0, or -errno if epoll fails. */
int loop_run(struct loop *loop);
void loop_stop(struct loop *loop);

/* Monotonic clock in milliseconds. */
uint64_t loop_now_ms(void);

#endif
