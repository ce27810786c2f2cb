/* fs/loop.c - the request loop: N threads, one of which (the leader) reads
 * /dev/fuse at any time, and a count of requests by opcode.
 *
 * Why not libfuse's multi-threaded loop: there every idle worker waits in
 * read(2) on /dev/fuse, and the kernel wakes the one that has waited
 * longest, so consecutive requests land on threads (and CPUs) in turn.  For
 * the round trips a loader cannot avoid (Python's open() asks isatty(), an
 * ioctl the kernel always forwards) that doubled the latency: 15 us with one
 * thread against 30 us with four, measured with an ioctl loop on one open
 * file.  Here a single leader reads; a request that may wait on a shard
 * (READ, READDIR, READDIRPLUS) first promotes an idle follower to leader,
 * so slow reads never hold up the trivial requests behind them, and
 * everything else is answered on the thread that read it.
 *
 * Stopping: a signal ends the session (libfuse's handlers set the exit
 * flag); the main thread, which alone takes signals, wakes the followers and
 * cancels the threads.  Cancellation is enabled only around the read of the
 * next request, so no thread is ever cancelled in the middle of one. */
#include "config.h"

#include <errno.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "fs/fs_int.h"

struct loop;

struct lthread {
	struct loop *l;
	pthread_t tid;
	int started;
	struct fs_counts *cnt;
};

struct loop {
	struct fuse_session *se;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int leader;   /* a thread reads /dev/fuse; lock */
	unsigned promote; /* followers asked to become leader; lock */
	unsigned idle; /* followers waiting for the lead; lock */
	int stop;     /* lock */
	int error;    /* the first read error; lock */
	sem_t done;   /* posted when a thread ends the loop */
};

/* Requests that may wait on a shard: they hand the lead over first. */
static int may_block(uint32_t opcode)
{
	return opcode == FUSE_READ || opcode == FUSE_READDIR || opcode == FUSE_READDIRPLUS;
}

static void count(struct fs_counts *c, uint32_t opcode)
{
	unsigned i = opcode < FS_NOPCODES ? opcode : 0;

	__atomic_store_n(&c->n[i], c->n[i] + 1, __ATOMIC_RELAXED);
}

/* Wait until this thread may lead.  Returns 0 to go on, -1 to stop.
 * Called with l->lock held. */
static int wait_lead(struct loop *l)
{
	while (!l->stop && l->leader && !l->promote) {
		l->idle++;
		pthread_cond_wait(&l->cond, &l->lock);
		l->idle--;
	}
	if (l->stop)
		return -1;
	if (l->promote)
		l->promote--;
	l->leader = 1;
	return 0;
}

static void end_loop(struct loop *l, int err)
{
	pthread_mutex_lock(&l->lock);
	if (!l->stop) {
		l->stop = 1;
		l->error = err;
		pthread_cond_broadcast(&l->cond);
		sem_post(&l->done);
	}
	pthread_mutex_unlock(&l->lock);
}

static void free_buf(void *p)
{
	free(((struct fuse_buf *)p)->mem);
}

static void *lthread_main(void *arg)
{
	struct lthread *th = arg;
	struct loop *l = th->l;
	struct fuse_buf fbuf = { .mem = NULL };
	int res, old;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	pthread_cleanup_push(free_buf, &fbuf);
	pthread_mutex_lock(&l->lock);
	while (wait_lead(l) == 0) {
		pthread_mutex_unlock(&l->lock);
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
		res = fuse_session_receive_buf(l->se, &fbuf);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
		if (res == -EINTR || res == -EAGAIN) {
			pthread_mutex_lock(&l->lock);
			l->leader = 0;
			continue;
		}
		if (res <= 0 || fuse_session_exited(l->se)) {
			end_loop(l, res < 0 ? res : 0);
			pthread_mutex_lock(&l->lock);
			break;
		}
		/* Splice is never negotiated (op_init), so the header is in mem. */
		uint32_t op = (fbuf.flags & FUSE_BUF_IS_FD)
				      ? 0
				      : ((const struct fuse_in_header *)fbuf.mem)->opcode;

		count(th->cnt, op);
		pthread_mutex_lock(&l->lock);
		if (may_block(op) && l->idle > l->promote) {
			/* An idle follower reads the next request. */
			l->leader = 0;
			l->promote++;
			pthread_cond_signal(&l->cond);
			pthread_mutex_unlock(&l->lock);
			fuse_session_process_buf(l->se, &fbuf);
			pthread_mutex_lock(&l->lock);
			continue;
		}
		pthread_mutex_unlock(&l->lock);
		fuse_session_process_buf(l->se, &fbuf);
		pthread_mutex_lock(&l->lock);
		l->leader = 0; /* this thread leads on at once, unless stopped */
	}
	pthread_mutex_unlock(&l->lock);
	pthread_cleanup_pop(1);
	return NULL;
}

/* The main thread waits here with signals open; a signal handler of
 * libfuse's sets the session's exit flag and interrupts sem_wait.  A signal
 * that came before the wait began interrupts nothing: the flag is also
 * looked at twice a second. */
static void wait_end(struct loop *l)
{
	struct timespec ts;

	for (;;) {
		cm_deadline_ms(&ts, CLOCK_REALTIME, 500);
		if (sem_timedwait(&l->done, &ts) == 0)
			return;
		if (fuse_session_exited(l->se)) {
			end_loop(l, 0);
			return;
		}
	}
}

