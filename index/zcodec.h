/* index/zcodec.h - zstd frames of packed members, index/ only.
 *
 * Decoding treats every frame as hostile: the caller says how many bytes the
 * frame must produce (from the index), and a frame that claims or yields
 * anything else, needs a window above IDX_Z_WINDOW_LOG_MAX, names another
 * dictionary, is truncated, carries trailing bytes or fails its checksum is
 * refused with a reason.  Output never exceeds the caller's buffer, so memory
 * stays bounded whatever the frame says.  Each thread decodes with its own
 * reused context.
 *
 * No zstd type crosses this header; dictionaries and encoders are opaque. */
#ifndef SIEVEFS_INDEX_ZCODEC_H
#define SIEVEFS_INDEX_ZCODEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IDX_Z_WINDOW_LOG_MAX 24 /* 16 MiB */
#define IDX_Z_CHUNK_MAX ((size_t)1 << IDX_Z_WINDOW_LOG_MAX)
#define IDX_Z_CHUNK_DEFAULT ((size_t)1 << 20)

struct idx_zdict;
struct idx_zenc;

/* Largest compressed size of n input bytes. */
size_t idx_z_bound(size_t n);

/* Decode the single frame src[0..srcn) into exactly dstn bytes at dst.  d is
 * the shard's dictionary or NULL.  0, or -EIO with a reason in why. */
int idx_z_decode(const void *src, size_t srcn, void *dst, size_t dstn, const struct idx_zdict *d,
		 char *why, size_t whylen);

/* STORE/dicts/<id as 16 hex digits>.dict; written by idx_zdict_save. */
int idx_zdict_path(const char *store_dir, uint64_t id, char *out, size_t outlen);
/* Load dictionary id for decoding and (level > 0) encoding at level. */
int idx_zdict_load(const char *store_dir, uint64_t id, int level, struct idx_zdict **out);
/* Wrap dictionary bytes (copied); *id receives the dictionary's id. */
int idx_zdict_from(const void *p, size_t n, int level, struct idx_zdict **out, uint64_t *id);
uint64_t idx_zdict_id(const struct idx_zdict *d);
void idx_zdict_free(struct idx_zdict *d); /* accepts NULL */
/* Write the dictionary to its path (temporary name, fsync, rename). */
int idx_zdict_save(const struct idx_zdict *d, const char *store_dir);
/* Train from n samples laid end to end in buf (sizes in lens), at most cap
 * bytes of dictionary, tuned for frames compressed at level.  -EINVAL when
 * zstd cannot train on them. */
int idx_zdict_train(const void *buf, const size_t *lens, size_t n, size_t cap, int level,
		    struct idx_zdict **out, char *why, size_t whylen);

/* An encoder: one frame per call, content size and checksum in each frame. */
int idx_zenc_open(struct idx_zenc **out, int level, const struct idx_zdict *d);
void idx_zenc_close(struct idx_zenc *z); /* accepts NULL */
/* Compress src into dst (cap >= idx_z_bound(n)); returns bytes or -EIO. */
ssize_t idx_zenc_frame(struct idx_zenc *z, const void *src, size_t n, void *dst, size_t cap);

#endif
