/* fs/top.c - the published top level: which datasets, versions and tags
 * the mount shows, moved forward in one step by the commit watcher.
 *
 * Everything below MNT/<ds>/vN is immutable and cached by the kernel for
 * good; what a commit changes is the dataset level, and there the kernel
 * caches the latest and tag links for the attribute timeout.  Were the
 * dataset level read from the newest index snapshot on each request, a
 * process could see MNT/ds/v2 while the kernel still resolved latest to v1
 * from its cache.  So the dataset level is answered from a table the
 * poller builds from one snapshot, and a new table is published only after
 * the kernel has dropped the links it cached:
 *
 *   1. build the new table;
 *   2. under the write lock, set `changing`: from now on links are replied
 *      with zero timeouts, and every request that replied a link with a
 *      timeout has finished (requests hold the read lock until they reply);
 *   3. invalidate the cached links, root and dataset directories;
 *   4. under the write lock, swap in the new table and clear `changing`.
 *
 * A version is thus visible only once no cached link can point behind it:
 * latest and tags moved by the same commit move together with it. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "fs/fs_int.h"

struct top_tag {
	uint32_t ds, ver;
	char *name; /* owned */
};

struct top_ds {
	uint32_t id, head;
	size_t tag0, ntags; /* its tags: tags[tag0 .. tag0 + ntags) */
};

struct fs_top {
	struct top_ds *ds; /* sorted by id */
	size_t nds, capds;
	struct top_tag *tags; /* grouped by dataset, in the index's order */
	size_t ntags, captags;
	int err;
};

void fs_top_free(struct fs_top *top)
{
	if (!top)
		return;
	for (size_t i = 0; i < top->ntags; i++)
		free(top->tags[i].name);
	free(top->tags);
	free(top->ds);
	free(top);
}

/* Room for one more element of size sz in *v (n used of *cap). */
static int grow(void *v, size_t *cap, size_t n, size_t sz)
{
	void **pv = v, *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? 2 * *cap : 16;
	p = realloc(*pv, c * sz);
	if (!p)
		return -ENOMEM;
	*pv = p;
	*cap = c;
	return 0;
}

static int tag_cb(const char *name, uint32_t ver, void *ctx)
{
	struct fs_top *top = ctx;
	struct top_ds *d = &top->ds[top->nds - 1];

	if (grow(&top->tags, &top->captags, top->ntags, sizeof(*top->tags)))
		return top->err = -ENOMEM;
	top->tags[top->ntags].name = strdup(name);
	if (!top->tags[top->ntags].name)
		return top->err = -ENOMEM;
	top->tags[top->ntags].ds = d->id;
	top->tags[top->ntags].ver = ver;
	top->ntags++;
	d->ntags++;
	return 0;
}

struct build {
	struct fs_top *top;
	struct idx_txn *t;
};

static int ds_cb(const struct idx_dataset *d, void *ctx)
{
	struct build *b = ctx;
	struct fs_top *top = b->top;
	int rc;

	if (grow(&top->ds, &top->capds, top->nds, sizeof(*top->ds)))
		return top->err = -ENOMEM;
	top->ds[top->nds] = (struct top_ds){ .id = d->id, .head = d->head, .tag0 = top->ntags };
	top->nds++;
	rc = idx_tag_foreach(b->t, d->id, tag_cb, top);
	return rc < 0 ? rc : top->err;
}

static int ds_cmp(const void *a, const void *b)
{
	const struct top_ds *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int top_build(struct fs *fs, struct fs_top **out)
{
	struct build b = { .top = calloc(1, sizeof(struct fs_top)) };
	int rc;

	if (!b.top)
		return -ENOMEM;
	rc = fs_txn_enter(fs, &b.t);
	if (rc == 0) {
		rc = idx_dataset_foreach(b.t, ds_cb, &b);
		fs_txn_leave(b.t);
	}
	if (rc == 0)
		rc = b.top->err;
	if (rc < 0) {
		fs_top_free(b.top);
		return rc;
	}
	qsort(b.top->ds, b.top->nds, sizeof(*b.top->ds), ds_cmp);
	*out = b.top;
	return 0;
}

static const struct top_ds *find_ds(const struct fs_top *top, uint32_t ds)
{
	size_t lo = 0, hi = top ? top->nds : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (top->ds[mid].id == ds)
			return &top->ds[mid];
		if (top->ds[mid].id < ds)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int fs_top_init(struct fs *fs)
{
	pthread_rwlockattr_t a;
	int rc;

	/* Readers may nest (a lookup at the root stats the dataset it found):
	 * with readers preferred that cannot wait behind the poller. */
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_READER_NP);
	rc = -pthread_rwlock_init(&fs->top_lock, &a);
	pthread_rwlockattr_destroy(&a);
	if (rc < 0)
		return rc;
	fs->top_lock_init = 1;
	return top_build(fs, &fs->top);
}

void fs_top_fini(struct fs *fs)
{
	fs_top_free(fs->top);
	fs->top = NULL;
	if (fs->top_lock_init)
		pthread_rwlock_destroy(&fs->top_lock);
	fs->top_lock_init = 0;
}

void fs_top_enter(struct fs *fs)
{
	pthread_rwlock_rdlock(&fs->top_lock);
}

void fs_top_leave(struct fs *fs)
{
	pthread_rwlock_unlock(&fs->top_lock);
}

int fs_top_publish(struct fs *fs, void (*invalidate)(struct fs *))
{
	struct fs_top *next, *old;
	int rc = top_build(fs, &next);

	if (rc < 0) {
		cm_err("cannot read the index after a commit: %s (the mount shows the last "
		       "state it read; will retry)",
		       idx_strerror(rc));
		return rc;
	}
	pthread_rwlock_wrlock(&fs->top_lock);
	fs->top_changing = 1;
	pthread_rwlock_unlock(&fs->top_lock);
	invalidate(fs);
	pthread_rwlock_wrlock(&fs->top_lock);
	old = fs->top;
	fs->top = next;
	fs->top_changing = 0;
	pthread_rwlock_unlock(&fs->top_lock);
	fs_top_free(old);
	return 0;
}

/* The lookups below run between fs_top_enter and fs_top_leave. */

int fs_top_has(struct fs *fs, uint32_t ds)
{
	return find_ds(fs->top, ds) != NULL;
}

int fs_top_head(struct fs *fs, uint32_t ds, uint32_t *head)
{
	const struct top_ds *d = find_ds(fs->top, ds);

	if (!d)
		return -ENOENT;
	*head = d->head;
	return 0;
}

int fs_top_tag(struct fs *fs, uint32_t ds, const char *name, uint32_t *ver)
{
	const struct top_ds *d = find_ds(fs->top, ds);

	for (size_t i = 0; d && i < d->ntags; i++) {
		const struct top_tag *g = &fs->top->tags[d->tag0 + i];

		if (!strcmp(g->name, name)) {
			*ver = g->ver;
			return 0;
		}
	}
	return -ENOENT;
}

int fs_top_tag_foreach(struct fs *fs, uint32_t ds,
		       int (*cb)(const char *name, uint32_t ver, void *ctx), void *ctx)
{
	const struct top_ds *d = find_ds(fs->top, ds);

	for (size_t i = 0; d && i < d->ntags; i++) {
		const struct top_tag *g = &fs->top->tags[d->tag0 + i];
		int rc = cb(g->name, g->ver, ctx);

		if (rc)
			return rc;
	}
	return 0;
}
