/* cli/view.c - `sievefs view add|rm|ls|show`: named, materialized views
 * (sievefs-view(5)).  A view is checked completely and materialized in one
 * write transaction: a bad spec or a failure changes nothing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/util.h"
#include "index/view.h"
#include "policy/view.h"

#define SPEC_MAX (1 << 20)

static int read_spec(const char *file, char **out, size_t *len)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	char *buf;
	ssize_t n;
	size_t got = 0;

	if (fd < 0)
		return -errno;
	if (!(buf = malloc(SPEC_MAX + 1))) {
		close(fd);
		return -ENOMEM;
	}
	while ((n = read(fd, buf + got, SPEC_MAX + 1 - got)) > 0 && got + (size_t)n <= SPEC_MAX)
		got += (size_t)n;
	close(fd);
	if (n < 0 || got + (size_t)(n > 0 ? n : 0) > SPEC_MAX) {
		int e = n < 0 ? -errno : -EFBIG;
		free(buf);
		return e;
	}
	buf[got] = 0;
	*out = buf;
	*len = got;
	return 0;
}

static void print_split(const struct pol_view *v, const struct cli_vstats *st)
{
	for (size_t i = 0; i < v->nsplits; i++)
		printf("  %-12s %10" PRIu64 " samples (%.1f%%)\n", v->split_names[i],
		       st->split_samples[i],
		       st->samples ? 100.0 * (double)st->split_samples[i] / (double)st->samples : 0);
}

static int view_add(int argc, char **argv)
{
	int replace = cli_take_flag(&argc, argv, NULL, "--replace");
	struct pol_error err = { { 0 } };
	struct pol_view *v = NULL;
	struct idx_store *s = NULL;
	struct idx_txn *t = NULL;
	struct idx_dataset d;
	struct idx_view old;
	struct cli_vstats st;
	char *spec = NULL, sz[32];
	size_t len = 0;
	uint32_t ver, tv;
	int r, ret = 1;

	if (cli_unknown_opt(argc, argv, "view"))
		return 2;
	if (argc != 4)
		return cli_misuse("view", "expected view add STORE SPEC.yaml");
	if ((r = read_spec(argv[3], &spec, &len)) < 0)
		return cli_fail("%s: %s", argv[3], r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
	if (pol_view_parse(&v, argv[3], spec, len, &err) < 0) {
		fprintf(stderr, "sievefs: %s\n", err.msg);
		goto out;
	}
	if (!(s = cli_store_open(argv[2], 0)))
		goto out;
	if ((r = idx_txn_begin(s, 1, &t)) < 0) {
		cli_fail("%s: %s", argv[2], idx_strerror(r));
		goto out;
	}
	if (idx_dataset_get(t, v->dataset, &d) < 0) {
		cli_fail("%s: dataset '%s' is not in %s", argv[3], v->dataset, argv[2]);
		goto out;
	}
	if (idx_version_resolve(t, &d, v->version, &ver) < 0) {
		cli_fail("%s: dataset '%s' has no version or tag '%s' (versions v1..v%u)", argv[3],
			 v->dataset, v->version, d.head);
		goto out;
	}
	if (idx_tag_get(t, d.id, v->name, &tv) == 0) {
		cli_fail("%s: '%s' is already a tag of %s (views and tags share one namespace)",
			 argv[3], v->name, v->dataset);
		goto out;
	}
	if (!replace && idx_view_get(t, d.id, v->name, strlen(v->name), &old) == 0) {
		cli_fail("%s: dataset '%s' already has a view '%s' (use --replace, or view rm)",
			 argv[3], v->dataset, v->name);
		goto out;
	}
	r = cli_view_build(t, d.id, ver, v, spec, len, &st);
	if (r == 0)
		r = idx_txn_commit(t);
	else
		idx_txn_abort(t);
	t = NULL;
	if (r < 0) {
		cli_fail("%s: view %s not added: %s (the store is unchanged)", argv[3], v->name,
			 idx_strerror(r));
		goto out;
	}
	printf("view %s/%s on v%u%s: %" PRIu64 " samples, %" PRIu64 " files, %s\n", v->dataset,
	       v->name, ver, strcmp(v->version, "latest") ? "" : " (follows latest)", st.samples,
	       st.files, cm_fmt_size(st.bytes, sz, sizeof(sz)));
	print_split(v, &st);
	if (st.unplaced)
		printf("  %" PRIu64 " samples left out: no usable '%s' attribute for the layout\n",
		       st.unplaced, v->layout_by);
	fflush(stdout);
	for (const char *a = st.unseen; *a; a += strlen(a) + 1)
		fprintf(stderr, "sievefs: warning: %s: no sample of %s v%u has the attribute '%s'\n",
			argv[3], v->dataset, ver, a);
	if (!st.samples)
		fprintf(stderr, "sievefs: warning: view %s selects no sample\n", v->name);
	ret = 0;
out:
	idx_txn_abort(t);
	idx_store_close(s);
	pol_view_free(v);
	free(spec);
	return ret;
}

/* ---- finding a view by [DATASET/]NAME --------------------------------------- */

