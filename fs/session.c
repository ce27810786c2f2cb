/* fs/session.c - one mounted session from start to unmount: open the store,
 * create and mount the FUSE session, tune the connection, report readiness,
 * serve requests on N threads, and watch the store's generation counter so
 * that a commit shows up in the mount within a fraction of a second. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "fs/fs_int.h"
#include "fs/mountinfo.h"

/* ---- noticing commits ---------------------------------------------------- */

/* Drop what the kernel cached about the parts of the tree a commit can
 * change: the root and dataset directories (attributes and listings) and the
 * latest/tag links.  Dataset dentries themselves are left alone, so the
 * cached trees below them survive.  No lock is held while notifying: the
 * kernel may wait for a request in flight on the same directory. */
static void invalidate_dynamic(struct fs *fs)
{
	size_t n = 0;
	struct fs_dyn *d = fs_node_dynamic(fs, &n);

	fuse_lowlevel_notify_inval_inode(fs->se, FUSE_ROOT_ID, 0, 0);
	for (size_t i = 0; i < n; i++)
		if (d[i].kind == FS_DATASET)
			fuse_lowlevel_notify_inval_inode(fs->se, d[i].ino, 0, 0);
	for (size_t i = 0; i < n; i++) {
		if (d[i].kind != FS_LINK && d[i].kind != FS_VIEW)
			continue;
		for (size_t j = 0; j < n; j++)
			if (d[j].kind == FS_DATASET && d[j].ds == d[i].ds)
				fuse_lowlevel_notify_inval_entry(fs->se, d[j].ino, d[i].name,
								 strlen(d[i].name));
	}
	fs_node_dynamic_release(fs, d, n);
}

/* A new policy snapshot (reload, forget, a retention deadline): drop every
 * entry, attribute and cached page the kernel holds, so that from now on
 * each is decided again.  Broad, but rare; cached file pages go first so
 * that reads of files already open reach the daemon and are checked. */
static void invalidate_all(struct fs *fs)
{
	size_t n = 0;
	struct fs_nref *v = fs_node_all(fs, &n);

	for (size_t i = 0; i < n; i++)
		if (v[i].kind == FS_FILE)
			fuse_lowlevel_notify_inval_inode(fs->se, v[i].ino, 0, 0);
	fuse_lowlevel_notify_inval_inode(fs->se, FUSE_ROOT_ID, 0, 0);
	for (size_t i = 0; i < n; i++) {
		if (v[i].kind != FS_FILE)
			fuse_lowlevel_notify_inval_inode(fs->se, v[i].ino, 0, 0);
		if (v[i].parent)
			fuse_lowlevel_notify_inval_entry(fs->se, v[i].parent, v[i].name,
							 strlen(v[i].name));
	}
	cm_debug("policy changed: %zu cached nodes invalidated", n);
	fs_node_all_release(fs, v, n);
}

/* SIGHUP reloads the policy and reopens the audit log; libfuse's own
 * handler would end the session instead. */
static volatile sig_atomic_t hup_seen;

static void on_hup(int sig)
{
	(void)sig;
	hup_seen = 1;
}

/* The FUSE bdi starts at 128 KiB readahead; large sequential reads want
 * more.  Best effort: needs root, and fails harmlessly otherwise. */
static void raise_readahead(const char *mnt)
{
	struct fs_mountinfo mi;
	char path[96];
	int fd;

	if (fs_mountinfo_find(mnt, &mi) < 0)
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", mi.major, mi.minor);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		cm_debug("%s: %s (readahead left as is)", path, strerror(errno));
		return;
	}
	if (write(fd, "1024", 4) != 4)
		cm_debug("%s: %s (readahead left as is)", path, strerror(errno));
	close(fd);
}

