/* fs/node.c - the node table: one struct fs_node per (kind, dataset,
 * version, parent dir, name) the kernel holds a reference to, so that the
 * same path always has the same nodeid.  A node lives as long as the
 * kernel's lookup count says (the nlookup/forget protocol) or a node below
 * it does, since nodes keep no path, only a name and their parent: paths
 * for log lines and the policy are rebuilt here on demand.  The kernel
 * keeps what it looked up for as long as it likes, so past the node budget
 * trim.c asks it to forget cold entries; this file marks what requests use. */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/util.h"
#include "fs/fs_int.h"

uint64_t fs_ino_mix(uint64_t tag, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t h = cm_mix64(tag ^ cm_mix64(a ^ cm_mix64(b ^ cm_mix64(c))));

	/* 0 and 1 are not valid inode numbers here (1 is the root). */
	return h < 2 ? h + 2 : h;
}

uint64_t fs_node_pdir(const struct fs_node *n)
{
	switch (n->kind) {
	case FS_FILE:
		if (n->flags & FS_NF_SRC)
			return fs_node_fext(n)->pdir;
		/* fall through */
	case FS_DIR:
	case FS_VDIR:
		return n->up->u.d.dir_id;
	case FS_VIEW:
		return n->u.d.dir_id;
	default:
		return 0;
	}
}

uint64_t fs_node_ino(const struct fs_node *n)
{
	switch (n->kind) {
	case FS_ROOT:
		return FUSE_ROOT_ID;
	case FS_DATASET:
		return fs_ino_mix(FS_DATASET, n->ds, 0, 0);
	case FS_VERSION:
		return fs_ino_mix(FS_DIR, n->ds, n->ver, IDX_ROOT_DIR);
	case FS_DIR:
		return fs_ino_mix(FS_DIR, n->ds, n->ver, n->u.d.dir_id);
	case FS_FILE:
		return n->u.f.eid;
	case FS_LINK:
		return fs_ino_mix(FS_LINK, n->ds, cm_xxh64(n->name, n->namelen, 0), n->ver);
	case FS_VIEW:
	case FS_VDIR:
		return fs_ino_mix(FS_VDIR, n->u.d.dir_id, 0, 0);
	default:
		return 0;
	}
}

void fs_node_entry(const struct fs_node *n, struct idx_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->type = IDX_ENT_FILE;
	e->ver = n->ver;
	e->eid = n->u.f.eid;
	e->mode = n->mode;
	e->mtime = n->u.f.mtime;
	e->shard = n->u.f.shard;
	e->offset = n->u.f.offset;
	e->size = e->stored = n->u.f.size;
	e->codec = n->codec;
	if (n->flags & FS_NF_EXT) {
		const struct fs_fext *x = fs_node_fext(n);

		e->stored = x->stored;
		e->zhdr = x->zhdr;
		e->zchunk = x->zchunk;
		e->nchunks = x->nchunks;
	}
}

static uint32_t key_hash(int kind, uint32_t ds, uint32_t ver, uint64_t pdir, const char *name,
			 size_t len)
{
	uint64_t k = kind == FS_FILE ? FS_DIR : (uint64_t)kind; /* one namespace per dir */

	return (uint32_t)fs_ino_mix(k, (uint64_t)ds << 32 | ver, pdir, cm_xxh64(name, len, 0));
}

static int key_eq(const struct fs_node *a, const struct fs_tmpl *b, const char *name, size_t len)
{
	int ka = a->kind == FS_FILE ? FS_DIR : a->kind;
	int kb = b->kind == FS_FILE ? FS_DIR : b->kind;

	return ka == kb && a->ds == b->ds && a->ver == b->ver && a->namelen == len &&
	       !memcmp(a->name, name, len) && fs_node_pdir(a) == b->pdir;
}

/* ---- paths --------------------------------------------------------------- */

/* A path built from its end: buf[pos..cap-1] holds what is done so far. */
struct pb {
	char *buf;
	size_t pos;
	int err;
};

static void pb_put(struct pb *b, const char *s, size_t n)
{
	if (n > b->pos) {
		b->err = -ENAMETOOLONG;
		return;
	}
	b->pos -= n;
	memcpy(b->buf + b->pos, s, n);
}

const struct fs_node *fs_node_dataset(const struct fs_node *n)
{
	while (n && n->kind != FS_DATASET)
		n = n->up;
	return n;
}

/* For a file first reached through a view: "dir/" of its source dir and,
 * unless rel, "ds@vN/" before it. */