struct vfind {
	struct idx_txn *t;
	const char *name;
	uint32_t ds;
	char dsname[IDX_NAME_MAX + 1];
	int found;
};

static int vfind_ds(const struct idx_dataset *d, void *ctx)
{
	struct vfind *f = ctx;
	struct idx_view v;

	if (idx_view_get(f->t, d->id, f->name, strlen(f->name), &v) == 0) {
		if (f->found++)
			return 0;
		f->ds = d->id;
		snprintf(f->dsname, sizeof(f->dsname), "%s", d->name);
	}
	return 0;
}

/* Resolve spec to (dataset id, name); prints the error and returns 1. */
static int find_view(struct idx_txn *t, const char *store, const char *spec, struct vfind *f)
{
	const char *slash = strchr(spec, '/');
	struct idx_dataset d;

	memset(f, 0, sizeof(*f));
	f->t = t;
	if (slash) {
		snprintf(f->dsname, sizeof(f->dsname), "%.*s", (int)(slash - spec), spec);
		f->name = slash + 1;
		if (idx_dataset_get(t, f->dsname, &d) < 0)
			return cli_fail("%s: no dataset '%s'", store, f->dsname);
		f->ds = d.id;
		f->found = idx_view_get(t, d.id, f->name, strlen(f->name), &(struct idx_view){ 0 }) == 0;
	} else {
		f->name = spec;
		idx_dataset_foreach(t, vfind_ds, f);
		if (f->found > 1)
			return cli_fail("view name '%s' is used in several datasets; say DATASET/%s",
					spec, spec);
	}
	if (!f->found)
		return cli_fail("%s: no view '%s'", store, spec);
	return 0;
}

static int view_rm(int argc, char **argv)
{
	struct idx_store *s;
	struct idx_txn *t;
	struct vfind f;
	int r;

	if (cli_unknown_opt(argc, argv, "view"))
		return 2;
	if (argc != 4)
		return cli_misuse("view", "expected view rm STORE [DATASET/]NAME");
	if (!(s = cli_store_open(argv[2], 0)))
		return 1;
	if ((r = idx_txn_begin(s, 1, &t)) < 0) {
		idx_store_close(s);
		return cli_fail("%s: %s", argv[2], idx_strerror(r));
	}
	if (find_view(t, argv[2], argv[3], &f)) {
		idx_txn_abort(t);
		idx_store_close(s);
		return 1;
	}
	r = idx_view_del(t, f.ds, f.name);
	if (r == 0)
		r = idx_txn_commit(t);
	else
		idx_txn_abort(t);
	idx_store_close(s);
	if (r < 0)
		return cli_fail("%s: view %s not removed: %s", argv[2], argv[3], idx_strerror(r));
	printf("view %s/%s removed\n", f.dsname, f.name);
	return 0;
}

/* ---- listing ------------------------------------------------------------------ */

struct vls {
	struct idx_txn *t;
	const char *dsname;
	int json, first;
	unsigned count;
};

static void when(int64_t tm, char *buf, size_t n)
{
	time_t tt = (time_t)tm;
	struct tm tmv;

	strftime(buf, n, "%Y-%m-%d %H:%M", localtime_r(&tt, &tmv));
}

static int vls_view(const struct idx_view *v, void *ctx)
{
	struct vls *x = ctx;
	char sz[32], tm[32], full[2 * IDX_NAME_MAX + 2];

	x->count++;
	if (x->json) {
		printf("%s{\"dataset\": ", x->first ? "" : ", ");
		cm_json_str(stdout, x->dsname, strlen(x->dsname));
		printf(", \"name\": ");
		cm_json_str(stdout, v->name, strlen(v->name));
		printf(", \"version\": ");
		cm_json_str(stdout, v->version, strlen(v->version));
		printf(", \"materialized_at\": %u, \"samples\": %" PRIu64 ", \"files\": %" PRIu64
		       ", \"bytes\": %" PRIu64 ", \"time\": %" PRId64 ", \"user\": ",
		       v->ver, v->samples, v->files, v->bytes, v->time);
		cm_json_str(stdout, v->user, strlen(v->user));
		printf("}");
		x->first = 0;
		return 0;
	}
	when(v->time, tm, sizeof(tm));
	snprintf(full, sizeof(full), "%s/%s", x->dsname, v->name);
	printf("%-28s %-10s v%-6u %10" PRIu64 " %10" PRIu64 " %10s  %s %s\n", full,
	       v->version, v->ver, v->samples, v->files, cm_fmt_size(v->bytes, sz, sizeof(sz)), tm,
	       v->user);
	return 0;
}

