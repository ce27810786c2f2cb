/* index/zcodec.c - zstd frames of packed members: hostile-proof decoding with
 * per-thread contexts, one-frame encoding, dictionaries (load, train, save).
 * zstd error codes become -EIO plus a reason here, at the module edge. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZSTD_STATIC_LINKING_ONLY  /* ZSTD_getFrameHeader */
#define ZDICT_STATIC_LINKING_ONLY /* fastCover parameters */
#include <zdict.h>
#include <zstd.h>

#include "common/util.h"
#include "index/zcodec.h"

#define DICT_MAX ((size_t)4 << 20)
/* fastCover segment sizes tried while training (ZDICT_trainFromBuffer: 4). */
#define TRAIN_STEPS 8

struct idx_zdict {
	uint64_t id;
	void *buf; /* owned dictionary bytes */
	size_t len;
	ZSTD_DDict *dd;
	ZSTD_CDict *cd; /* NULL unless loaded with a level */
};

struct idx_zenc {
	ZSTD_CCtx *cc;
};

size_t idx_z_bound(size_t n)
{
	return ZSTD_compressBound(n);
}

/* ---- per-thread decompression contexts ---- */

static pthread_key_t dctx_key;
static pthread_once_t dctx_once = PTHREAD_ONCE_INIT;

static void dctx_free(void *p)
{
	ZSTD_freeDCtx(p);
}

static void dctx_key_init(void)
{
	pthread_key_create(&dctx_key, dctx_free);
}

static ZSTD_DCtx *dctx_get(void)
{
	ZSTD_DCtx *d;

	pthread_once(&dctx_once, dctx_key_init);
	d = pthread_getspecific(dctx_key);
	if (d)
		return d;
	d = ZSTD_createDCtx();
	if (!d)
		return NULL;
	ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, IDX_Z_WINDOW_LOG_MAX);
	if (pthread_setspecific(dctx_key, d) != 0) {
		ZSTD_freeDCtx(d);
		return NULL;
	}
	return d;
}

/* The frame header must describe what the index says this frame holds. */
static int check_header(const void *src, size_t srcn, size_t dstn, const struct idx_zdict *d,
			char *why, size_t whylen)
{
	ZSTD_frameHeader fh;
	size_t r = ZSTD_getFrameHeader(&fh, src, srcn);
	size_t csize;

	if (ZSTD_isError(r) || r > 0) {
		snprintf(why, whylen, "%s",
			 ZSTD_isError(r) ? "not a zstd frame" : "truncated frame header");
		return -EIO;
	}
	if (fh.frameType != ZSTD_frame) {
		snprintf(why, whylen, "skippable frame where data was expected");
		return -EIO;
	}
	if (fh.windowSize > ((uint64_t)1 << IDX_Z_WINDOW_LOG_MAX)) {
		snprintf(why, whylen, "frame window of %llu bytes exceeds the %u MiB limit",
			 fh.windowSize, 1u << (IDX_Z_WINDOW_LOG_MAX - 20));
		return -EIO;
	}
	if (fh.frameContentSize == ZSTD_CONTENTSIZE_UNKNOWN) {
		snprintf(why, whylen, "frame does not record its size (the index says %zu)", dstn);
		return -EIO;
	}
	if (fh.frameContentSize != dstn) {
		snprintf(why, whylen, "frame claims %llu bytes, the index says %zu",
			 fh.frameContentSize, dstn);
		return -EIO;
	}
	if (fh.dictID && (!d || fh.dictID != d->id)) {
		snprintf(why, whylen, "frame needs dictionary %016x, the shard has %s", fh.dictID,
			 d ? "another" : "none");
		return -EIO;
	}
	csize = ZSTD_findFrameCompressedSize(src, srcn);
	if (ZSTD_isError(csize) || csize != srcn) {
		snprintf(why, whylen, "%s",
			 ZSTD_isError(csize) ? "truncated frame" : "stray bytes after the frame");
		return -EIO;
	}
	return 0;
}

