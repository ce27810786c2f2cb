/* tests/fuzz/fuzz_json.c - libFuzzer target for the flat JSON object parser
 * used for .json sidecars and JSONL label files. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "index/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cb(const char *k, size_t kn, const char *v, size_t vn, char type, void *ctx)
{
	if (memchr(k, 0, kn) || (v && memchr(v, 0, vn)))
		__builtin_trap();
	(*(size_t *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why;
	size_t pos, n = 0;

	if (idx_json_flat((const char *)data, size, cb, &n, &why, &pos) == -22 && pos > size)
		__builtin_trap();
	return 0;
}
