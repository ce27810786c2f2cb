/* fs/audit.c - the audit log sink: JSON lines appended to a file by one
 * writer thread.  Requests only queue a line (bounded; a full queue drops
 * the line and counts it), so a slow or failing disk never stalls a read.
 * The file is opened O_APPEND, reopened by name on SIGHUP (logrotate's
 * `postrotate kill -HUP`), and a failure is logged once until it recovers.
 * fs_pol_audit() at the end builds the lines. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "fs/policy_int.h"

#define AUDIT_QMAX 4096
#define AUDIT_RETRY_S 5

struct fs_audit {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *q[AUDIT_QMAX]; /* lock */
	size_t head, n;	     /* lock */
	char *file;	     /* lock; NULL = off */
	int reopen;	     /* lock */
	int stop;	     /* lock */
	int on;		     /* atomic: a file is set */
	uint64_t dropped;    /* lock */
	pthread_t th;
	int started;

	/* writer thread only */
	int fd;
	int failing; /* reported; cleared when writing works again */
	int err;     /* errno of the last failed open */
	time_t next_try;
};

/* Errors are reported when a line is lost, not when opening: the first
 * open happens before the daemon's log is set up. */
static void sink_open(struct fs_audit *a, const char *file)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	if (!file)
		return;
	a->fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0640);
	if (a->fd < 0) {
		a->err = errno;
		a->next_try = time(NULL) + AUDIT_RETRY_S;
	} else if (a->failing) {
		cm_info("audit log %s: writing again", file);
		a->failing = 0;
	}
}

static void sink_fail(struct fs_audit *a, const char *file, const char *why)
{
	if (!a->failing)
		cm_err("audit log %s: %s; audit lines are dropped until it can be written "
		       "(retried every %d s and on SIGHUP)",
		       file, why, AUDIT_RETRY_S);
	a->failing = 1;
}

static void sink_write(struct fs_audit *a, char **lines, size_t n, const char *file)
{
	for (size_t i = 0; i < n; i++) {
		struct iovec iov[2] = { { lines[i], strlen(lines[i]) }, { "\n", 1 } };
		ssize_t w;

		if (a->fd < 0 && file && time(NULL) >= a->next_try)
			sink_open(a, file);
		if (a->fd < 0) {
			if (file)
				sink_fail(a, file, strerror(a->err));
			continue;
		}
		/* One writev per line: O_APPEND keeps lines whole. */
		w = writev(a->fd, iov, 2);
		if (w != (ssize_t)(iov[0].iov_len + 1)) {
			sink_fail(a, file, w < 0 ? strerror(errno) : "short write");
			close(a->fd);
			a->fd = -1;
			a->next_try = time(NULL) + AUDIT_RETRY_S;
		}
	}
}

static void *writer(void *arg)
{
	struct fs_audit *a = arg;
	char *batch[AUDIT_QMAX]; /* 32 KiB of a thread stack */
	char *file = NULL;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		size_t n = 0;
		int reopen;
		uint64_t dropped;

		while (!a->n && !a->stop && !a->reopen)
			pthread_cond_wait(&a->cond, &a->lock);
		while (a->n) {
			batch[n++] = a->q[a->head];
			a->head = (a->head + 1) % AUDIT_QMAX;
			a->n--;
		}
		reopen = a->reopen;
		a->reopen = 0;
		dropped = a->dropped;
		a->dropped = 0;
		if (reopen) {
			free(file);
			file = a->file ? strdup(a->file) : NULL;
		}
		int stop = a->stop;
		pthread_mutex_unlock(&a->lock);
		if (reopen)
			sink_open(a, file);
		if (dropped)
			cm_warn("audit log: %llu lines dropped (queue full)",
				(unsigned long long)dropped);
		sink_write(a, batch, n, file);
		for (size_t i = 0; i < n; i++)
			free(batch[i]);
		pthread_mutex_lock(&a->lock);
		if (stop && !a->n)
			break;
	}
	pthread_mutex_unlock(&a->lock);
	free(file);
	if (a->fd >= 0)
		close(a->fd);
	return NULL;
}

int fs_audit_open(struct fs_audit **out)
{
	struct fs_audit *a = calloc(1, sizeof(*a));
	sigset_t all, old;
	int r;

	if (!a)
		return -ENOMEM;
	a->fd = -1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&a->th, NULL, writer, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		free(a);
		return -r;
	}
	a->started = 1;
	*out = a;
	return 0;
}

void fs_audit_close(struct fs_audit *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = 1;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	if (a->started)
		pthread_join(a->th, NULL);
	while (a->n) {
		free(a->q[a->head]);
		a->head = (a->head + 1) % AUDIT_QMAX;
		a->n--;
	}
	free(a->file);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a);
}

void fs_audit_set(struct fs_audit *a, const char *file)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	if ((file == NULL) != (a->file == NULL) || (file && strcmp(file, a->file))) {
		free(a->file);
		a->file = file ? strdup(file) : NULL;
		a->reopen = 1;
		pthread_cond_signal(&a->cond);
	}
	__atomic_store_n(&a->on, a->file != NULL, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&a->lock);
}

int fs_audit_on(const struct fs_audit *a)
{
	return a && __atomic_load_n(&a->on, __ATOMIC_RELAXED);
}