static void pb_src(struct pb *b, struct idx_txn *t, const struct fs_node *n, int rel)
{
	uint64_t pdir = fs_node_fext(n)->pdir;
	const struct fs_node *d;
	char v[16];
	const char *p;
	size_t l;
	int r;

	if (pdir != IDX_ROOT_DIR) {
		r = t ? idx_dir_path(t, n->ds, pdir, &p, &l) : -EINVAL;
		if (r < 0) {
			b->err = r;
			return;
		}
		pb_put(b, "/", 1);
		pb_put(b, p, l);
	}
	if (rel)
		return;
	d = fs_node_dataset(n);
	if (!d) {
		b->err = -EIO;
		return;
	}
	r = snprintf(v, sizeof(v), "@v%u/", n->ver);
	pb_put(b, v, (size_t)r);
	pb_put(b, d->name, d->namelen);
}

/* n's path, or (rel) the part of it below its version. */
static int node_path(struct idx_txn *t, const struct fs_node *n, int rel, char *buf, size_t cap)
{
	struct pb b = { .buf = buf, .pos = cap, .err = 0 };
	const struct fs_node *prev = NULL, *c;

	if (cap == 0)
		return -ENAMETOOLONG;
	pb_put(&b, "", 1);
	for (c = n; c && c->kind != FS_ROOT && !b.err; prev = c, c = c->up) {
		if (rel && c->kind == FS_VERSION)
			break;
		if (prev)
			pb_put(&b, prev->kind == FS_VERSION ? "@" : "/", 1);
		pb_put(&b, c->name, c->namelen);
		if (c->kind == FS_FILE && (c->flags & FS_NF_SRC)) {
			pb_src(&b, t, c, rel);
			break;
		}
	}
	if (b.err)
		return b.err;
	memmove(buf, buf + b.pos, cap - b.pos);
	return (int)(cap - b.pos - 1);
}

int fs_node_path(struct idx_txn *t, const struct fs_node *n, char *buf, size_t cap)
{
	return node_path(t, n, 0, buf, cap);
}

int fs_node_rel(struct idx_txn *t, const struct fs_node *n, char *buf, size_t cap)
{
	return node_path(t, n, 1, buf, cap);
}

int fs_node_dirrel(struct idx_txn *t, const struct fs_node *n, char *buf, size_t cap)
{
	int r = fs_node_rel(t, n, buf, cap);
	size_t dl;

	if (r < 0)
		return r;
	dl = cm_dirname_len(buf, (size_t)r);
	buf[dl] = '\0';
	return (int)dl;
}

/* ---- the table ----------------------------------------------------------- */

int fs_tab_init(struct fs *fs)
{
	fs->tabsize = 1024;
	fs->count = 0;
	fs->tab = calloc(fs->tabsize, sizeof(*fs->tab));
	if (!fs->tab)
		return -ENOMEM;
	pthread_mutex_init(&fs->lock, NULL);
	pthread_mutex_init(&fs->cur_lock, NULL);
	return 0;
}

static int node_is_dir(const struct fs_node *n)
{
	return n->kind == FS_VERSION || n->kind == FS_DIR || n->kind == FS_VIEW ||
	       n->kind == FS_VDIR;
}

static void node_free(struct fs_node *n)
{
	if (node_is_dir(n))
		free(n->u.d.cur);
	free(n);
}

void fs_tab_free(struct fs *fs)
{
	if (!fs->tab)
		return;
	for (size_t i = 0; i < fs->tabsize; i++) {
		struct fs_node *n = fs->tab[i], *next;

		for (; n; n = next) {
			next = n->next;
			node_free(n);
		}
	}
	free(fs->tab);
	fs->tab = NULL;
	pthread_mutex_destroy(&fs->lock);
	pthread_mutex_destroy(&fs->cur_lock);
}

/* The trimmer's CLOCK (trim.c): a node named by a request is in use. */
static void mark_hot(struct fs_node *n)
{
	if (!__atomic_load_n(&n->hot, __ATOMIC_RELAXED))
		__atomic_store_n(&n->hot, 1, __ATOMIC_RELAXED);
}

struct fs_node *fs_node_of(struct fs *fs, fuse_ino_t ino)
{
	struct fs_node *n = ino == FUSE_ROOT_ID ? fs->root : (struct fs_node *)(uintptr_t)ino;

	mark_hot(n);
	return n;
}

/* A node just looked up, and the directories above it: a directory whose
 * entries are being looked up is not to be dropped with its subtree.  n is
 * referenced, so its chain of ups is alive. */
static void mark_chain_hot(struct fs_node *n)
{
	for (; n; n = n->up)
		mark_hot(n);
}

