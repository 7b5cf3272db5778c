/*
 * Netlink for nat/: iproute2/libmnl style. Build a message, send, read
 * acks; no hidden state beyond the socket and a sequence number.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "nat/nat_netlink.h"

#define RECEIVE_SIZE (256 * 1024)

int nat_netlink_open(struct nat_netlink *nl)
{
	int one = 1, size = 4 * 1024 * 1024;
	struct timeval timeout = { .tv_sec = 30 };

	memset(nl, 0, sizeof(*nl));
	nl->socket = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl->socket)
		return -errno;
	if (mnl_socket_bind(nl->socket, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(nl->socket);
		nl->socket = NULL;
		return err;
	}
	/* Acks for failed messages should not echo 64 KiB element lists. */
	mnl_socket_setsockopt(nl->socket, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->socket, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl->socket), SOL_SOCKET, SO_RCVBUFFORCE,
		   &size, sizeof(size));
	/* Never hang the daemon on a lost reply. */
	setsockopt(mnl_socket_get_fd(nl->socket), SOL_SOCKET, SO_RCVTIMEO,
		   &timeout, sizeof(timeout));
	nl->portid = mnl_socket_get_portid(nl->socket);
	nl->seq = (uint32_t)time(NULL);
	nl->receive_size = RECEIVE_SIZE;
	nl->receive_buffer = malloc(nl->receive_size);
	if (!nl->receive_buffer) {
		mnl_socket_close(nl->socket);
		nl->socket = NULL;
		return -ENOMEM;
	}
	return 0;
}

void nat_netlink_close(struct nat_netlink *nl)
{
	if (nl->socket)
		mnl_socket_close(nl->socket);
	free(nl->receive_buffer);
	memset(nl, 0, sizeof(*nl));
}

uint32_t nat_netlink_next_seq(struct nat_netlink *nl)
{
	return ++nl->seq;
}

int nat_netlink_dump(struct nat_netlink *nl, struct nlmsghdr *request,
		     mnl_cb_t cb, void *data)
{
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl->socket, request, request->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->socket, nl->receive_buffer,
					nl->receive_size);
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(nl->receive_buffer, n, request->nlmsg_seq,
				 nl->portid, cb, data);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static int generation_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *gen = nftnl_gen_alloc();

	if (!gen)
		return MNL_CB_ERROR;
	if (nftnl_gen_nlmsg_parse(nlh, gen) == 0)
		*(uint32_t *)data = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
	nftnl_gen_free(gen);
	return MNL_CB_OK;
}

int nat_netlink_generation(struct nat_netlink *nl, uint32_t *generation)
{
	char buffer[256] = { 0 };
	struct nlmsghdr *nlh;

	/* The reply and then the ack: the same receive loop as a dump. */
	nlh = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETGEN, NFPROTO_UNSPEC,
				    NLM_F_ACK, nat_netlink_next_seq(nl));
	return nat_netlink_dump(nl, nlh, generation_cb, generation);
}

void nat_batch_init(struct nat_batch *batch, struct nat_netlink *nl)
{
	memset(batch, 0, sizeof(*batch));
	batch->first_seq = nat_netlink_next_seq(nl);	/* the begin message */
}

void nat_batch_free(struct nat_batch *batch)
{
	free(batch->buffer);
	free(batch->messages);
	memset(batch, 0, sizeof(*batch));
}

static int reserve(struct nat_batch *batch, size_t room)
{
	char *grown;
	size_t capacity;

	if (batch->length + room <= batch->capacity)
		return 0;
	/* Start small: a sync that changes a few elements stays tiny. */
	capacity = batch->capacity ? batch->capacity : 8192;
	while (capacity < batch->length + room)
		capacity *= 2;
	grown = realloc(batch->buffer, capacity);
	if (!grown)
		return batch->error = -ENOMEM;
	batch->buffer = grown;
	batch->capacity = capacity;
	return 0;
}

struct nlmsghdr *nat_batch_add(struct nat_batch *batch, struct nat_netlink *nl,
			       uint16_t type, uint16_t flags,
			       const char *object, size_t room)
{
	struct nat_batch_message *message;

	if (batch->error)
		return NULL;
	if (!batch->length) {
		/* room for the begin message, built at commit */
		if (reserve(batch, NLMSG_ALIGN(sizeof(struct nlmsghdr) +
					       sizeof(struct nfgenmsg))))
			return NULL;
		batch->length = NLMSG_ALIGN(sizeof(struct nlmsghdr) +
					    sizeof(struct nfgenmsg));
	}
	if (reserve(batch, room + 256))
		return NULL;
	/* libmnl 1.0.4 skips attribute padding: start from zeroes */
	memset(batch->buffer + batch->length, 0, room + 256);
	if (batch->message_count == batch->message_capacity) {
		size_t capacity = batch->message_capacity ?
				  batch->message_capacity * 2 : 64;
		struct nat_batch_message *grown;

		grown = realloc(batch->messages, capacity * sizeof(*grown));
		if (!grown) {
			batch->error = -ENOMEM;
			return NULL;
		}
		batch->messages = grown;
		batch->message_capacity = capacity;
	}
	message = &batch->messages[batch->message_count++];
	message->type = type;
	snprintf(message->object, sizeof(message->object), "%s",
		 object ? object : "");
	return nftnl_nlmsg_build_hdr(batch->buffer + batch->length, type,
				     NFPROTO_INET, flags | NLM_F_ACK,
				     nat_netlink_next_seq(nl));
}