static int vls_ds(const struct idx_dataset *d, void *ctx)
{
	struct vls *x = ctx;

	x->dsname = d->name;
	return idx_view_foreach(x->t, d->id, vls_view, x);
}

static int view_ls(int argc, char **argv)
{
	struct vls x = { .first = 1 };
	struct idx_store *s;
	struct idx_dataset d;
	int r;

	x.json = cli_take_flag(&argc, argv, NULL, "--json");
	if (cli_unknown_opt(argc, argv, "view"))
		return 2;
	if (argc != 3 && argc != 4)
		return cli_misuse("view", "expected view ls STORE [DATASET] [--json]");
	if (!(s = cli_store_open(argv[2], IDX_RDONLY)))
		return 1;
	if ((r = idx_txn_begin(s, 0, &x.t)) < 0) {
		idx_store_close(s);
		return cli_fail("%s: %s", argv[2], idx_strerror(r));
	}
	if (x.json)
		printf("[");
	else
		printf("%-28s %-10s %-7s %10s %10s %10s  %s\n", "VIEW", "VERSION", "AT", "SAMPLES",
		       "FILES", "BYTES", "MATERIALIZED");
	if (argc == 4) {
		if (idx_dataset_get(x.t, argv[3], &d) < 0) {
			idx_txn_abort(x.t);
			idx_store_close(s);
			return cli_fail("%s: no dataset '%s'", argv[2], argv[3]);
		}
		vls_ds(&d, &x);
	} else {
		idx_dataset_foreach(x.t, vls_ds, &x);
	}
	if (x.json)
		printf("]\n");
	idx_txn_abort(x.t);
	idx_store_close(s);
	return 0;
}

static int view_show(int argc, char **argv)
{
	int json = cli_take_flag(&argc, argv, NULL, "--json");
	struct idx_store *s;
	struct idx_txn *t;
	struct idx_view v;
	struct vfind f;
	char sz[32], tm[32];
	int r;

	if (cli_unknown_opt(argc, argv, "view"))
		return 2;
	if (argc != 4)
		return cli_misuse("view", "expected view show STORE [DATASET/]NAME [--json]");
	if (!(s = cli_store_open(argv[2], IDX_RDONLY)))
		return 1;
	if ((r = idx_txn_begin(s, 0, &t)) < 0) {
		idx_store_close(s);
		return cli_fail("%s: %s", argv[2], idx_strerror(r));
	}
	if (find_view(t, argv[2], argv[3], &f) || idx_view_get(t, f.ds, f.name, strlen(f.name), &v) < 0) {
		idx_txn_abort(t);
		idx_store_close(s);
		return 1;
	}
	if (json) {
		printf("{\"dataset\": ");
		cm_json_str(stdout, f.dsname, strlen(f.dsname));
		printf(", \"name\": ");
		cm_json_str(stdout, f.name, strlen(f.name));
		printf(", \"version\": ");
		cm_json_str(stdout, v.version, strlen(v.version));
		printf(", \"materialized_at\": %u, \"samples\": %" PRIu64 ", \"files\": %" PRIu64
		       ", \"bytes\": %" PRIu64 ", \"time\": %" PRId64 ", \"user\": ",
		       v.ver, v.samples, v.files, v.bytes, v.time);
		cm_json_str(stdout, v.user, strlen(v.user));
		printf(", \"spec\": ");
		cm_json_str(stdout, v.spec, v.speclen);
		printf("}\n");
	} else {
		when(v.time, tm, sizeof(tm));
		printf("view %s/%s: %s -> v%u, materialized %s by %s\n", f.dsname, f.name,
		       v.version, v.ver, tm, v.user);
		printf("%" PRIu64 " samples, %" PRIu64 " files, %s\n", v.samples, v.files,
		       cm_fmt_size(v.bytes, sz, sizeof(sz)));
		printf("--- spec ---\n%.*s%s", (int)v.speclen, v.spec,
		       v.speclen && v.spec[v.speclen - 1] == '\n' ? "" : "\n");
	}
	idx_txn_abort(t);
	idx_store_close(s);
	return 0;
}

int cli_view(int argc, char **argv)
{
	if (argc < 2)
		return cli_misuse("view", "expected add, rm, ls or show");
	if (!strcmp(argv[1], "add"))
		return view_add(argc, argv);
	if (!strcmp(argv[1], "rm"))
		return view_rm(argc, argv);
	if (!strcmp(argv[1], "ls"))
		return view_ls(argc, argv);
	if (!strcmp(argv[1], "show"))
		return view_show(argc, argv);
	return cli_misuse("view", "unknown view command '%s' (expected add, rm, ls or show)",
			  argv[1]);
}