int idx_z_decode(const void *src, size_t srcn, void *dst, size_t dstn, const struct idx_zdict *d,
		 char *why, size_t whylen)
{
	ZSTD_DCtx *dc;
	size_t r;

	if (check_header(src, srcn, dstn, d, why, whylen) < 0)
		return -EIO;
	dc = dctx_get();
	if (!dc) {
		snprintf(why, whylen, "out of memory for a decompression context");
		return -ENOMEM;
	}
	if (d)
		r = ZSTD_decompress_usingDDict(dc, dst, dstn, src, srcn, d->dd);
	else
		r = ZSTD_decompressDCtx(dc, dst, dstn, src, srcn);
	if (ZSTD_isError(r)) {
		snprintf(why, whylen, "zstd: %s", ZSTD_getErrorName(r));
		return -EIO;
	}
	if (r != dstn) {
		snprintf(why, whylen, "frame decoded to %zu bytes, the index says %zu", r, dstn);
		return -EIO;
	}
	return 0;
}

/* ---- dictionaries ---- */

int idx_zdict_path(const char *store_dir, uint64_t id, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/dicts/%016" PRIx64 ".dict", store_dir, id);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int idx_zdict_from(const void *p, size_t n, int level, struct idx_zdict **out, uint64_t *id)
{
	struct idx_zdict *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->id = ZSTD_getDictID_fromDict(p, n);
	d->buf = malloc(n ? n : 1);
	if (!d->buf || d->id == 0) {
		int r = d->buf ? -EINVAL : -ENOMEM;
		idx_zdict_free(d);
		return r;
	}
	memcpy(d->buf, p, n);
	d->len = n;
	d->dd = ZSTD_createDDict(d->buf, n);
	if (level > 0)
		d->cd = ZSTD_createCDict(d->buf, n, level);
	if (!d->dd || (level > 0 && !d->cd)) {
		idx_zdict_free(d);
		return -ENOMEM;
	}
	if (id)
		*id = d->id;
	*out = d;
	return 0;
}

int idx_zdict_load(const char *store_dir, uint64_t id, int level, struct idx_zdict **out)
{
	char path[4096];
	struct stat st;
	void *buf = NULL;
	uint64_t got;
	int fd, r;

	r = idx_zdict_path(store_dir, id, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fstat(fd, &st) < 0 ? -errno : 0;
	if (r == 0 && (st.st_size <= 8 || (size_t)st.st_size > DICT_MAX))
		r = -EINVAL;
	if (r == 0 && !(buf = malloc((size_t)st.st_size)))
		r = -ENOMEM;
	if (r == 0 && pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		r = -EIO;
	close(fd);
	if (r == 0)
		r = idx_zdict_from(buf, (size_t)st.st_size, level, out, &got);
	free(buf);
	if (r == 0 && got != id) {
		idx_zdict_free(*out);
		r = -EINVAL;
	}
	return r;
}

uint64_t idx_zdict_id(const struct idx_zdict *d)
{
	return d ? d->id : 0;
}

void idx_zdict_free(struct idx_zdict *d)
{
	if (!d)
		return;
	ZSTD_freeDDict(d->dd);
	ZSTD_freeCDict(d->cd);
	free(d->buf);
	free(d);
}

int idx_zdict_save(const struct idx_zdict *d, const char *store_dir)
{
	char path[4096], tmp[4096 + 16];
	int fd, r;

	r = idx_zdict_path(store_dir, d->id, path, sizeof(path));
	if (r < 0)
		return r;
	snprintf(tmp, sizeof(tmp), "%s/dicts", store_dir);
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	r = cm_write_all(fd, d->buf, d->len);
	if (r == 0 && fchmod(fd, 0644) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int idx_zdict_train(const void *buf, const size_t *lens, size_t n, size_t cap, int level,
		    struct idx_zdict **out, char *why, size_t whylen)
{
	ZDICT_fastCover_params_t fp;
	void *dict = malloc(cap);
	size_t got;
	int r;

	if (!dict)
		return -ENOMEM;
	if (n > UINT32_MAX)
		n = UINT32_MAX;
	/* zstd's defaults (d 8, f 20) over twice the segment sizes, judged at
	 * level 3 (cheap); then the chosen segment size trained once more with
	 * entropy tables fitted at the level the frames will use.  On 20,000
	 * small JSON records at level 19: frames 5% smaller than with
	 * ZDICT_trainFromBuffer, for 2-3 s more training (10 s on 16 MB of
	 * text); judging every candidate at level 19 costs 10x that. */
	memset(&fp, 0, sizeof(fp));
	fp.d = 8;
	fp.f = 20;
	fp.accel = 1;
	fp.steps = TRAIN_STEPS;
	fp.nbThreads = 2;
	got = ZDICT_optimizeTrainFromBuffer_fastCover(dict, cap, buf, lens, (unsigned)n, &fp);
	if (!ZDICT_isError(got) && level > 3) {
		void *again = malloc(cap);
		size_t k;
		fp.steps = 1;
		fp.splitPoint = 1.0;
		fp.zParams.compressionLevel = level;
		k = again ? ZDICT_trainFromBuffer_fastCover(again, cap, buf, lens, (unsigned)n, fp)
			  : 0;
		if (again && !ZDICT_isError(k)) { /* else keep the first one */
			free(dict);
			dict = again;
			got = k;
			again = NULL;
		}
		free(again);
	}
	if (ZDICT_isError(got)) {
		snprintf(why, whylen, "%s", ZDICT_getErrorName(got));
		free(dict);
		return -EINVAL;
	}
	r = idx_zdict_from(dict, got, level, out, NULL);
	if (r < 0)
		snprintf(why, whylen, "unusable dictionary (%s)", strerror(-r));
	free(dict);
	return r;
}

/* ---- encoding ---- */

int idx_zenc_open(struct idx_zenc **out, int level, const struct idx_zdict *d)
{
	struct idx_zenc *z = calloc(1, sizeof(*z));
	size_t e = 0;

	if (!z || !(z->cc = ZSTD_createCCtx())) {
		free(z);
		return -ENOMEM;
	}
	e |= ZSTD_CCtx_setParameter(z->cc, ZSTD_c_compressionLevel, level);
	e |= ZSTD_CCtx_setParameter(z->cc, ZSTD_c_checksumFlag, 1);
	e |= ZSTD_CCtx_setParameter(z->cc, ZSTD_c_contentSizeFlag, 1);
	/* The shard record names the dictionary; 4 bytes a frame is 3% of a
	 * small member.  A wrong dictionary still fails the frame checksum. */
	e |= ZSTD_CCtx_setParameter(z->cc, ZSTD_c_dictIDFlag, 0);
	if (d && d->cd) {
		/* Reference the dictionary's tables, never copy them: copying a
		 * level-19 table set per small frame costs more than compressing. */
		e |= ZSTD_CCtx_setParameter(z->cc, ZSTD_c_forceAttachDict, ZSTD_dictForceAttach);
		e |= ZSTD_CCtx_refCDict(z->cc, d->cd);
	}
	if (ZSTD_isError(e)) {
		idx_zenc_close(z);
		return -EINVAL;
	}
	*out = z;
	return 0;
}

void idx_zenc_close(struct idx_zenc *z)
{
	if (!z)
		return;
	ZSTD_freeCCtx(z->cc);
	free(z);
}

ssize_t idx_zenc_frame(struct idx_zenc *z, const void *src, size_t n, void *dst, size_t cap)
{
	size_t r = ZSTD_compress2(z->cc, dst, cap, src, n);

	return ZSTD_isError(r) ? -EIO : (ssize_t)r;
}