void nat_batch_close(struct nat_batch *batch, struct nlmsghdr *nlh)
{
	batch->length += NLMSG_ALIGN(nlh->nlmsg_len);
}

static const char *message_type_name(uint16_t type)
{
	switch (type) {
	case NFT_MSG_NEWTABLE: return "add table";
	case NFT_MSG_DELTABLE: return "delete table";
	case NFT_MSG_NEWCHAIN: return "add chain";
	case NFT_MSG_DELCHAIN: return "delete chain";
	case NFT_MSG_NEWRULE: return "add rule";
	case NFT_MSG_DELRULE: return "delete rule";
	case NFT_MSG_NEWSET: return "add set";
	case NFT_MSG_NEWSETELEM: return "add elements";
	case NFT_MSG_DELSETELEM: return "delete elements";
	case NFT_MSG_NEWOBJ: return "add counter";
	default: return "message";
	}
}

/* Read acks until every message of the batch has one. */
static int read_acks(struct nat_batch *batch, struct nat_netlink *nl,
		     char *error, size_t error_size)
{
	uint32_t first = batch->first_seq + 1;
	size_t acked = 0;
	int first_error = 0;

	while (acked < batch->message_count) {
		ssize_t n = mnl_socket_recvfrom(nl->socket, nl->receive_buffer,
						nl->receive_size);
		struct nlmsghdr *nlh = (struct nlmsghdr *)nl->receive_buffer;

		if (n < 0) {
			snprintf(error, error_size,
				 "reading netlink acks: %s", strerror(errno));
			return -errno;
		}
		for (; mnl_nlmsg_ok(nlh, (int)n); nlh = mnl_nlmsg_next(nlh, (int *)&n)) {
			const struct nlmsgerr *ack;
			size_t index;

			if (nlh->nlmsg_type == NLMSG_ERROR &&
			    nlh->nlmsg_seq == batch->first_seq) {
				/* the batch as a whole failed */
				ack = mnl_nlmsg_get_payload(nlh);
				snprintf(error, error_size, "the kernel refused "
					 "the batch: %s; nothing was changed",
					 strerror(-ack->error));
				return ack->error ? ack->error : -EIO;
			}
			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_seq < first ||
			    nlh->nlmsg_seq >= first + batch->message_count)
				continue;
			acked++;
			ack = mnl_nlmsg_get_payload(nlh);
			if (!ack->error || first_error)
				continue;
			first_error = ack->error;
			index = nlh->nlmsg_seq - first;
			snprintf(error, error_size,
				 "the kernel refused the change (%s %s: %s); "
				 "nothing was changed",
				 message_type_name(batch->messages[index].type),
				 batch->messages[index].object,
				 strerror(-ack->error));
		}
	}
	return first_error;
}

int nat_batch_commit(struct nat_batch *batch, struct nat_netlink *nl,
		     char *error, size_t error_size)
{
	struct nlmsghdr *end;
	int size;

	if (batch->error) {
		snprintf(error, error_size, "out of memory building the batch");
		return batch->error;
	}
	if (!batch->message_count)
		return 0;
	nftnl_batch_begin(batch->buffer, batch->first_seq);
	if (reserve(batch, 64)) {
		snprintf(error, error_size, "out of memory building the batch");
		return -ENOMEM;
	}
	end = nftnl_batch_end(batch->buffer + batch->length,
			      nat_netlink_next_seq(nl));
	batch->length += NLMSG_ALIGN(end->nlmsg_len);

	/* A batch is one datagram; the socket must take all of it. */
	size = batch->length > (size_t)INT32_MAX / 2 ? INT32_MAX / 2 :
	       (int)batch->length * 2;
	if (size > 256 * 1024)
		setsockopt(mnl_socket_get_fd(nl->socket), SOL_SOCKET,
			   SO_SNDBUFFORCE, &size, sizeof(size));
	if (mnl_socket_sendto(nl->socket, batch->buffer, batch->length) < 0) {
		int err = -errno;

		snprintf(error, error_size, "sending the netlink batch "
			 "(%zu bytes): %s", batch->length, strerror(errno));
		return err;
	}
	return read_acks(batch, nl, error, error_size);
}