void fs_audit_reopen(struct fs_audit *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->reopen = 1;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

void fs_audit_put(struct fs_audit *a, char *line)
{
	if (!a) {
		free(line);
		return;
	}
	pthread_mutex_lock(&a->lock);
	if (a->n == AUDIT_QMAX || !a->file || a->stop) {
		if (a->file)
			a->dropped++;
		free(line);
	} else {
		a->q[(a->head + a->n) % AUDIT_QMAX] = line;
		a->n++;
		pthread_cond_signal(&a->cond);
	}
	pthread_mutex_unlock(&a->lock);
}

/* ---- audit lines ---------------------------------------------------------- */

static void comm_of(pid_t pid, char *out, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, out, len - 1);
	close(fd);
	if (n <= 0)
		n = 0;
	while (n > 0 && out[n - 1] == '\n')
		n--;
	out[n] = '\0';
}

static unsigned event_of(const char *op, enum pol_effect e)
{
	switch (e) {
	case POL_HIDE:
		return POL_AUDIT_HIDE;
	case POL_DENY:
	case POL_LIST:
		return POL_AUDIT_DENY;
	default:
		return strcmp(op, "open") ? 0 : POL_AUDIT_OPEN;
	}
}

void fs_pol_audit(struct fs_preq *q, struct idx_txn *t, const char *op, const struct fs_node *n,
		  const char *name, size_t namelen, const struct pol_decision *d)
{
	struct fs_pol *fp = q->fs->pol;
	const struct fuse_ctx *ctx = q->req ? fuse_req_ctx(q->req) : NULL;
	char comm[64], tbuf[32], user[256];
	struct passwd pw, *pwp = NULL;
	const struct fs_node *dsn;
	char rel[FS_REL_MAX];
	struct cm_buf b;
	struct tm tm;
	time_t now;
	unsigned ev = event_of(op, d->effect);

	if (!fp || !q->p || !(ev & __atomic_load_n(&fp->audit_events, __ATOMIC_RELAXED)))
		return;
	if (n->kind != FS_FILE && n->kind != FS_DIR && n->kind != FS_VERSION)
		return;
	if (!fs_audit_on(fp->audit))
		return;
	dsn = fs_node_dataset(n);
	if (!dsn)
		return;
	if (fs_node_rel(t, n, rel, sizeof(rel)) < 0) /* a damaged index: still say which */
		snprintf(rel, sizeof(rel), "%s", n->name);
	fs_preq_caller(q);
	cm_buf_init(&b, 1 << 16);
	now = (time_t)q->now;
	gmtime_r(&now, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	comm_of(ctx ? ctx->pid : 0, comm, sizeof(comm));
	{
		char pwbuf[1024];

		if (getpwuid_r(q->c.uid, &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 || !pwp)
			pwp = NULL;
		snprintf(user, sizeof(user), "%s", pwp ? pwp->pw_name : "");
	}
	cm_buf_printf(&b, "{\"time\": \"%s\", \"uid\": %u, \"user\": ", tbuf, (unsigned)q->c.uid);
	if (pwp)
		cm_json_buf(&b, user, strlen(user));
	else
		cm_buf_put(&b, "null", 4);
	cm_buf_printf(&b, ", \"gids\": [%u", (unsigned)q->c.gid);
	for (size_t i = 0; i < q->c.ngroups; i++)
		if (q->c.groups[i] != q->c.gid)
			cm_buf_printf(&b, ", %u", (unsigned)q->c.groups[i]);
	cm_buf_printf(&b, "], \"pid\": %d, \"comm\": ", ctx ? (int)ctx->pid : 0);
	cm_json_buf(&b, comm, strlen(comm));
	cm_buf_printf(&b, ", \"op\": \"%s\", \"dataset\": ", op);
	cm_json_buf(&b, dsn->name, dsn->namelen);
	cm_buf_printf(&b, ", \"version\": \"v%u\", \"path\": ", n->ver);
	if (name) {
		struct cm_buf p;

		cm_buf_init(&p, 1 << 14);
		cm_buf_put(&p, rel, strlen(rel));
		if (*rel)
			cm_buf_putc(&p, '/');
		cm_buf_put(&p, name, namelen);
		cm_json_buf(&b, (const char *)p.p, p.len);
		cm_buf_free(&p);
	} else {
		cm_json_buf(&b, rel, strlen(rel));
	}
	cm_buf_printf(&b, ", \"decision\": \"%s\", \"reason\": \"%s\", \"rules\": [",
		      pol_effect_name(d->effect), pol_reason_str(d->reason));
	if (d->decider)
		cm_json_buf(&b, d->decider, strlen(d->decider));
	for (unsigned i = 0; i < d->nmatched && i < POL_MATCH_MAX; i++) {
		const char *id = pol_rule_id(q->p, d->matched[i]);

		if (!id || (d->decider && !strcmp(id, d->decider)))
			continue;
		if (b.len && b.p[b.len - 1] != '[')
			cm_buf_put(&b, ", ", 2);
		cm_json_buf(&b, id, strlen(id));
	}
	cm_buf_printf(&b, "], \"policy\": \"%016" PRIx64 "\"}", pol_revision(q->p));
	cm_buf_putc(&b, '\0');
	if (!b.err) {
		fs_audit_put(fp->audit, (char *)b.p);
		b.p = NULL;
	}
	cm_buf_free(&b);
}
