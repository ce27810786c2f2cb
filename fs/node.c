/* fs/node.c - the node table: one struct fs_node per (kind, dataset,
 * version, parent dir, name) the kernel holds a reference to, so that the
 * same path always has the same nodeid, and a node lives exactly as long as
 * the kernel's lookup count says (the nlookup/forget protocol). */
#include "config.h"

#include <errno.h>
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

static uint64_t key_hash(const struct fs_node *n, const char *name, size_t len)
{
	uint64_t k = n->kind == FS_FILE ? FS_DIR : n->kind; /* one namespace per dir */

	return fs_ino_mix(k, (uint64_t)n->ds << 32 | n->ver, n->pdir, cm_xxh64(name, len, 0));
}

/* a: a node in the table; b: a template with the key fields set. */
static int key_eq(const struct fs_node *a, const struct fs_node *b, const char *name,
		  size_t len)
{
	int ka = a->kind == FS_FILE ? FS_DIR : a->kind;
	int kb = b->kind == FS_FILE ? FS_DIR : b->kind;

	return ka == kb && a->ds == b->ds && a->ver == b->ver && a->pdir == b->pdir &&
	       a->namelen == len && !memcmp(a->path + a->nameoff, name, len);
}

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

static void node_free(struct fs_node *n)
{
	free(n->cur);
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

struct fs_node *fs_node_of(struct fs *fs, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? fs->root : (struct fs_node *)(uintptr_t)ino;
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

static struct fs_node *node_new(const struct fs_node *tmpl, uint64_t hash,
				const char *dirpath, char sep, const char *name,
				size_t namelen)
{
	size_t dlen = dirpath ? strlen(dirpath) : 0;
	size_t plen = dlen + (dlen ? 1 : 0) + namelen;
	struct fs_node *n;

	if (plen > CM_PATH_MAX + 2 * IDX_NAME_MAX || namelen > IDX_NAME_MAX)
		return NULL;
	n = malloc(sizeof(*n) + plen + 1);
	if (!n)
		return NULL;
	*n = *tmpl;
	n->next = NULL;
	n->hash = hash;
	n->nlookup = 1;
	n->cur = NULL;
	n->curnext = 0;
	if (dlen) {
		memcpy(n->path, dirpath, dlen);
		n->path[dlen] = sep;
		dlen++;
	}
	memcpy(n->path + dlen, name, namelen);
	n->path[plen] = '\0';
	n->nameoff = (uint16_t)dlen;
	n->namelen = (uint16_t)namelen;
	return n;
}

struct fs_node *fs_node_get(struct fs *fs, const struct fs_node *tmpl, const char *dirpath,
			    char sep, const char *name, size_t namelen)
{
	uint64_t h = key_hash(tmpl, name, namelen);
	struct fs_node *n, *fresh;

	pthread_mutex_lock(&fs->lock);
	for (n = fs->tab[h & (fs->tabsize - 1)]; n; n = n->next) {
		if (n->hash == h && key_eq(n, tmpl, name, namelen)) {
			n->nlookup++;
			pthread_mutex_unlock(&fs->lock);
			return n;
		}
	}
	pthread_mutex_unlock(&fs->lock);

	/* Allocate outside the lock; another thread may have raced us in. */
	fresh = node_new(tmpl, h, dirpath, sep, name, namelen);
	if (!fresh)
		return NULL;
	pthread_mutex_lock(&fs->lock);
	for (n = fs->tab[h & (fs->tabsize - 1)]; n; n = n->next) {
		if (n->hash == h && key_eq(n, fresh, name, namelen)) {
			n->nlookup++;
			pthread_mutex_unlock(&fs->lock);
			node_free(fresh);
			return n;
		}
	}
	if (fs->count >= fs->tabsize)
		tab_grow(fs);
	fresh->next = fs->tab[h & (fs->tabsize - 1)];
	fs->tab[h & (fs->tabsize - 1)] = fresh;
	fs->count++;
	pthread_mutex_unlock(&fs->lock);
	return fresh;
}

void fs_node_forget(struct fs *fs, struct fs_node *n, uint64_t nlookup)
{
	struct fs_node **pp;

	if (n == fs->root)
		return;
	pthread_mutex_lock(&fs->lock);
	if (n->nlookup > nlookup) {
		n->nlookup -= nlookup;
		pthread_mutex_unlock(&fs->lock);
		return;
	}
	for (pp = &fs->tab[n->hash & (fs->tabsize - 1)]; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			fs->count--;
			break;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	node_free(n);
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
			memcpy(v[n].name, p->path + p->nameoff, p->namelen);
			v[n].name[p->namelen] = '\0';
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

struct idk {
	fuse_ino_t ino;
	int dir;
};

static int ino_cmp(const void *a, const void *b)
{
	fuse_ino_t x = ((const struct idk *)a)->ino, y = ((const struct idk *)b)->ino;

	return x < y ? -1 : x > y;
}

struct fs_nref *fs_node_all(struct fs *fs, size_t *count)
{
	struct fs_nref *v = NULL, *nv;
	size_t n = 0, cap = 0;

	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; i < fs->tabsize; i++) {
		for (struct fs_node *p = fs->tab[i]; p; p = p->next) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv)
					goto out;
				v = nv;
			}
			/* Pinned until fs_node_all_release: while the caller
			 * notifies without the lock, a FORGET must not free
			 * the node and let its address name another. */
			p->nlookup++;
			v[n].kind = p->kind;
			v[n].ino = (fuse_ino_t)(uintptr_t)p;
			v[n].parent = p->parent;
			memcpy(v[n].name, p->path + p->nameoff, p->namelen);
			v[n].name[p->namelen] = '\0';
			n++;
		}
	}
out:
	pthread_mutex_unlock(&fs->lock);
	/* A parent that is not a directory in the table any more was freed:
	 * its address may be another node's by now, so it names nothing to
	 * invalidate. */
	if (n) {
		struct idk *ids = malloc(n * sizeof(*ids)), key, *hit;

		for (size_t i = 0; ids && i < n; i++) {
			ids[i].ino = v[i].ino;
			ids[i].dir = v[i].kind != FS_FILE && v[i].kind != FS_LINK;
		}
		if (ids)
			qsort(ids, n, sizeof(*ids), ino_cmp);
		for (size_t i = 0; i < n; i++) {
			if (!v[i].parent || v[i].parent == FUSE_ROOT_ID)
				continue;
			key.ino = v[i].parent;
			hit = ids ? bsearch(&key, ids, n, sizeof(*ids), ino_cmp) : NULL;
			if (!hit || !hit->dir)
				v[i].parent = 0;
		}
		free(ids);
	}
	*count = n;
	return v;
}
