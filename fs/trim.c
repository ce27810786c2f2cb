/* fs/trim.c - the daemon's memory bound.  The table holds a node for every
 * entry the kernel caches, and the kernel keeps the entries of an immutable
 * version for a year, so left alone the table grows with every file ever
 * looked up.  Over -o max_nodes, this thread picks cold nodes and asks the
 * kernel to drop their dentries (notify_inval_entry); the kernel sends
 * FORGET for each inode it lets go, and the table shrinks through the
 * ordinary forget path.  A directory goes with its cached subtree, so a
 * walk that moved on is dropped a directory at a time.
 *
 * Cold is a CLOCK: a request naming a node, or a lookup at or below it,
 * marks it hot (node.c); the sweep clears the mark and picks what stayed
 * cold a whole lap.  Nothing is freed here: only FORGET frees a node, so a
 * lookup racing the invalidation just takes one more reference.  The thread
 * notifies with no lock held (the kernel may wait for a request in flight in
 * the same directory, which a worker must be free to answer) and keeps each
 * node it names pinned until the notification returned, so that its address
 * cannot come to name another node meanwhile.
 *
 * The same thread keeps the index's mapped pages out of the resident set
 * once they pass FS_MAP_RSS_MAX: a walk over a million entries touches
 * a hundred MiB of index that stays in the page cache either way. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "fs/fs_int.h"

#define TRIM_BATCH 512	 /* notifications per pass */
#define TRIM_TICK_MS 250 /* how often the mapped pages are checked */
#define TRIM_SLICE 4096	 /* buckets swept per hold of fs->lock */
#define FS_MAP_RSS_MAX ((size_t)16 << 20)
#define TAKEN 2 /* fs_node.hot of a node just notified */

struct cand {
	fuse_ino_t ino, parent;
	size_t len;
	char name[IDX_NAME_MAX + 1];
};

struct fs_trim {
	struct fs *fs;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;    /* lock */
	int kicked;  /* atomic: a wakeup is on its way */
	size_t hand; /* next bucket to sweep (taken modulo fs->tabsize); thread only */
	long page;
	uint64_t rounds, sent, unmaps; /* thread only, read after join */
	struct cand c[TRIM_BATCH];     /* thread only */
};

void fs_trim_kick(struct fs *fs)
{
	struct fs_trim *tr = __atomic_load_n(&fs->trim, __ATOMIC_ACQUIRE);

	if (!tr || __atomic_exchange_n(&tr->kicked, 1, __ATOMIC_ACQ_REL))
		return;
	pthread_mutex_lock(&tr->lock);
	pthread_cond_signal(&tr->cond);
	pthread_mutex_unlock(&tr->lock);
}

static size_t node_count(struct fs *fs)
{
	size_t n;

	pthread_mutex_lock(&fs->lock);
	n = fs->count;
	pthread_mutex_unlock(&fs->lock);
	return n;
}

/* What the kernel may drop: entries inside versions and views.  The root,
 * datasets and links are few, and the poller owns their invalidation. */
static int trimmable(const struct fs_node *n)
{
	switch (n->kind) {
	case FS_VERSION:
	case FS_DIR:
	case FS_FILE:
	case FS_VIEW:
	case FS_VDIR:
		return n->nlookup > 0;
	default:
		return 0;
	}
}

static int cold(struct fs_node *n)
{
	return !__atomic_exchange_n(&n->hot, 0, __ATOMIC_RELAXED);
}

/* Called with fs->lock held: pin n and note what to notify. */
static void take(struct fs_trim *tr, size_t k, struct fs_node *n)
{
	struct fs *fs = tr->fs;
	struct cand *c = &tr->c[k];

	n->nlookup++;
	/* Taken: its leaves need not be, and if the kernel keeps it (open, a
	 * cwd, another name through a view) it is passed over next lap. */
	__atomic_store_n(&n->hot, TAKEN, __ATOMIC_RELAXED);
	c->ino = (fuse_ino_t)(uintptr_t)n;
	c->parent = fs_nodeid(fs, n->up);
	c->len = n->namelen;
	memcpy(c->name, n->name, n->namelen + 1);
}

/* Pick up to TRIM_BATCH cold nodes worth about `want` nodes, sweeping at
 * most two laps of the table.  A cold leaf under a cold directory is left to
 * the directory, which takes it along.  Returns how many were picked. */
