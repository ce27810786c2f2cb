/* cli/log.c - `sievefs log STORE DATASET [--json]`: versions, newest first. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/util.h"

struct tagl {
	uint32_t ver;
	char out[1024];
	size_t len;
};

static int tag_cb(const char *name, uint32_t ver, void *ctx)
{
	struct tagl *t = ctx;

	if (ver == t->ver && t->len + strlen(name) + 3 < sizeof(t->out))
		t->len += (size_t)snprintf(t->out + t->len, sizeof(t->out) - t->len, "%s%s",
					   t->len ? ", " : "", name);
	return 0;
}

int cli_log(int argc, char **argv)
{
	int json = cli_take_flag(&argc, argv, NULL, "--json");
	struct cli_ref ref;
	struct idx_store *s;
	struct idx_txn *t;
	int r = 1;

	if (cli_unknown_opt(argc, argv, "log"))
		return 2;
	if (argc != 3)
		return cli_misuse("log", "expected STORE DATASET");
	s = cli_store_open(argv[1], IDX_RDONLY);
	if (!s)
		return 1;
	cli_ref_parse(&ref, argv[2]);
	if (idx_txn_begin(s, 0, &t) < 0)
		goto out;
	if (cli_ref_resolve(&ref, t, argv[1]))
		goto abort;
	if (json)
		printf("[");
	for (uint32_t v = ref.d.head; v >= 1; v--) {
		struct idx_version x;
		struct tagl tl = { .ver = v };
		char ts[32], sz[32];
		if (idx_version_get(t, ref.d.id, v, &x) < 0)
			continue;
		idx_tag_foreach(t, ref.d.id, tag_cb, &tl);
		cm_fmt_time(x.time, ts, sizeof(ts));
		if (json) {
			printf("%s\n {\"version\": %u, \"parent\": %u, \"time\": %" PRId64
			       ", \"uid\": %u, \"user\": ",
			       v == ref.d.head ? "" : ",", v, x.parent, x.time, x.uid);
			cm_json_str(stdout, x.user, strlen(x.user));
			printf(", \"message\": ");
			cm_json_str(stdout, x.message, strlen(x.message));
			printf(", \"samples\": %" PRIu64 ", \"members\": %" PRIu64 ", \"bytes\": %" PRIu64
			       ", \"added\": %" PRIu64 ", \"removed\": %" PRIu64 ", \"changed\": %" PRIu64
			       ", \"tags\": [",
			       x.samples, x.members, x.bytes, x.added, x.removed, x.changed);
			/* tl.out is "a, b": re-emit as JSON strings. */
			for (char *p = tl.out, *e; tl.len && p; p = e ? e + 2 : NULL) {
				e = strstr(p, ", ");
				cm_json_str(stdout, p, e ? (size_t)(e - p) : strlen(p));
				if (e)
					putchar(',');
			}
			printf("]}");
			continue;
		}
		printf("v%-4u %s UTC  %-10s %8" PRIu64 " samples (+%" PRIu64 " -%" PRIu64
		       " ~%" PRIu64 ") %8" PRIu64 " files %10s  %s%s%s%s\n",
		       v, ts, x.user, x.samples, x.added, x.removed, x.changed, x.members,
		       cm_fmt_size(x.bytes, sz, sizeof(sz)), x.message, tl.len ? "  [" : "",
		       tl.out, tl.len ? "]" : "");
	}
	if (json)
		printf("\n]\n");
	r = 0;
abort:
	idx_txn_abort(t);
out:
	cli_ref_free(&ref);
	idx_store_close(s);
	return r;
}
