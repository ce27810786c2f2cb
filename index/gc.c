/* index/gc.c - `sievefs gc`: delete what no shard record references under
 * STORE/shards (shards of failed or killed packs, their .tmp-* files) and
 * STORE/dicts.  It holds STORE/shards locked exclusively, so a pack that is
 * still writing (shared lock) is never collected from under it.  Shards
 * ingested in place live outside STORE/shards and are never looked at. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strset.h"
#include "index/pack.h"
#include "index/store_int.h"
#include "index/zcodec.h"

struct refs {
	struct cm_strset names; /* "shards/NAME" and "dicts/NAME" in use */
};

static int ref_add(struct refs *x, const char *s)
{
	struct cm_strset_ent *e;
	int r = cm_strset_add(&x->names, s, strlen(s), &e);

	return r < 0 ? r : 0;
}

static int collect_refs(struct idx_store *s, struct refs *x)
{
	const char *dir = idx_store_dir(s);
	size_t dl = strlen(dir);
	struct idx_txn *t;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r = idx_txn_begin(s, 0, &t);

	if (r < 0)
		return r;
	rc = mdb_cursor_open(t->txn, s->dbi[DB_SHARDS], &c);
	if (rc) {
		idx_txn_abort(t);
		return idx_mdb_err(rc);
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && r == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct idx_shard sh;
		char dict[64];
		if (k.mv_size != 8 || idx_shard_get(t, cm_get_be64(k.mv_data), &sh) < 0)
			continue;
		if (!strncmp(sh.path, "shards/", 7)) {
			r = ref_add(x, sh.path);
		} else if (!strncmp(sh.path, dir, dl) && !strncmp(sh.path + dl, "/shards/", 8)) {
			/* A tar ingested in place that happens to live in shards/. */
			r = ref_add(x, sh.path + dl + 1);
		}
		if (r == 0 && sh.dict_id) {
			snprintf(dict, sizeof(dict), "dicts/%016" PRIx64 ".dict", sh.dict_id);
			r = ref_add(x, dict);
		}
	}
	mdb_cursor_close(c);
	idx_txn_abort(t);
	if (r == 0 && rc && rc != MDB_NOTFOUND)
		r = idx_mdb_err(rc);
	return r;
}

/* Remove unreferenced regular files in STORE/sub. */
static int sweep(struct idx_store *s, struct refs *x, const char *sub, int dry_run, uint64_t *files,
		 uint64_t *bytes, char *err, size_t errlen)
{
	char dir[4096], rel[512], path[4096 + 512];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", idx_store_dir(s), sub);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(rel, sizeof(rel), "%s/%s", sub, de->d_name) >= sizeof(rel))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
		    cm_strset_get(&x->names, rel, strlen(rel)))
			continue;
		if (!dry_run && unlink(path) < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			closedir(d);
			return -errno;
		}
		printf("%s %s\n", dry_run ? "would remove" : "removed", rel);
		(*files)++;
		*bytes += (uint64_t)st.st_size;
	}
	closedir(d);
	return 0;
}

int idx_gc(struct idx_store *s, int dry_run, uint64_t *files, uint64_t *bytes, char *err,
	   size_t errlen)
{
	struct refs x;
	char dir[4096];
	int fd, r;

	*files = *bytes = 0;
	snprintf(dir, sizeof(dir), "%s/shards", idx_store_dir(s));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(err, errlen, "%s: %s", dir,
			 r == -EBUSY
				 ? "a pack or ingest --pack is running; try again when it is done"
				 : strerror(-r));
		close(fd);
		return r;
	}
	cm_strset_init(&x.names);
	r = collect_refs(s, &x);
	if (r < 0)
		snprintf(err, errlen, "reading the index: %s", idx_strerror(r));
	if (r == 0)
		r = sweep(s, &x, "shards", dry_run, files, bytes, err, errlen);
	if (r == 0)
		r = sweep(s, &x, "dicts", dry_run, files, bytes, err, errlen);
	cm_strset_free(&x.names);
	close(fd);
	return r;
}