static size_t sweep(struct fs_trim *tr, size_t want)
{
	struct fs *fs = tr->fs;
	size_t k = 0, worth = 0, limit, scanned = 0;

	pthread_mutex_lock(&fs->lock);
	limit = 2 * fs->tabsize;
	while (k < TRIM_BATCH && worth < want && scanned < limit) {
		struct fs_node *n = fs->tab[tr->hand++ & (fs->tabsize - 1)];

		for (; n && k < TRIM_BATCH; n = n->next) {
			if (!trimmable(n) || !cold(n))
				continue;
			if (!n->nref && trimmable(n->up) &&
			    __atomic_load_n(&n->up->hot, __ATOMIC_RELAXED) != 1)
				continue;
			take(tr, k++, n);
			worth += 1 + n->nref;
		}
		if (++scanned % TRIM_SLICE == 0) {
			/* Let lookups and forgets through. */
			pthread_mutex_unlock(&fs->lock);
			pthread_mutex_lock(&fs->lock);
			limit = limit > 2 * fs->tabsize ? limit : 2 * fs->tabsize;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	return k;
}

/* Wait for the FORGETs the last notifications set off (the kernel queues
 * them before the notification returns; the workers take a moment): until
 * the table is at target, or stops shrinking. */
static void settle(struct fs_trim *tr, size_t target)
{
	struct timespec ts = { 0, 1000000L };
	size_t last = node_count(tr->fs), now;
	int still = 0;

	for (int i = 0; i < 20 && still < 3; i++) {
		nanosleep(&ts, NULL);
		now = node_count(tr->fs);
		if (now <= target)
			return;
		still = now < last ? 0 : still + 1;
		last = now;
	}
}

/* One round: bring the table down to 3/4 of the budget, or give up after
 * a few passes that free nothing (everything the kernel holds is in use). */
static void trim_round(struct fs_trim *tr)
{
	struct fs *fs = tr->fs;
	size_t target = fs->max_nodes - fs->max_nodes / 4, before = node_count(fs), now = before;
	unsigned idle = 0;
	uint64_t sent = 0;

	while (now > target && idle < 4 && !__atomic_load_n(&tr->stop, __ATOMIC_ACQUIRE)) {
		size_t k = sweep(tr, now - target);

		for (size_t i = 0; i < k; i++) {
			struct cand *c = &tr->c[i];

			if (!fuse_session_exited(fs->se))
				fuse_lowlevel_notify_inval_entry(fs->se, c->parent, c->name,
								 c->len);
			fs_node_forget(fs, fs_node_of(fs, c->ino), 1);
		}
		sent += k;
		tr->sent += k;
		settle(tr, target);
		idle = node_count(fs) < now ? 0 : idle + 1;
		now = node_count(fs);
	}
	tr->rounds++;
	if (sent)
		cm_debug("node budget %zu: %zu -> %zu nodes, %llu entries invalidated",
			 fs->max_nodes, before, now, (unsigned long long)sent);
	/* What the forgotten nodes held goes back to the system, so that the
	 * resident set follows the table down, not only its peak. */
	if (before > now + fs->max_nodes / 8)
		malloc_trim(0);
}

/* Resident pages of files (the index map, libraries) from statm. */
static size_t file_rss(struct fs_trim *tr)
{
	char buf[128];
	unsigned long size, res, shared;
	ssize_t r;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return 0;
	buf[r] = '\0';
	if (sscanf(buf, "%lu %lu %lu", &size, &res, &shared) != 3)
		return 0;
	return (size_t)shared * (size_t)tr->page;
}

static void map_check(struct fs_trim *tr)
{
	size_t f = file_rss(tr);
	int rc;

	if (f <= FS_MAP_RSS_MAX)
		return;
	rc = idx_store_unmap_pages(tr->fs->store);
	cm_debug("index pages: %zu KiB of files resident: %s", f >> 10,
		 rc < 0 ? strerror(-rc) : "unmapped");
	if (rc == 0)
		tr->unmaps++;
}

static void *trim_main(void *arg)
{
	struct fs_trim *tr = arg;
	struct fs *fs = tr->fs;
	struct timespec ts;

	pthread_mutex_lock(&tr->lock);
	while (!tr->stop) {
		if (!__atomic_load_n(&tr->kicked, __ATOMIC_ACQUIRE)) {
			cm_deadline_ms(&ts, CLOCK_MONOTONIC, TRIM_TICK_MS);
			pthread_cond_timedwait(&tr->cond, &tr->lock, &ts);
		}
		if (tr->stop)
			break;
		pthread_mutex_unlock(&tr->lock);
		__atomic_store_n(&tr->kicked, 0, __ATOMIC_RELEASE);
		if (fs->max_nodes && node_count(fs) > fs_trim_mark(fs->max_nodes))
			trim_round(tr);
		map_check(tr);
		pthread_mutex_lock(&tr->lock);
	}
	pthread_mutex_unlock(&tr->lock);
	return NULL;
}

int fs_trim_start(struct fs *fs)
{
	struct fs_trim *tr = calloc(1, sizeof(*tr));
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	if (!tr)
		return -ENOMEM;
	tr->fs = fs;
	tr->page = sysconf(_SC_PAGESIZE);
	pthread_mutex_init(&tr->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&tr->cond, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals are for the thread that runs the loop (see the poller). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&tr->thread, NULL, trim_main, tr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		pthread_cond_destroy(&tr->cond);
		pthread_mutex_destroy(&tr->lock);
		free(tr);
		return -rc;
	}
	__atomic_store_n(&fs->trim, tr, __ATOMIC_RELEASE);
	return 0;
}

void fs_trim_stop(struct fs *fs)
{
	struct fs_trim *tr = fs->trim;
	size_t count, peak;
	char budget[32];

	if (!tr)
		return;
	pthread_mutex_lock(&tr->lock);
	__atomic_store_n(&tr->stop, 1, __ATOMIC_RELEASE);
	pthread_cond_signal(&tr->cond);
	pthread_mutex_unlock(&tr->lock);
	pthread_join(tr->thread, NULL);
	__atomic_store_n(&fs->trim, NULL, __ATOMIC_RELEASE);
	pthread_mutex_lock(&fs->lock);
	count = fs->count;
	peak = fs->peak;
	pthread_mutex_unlock(&fs->lock);
	if (fs->max_nodes)
		snprintf(budget, sizeof(budget), "budget %zu", fs->max_nodes);
	else
		snprintf(budget, sizeof(budget), "no budget");
	cm_info("node table: %zu nodes, at most %zu (%s); %llu entries invalidated in "
		"%llu rounds; index pages unmapped %llu times",
		count, peak, budget, (unsigned long long)tr->sent, (unsigned long long)tr->rounds,
		(unsigned long long)tr->unmaps);
	pthread_cond_destroy(&tr->cond);
	pthread_mutex_destroy(&tr->lock);
	free(tr);
}
