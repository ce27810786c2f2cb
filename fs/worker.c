/* fs/worker.c - per-thread request context: one read transaction per worker
 * thread, renewed for each request so every request sees the newest commit,
 * and one reused read buffer.  libfuse creates and retires worker threads on
 * its own; a thread-specific key frees both when a thread exits. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "fs/fs_int.h"

struct fs_worker {
	struct idx_txn *txn; /* reset between requests */
	void *buf;
	size_t cap;
	struct fs_wpol *pol; /* policy snapshot and scopes (policy.c) */
};

static void worker_free(void *p)
{
	struct fs_worker *w = p;

	if (!w)
		return;
	idx_txn_abort(w->txn);
	fs_wpol_free(w->pol);
	free(w->buf);
	free(w);
}

int fs_worker_init(struct fs *fs)
{
	return -pthread_key_create(&fs->wkey, worker_free);
}

void fs_worker_fini(struct fs *fs)
{
	/* The main thread may have served requests (threads=1). */
	worker_free(pthread_getspecific(fs->wkey));
	pthread_setspecific(fs->wkey, NULL);
	pthread_key_delete(fs->wkey);
}

static struct fs_worker *worker(struct fs *fs)
{
	struct fs_worker *w = pthread_getspecific(fs->wkey);

	if (w)
		return w;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	if (pthread_setspecific(fs->wkey, w)) {
		free(w);
		return NULL;
	}
	return w;
}

int fs_txn_enter(struct fs *fs, struct idx_txn **t)
{
	struct fs_worker *w = worker(fs);
	int rc;

	if (!w)
		return -ENOMEM;
	if (w->txn) {
		rc = idx_txn_renew(w->txn);
		if (rc == 0) {
			*t = w->txn;
			return 0;
		}
		idx_txn_abort(w->txn);
		w->txn = NULL;
	}
	rc = idx_txn_begin(fs->store, 0, &w->txn);
	if (rc < 0) {
		w->txn = NULL;
		cm_err("cannot read the index: %s", idx_strerror(rc));
		return rc == -EAGAIN ? -EAGAIN : -EIO;
	}
	*t = w->txn;
	return 0;
}

void fs_txn_leave(struct idx_txn *t)
{
	if (t)
		idx_txn_reset(t);
}

void *fs_worker_buf(struct fs *fs, size_t n)
{
	struct fs_worker *w = worker(fs);
	void *nb;

	if (!w)
		return NULL;
	if (w->cap >= n)
		return w->buf;
	nb = realloc(w->buf, n);
	if (!nb)
		return NULL;
	w->buf = nb;
	w->cap = n;
	return nb;
}

struct fs_wpol **fs_worker_wpol(struct fs *fs)
{
	struct fs_worker *w = worker(fs);

	return w ? &w->pol : NULL;
}
