/* fs/policy_load.c - which policy is in force: loading it when mounting
 * (STORE/policy.yaml, -o policy=FILE, or the default policy that only
 * forgets), reloading it on SIGHUP or when a file changes (the file's own
 * tests run against the store first; anything wrong keeps the policy in
 * force and is logged as FILE:LINE:COL), and noticing retention deadlines.
 * Each change swaps the snapshot and bumps the generation workers watch. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/strset.h"
#include "common/util.h"
#include "fs/policy_int.h"

/* ---- the file's own tests, with attributes from the store ---------------- */

struct prov {
	struct idx_txn *t;
	struct fs_lazy lz;
	char *names[FS_POL_NAMES_MAX];
	size_t nnames;
};

static void prov_clear(struct prov *pv)
{
	for (size_t i = 0; i < pv->nnames; i++)
		free(pv->names[i]);
	pv->nnames = 0;
}

struct ptag {
	struct prov *pv;
	uint32_t ver;
};

static int ptag_cb(const char *name, uint32_t ver, void *ctx)
{
	struct ptag *pt = ctx;

	if (ver == pt->ver && pt->pv->nnames < FS_POL_NAMES_MAX)
		pt->pv->names[pt->pv->nnames++] = strdup(name);
	return 0;
}

/* Attributes for the file's tests without `attributes:`, from the store. */
static int provide(void *ctx, const char *dataset, const char *version, const char *path,
		   struct pol_target *tg)
{
	struct prov *pv = ctx;
	struct idx_dataset d;
	struct idx_entry dir;
	char dpath[CM_PATH_MAX + 1];
	size_t n = strlen(path), dl = cm_dirname_len(path, n);
	const char *base = path + dl + (dl ? 1 : 0);
	struct ptag pt;
	uint32_t ver;
	int r;

