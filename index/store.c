/* index/store.c - opening a store, transactions, and the small tables:
 * datasets, versions, tags, shards.  Entries live in entry.c, writes in
 * commit.c, attributes in attrs.c. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "index/store_int.h"

static const char *const db_names[DB_COUNT] = {
	"meta", "datasets", "dsid", "versions", "tags", "entries", "dirs",
	"dirinfo", "samples", "changes", "shards", "shardpath", "attrs", "attrhash", "frames",
	"views", "vtree", "sparse",
};

#define MAP_SIZE_DEFAULT ((size_t)1 << 40) /* 1 TiB of address space, sparse */

int idx_mdb_err(int rc)
{
	switch (rc) {
	case 0: return 0;
	case MDB_NOTFOUND: return -ENOENT;
	case MDB_KEYEXIST: return -EEXIST;
	case MDB_MAP_FULL: return -EDQUOT; /* the map size is the index's quota */
	case MDB_TXN_FULL: return -E2BIG;
	case MDB_READERS_FULL: return -EAGAIN;
	case MDB_CORRUPTED: case MDB_INVALID: case MDB_PAGE_NOTFOUND:
	case MDB_VERSION_MISMATCH: return -EBADMSG;
	case MDB_BAD_VALSIZE: return -ENAMETOOLONG;
	case MDB_MAP_RESIZED: return -EAGAIN;
	default: return rc > 0 ? -rc : -EIO;
	}
}

const char *idx_strerror(int err)
{
	switch (err) {
	case -EDQUOT:
		return "index map is full: raise it with SIEVEFS_MAP_SIZE (e.g. SIEVEFS_MAP_SIZE=4T)";
	case -E2BIG:
		return "one commit is too large for the index: commit the data in smaller parts";
	case -ENOSPC: return "no space left on the device holding the store";
	case -EBADMSG: return "index is corrupt or not a sievefs index";
	case -EAGAIN: return "too many readers on the index; try again";
	case -ENAMETOOLONG: return "name too long for the index";
	case -EMEDIUMTYPE: return "not a sievefs store (no index.mdb)";
	case -EPROTO: return "store was written by a newer sievefs";
	default: return strerror(-err);
	}
}

static size_t map_size(void)
{
	const char *e = getenv("SIEVEFS_MAP_SIZE");
	uint64_t v;

	if (e && cm_parse_size(e, &v) == 0 && v >= (1 << 20) && v <= SIZE_MAX)
		return (size_t)v;
	return MAP_SIZE_DEFAULT;
}

static int env_open(struct idx_store *s, const char *dir, unsigned flags)
{
	char path[PATH_MAX];
	unsigned mflags = MDB_NOSUBDIR | MDB_NOTLS;
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/index.mdb", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	if (flags & IDX_RDONLY)
		mflags |= MDB_RDONLY;
	rc = mdb_env_create(&s->env);
	if (!rc)
		rc = mdb_env_set_maxdbs(s->env, DB_COUNT + 2);
	if (!rc)
		rc = mdb_env_set_maxreaders(s->env, 1024);
	if (!rc)
		rc = mdb_env_set_mapsize(s->env, map_size());
	if (!rc)
		rc = mdb_env_open(s->env, path, mflags, 0644);
	return idx_mdb_err(rc);
}

static int dbs_open(struct idx_store *s, int create)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, create ? 0 : MDB_RDONLY, &txn);

	for (int i = 0; !rc && i < DB_COUNT; i++) {
		unsigned f = create ? MDB_CREATE : 0;
		if (i == DB_SHARDPATH || i == DB_ATTRHASH)
			f |= MDB_DUPSORT;
		/* Tables added after format 1 are created on the first writable
		 * open; a read-only open of an older store goes without. */
		if (i >= DB_FRAMES && !(s->flags & IDX_RDONLY))
			f |= MDB_CREATE;
		rc = mdb_dbi_open(txn, db_names[i], f, &s->dbi[i]);
		if (rc == MDB_NOTFOUND && i >= DB_FRAMES) {
			s->missing |= 1u << i;
			rc = 0;
		}
	}
	if (rc) {
		mdb_txn_abort(txn);
		return rc == MDB_NOTFOUND ? -EMEDIUMTYPE : idx_mdb_err(rc);
	}
	return idx_mdb_err(mdb_txn_commit(txn));
}

