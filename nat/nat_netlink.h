/*
 * nat/'s netlink plumbing: one NETLINK_NETFILTER socket, a growable
 * nfnetlink batch, dumps and the ruleset generation.
 */
#ifndef CLUSTERGATE_NAT_NETLINK_H
#define CLUSTERGATE_NAT_NETLINK_H

#include <libmnl/libmnl.h>
#include <stddef.h>
#include <stdint.h>

struct nat_netlink {
	struct mnl_socket *socket;
	uint32_t portid;
	uint32_t seq;
	char *receive_buffer;
	size_t receive_size;
};

int nat_netlink_open(struct nat_netlink *nl);
void nat_netlink_close(struct nat_netlink *nl);

/* Ruleset generation id (changes on every committed batch, anyone's). */
int nat_netlink_generation(struct nat_netlink *nl, uint32_t *generation);

/*
 * Send a dump request built in request (nlh built by the caller with
 * NLM_F_DUMP and seq from nat_netlink_next_seq) and call cb for each
 * reply. Returns 0 or -errno (-ENOENT when the table does not exist).
 */
int nat_netlink_dump(struct nat_netlink *nl, struct nlmsghdr *request,
		     mnl_cb_t cb, void *data);
uint32_t nat_netlink_next_seq(struct nat_netlink *nl);

struct nat_batch_message {
	uint16_t type;			/* NFT_MSG_* */
	char object[40];		/* set or chain it touches, for errors */
};

struct nat_batch {
	char *buffer;
	size_t length;
	size_t capacity;
	uint32_t first_seq;
	struct nat_batch_message *messages;	/* one per seq after begin */
	size_t message_count;
	size_t message_capacity;
	int error;				/* sticky -ENOMEM */
};

void nat_batch_init(struct nat_batch *batch, struct nat_netlink *nl);
void nat_batch_free(struct nat_batch *batch);
/*
 * Start a message of type (NFT_MSG_*) with flags and room bytes of
 * payload; object names what it touches for error messages. NULL on
 * allocation failure (remembered in batch->error).
 */
struct nlmsghdr *nat_batch_add(struct nat_batch *batch, struct nat_netlink *nl,
			       uint16_t type, uint16_t flags,
			       const char *object, size_t room);
/* Close the message started by nat_batch_add. */
void nat_batch_close(struct nat_batch *batch, struct nlmsghdr *nlh);
/* Messages besides begin/end. */
static inline size_t nat_batch_messages(const struct nat_batch *batch)
{
	return batch->message_count;
}
/*
 * Wrap in begin/end, send, and read every ack. Returns 0 or the first
 * error (-errno), described in error.
 */
int nat_batch_commit(struct nat_batch *batch, struct nat_netlink *nl,
		     char *error, size_t error_size);

#endif
