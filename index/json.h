/* index/json.h - a small parser for flat JSON objects: `.json` sidecar
 * members and JSONL label files.  Values are handed out as text: strings
 * unescaped (\uXXXX to UTF-8), numbers and booleans verbatim, nested objects
 * and arrays as their raw JSON text; null as val == NULL (removal). */
#ifndef SIEVEFS_INDEX_JSON_H
#define SIEVEFS_INDEX_JSON_H

#include <stddef.h>

typedef int (*idx_json_cb)(const char *key, size_t kn, const char *val, size_t vn,
			   char type, void *ctx);

/* Parse one object from p[0..n).  Returns 0, a non-zero value from cb, or
 * -EINVAL with *err set to a static reason and *errpos to the byte offset. */
int idx_json_flat(const char *p, size_t n, idx_json_cb cb, void *ctx, const char **err,
		  size_t *errpos);

#endif
