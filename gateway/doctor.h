/*
 * `clustergate doctor` internals shared between its files.
 */
#ifndef CLUSTERGATE_DOCTOR_H
#define CLUSTERGATE_DOCTOR_H

#include <stddef.h>

#include "gateway/config.h"

struct doctor_conntrack {
	size_t total;			/* entries towards the prefix */
	size_t unreplied;		/* of which never saw a reply */
};

/* Count conntrack entries whose original destination is in prefix.
 * Returns 0 or -errno (e.g. -EPERM without CAP_NET_ADMIN). */
int doctor_conntrack_count(const struct cg_cidr *prefix,
			   struct doctor_conntrack *out);

#endif