static const char *const opnames[FS_NOPCODES] = {
	[0] = "OTHER",
	[FUSE_LOOKUP] = "LOOKUP",
	[FUSE_FORGET] = "FORGET",
	[FUSE_GETATTR] = "GETATTR",
	[FUSE_SETATTR] = "SETATTR",
	[FUSE_READLINK] = "READLINK",
	[FUSE_SYMLINK] = "SYMLINK",
	[FUSE_MKNOD] = "MKNOD",
	[FUSE_MKDIR] = "MKDIR",
	[FUSE_UNLINK] = "UNLINK",
	[FUSE_RMDIR] = "RMDIR",
	[FUSE_RENAME] = "RENAME",
	[FUSE_LINK] = "LINK",
	[FUSE_OPEN] = "OPEN",
	[FUSE_READ] = "READ",
	[FUSE_WRITE] = "WRITE",
	[FUSE_STATFS] = "STATFS",
	[FUSE_RELEASE] = "RELEASE",
	[FUSE_FSYNC] = "FSYNC",
	[FUSE_SETXATTR] = "SETXATTR",
	[FUSE_GETXATTR] = "GETXATTR",
	[FUSE_LISTXATTR] = "LISTXATTR",
	[FUSE_REMOVEXATTR] = "REMOVEXATTR",
	[FUSE_FLUSH] = "FLUSH",
	[FUSE_INIT] = "INIT",
	[FUSE_OPENDIR] = "OPENDIR",
	[FUSE_READDIR] = "READDIR",
	[FUSE_RELEASEDIR] = "RELEASEDIR",
	[FUSE_FSYNCDIR] = "FSYNCDIR",
	[FUSE_GETLK] = "GETLK",
	[FUSE_SETLK] = "SETLK",
	[FUSE_SETLKW] = "SETLKW",
	[FUSE_ACCESS] = "ACCESS",
	[FUSE_CREATE] = "CREATE",
	[FUSE_INTERRUPT] = "INTERRUPT",
	[FUSE_BMAP] = "BMAP",
	[FUSE_DESTROY] = "DESTROY",
	[FUSE_IOCTL] = "IOCTL",
	[FUSE_POLL] = "POLL",
	[FUSE_NOTIFY_REPLY] = "NOTIFY_REPLY",
	[FUSE_BATCH_FORGET] = "BATCH_FORGET",
	[FUSE_FALLOCATE] = "FALLOCATE",
	[FUSE_READDIRPLUS] = "READDIRPLUS",
	[FUSE_RENAME2] = "RENAME2",
	[FUSE_LSEEK] = "LSEEK",
	[FUSE_COPY_FILE_RANGE] = "COPY_FILE_RANGE",
};

/* {"LOOKUP":12,...}: the requests read so far, by opcode, those seen at
 * least once.  Opcodes without a name here count as OTHER. */
int fs_counts_json(struct fs *fs, struct cm_buf *out)
{
	unsigned nthreads = __atomic_load_n(&fs->ncounts, __ATOMIC_ACQUIRE);
	int first = 1;

	cm_buf_putc(out, '{');
	for (unsigned op = 0; op < FS_NOPCODES && !out->err; op++) {
		uint64_t sum = 0;

		for (unsigned i = 0; i < nthreads; i++)
			sum += __atomic_load_n(&fs->counts[i].n[op], __ATOMIC_RELAXED);
		if (!sum)
			continue;
		cm_buf_printf(out, "%s\"%s\":%llu", first ? "" : ",",
			      opnames[op] ? opnames[op] : "OTHER", (unsigned long long)sum);
		first = 0;
	}
	cm_buf_putc(out, '}');
	return out->err;
}

int fs_loop(struct fs *fs, unsigned threads)
{
	struct loop l = { .se = fs->se };
	struct lthread *th;
	sigset_t all, old;
	unsigned i;
	int rc = 0;

	if (threads < 1)
		threads = 1;
	th = calloc(threads, sizeof(*th));
	fs->counts = calloc(threads, sizeof(*fs->counts));
	if (!th || !fs->counts) {
		free(th);
		free(fs->counts);
		fs->counts = NULL;
		return -ENOMEM;
	}
	__atomic_store_n(&fs->ncounts, threads, __ATOMIC_RELEASE);
	pthread_mutex_init(&l.lock, NULL);
	pthread_cond_init(&l.cond, NULL);
	sem_init(&l.done, 0, 0);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < threads; i++) {
		th[i].l = &l;
		th[i].cnt = &fs->counts[i];
		rc = -pthread_create(&th[i].tid, NULL, lthread_main, &th[i]);
		if (rc < 0) {
			cm_err("cannot start request thread %u: %s", i + 1, strerror(-rc));
			end_loop(&l, rc);
			break;
		}
		th[i].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	wait_end(&l);
	for (i = 0; i < threads; i++)
		if (th[i].started)
			pthread_cancel(th[i].tid);
	for (i = 0; i < threads; i++)
		if (th[i].started)
			pthread_join(th[i].tid, NULL);
	if (rc == 0)
		rc = l.error;
	sem_destroy(&l.done);
	pthread_cond_destroy(&l.cond);
	pthread_mutex_destroy(&l.lock);
	free(th);
	return rc;
}