	prov_clear(pv);
	if ((r = idx_dataset_get(pv->t, dataset, &d)) < 0 ||
	    (r = idx_version_resolve(pv->t, &d, version ? version : "latest", &ver)) < 0)
		return r;
	if (ver == d.head)
		pv->names[pv->nnames++] = strdup("latest");
	pt.pv = pv;
	pt.ver = ver;
	idx_tag_foreach(pv->t, d.id, ptag_cb, &pt);
	memset(&pv->lz, 0, sizeof(pv->lz));
	pv->lz.t = pv->t;
	snprintf(dpath, sizeof(dpath), "%.*s", (int)dl, path);
	if (*path) {
		r = idx_resolve(pv->t, d.id, ver, dpath, &dir);
		if (r < 0)
			return r;
		r = idx_sample_attr_id(pv->t, d.id, ver, dir.dir_id, base, strlen(base),
				       &pv->lz.id);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	tg->version = ver;
	tg->names = (const char *const *)pv->names;
	tg->nnames = pv->nnames;
	tg->attr = fs_lazy_attr;
	tg->attr_ctx = &pv->lz;
	return 0;
}

struct report {
	const char *file;
	int n;
};

static void report(void *ctx, const char *msg)
{
	struct report *rp = ctx;

	if (rp->n++ < 20)
		cm_err("%s", msg);
}

static int name_add(const char *name, size_t n, void *ctx)
{
	struct cm_strset_ent *e;

	return cm_strset_add(ctx, name, n, &e) < 0 ? -ENOMEM : 0;
}

static int name_known(void *ctx, const char *name)
{
	return cm_strset_get(ctx, name, strlen(name)) != NULL;
}

static void name_warn(void *ctx, const char *msg)
{
	int *n = ctx;

	if ((*n)++ < 20)
		cm_warn("%s (rules on it match no sample until one has it)", msg);
}

/* Attributes the policy names that no sample has: most likely a typo, but a
 * rule written ahead of the data it protects must still take effect, so
 * this warns (`sievefs policy check --store` makes it an error). */
static void check_names(struct fs *fs, const struct pol_policy *p)
{
	struct cm_strset names;
	struct idx_txn *t;
	int n = 0;

	if (idx_txn_begin(fs->store, 0, &t) < 0)
		return;
	cm_strset_init(&names);
	if (idx_attr_names(t, name_add, &names) == 0)
		pol_check_attrs(p, name_known, &names, name_warn, &n, NULL);
	cm_strset_free(&names);
	idx_txn_abort(t);
}

/* Run the file's tests against the store; 0 = all passed. */
static int run_tests(struct fs *fs, struct pol_policy *p)
{
	struct prov pv = { 0 };
	struct report rp = { pol_path(p), 0 };
	int r;

	check_names(fs, p);
	if (!pol_test_count(p))
		return 0;
	r = idx_txn_begin(fs->store, 0, &pv.t);
	if (r < 0)
		return r;
	r = pol_tests_run(p, (int64_t)time(NULL), provide, &pv, report, &rp);
	prov_clear(&pv);
	idx_txn_abort(pv.t);
	if (r > 0)
		cm_err("%s: %d of %zu tests failed", pol_path(p), r, pol_test_count(p));
	return r;
}

/* Load the successor of cur (NULL at mount): the file if it exists, else
 * (no -o policy) the default policy.  *isdef says which. */
static int load(struct fs *fs, struct pol_policy *cur, struct pol_policy **out, int *isdef,
		char *err, size_t errlen)
{
	struct fs_pol *fp = fs->pol;
	struct pol_load_opts o = { .base_dir = fp->store };
	struct pol_error pe;
	struct stat st;
	int r;

	*isdef = 0;
	/* Only a mount that starts without the file runs without a policy: a
	 * file deleted later leaves its policy in force (pol_reload). */
	if ((!cur || fp->cur_default) && stat(fp->file, &st) < 0 && errno == ENOENT &&
	    !fp->explicit_file) {
		*isdef = 1;
		r = pol_load_default(out, fp->store, &pe);
	} else {
		r = pol_reload(cur, fp->file, &o, 0, out, &pe);
	}
	if (r < 0) {
		snprintf(err, errlen, "%s", pe.msg);
		return r;
	}
	r = run_tests(fs, *out);
	if (r != 0) {
		snprintf(err, errlen, "%s: the policy's own tests failed", fp->file);
		pol_close(*out);
		return r < 0 ? r : -EINVAL;
	}
	return 0;
}

static void set_audit(struct fs_pol *fp, struct pol_policy *p)
{
	const char *f = fp->audit_opt ? fp->audit_opt : pol_audit_file(p);
	unsigned ev = pol_audit_events(p);

	if (fp->audit_opt && !pol_audit_file(p))
		ev = POL_AUDIT_HIDE | POL_AUDIT_DENY | POL_AUDIT_OPEN;
	__atomic_store_n(&fp->audit_events, f ? ev : 0, __ATOMIC_RELAXED);
	fs_audit_set(fp->audit, f);
}

static void swap_in(struct fs_pol *fp, struct pol_policy *np, int isdef)
{
	struct pol_policy *old;

	pthread_mutex_lock(&fp->lock);
	old = fp->cur;
	fp->cur = np;
	fp->cur_default = isdef;
	fp->cur_active = !isdef || (pol_flags(np) & POL_F_GOVERNANCE);
	__atomic_store_n(&fp->expiry, INT64_MAX, __ATOMIC_RELAXED);
	__atomic_add_fetch(&fp->gen, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&fp->lock);
	pol_close(old);
	set_audit(fp, np);
}

static int needs_open(const struct fs_pol *fp, struct pol_policy *p, int isdef)
{
	if (isdef && !(pol_flags(p) & POL_F_GOVERNANCE))
		return 0;
	if (pol_flags(p) & POL_F_MAY_REFUSE_OPEN)
		return 1;
	return (fp->audit_opt || pol_audit_file(p)) && (pol_audit_events(p) & POL_AUDIT_OPEN);
}

static int as_caller(struct fs_pol *fp, uid_t uid)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	gid_t gl[64];
	int n = 64;

	fp->as = 1;
	fp->as_c.uid = uid;
	fp->as_c.gid = uid;
	fp->as_c.groups_known = 1;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp) {
		fp->as_c.gid = pwp->pw_gid;
		if (getgrouplist(pwp->pw_name, pwp->pw_gid, gl, &n) < 0)
			n = 64; /* truncated: the first 64 */
		for (int i = 0; i < n && i < 64; i++)
			fp->as_groups[i] = gl[i];
		fp->as_c.ngroups = (size_t)(n < 64 ? n : 64);
	}
	fp->as_c.groups = fp->as_groups;
	return 0;
}

