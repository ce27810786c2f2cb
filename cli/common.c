/* cli/common.c - helpers shared by the verbs (see common.h). */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"

struct idx_store *cli_store_open(const char *dir, unsigned flags)
{
	struct idx_store *s;
	int r = idx_store_open(&s, dir, flags);

	if (r == 0)
		return s;
	if (r == -EMEDIUMTYPE)
		fprintf(stderr, "sievefs: %s: not a sievefs store (create one with 'sievefs init %s')\n",
			dir, dir);
	else
		fprintf(stderr, "sievefs: %s: %s\n", dir, idx_strerror(r));
	return NULL;
}

int cli_ref_parse(struct cli_ref *r, const char *spec)
{
	char *at, *slash;

	memset(r, 0, sizeof(*r));
	r->buf = strdup(spec);
	if (!r->buf)
		return -ENOMEM;
	r->dataset = r->buf;
	slash = strchr(r->buf, '/');
	at = strchr(r->buf, '@');
	if (at && slash && at > slash)
		at = NULL;
	if (slash) {
		*slash = 0;
		r->path = slash + 1;
	} else {
		r->path = "";
	}
	if (at) {
		*at = 0;
		r->version = at + 1;
	}
	return 0;
}

int cli_ref_resolve(struct cli_ref *r, struct idx_txn *t, const char *store)
{
	int e = idx_dataset_get(t, r->dataset, &r->d);

	if (e == -ENOENT) {
		fprintf(stderr, "sievefs: %s: no dataset '%s'\n", store, r->dataset);
		return 1;
	}
	if (e < 0) {
		fprintf(stderr, "sievefs: %s: %s\n", store, idx_strerror(e));
		return 1;
	}
	e = idx_version_resolve(t, &r->d, r->version, &r->ver);
	if (e == -ENOENT) {
		if (!r->d.head)
			fprintf(stderr, "sievefs: dataset '%s' has no versions yet\n", r->dataset);
		else
			fprintf(stderr, "sievefs: dataset '%s' has no version or tag '%s' (versions v1..v%u)\n",
				r->dataset, r->version, r->d.head);
		return 1;
	}
	if (e < 0) {
		fprintf(stderr, "sievefs: %s: %s\n", store, idx_strerror(e));
		return 1;
	}
	return 0;
}

void cli_ref_free(struct cli_ref *r)
{
	free(r->buf);
	r->buf = NULL;
}

const char *cli_user(void)
{
	static char buf[64];
	struct passwd *pw = getpwuid(getuid());

	if (pw)
		return pw->pw_name;
	snprintf(buf, sizeof(buf), "uid:%u", (unsigned)getuid());
	return buf;
}

static void drop(int *argc, char **argv, int i, int n)
{
	memmove(argv + i, argv + i + n, (size_t)(*argc - i - n + 1) * sizeof(*argv));
	*argc -= n;
}

const char *cli_take_opt(int *argc, char **argv, const char *s, const char *l)
{
	const char *v = NULL;

	for (int i = 1; i < *argc;) {
		size_t ll = l ? strlen(l) : 0;
		if (!strcmp(argv[i], "--"))
			break;
		if ((s && !strcmp(argv[i], s)) || (l && !strcmp(argv[i], l))) {
			if (i + 1 >= *argc)
				return NULL;
			v = argv[i + 1];
			drop(argc, argv, i, 2);
		} else if (l && !strncmp(argv[i], l, ll) && argv[i][ll] == '=') {
			v = argv[i] + ll + 1;
			drop(argc, argv, i, 1);
		} else if (s && !strncmp(argv[i], s, 2) && argv[i][2]) {
			v = argv[i] + 2;
			drop(argc, argv, i, 1);
		} else {
			i++;
		}
	}
	return v;
}

int cli_take_flag(int *argc, char **argv, const char *s, const char *l)
{
	int found = 0;

	for (int i = 1; i < *argc;) {
		if (!strcmp(argv[i], "--"))
			break;
		if ((s && !strcmp(argv[i], s)) || (l && !strcmp(argv[i], l))) {
			found = 1;
			drop(argc, argv, i, 1);
		} else {
			i++;
		}
	}
	return found;
}

int cli_unknown_opt(int argc, char **argv, const char *verb)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (argv[i][0] == '-' && argv[i][1]) {
			cli_misuse(verb, "unknown option '%s'", argv[i]);
			return 1;
		}
	}
	return 0;
}
