/* cli/forget.c - `sievefs forget STORE (--subject ID | --sample DATASET/KEY)
 * [--ticket T]`: append one entry to STORE/forget.jsonl.  The running mount
 * notices the file change and hides the subject's or the sample's data in
 * every version and view; the entry can never be dropped silently (policy/
 * refuses a reload that loses one). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/util.h"
#include "policy/policy.h"

/* Warn when STORE/policy.yaml exists but does not read the file we wrote. */
static void check_policy_reads(const char *store, const char *subject, const char *sample)
{
	char pf[CM_PATH_MAX + 1];
	struct pol_load_opts o = { .base_dir = store };
	struct pol_policy *p;
	struct pol_error err;
	struct stat st;
	const char *slash;
	int seen;

	snprintf(pf, sizeof(pf), "%s/policy.yaml", store);
	if (stat(pf, &st) < 0)
		return;
	if (pol_load(&p, pf, &o, &err) < 0) {
		fprintf(stderr, "sievefs: warning: %s\n", err.msg);
		return;
	}
	slash = sample ? strchr(sample, '/') : NULL;
	if (subject) {
		seen = pol_forgotten_subject(p, subject, strlen(subject));
	} else {
		char ds[CM_NAME_MAX + 1];
		snprintf(ds, sizeof(ds), "%.*s", (int)(slash - sample), sample);
		seen = pol_forgotten_sample(p, ds, slash + 1, strlen(slash + 1));
	}
	if (!seen)
		fprintf(stderr, "sievefs: warning: %s does not read %s/forget.jsonl (add it under "
			"governance: forget:)\n", pf, store);
	pol_close(p);
}

int cli_forget(int argc, char **argv)
{
	const char *subject = cli_take_opt(&argc, argv, NULL, "--subject");
	const char *sample = cli_take_opt(&argc, argv, NULL, "--sample");
	const char *ticket = cli_take_opt(&argc, argv, NULL, "--ticket");
	struct pol_forget_entry e = { 0 };
	struct idx_dataset d;
	struct idx_store *s;
	struct idx_txn *t;
	char file[CM_PATH_MAX + 1], ds[CM_NAME_MAX + 1];
	const char *slash;
	int r;

	if (cli_unknown_opt(argc, argv, "forget"))
		return 2;
	if (argc != 2 || !subject == !sample)
		return cli_misuse("forget", "expected STORE and one of --subject ID, --sample DATASET/KEY");
	if (subject && !*subject)
		return cli_misuse("forget", "empty --subject");
	slash = sample ? strchr(sample, '/') : NULL;
	if (sample && (!slash || slash == sample || !slash[1] || (size_t)(slash - sample) > CM_NAME_MAX))
		return cli_misuse("forget", "--sample '%s' is not DATASET/KEY (e.g. mnist/train/0001)",
				  sample);
	s = cli_store_open(argv[1], IDX_RDONLY);
	if (!s)
		return 1;
	if (sample) {
		snprintf(ds, sizeof(ds), "%.*s", (int)(slash - sample), sample);
		r = idx_txn_begin(s, 0, &t);
		if (r == 0) {
			r = idx_dataset_get(t, ds, &d);
			idx_txn_abort(t);
		}
		if (r < 0) {
			idx_store_close(s);
			return cli_fail("%s: no dataset '%s'", argv[1], ds);
		}
	}
	idx_store_close(s);
	snprintf(file, sizeof(file), "%s/forget.jsonl", argv[1]);
	e.time = (int64_t)time(NULL);
	e.uid = (uint32_t)getuid();
	e.user = cli_user();
	e.subject = subject;
	e.sample = sample;
	e.ticket = ticket;
	r = pol_forget_append(file, &e);
	if (r < 0)
		return cli_fail("%s: %s", file, strerror(-r));
	printf("forgot %s %s (%s)\n", subject ? "subject" : "sample", subject ? subject : sample,
	       file);
	check_policy_reads(argv[1], subject, sample);
	return 0;
}