void idx_store_close(struct idx_store *s)
{
	if (!s)
		return;
	if (s->env)
		mdb_env_close(s->env);
	free(s->dir);
	free(s);
}

static int check_format(struct idx_store *s)
{
	struct idx_txn *t;
	MDB_val v;
	int r = idx_txn_begin(s, 0, &t);

	if (r < 0)
		return r;
	r = idx_get(t, DB_META, "format", 6, &v);
	if (r == 0 && (v.mv_size != 8 || cm_get_be64(v.mv_data) > IDX_FORMAT))
		r = v.mv_size != 8 ? -EBADMSG : -EPROTO;
	else if (r == -ENOENT)
		r = -EMEDIUMTYPE;
	idx_txn_abort(t);
	return r;
}

int idx_store_open(struct idx_store **out, const char *dir, unsigned flags)
{
	struct idx_store *s;
	char path[PATH_MAX];
	struct stat st;
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/index.mdb", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? -EMEDIUMTYPE : -errno;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->flags = flags;
	s->dir = realpath(dir, NULL);
	r = s->dir ? env_open(s, dir, flags) : -errno;
	if (r == 0)
		r = dbs_open(s, 0);
	if (r == 0)
		r = check_format(s);
	if (r == 0 && !(flags & IDX_RDONLY))
		r = idx_attr_names_backfill(s);
	if (r < 0) {
		idx_store_close(s);
		return r;
	}
	*out = s;
	return 0;
}

int idx_store_init(const char *dir)
{
	struct idx_store s = { 0 };
	char sub[PATH_MAX];
	unsigned char v[8];
	struct idx_txn *t;
	struct stat st;
	int r;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(sub, sizeof(sub), "%s/index.mdb", dir) >= sizeof(sub))
		return -ENAMETOOLONG;
	if (stat(sub, &st) == 0)
		return -EEXIST;
	if ((size_t)snprintf(sub, sizeof(sub), "%s/shards", dir) >= sizeof(sub))
		return -ENAMETOOLONG;
	if (mkdir(sub, 0755) < 0 && errno != EEXIST)
		return -errno;
	r = env_open(&s, dir, 0);
	if (r == 0)
		r = dbs_open(&s, 1);
	if (r == 0)
		r = idx_txn_begin(&s, 1, &t);
	if (r == 0) {
		cm_be64(v, IDX_FORMAT);
		r = idx_put(t, DB_META, "format", 6, v, 8);
		if (r == 0)
			r = idx_put(t, DB_META, "attrnames", 9, "", 0);
		if (r == 0)
			r = idx_txn_commit(t);
		else
			idx_txn_abort(t);
	}
	if (s.env)
		mdb_env_close(s.env);
	return r;
}

const char *idx_store_dir(const struct idx_store *s)
{
	return s->dir;
}

uint64_t idx_store_index_size(struct idx_store *s)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/index.mdb", s->dir);
	return stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

uint64_t idx_store_generation(struct idx_store *s)
{
	MDB_envinfo info;

	if (mdb_env_info(s->env, &info) != 0)
		return 0;
	return (uint64_t)info.me_last_txnid;
}

/* LMDB does not say where it mapped the file (me_mapaddr is only set with
 * MDB_FIXEDMAP): find the mapping of its inode in /proc/self/maps. */
