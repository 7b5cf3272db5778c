/* The rtnetlink socket of routes/: open, send, read acks and dumps. */
#include <errno.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "routes/netlink.h"

int routes_fail(struct routes *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return err;
}

const char *routes_last_error(const struct routes *routes)
{
	return routes->error;
}

int routes_open(struct routes **out)
{
	struct routes *r = calloc(1, sizeof(*r));
	int on = 1;

	if (!r)
		return -ENOMEM;
	r->nl = mnl_socket_open(NETLINK_ROUTE);
	if (!r->nl || mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		if (r->nl)
			mnl_socket_close(r->nl);
		free(r);
		return err;
	}
	/* Best effort: the kernel's own words in error messages. */
	mnl_socket_setsockopt(r->nl, NETLINK_EXT_ACK, &on, sizeof(on));
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = (uint32_t)time(NULL);
	r->resilient = -1;
	*out = r;
	return 0;
}

void routes_close(struct routes *routes)
{
	if (!routes)
		return;
	mnl_socket_close(routes->nl);
	free(routes);
}

/* Copy the kernel's extended-ack text, if any, into r->error. */
static void keep_extack(struct routes *r, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t offset = sizeof(*e);

	r->error[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += e->msg.nlmsg_len - sizeof(e->msg);
	mnl_attr_for_each(attr, nlh, offset) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG) {
			snprintf(r->error, sizeof(r->error), "%s",
				 mnl_attr_get_str(attr));
			return;
		}
	}
}

/* Returns 1 when the exchange is complete, 0 to read on, or -errno. */
static int handle_message(struct routes *r, const struct nlmsghdr *nlh,
			  routes_msg_cb cb, void *data)
{
	const struct nlmsgerr *e;
	int rc;

	if (nlh->nlmsg_seq != r->seq || nlh->nlmsg_pid != r->portid)
		return 0;
	switch (nlh->nlmsg_type) {
	case NLMSG_DONE:
		return 1;
	case NLMSG_ERROR:
		e = mnl_nlmsg_get_payload(nlh);
		if (e->error == 0) {
			r->error[0] = '\0';
			return 1;
		}
		keep_extack(r, nlh);
		return e->error;
	default:
		rc = cb ? cb(nlh, data) : 0;
		return rc < 0 ? rc : 0;
	}
}

int routes_nl_talk(struct routes *r, struct nlmsghdr *nlh, routes_msg_cb cb,
		   void *data)
{
	/* Large enough for any dump datagram the kernel sends. */
	static char buf[65536];
	int err = 0;

	nlh->nlmsg_seq = ++r->seq;
	nlh->nlmsg_pid = 0;
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
		const struct nlmsghdr *msg = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (; mnl_nlmsg_ok(msg, len); msg = mnl_nlmsg_next(msg, &len)) {
			int done = handle_message(r, msg, cb, data);

			/* A callback error is kept, the reply still drained. */
			if (done < 0 && msg->nlmsg_type != NLMSG_ERROR &&
			    msg->nlmsg_type != NLMSG_DONE) {
				if (!err)
					err = done;
				continue;
			}
			if (done < 0)
				return done;
			if (done > 0)
				return err;
		}
	}
}