int fs_pol_init(struct fs *fs, const struct fs_config *c, const char *store)
{
	struct fs_pol *fp = calloc(1, sizeof(*fp));
	struct pol_policy *p = NULL;
	char err[600];
	int r, isdef;

	if (!fp)
		return -ENOMEM;
	fs->pol = fp;
	pthread_mutex_init(&fp->lock, NULL);
	pthread_mutex_init(&fp->vlock, NULL);
	fp->expiry = INT64_MAX;
	fp->vis = calloc(FS_POL_VIS_SLOTS, sizeof(*fp->vis));
	fp->store = strdup(store);
	fp->explicit_file = c->policy != NULL;
	if (c->policy)
		fp->file = strdup(c->policy);
	else if (asprintf(&fp->file, "%s/policy.yaml", store) < 0)
		fp->file = NULL;
	if (c->audit)
		fp->audit_opt = strdup(c->audit);
	if (!fp->vis || !fp->store || !fp->file || (c->audit && !fp->audit_opt))
		return -ENOMEM;
	if (c->have_policy_as)
		as_caller(fp, c->policy_as);
	r = fs_audit_open(&fp->audit);
	if (r < 0)
		return r;
	r = load(fs, NULL, &p, &isdef, err, sizeof(err));
	if (r < 0) {
		cm_err("%s", err);
		return r;
	}
	swap_in(fp, p, isdef);
	{
		/* Say it on the terminal too; the daemon logs it at the first
		 * line it cannot write. */
		const char *af = fp->audit_opt ? fp->audit_opt : pol_audit_file(p);
		int fd = af ? open(af, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640) : -1;

		if (af && fd < 0)
			cm_warn("audit log %s: %s (audit lines will be dropped until it can be "
				"written)",
				af, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	fp->open_needed = needs_open(fp, p, isdef);
	fs->open_needed = fp->open_needed;
	return 0;
}

void fs_pol_log_state(struct fs *fs)
{
	struct fs_pol *fp = fs->pol;

	if (!fp || !fp->cur)
		return;
	if (fp->cur_default)
		cm_info("no policy file (%s): everything visible but forgotten samples (%zu "
			"forget entries)",
			fp->file, pol_forget_count(fp->cur));
	else
		cm_info("policy %s: %zu rules, %zu forget entries, revision %016" PRIx64 "%s%s",
			fp->file, pol_rule_count(fp->cur), pol_forget_count(fp->cur),
			pol_revision(fp->cur), fp->as ? ", decided as one user" : "",
			fp->open_needed ? ", opens checked" : "");
}

void fs_pol_fini(struct fs *fs)
{
	struct fs_pol *fp = fs->pol;

	if (!fp)
		return;
	fs_audit_close(fp->audit);
	pol_close(fp->cur);
	pthread_mutex_destroy(&fp->lock);
	pthread_mutex_destroy(&fp->vlock);
	free(fp->vis);
	free(fp->store);
	free(fp->file);
	free(fp->audit_opt);
	free(fp);
	fs->pol = NULL;
}

/* Called by the poller every FS_POLL_MS. */
int fs_pol_poll(struct fs *fs, int hup)
{
	struct fs_pol *fp = fs->pol;
	struct pol_policy *cur, *np = NULL;
	char err[600];
	struct stat st;
	int changed, isdef, r, curdef;

	if (!fp)
		return 0;
	if (hup)
		fs_audit_reopen(fp->audit);
	pthread_mutex_lock(&fp->lock);
	cur = pol_ref(fp->cur);
	curdef = fp->cur_default;
	pthread_mutex_unlock(&fp->lock);
	changed = hup || pol_changed(cur) || (curdef && stat(fp->file, &st) == 0);
	if (!changed) {
		pol_close(cur);
		goto expiry;
	}
	r = load(fs, cur, &np, &isdef, err, sizeof(err));
	pol_close(cur);
	if (r < 0) {
		if (hup || strcmp(err, fp->lasterr))
			cm_err("%s (the policy in force is kept)", err);
		snprintf(fp->lasterr, sizeof(fp->lasterr), "%s", err);
		goto expiry;
	}
	fp->lasterr[0] = '\0';
	if (!fp->open_needed && needs_open(fp, np, isdef) && !fp->warned_open) {
		fp->warned_open = 1;
		cm_warn("%s: the new policy may refuse opens, but this mount was started without "
			"one that did: reads are checked, yet cached pages may be shared between "
			"users until it is remounted",
			fp->file);
	}
	if (pol_orphaned(np))
		cm_warn("%s is gone: the policy it held stays in force, with the forget lists "
			"as they are now; write a new policy file to change it (remount to run "
			"without one)", fp->file);
	cm_info("policy %s reloaded: %zu rules, %zu forget entries, revision %016" PRIx64,
		isdef ? "(none)" : fp->file, pol_rule_count(np), pol_forget_count(np),
		pol_revision(np));
	swap_in(fp, np, isdef);
	return 1;
expiry:
	/* At most one refresh a second, however many deadlines pass. */
	if ((int64_t)time(NULL) >= __atomic_load_n(&fp->expiry, __ATOMIC_RELAXED) &&
	    fs_mono_ns() - fp->last_expiry >= 1000000000LL) {
		fp->last_expiry = fs_mono_ns();
		pthread_mutex_lock(&fp->lock);
		__atomic_store_n(&fp->expiry, INT64_MAX, __ATOMIC_RELAXED);
		__atomic_add_fetch(&fp->gen, 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&fp->lock);
		cm_debug("a retention deadline passed: decisions refreshed");
		return 1;
	}
	return 0;
}
