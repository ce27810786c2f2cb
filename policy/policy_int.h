/* policy/policy_int.h - the compiled policy, shared by the files of policy/
 * (load.c builds it, eval.c decides with it, forget.c fills its forget
 * sets, tests.c runs its tests).  Nothing outside policy/ includes this. */
#ifndef SIEVEFS_POLICY_INT_H
#define SIEVEFS_POLICY_INT_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/strset.h"
#include "policy/policy.h"
#include "policy/pred.h"

#define POL_RULES_MAX 4096

/* A set of callers, roles already expanded. */
struct pol_subj {
	uint32_t *uids, *gids;
	size_t nuids, ngids;
	int everyone;
};

struct pol_rule {
	char *id;
	unsigned line, col;
	enum pol_effect effect; /* POL_ALLOW, POL_LIST, POL_DENY or POL_HIDE */
	struct pol_subj who, except;
	char **datasets, **versions, **paths; /* NULL = any */
	size_t ndatasets, nversions, npaths;
	struct pol_pred *where;                /* NULL = no condition */
};

struct pol_retention {
	char *id; /* "retention:<id>" */
	char **datasets;
	size_t ndatasets;
	char *attr;
	int64_t expire_after;
	int missing_hides;
};

struct pol_test {
	unsigned line, col;
	struct pol_caller caller; /* groups owned */
	char *dataset, *version, *path;
	char **names;
	size_t nnames;
	struct pol_attr *attrs; /* key/val owned */
	size_t nattrs;
	int has_attrs, has_now;
	int64_t now;
	enum pol_effect expect;
};

/* A file watched by pol_changed(). */
struct pol_file {
	char *path;
	int exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct pol_policy {
	atomic_int refs;
	char *path;
	uint64_t revision;
	int groups_hide; /* defaults: groups_unavailable: hide */

	struct pol_rule *rules;
	size_t nrules;

	char *subject_attr;
	struct pol_retention *ret;
	size_t nret;
	struct pol_file *files; /* [0] = the policy itself (path NULL from memory), then forget sources */
	size_t nfiles;
	struct cm_strset forget_subjects, forget_samples; /* "ID", "DATASET/KEY" */

	char *audit_file;
	unsigned audit_events;

	struct pol_test *tests;
	size_t ntests;
	unsigned flags;

	char *text; /* the YAML it was compiled from, to recompile it with fresh
		     * forget lists once its file is gone */
	size_t textlen;
	int orphan; /* compiled from text: the file was gone at reload */
};

void pol_policy_free(struct pol_policy *p);
/* forget.c: read one forget source into p's sets; a missing file is empty. */
int pol_forget_load(struct pol_policy *p, const char *file, struct pol_error *err);
/* eval.c: matching helpers shared with tests.c */
int pol_subj_match(const struct pol_subj *s, const struct pol_caller *c, int restrictive);
/* tests.c: parse the tests: list into p->tests. */
int pol_tests_load(struct pol_policy *p, const struct pol_ynode *n, const char *name,
		   struct pol_error *err);
/* Stat path into f (exists = 0 when missing). */
void pol_file_stat(struct pol_file *f);

#endif