static void *poller_main(void *arg)
{
	struct fs *fs = arg;
	struct timespec ts;
	uint64_t g;

	pthread_mutex_lock(&fs->plock);
	while (!fs->stop) {
		cm_deadline_ms(&ts, CLOCK_MONOTONIC, FS_POLL_MS);
		pthread_cond_timedwait(&fs->pcond, &fs->plock, &ts);
		if (fs->stop)
			break;
		pthread_mutex_unlock(&fs->plock);
		if (__atomic_exchange_n(&fs->ra_pending, 0, __ATOMIC_ACQ_REL))
			raise_readahead(fs->mnt);
		g = idx_store_generation(fs->store);
		if (g != fs->gen) {
			cm_debug("store generation %llu -> %llu: refreshing datasets",
				 (unsigned long long)fs->gen, (unsigned long long)g);
			if (fs_top_publish(fs, invalidate_dynamic) == 0)
				fs->gen = g;
		}
		{
			int hup = hup_seen;

			if (hup)
				hup_seen = 0;
			if (fs_pol_poll(fs, hup))
				invalidate_all(fs);
		}
		pthread_mutex_lock(&fs->plock);
	}
	pthread_mutex_unlock(&fs->plock);
	return NULL;
}

static int poller_start(struct fs *fs)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	pthread_mutex_init(&fs->plock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&fs->pcond, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals must reach the thread that runs the loop: a SIGTERM taken
	 * by the poller would end the session only at the next request. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&fs->poller, NULL, poller_main, fs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	fs->poller_started = 1;
	return 0;
}

static void poller_stop(struct fs *fs)
{
	fs_trim_stop(fs);
	if (!fs->poller_started)
		return;
	pthread_mutex_lock(&fs->plock);
	fs->stop = 1;
	pthread_cond_signal(&fs->pcond);
	pthread_mutex_unlock(&fs->plock);
	pthread_join(fs->poller, NULL);
	fs->poller_started = 0;
}

/* ---- tuning and readiness ------------------------------------------------ */

/* systemd Type=notify, without linking libsystemd. */
static void sd_ready(void)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (!sock || (sock[0] != '/' && sock[0] != '@'))
		return;
	len = strlen(sock);
	if (len >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, sock, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		cm_debug("NOTIFY_SOCKET: %s", strerror(errno));
	close(fd);
}

/* libfuse's own messages join ours (syslog once daemonized).  libfuse
 * sometimes builds one line from several calls; collect up to the newline. */
static void fuse_log_to_cm(enum fuse_log_level level, const char *fmt, va_list ap)
{
	static __thread char line[1024];
	static __thread size_t len;
	int n;

	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	if (n < 0)
		return;
	len += (size_t)n;
	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	if (len < sizeof(line) - 1 && (!len || line[len - 1] != '\n'))
		return;
	while (len && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len == 0)
		return;
	if (level <= FUSE_LOG_ERR)
		cm_err("%s", line);
	else if (level <= FUSE_LOG_WARNING)
		cm_warn("%s", line);
	else if (level <= FUSE_LOG_INFO)
		cm_info("%s", line);
	else
		cm_debug("%s", line);
	len = 0;
}

/* After the mount is up: tell the waiting parent, then let go of the
 * terminal.  Logging moves to syslog, or to -o log=PATH. */
static void detach(const struct fs_config *c, int ready_fd, int logfd)
{
	int status = 0, null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		if (logfd < 0)
			dup2(null, STDERR_FILENO);
		close(null);
	}
	if (logfd >= 0) {
		dup2(logfd, STDERR_FILENO);
		close(logfd);
		cm_log_init("sievefs", 0, c->debug);
	} else {
		cm_log_init("sievefs", 1, c->debug);
	}
	if (write(ready_fd, &status, sizeof(status)) != (ssize_t)sizeof(status))
		cm_warn("could not report readiness: %s", strerror(errno));
	close(ready_fd);
}

/* ---- the session --------------------------------------------------------- */

static struct fuse_session *session_new(struct fs *fs, const struct fs_config *c,
					const char *store)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;
	char *opts = NULL, *fsname = NULL;

	if (asprintf(&fsname, "fsname=%s", store) < 0) {
		fsname = NULL;
		goto out;
	}
	if (fuse_opt_add_opt(&opts, "ro,nodev,nosuid,subtype=sievefs") ||
	    fuse_opt_add_opt_escaped(&opts, fsname) ||
	    (c->fuse_opts.len && fuse_opt_add_opt(&opts, (const char *)c->fuse_opts.p)) ||
	    fuse_opt_add_arg(&args, "sievefs") || fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, opts) || (c->debug && fuse_opt_add_arg(&args, "-d")))
		goto out;
	se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), fs);
out:
	fuse_opt_free_args(&args);
	free(opts);
	free(fsname);
	return se;
}