/* Called with fs->lock held.  Failure to grow only costs longer chains. */
static void tab_grow(struct fs *fs)
{
	size_t nsize = fs->tabsize * 2;
	struct fs_node **nt = calloc(nsize, sizeof(*nt));

	if (!nt)
		return;
	for (size_t i = 0; i < fs->tabsize; i++) {
		struct fs_node *n = fs->tab[i], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = nt[n->hash & (nsize - 1)];
			nt[n->hash & (nsize - 1)] = n;
		}
	}
	free(fs->tab);
	fs->tab = nt;
	fs->tabsize = nsize;
}

/* FILE nodes whose entry needs more than the common fields, or whose
 * directory is not their parent node, carry a struct fs_fext. */
static unsigned file_flags(const struct fs_tmpl *tm, const struct fs_node *up)
{
	unsigned fl = 0;

	if (tm->kind != FS_FILE)
		return 0;
	if (tm->e.codec != IDX_CODEC_RAW || tm->e.stored != tm->e.size)
		fl |= FS_NF_EXT;
	if ((up->kind != FS_VERSION && up->kind != FS_DIR) || up->u.d.dir_id != tm->pdir)
		fl |= FS_NF_EXT | FS_NF_SRC;
	return fl;
}

static void node_fill(struct fs_node *n, const struct fs_tmpl *tm)
{
	switch (tm->kind) {
	case FS_FILE:
		n->mode = tm->e.mode;
		n->codec = tm->e.codec;
		n->u.f.eid = tm->e.eid;
		n->u.f.size = tm->e.size;
		n->u.f.shard = tm->e.shard;
		n->u.f.offset = tm->e.offset;
		n->u.f.mtime = tm->e.mtime;
		if (n->flags & FS_NF_EXT) {
			struct fs_fext *x = fs_node_fext(n);

			x->pdir = tm->pdir;
			x->stored = tm->e.stored;
			x->zhdr = tm->e.zhdr;
			x->zchunk = tm->e.zchunk;
			x->nchunks = tm->e.nchunks;
		}
		break;
	case FS_VERSION:
	case FS_DIR:
		n->u.d.dir_id = tm->e.dir_id;
		n->u.d.mtime = tm->kind == FS_VERSION ? tm->vtime : tm->e.mtime;
		n->u.d.nsubdirs = tm->e.nsubdirs;
		n->u.d.nfiles = tm->e.nfiles;
		break;
	case FS_VIEW:
	case FS_VDIR:
		n->u.d.dir_id = tm->e.dir_id;
		n->u.d.mtime = tm->vtime;
		n->u.d.vsrc = tm->vsrc;
		break;
	case FS_LINK:
		n->u.l.vtime = tm->vtime;
		break;
	default:
		break;
	}
}

/* One allocation: the node, its name and, for some files, a fext. */
static struct fs_node *node_new(const struct fs_tmpl *tm, struct fs_node *up, uint32_t hash,
				const char *name, size_t namelen)
{
	unsigned fl;
	size_t sz;
	struct fs_node *n;

	if (namelen > IDX_NAME_MAX)
		return NULL;
	fl = file_flags(tm, up);
	sz = offsetof(struct fs_node, name) + namelen + 1;
	if (fl & FS_NF_EXT)
		sz = ((sz + 7) & ~(size_t)7) + sizeof(struct fs_fext);
	n = malloc(sz);
	if (!n)
		return NULL;
	memset(n, 0, offsetof(struct fs_node, name));
	n->up = up;
	n->hash = hash;
	n->nlookup = 1;
	n->kind = tm->kind;
	n->flags = (uint8_t)fl;
	n->ds = tm->ds;
	n->ver = tm->ver;
	n->namelen = (uint8_t)namelen;
	memcpy(n->name, name, namelen);
	n->name[namelen] = '\0';
	node_fill(n, tm);
	assert(fs_node_ino(n) == tm->ino && fs_node_pdir(n) == tm->pdir);
	return n;
}

static struct fs_node *tab_find(struct fs *fs, const struct fs_tmpl *tm, uint32_t h,
				const char *name, size_t namelen)
{
	struct fs_node *n;

	for (n = fs->tab[h & (fs->tabsize - 1)]; n; n = n->next)
		if (n->hash == h && key_eq(n, tm, name, namelen))
			return n;
	return NULL;
}

