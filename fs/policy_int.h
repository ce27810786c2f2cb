/* fs/policy_int.h - state shared by the policy files of fs/: policy.c
 * (deciding), policy_load.c (loading, reloading, the poller) and audit.c
 * (the audit lines).  Only those include it. */
#ifndef SIEVEFS_FS_POLICY_INT_H
#define SIEVEFS_FS_POLICY_INT_H

#include "fs/fs_int.h"

#define FS_POL_NAMES_MAX 32
#define FS_POL_ATTRS_MAX 128

struct fs_vis_ent {
	uint64_t gen, ckey, dir_id;
	uint32_t ds, ver;
	int64_t until;
	uint8_t used, vis;
};

/* The policy in force for one mount. */
struct fs_pol {
	pthread_mutex_t lock;
	struct pol_policy *cur; /* lock */
	int cur_default;	/* lock: from pol_load_default (no policy file) */
	int cur_active;		/* lock: anything to enforce */
	uint64_t gen;		/* atomic; written under lock */
	int64_t expiry;		/* atomic: earliest `until` given out */

	char *store, *file; /* owned */
	int explicit_file;
	int open_needed;
	int warned_open;     /* poller only */
	char lasterr[600];   /* poller only: last reload error logged */
	int64_t last_expiry; /* poller only: monotonic ns of the last deadline refresh */

	int as; /* -o policy_as */
	struct pol_caller as_c;
	uint32_t as_groups[64];

	char *audit_opt;	/* -o audit=FILE (owned) */
	struct fs_audit *audit; /* the sink, for the whole mount */
	unsigned audit_events;	/* atomic */

	pthread_mutex_t vlock;
	struct fs_vis_ent *vis; /* FS_POL_VIS_SLOTS, direct-mapped; vlock */
};
#define FS_POL_VIS_SLOTS 8192

/* A sample's attributes, read from the index only when the policy asks for
 * one (never on a memo hit).  Pointers borrow from t. */
struct fs_lazy {
	struct idx_txn *t;
	uint64_t id;
	int loaded, err;
	size_t n;
	struct pol_attr v[FS_POL_ATTRS_MAX];
};
int fs_lazy_attr(void *ctx, const char *key, size_t keylen, struct pol_attr *out);
/* idx_sample_attrs callback that stops at once: only the set's id is wanted. */

int64_t fs_mono_ns(void);
/* Fill q->c (the caller) if not done yet. */
void fs_preq_caller(struct fs_preq *q);

#endif