static int map_find(struct idx_store *s, uintptr_t *lo, uintptr_t *hi)
{
	char line[1024];
	struct stat st;
	FILE *f;
	int fd, rc = -ENOENT;

	if (mdb_env_get_fd(s->env, &fd) != 0 || fstat(fd, &st) != 0)
		return -EIO;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -errno;
	while (rc == -ENOENT && fgets(line, sizeof(line), f)) {
		unsigned long a, b, ino;
		unsigned maj, min;

		if (sscanf(line, "%lx-%lx %*s %*x %x:%x %lu", &a, &b, &maj, &min, &ino) == 5 &&
		    ino == (unsigned long)st.st_ino && strstr(line, "/index.mdb\n")) {
			*lo = a;
			*hi = b;
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

int idx_store_unmap_pages(struct idx_store *s)
{
	MDB_envinfo info;
	MDB_stat st;
	uintptr_t lo, hi;
	size_t len;
	int rc;

	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
		return -EIO;
	rc = map_find(s, &lo, &hi);
	if (rc < 0)
		return rc;
	/* Only the part in use: the rest of the map was never touched. */
	len = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
	if (len > hi - lo)
		len = hi - lo;
	if (madvise((void *)lo, len, MADV_DONTNEED) != 0)
		return -errno;
	return 0;
}

/* ---- transactions ---- */

int idx_txn_begin(struct idx_store *s, int write, struct idx_txn **out)
{
	struct idx_txn *t;
	int rc;

	if (write && (s->flags & IDX_RDONLY))
		return -EROFS;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->s = s;
	t->write = write;
	cm_buf_init(&t->kb, 4096);
	rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	if (rc) {
		free(t);
		return idx_mdb_err(rc);
	}
	*out = t;
	return 0;
}

static void txn_free(struct idx_txn *t)
{
	cm_buf_free(&t->kb);
	free(t);
}

int idx_txn_commit(struct idx_txn *t)
{
	int r = t->outer ? idx_txn_unnest(t, 1) : 0;

	if (r == 0)
		r = idx_mdb_err(mdb_txn_commit(t->txn));
	else
		mdb_txn_abort(t->txn);
	txn_free(t);
	return r;
}

void idx_txn_abort(struct idx_txn *t)
{
	if (!t)
		return;
	/* Aborting the outer txn aborts the one nested in it. */
	mdb_txn_abort(t->outer ? t->outer : t->txn);
	txn_free(t);
}

int idx_txn_nest(struct idx_txn *t)
{
	MDB_txn *child;
	int rc;

	if (t->outer || !t->write)
		return -EINVAL;
	rc = mdb_txn_begin(t->s->env, t->txn, 0, &child);
	if (rc)
		return idx_mdb_err(rc);
	t->outer = t->txn;
	t->txn = child;
	return 0;
}

int idx_txn_unnest(struct idx_txn *t, int keep)
{
	int rc = 0;

	if (!t->outer)
		return -EINVAL;
	if (keep)
		rc = mdb_txn_commit(t->txn);
	else
		mdb_txn_abort(t->txn);
	t->txn = t->outer;
	t->outer = NULL;
	return idx_mdb_err(rc);
}

void idx_txn_reset(struct idx_txn *t)
{
	mdb_txn_reset(t->txn);
}

int idx_txn_renew(struct idx_txn *t)
{
	return idx_mdb_err(mdb_txn_renew(t->txn));
}

/* ---- raw access ---- */

int idx_get(struct idx_txn *t, int db, const void *k, size_t kn, MDB_val *v)
{
	MDB_val key = { kn, (void *)k };

	if (t->s->missing & (1u << db))
		return -ENOENT;
	return idx_mdb_err(mdb_get(t->txn, t->s->dbi[db], &key, v));
}

int idx_put(struct idx_txn *t, int db, const void *k, size_t kn, const void *v, size_t vn)
{
	MDB_val key = { kn, (void *)k }, val = { vn, (void *)v };

	return idx_mdb_err(mdb_put(t->txn, t->s->dbi[db], &key, &val, 0));
}

int idx_put_new(struct idx_txn *t, int db, const void *k, size_t kn, const void *v, size_t vn,
		int append, MDB_val *old)
{
	MDB_val key = { kn, (void *)k }, val = { vn, (void *)v };
	int rc = MDB_KEYEXIST;

	if (append)
		rc = mdb_put(t->txn, t->s->dbi[db], &key, &val, MDB_APPEND);
	if (rc == MDB_KEYEXIST) {
		/* not after the last key: an ordinary insert */
		val.mv_size = vn;
		val.mv_data = (void *)v;
		rc = mdb_put(t->txn, t->s->dbi[db], &key, &val, MDB_NOOVERWRITE);
		if (rc == MDB_KEYEXIST) {
			*old = val;
			return 1;
		}
	}
	return idx_mdb_err(rc);
}

int idx_put_tail(struct idx_txn *t, int db, const void *k, size_t kn, const void *v, size_t vn)
{
	MDB_val key = { kn, (void *)k }, val = { vn, (void *)v };
	int rc = mdb_put(t->txn, t->s->dbi[db], &key, &val, MDB_APPEND);

	if (rc == MDB_KEYEXIST)
		return idx_put(t, db, k, kn, v, vn);
	return idx_mdb_err(rc);
}

int idx_del(struct idx_txn *t, int db, const void *k, size_t kn)
{
	MDB_val key = { kn, (void *)k };
	int r = idx_mdb_err(mdb_del(t->txn, t->s->dbi[db], &key, NULL));

	return r == -ENOENT ? 0 : r;
}

int idx_meta_next(struct idx_txn *t, const char *counter, uint64_t *out)
{
	unsigned char b[8];
	uint64_t v = 1;
	MDB_val val;
	int r = idx_get(t, DB_META, counter, strlen(counter), &val);

	if (r == 0 && val.mv_size == 8)
		v = cm_get_be64(val.mv_data);
	else if (r < 0 && r != -ENOENT)
		return r;
	cm_be64(b, v + 1);
	r = idx_put(t, DB_META, counter, strlen(counter), b, 8);
	if (r == 0)
		*out = v;
	return r;
}

/* ---- datasets ---- */

static int ds_decode(const MDB_val *v, const char *name, struct idx_dataset *d)
{
	if (v->mv_size < 16)
		return -EBADMSG;
	d->id = cm_get_be32(v->mv_data);
	d->head = cm_get_be32((unsigned char *)v->mv_data + 4);
	d->created = cm_get_be64((unsigned char *)v->mv_data + 8);
	d->name = name;
	return 0;
}

int idx_dataset_get(struct idx_txn *t, const char *name, struct idx_dataset *out)
{
	MDB_val key = { strlen(name), (void *)name }, v;
	int r = idx_mdb_err(mdb_get(t->txn, t->s->dbi[DB_DATASETS], &key, &v));

	if (r == 0)
		r = ds_decode(&v, key.mv_data, out);
	return r;
}

/* A stored name: NUL-terminated, non-empty, at most IDX_NAME_MAX (a corrupt
 * record must not be read past its end). */
static int stored_name_ok(const MDB_val *v)
{
	const char *p = v->mv_data;

	return v->mv_size >= 2 && v->mv_size <= IDX_NAME_MAX + 1 && p[v->mv_size - 1] == 0;
}

int idx_dataset_get_id(struct idx_txn *t, uint32_t id, struct idx_dataset *out)
{
	unsigned char k[4];
	MDB_val v;
	int r;

	cm_be32(k, id);
	r = idx_get(t, DB_DSID, k, 4, &v);
	if (r < 0)
		return r;
	/* Names are stored NUL-terminated so they can be lent out as strings. */
	if (!stored_name_ok(&v))
		return -EBADMSG;
	return idx_dataset_get(t, v.mv_data, out);
}

int idx_dataset_foreach(struct idx_txn *t,
			int (*cb)(const struct idx_dataset *d, void *ctx), void *ctx)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r = 0;

	rc = mdb_cursor_open(t->txn, t->s->dbi[DB_DATASETS], &c);
	if (rc)
		return idx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && r == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct idx_dataset d;
		/* Dataset keys carry no NUL; dsid holds the NUL-terminated copy. */
		unsigned char idk[4];
		MDB_val nv;
		if (ds_decode(&v, NULL, &d) < 0)
			continue;
		cm_be32(idk, d.id);
		if (idx_get(t, DB_DSID, idk, 4, &nv) < 0 || !stored_name_ok(&nv))
			continue;
		d.name = nv.mv_data;
		r = cb(&d, ctx);
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return idx_mdb_err(rc);
	return r;
}

static int name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > IDX_NAME_MAX || n[0] == '.' || n[0] == '-')
		return 0;
	for (const char *p = n; *p; p++)
		if (*p == '/' || *p == '@' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int is_vname(const char *n)
{
	if (n[0] != 'v' || !n[1])
		return 0;
	for (n++; *n; n++)
		if (*n < '0' || *n > '9')
			return 0;
	return 1;
}

int idx_dataset_name_ok(const char *name)
{
	return name_ok(name);
}

int idx_tag_name_ok(const char *name)
{
	return name_ok(name) && !is_vname(name) && strcmp(name, "latest") != 0;
}

/* ---- versions ---- */

int idx_version_get(struct idx_txn *t, uint32_t ds, uint32_t ver, struct idx_version *out)
{
	unsigned char k[8];
	const unsigned char *p;
	struct cm_cur c;
	struct idx_version x;
	size_t n;
	MDB_val v;
	int r;

	cm_be32(k, ds);
	cm_be32(k + 4, ver);
	r = idx_get(t, DB_VERSIONS, k, 8, &v);
	if (r < 0)
		return r;
	cm_cur_init(&c, v.mv_data, v.mv_size);
	x.ver = ver;
	x.parent = (uint32_t)cm_cur_varint(&c);
	x.time = (int64_t)cm_cur_varint(&c);
	x.uid = (uint32_t)cm_cur_varint(&c);
	n = cm_cur_bytes(&c, &p);
	x.user = (const char *)p;
	if (!c.err && (n == 0 || p[n - 1]))
		return -EBADMSG;
	n = cm_cur_bytes(&c, &p);
	x.message = (const char *)p;
	if (!c.err && (n == 0 || p[n - 1]))
		return -EBADMSG;
	x.samples = cm_cur_varint(&c);
	x.members = cm_cur_varint(&c);
	x.bytes = cm_cur_varint(&c);
	x.added = cm_cur_varint(&c);
	x.removed = cm_cur_varint(&c);
	x.changed = cm_cur_varint(&c);
	if (c.err)
		return -EBADMSG;
	*out = x;
	return 0;
}

int idx_version_resolve(struct idx_txn *t, const struct idx_dataset *d, const char *spec,
			uint32_t *ver)
{
	uint64_t v;

	if (!spec || !*spec || !strcmp(spec, "latest")) {
		if (!d->head)
			return -ENOENT;
		*ver = d->head;
		return 0;
	}
	if (is_vname(spec)) {
		if (cm_parse_u64(spec + 1, &v) < 0 || v == 0 || v > d->head)
			return -ENOENT;
		*ver = (uint32_t)v;
		return 0;
	}
	return idx_tag_get(t, d->id, spec, ver);
}

/* ---- tags ---- */

static void tag_key(struct cm_buf *b, uint32_t ds, const char *name)
{
	cm_buf_reset(b);
	cm_buf_put_be32(b, ds);
	cm_buf_put(b, name, strlen(name));
}

int idx_tag_get(struct idx_txn *t, uint32_t ds, const char *name, uint32_t *ver)
{
	MDB_val v;
	int r;

	tag_key(&t->kb, ds, name);
	if (t->kb.err)
		return t->kb.err;
	r = idx_get(t, DB_TAGS, t->kb.p, t->kb.len, &v);
	if (r == 0 && v.mv_size != 4)
		r = -EBADMSG;
	if (r == 0)
		*ver = cm_get_be32(v.mv_data);
	return r;
}

int idx_tag_set(struct idx_txn *t, uint32_t ds, const char *name, uint32_t ver)
{
	unsigned char v[4];

	if (!idx_tag_name_ok(name))
		return -EINVAL;
	tag_key(&t->kb, ds, name);
	cm_be32(v, ver);
	return t->kb.err ? t->kb.err : idx_put(t, DB_TAGS, t->kb.p, t->kb.len, v, 4);
}

int idx_tag_del(struct idx_txn *t, uint32_t ds, const char *name)
{
	MDB_val v;
	int r;

	tag_key(&t->kb, ds, name);
	if (t->kb.err)
		return t->kb.err;
	r = idx_get(t, DB_TAGS, t->kb.p, t->kb.len, &v);
	return r < 0 ? r : idx_del(t, DB_TAGS, t->kb.p, t->kb.len);
}

int idx_scan(struct idx_txn *t, int db, const void *pre, size_t plen, const void *from,
	     size_t fromlen, int (*cb)(const MDB_val *k, const MDB_val *v, void *ctx), void *ctx)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r = 0;

	if (t->s->missing & (1u << db))
		return 0;
	rc = mdb_cursor_open(t->txn, t->s->dbi[db], &c);
	if (rc)
		return idx_mdb_err(rc);
	k.mv_data = (void *)(from ? from : pre);
	k.mv_size = from ? fromlen : plen;
	rc = k.mv_size ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)
		       : mdb_cursor_get(c, &k, &v, MDB_FIRST);
	for (; rc == 0 && r == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || (plen && memcmp(k.mv_data, pre, plen) != 0))
			break;
		if (k.mv_size > plen)
			r = cb(&k, &v, ctx);
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return idx_mdb_err(rc);
	return r;
}