struct fs_node *fs_node_get(struct fs *fs, const struct fs_tmpl *tmpl, struct fs_node *up,
			    const char *name, size_t namelen)
{
	uint32_t h = key_hash(tmpl->kind, tmpl->ds, tmpl->ver, tmpl->pdir, name, namelen);
	struct fs_node *n, *fresh;
	int over;

	pthread_mutex_lock(&fs->lock);
	n = tab_find(fs, tmpl, h, name, namelen);
	if (n) {
		n->nlookup++;
		pthread_mutex_unlock(&fs->lock);
		mark_chain_hot(n);
		return n;
	}
	pthread_mutex_unlock(&fs->lock);

	/* Allocate outside the lock; another thread may have raced us in. */
	fresh = node_new(tmpl, up, h, name, namelen);
	if (!fresh)
		return NULL;
	pthread_mutex_lock(&fs->lock);
	n = tab_find(fs, tmpl, h, name, namelen);
	if (n) {
		n->nlookup++;
		pthread_mutex_unlock(&fs->lock);
		node_free(fresh);
		mark_chain_hot(n);
		return n;
	}
	if (fs->count >= fs->tabsize)
		tab_grow(fs);
	fresh->next = fs->tab[h & (fs->tabsize - 1)];
	fs->tab[h & (fs->tabsize - 1)] = fresh;
	if (++fs->count > fs->peak)
		fs->peak = fs->count;
	over = fs->max_nodes && fs->count > fs_trim_mark(fs->max_nodes);
	up->nref++;
	pthread_mutex_unlock(&fs->lock);
	mark_chain_hot(fresh);
	if (over)
		fs_trim_kick(fs);
	return fresh;
}

/* Called with fs->lock held, for a node nobody references any more: take
 * it out of the table and return its parent's reference to drop. */
static struct fs_node *tab_remove(struct fs *fs, struct fs_node *n)
{
	struct fs_node **pp;

	for (pp = &fs->tab[n->hash & (fs->tabsize - 1)]; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			fs->count--;
			break;
		}
	}
	return n->up;
}

/* A node lives while the kernel knows it or a child hangs under it: a
 * parent the kernel forgot still names its children's directory. */
void fs_node_forget(struct fs *fs, struct fs_node *n, uint64_t nlookup)
{
	struct fs_node *dead = NULL, *up;

	if (n == fs->root)
		return;
	pthread_mutex_lock(&fs->lock);
	n->nlookup = n->nlookup > nlookup ? n->nlookup - nlookup : 0;
	while (n != fs->root && n->nlookup == 0 && n->nref == 0) {
		up = tab_remove(fs, n);
		n->next = dead; /* freed outside the lock */
		dead = n;
		n = up;
		n->nref--;
	}
	pthread_mutex_unlock(&fs->lock);
	for (; dead; dead = n) {
		n = dead->next;
		node_free(dead);
	}
}

void fs_node_dynamic_release(struct fs *fs, struct fs_dyn *v, size_t count)
{
	for (size_t i = 0; i < count; i++)
		fs_node_forget(fs, fs_node_of(fs, v[i].ino), 1);
	free(v);
}

struct fs_dyn *fs_node_dynamic(struct fs *fs, size_t *count)
{
	struct fs_dyn *v = NULL, *nv;
	size_t n = 0, cap = 0;

	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; i < fs->tabsize; i++) {
		for (struct fs_node *p = fs->tab[i]; p; p = p->next) {
			if (p->kind != FS_DATASET && p->kind != FS_LINK && p->kind != FS_VIEW)
				continue;
			if (!p->nlookup)
				continue; /* not the kernel's: only kept for its children */
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv)
					goto out;
				v = nv;
			}
			p->nlookup++; /* pinned: see fs_node_all */
			v[n].kind = p->kind;
			v[n].ds = p->ds;
			v[n].ino = (fuse_ino_t)(uintptr_t)p;
			memcpy(v[n].name, p->name, p->namelen + 1);
			n++;
		}
	}
out:
	pthread_mutex_unlock(&fs->lock);
	*count = n;
	return v;
}

void fs_node_all_release(struct fs *fs, struct fs_nref *v, size_t count)
{
	for (size_t i = 0; i < count; i++)
		fs_node_forget(fs, fs_node_of(fs, v[i].ino), 1);
	free(v);
}

struct fs_nref *fs_node_all(struct fs *fs, size_t *count)
{
	struct fs_nref *v;
	size_t n = 0;

	pthread_mutex_lock(&fs->lock);
	/* Sized once: the table cannot grow while the lock is held. */
	v = malloc((fs->count ? fs->count : 1) * sizeof(*v));
	for (size_t i = 0; v && i < fs->tabsize; i++) {
		for (struct fs_node *p = fs->tab[i]; p; p = p->next) {
			if (!p->nlookup)
				continue; /* not the kernel's */
			/* Pinned until fs_node_all_release: while the caller
			 * notifies without the lock, a FORGET must not free
			 * the node and let its address name another.  Its
			 * parent lives as long as it does, and its name. */
			p->nlookup++;
			v[n].kind = p->kind;
			v[n].ino = (fuse_ino_t)(uintptr_t)p;
			v[n].parent = fs_nodeid(fs, p->up);
			v[n].name = p->name;
			n++;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	*count = n;
	return v;
}