/* One line at unmount: what the kernel asked of this mount, by opcode. */
static void log_counts(struct fs *fs)
{
	struct cm_buf b;

	if (!fs->counts)
		return;
	cm_buf_init(&b, 0);
	if (fs_counts_json(fs, &b) == 0)
		cm_info("requests served: %.*s", (int)b.len, (const char *)b.p);
	cm_buf_free(&b);
}

static void fs_close(struct fs *fs)
{
	poller_stop(fs);
	if (fs->se) {
		fuse_remove_signal_handlers(fs->se);
		fuse_session_destroy(fs->se);
		fs->se = NULL;
	}
	fs_pol_fini(fs);
	idx_reader_close(fs->reader);
	idx_store_close(fs->store);
	fs_tab_free(fs);
	fs_top_fini(fs);
	free(fs->counts);
	free(fs->root);
}

int fs_serve(struct fs *fs, const struct fs_config *c, const char *store, const char *mnt,
	     int *ready)
{
	int ready_fd = ready ? *ready : -1;
	int rc, logfd = -1, mounted = 0;

	fuse_set_log_func(fuse_log_to_cm);
	if (ready_fd >= 0 && c->logfile) {
		logfd = open(c->logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (logfd < 0) {
			rc = -errno;
			cm_err("%s: %s", c->logfile, strerror(errno));
			return rc;
		}
	}
	fs->uid = c->have_uid ? c->uid : getuid();
	fs->gid = c->have_gid ? c->gid : getgid();
	fs->dyn_timeout = c->attr_timeout;
	fs->max_nodes = (size_t)c->max_nodes;
	fs->mnt = mnt;
	fs->root = calloc(1, sizeof(*fs->root) + 1);
	rc = fs->root ? fs_tab_init(fs) : -ENOMEM;
	if (rc < 0)
		goto out;
	fs->root->kind = FS_ROOT;
	fs->root->nlookup = 1;
	rc = idx_store_open(&fs->store, store, IDX_RDONLY);
	if (rc < 0) {
		cm_err("%s: %s", store, idx_strerror(rc));
		goto out;
	}
	rc = idx_reader_open(&fs->reader, fs->store, c->max_open_shards);
	if (rc < 0) {
		cm_err("%s: cannot set up the shard reader: %s", store, idx_strerror(rc));
		goto out;
	}
	if (c->have_zcache)
		idx_reader_set_zcache(fs->reader, (size_t)c->zcache);
	rc = fs_pol_init(fs, c, store);
	if (rc < 0)
		goto out; /* it said why */
	rc = fs_worker_init(fs);
	if (rc < 0)
		goto out;
	fs->gen = idx_store_generation(fs->store);
	rc = fs_top_init(fs);
	if (rc < 0) {
		cm_err("%s: %s", store, idx_strerror(rc));
		goto out_worker;
	}
	fs->se = session_new(fs, c, store);
	if (!fs->se) {
		rc = -EINVAL; /* libfuse said why */
		goto out_worker;
	}
	if (fuse_set_signal_handlers(fs->se) != 0) {
		rc = -EIO;
		goto out_worker;
	}
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_hup;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGHUP, &sa, NULL);
	}
	if (fuse_session_mount(fs->se, mnt) != 0) {
		rc = -EIO;
		goto out_worker;
	}
	mounted = 1;
	rc = poller_start(fs);
	if (rc < 0) {
		cm_err("cannot start the commit watcher: %s", strerror(-rc));
		goto out_worker;
	}
	rc = fs_trim_start(fs);
	if (rc < 0) {
		cm_err("cannot start the node trimmer: %s", strerror(-rc));
		goto out_worker;
	}
	if (ready_fd >= 0) {
		detach(c, ready_fd, logfd);
		*ready = logfd = -1;
	} else {
		sd_ready();
	}
	cm_info("mounted %s on %s (%u thread%s)", store, mnt, c->threads,
		c->threads == 1 ? "" : "s");
	fs_pol_log_state(fs);
	rc = fs_loop(fs, c->threads);
	log_counts(fs);
	cm_info("unmounting %s", mnt);
out_worker:
	poller_stop(fs);
	if (mounted)
		fuse_session_unmount(fs->se);
	fs_worker_fini(fs);
out:
	if (logfd >= 0)
		close(logfd);
	fs_close(fs);
	return rc;
}