/* A key's part after its prefix, NUL-terminated in buf (IDX_NAME_MAX + 1
 * bytes); NULL if longer than a name may be. */
const char *idx_key_name(const MDB_val *k, size_t plen, char *buf)
{
	size_t n = k->mv_size - plen;

	if (n > IDX_NAME_MAX)
		return NULL;
	memcpy(buf, (const char *)k->mv_data + plen, n);
	buf[n] = 0;
	return buf;
}

struct tag_scan {
	int (*cb)(const char *name, uint32_t ver, void *ctx);
	void *ctx;
};

static int tag_scan_cb(const MDB_val *k, const MDB_val *v, void *ctx)
{
	struct tag_scan *x = ctx;
	char buf[IDX_NAME_MAX + 1];
	const char *name = idx_key_name(k, 4, buf);

	if (v->mv_size != 4 || !name)
		return 0;
	return x->cb(name, cm_get_be32(v->mv_data), x->ctx);
}

int idx_tag_foreach(struct idx_txn *t, uint32_t ds,
		    int (*cb)(const char *name, uint32_t ver, void *ctx), void *ctx)
{
	struct tag_scan x = { cb, ctx };
	unsigned char pre[4];

	cm_be32(pre, ds);
	return idx_scan(t, DB_TAGS, pre, 4, NULL, 0, tag_scan_cb, &x);
}

/* ---- shards ---- */

int idx_shard_get(struct idx_txn *t, uint64_t id, struct idx_shard *out)
{
	unsigned char k[8];
	const unsigned char *p;
	struct cm_cur c;
	struct idx_shard x;
	size_t n;
	MDB_val v;
	int r;

	cm_be64(k, id);
	r = idx_get(t, DB_SHARDS, k, 8, &v);
	if (r < 0)
		return r;
	cm_cur_init(&c, v.mv_data, v.mv_size);
	x.id = id;
	x.kind = cm_cur_u8(&c);
	n = cm_cur_bytes(&c, &p);
	x.path = (const char *)p;
	x.size = cm_cur_varint(&c);
	x.mtime_ns = (int64_t)cm_cur_varint(&c);
	x.dict_id = cm_cur_varint(&c);
	if (c.err || n == 0 || p[n - 1])
		return -EBADMSG;
	*out = x;
	return 0;
}
