/* fs/fs.h - the sievefs FUSE daemon as seen by the CLI.
 *
 * The CLI fills a struct fs_config from its arguments (fs_config_add_opts
 * parses every -o list, so `sievefs mount` and mount(8)'s helper share one
 * grammar) and calls fs_mount(), which returns once the mount is ready or has
 * failed.  fs_umount() is `sievefs umount`.  Nothing here exposes FUSE. */
#ifndef SIEVEFS_FS_H
#define SIEVEFS_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"

#define FS_THREADS_DEFAULT 4
#define FS_THREADS_MAX 64
/* Nodes the daemon keeps before it asks the kernel to forget cold entries
 * (-o max_nodes; about 128 bytes each, see sievefs(1)). */
#define FS_MAX_NODES_DEFAULT 200000
#define FS_MAX_NODES_MIN 1000

struct fs_config {
	const char *store;      /* borrowed, as given on the command line */
	const char *mountpoint; /* borrowed */
	int foreground;         /* -f: stay attached, log to stderr */
	int debug;              /* -d: debug logging and libfuse's request trace */
	unsigned threads;       /* -o threads=N, 1 = single-threaded loop */
	unsigned max_open_shards; /* -o max_open_shards=N, 0 = reader default */
	int have_zcache;        /* -o zstd_cache=SIZE given */
	uint64_t zcache;        /* bytes of decoded zstd chunks to keep */
	double attr_timeout;    /* -o attr_timeout=S for root and dataset dirs, <= 1 */
	uint64_t max_nodes;     /* -o max_nodes=N, 0 = no budget */
	int have_uid, have_gid; /* -o uid=N / gid=N, else the mounting user */
	uid_t uid;
	gid_t gid;
	char *logfile;          /* -o log=PATH (owned), daemon logs there, not syslog */
	char *policy;           /* -o policy=FILE (owned); NULL = STORE/policy.yaml */
	char *audit;            /* -o audit=FILE (owned); overrides the policy's audit file */
	int have_policy_as;     /* -o policy_as=UID|USER: decide everything as that user */
	uid_t policy_as;
	struct cm_buf fuse_opts; /* pass-through options, "a,b=c" (owned) */
};

void fs_config_init(struct fs_config *c);
void fs_config_free(struct fs_config *c);
/* Parse one comma-separated -o list.  mount(8)'s generic options (ro,
 * noauto, _netdev, user, ...) are accepted and ignored; rw is refused.
 * Returns 0 or -EINVAL with a message naming the option in err. */
int fs_config_add_opts(struct fs_config *c, const char *opts, char *err, size_t errlen);

/* Mount c->store on c->mountpoint.  Without c->foreground the daemon forks
 * and this returns 0 in the parent once the kernel mount exists; with it,
 * this serves requests and returns 0 after a clean unmount.  On failure
 * returns -errno after printing a message to stderr. */
int fs_mount(const struct fs_config *c);

/* Unmount a sievefs mount; a mount whose daemon died ("Transport endpoint is
 * not connected") is detached lazily.  Returns 0 or -errno with a message in
 * err. */
int fs_umount(const char *mountpoint, char *err, size_t errlen);

#endif
