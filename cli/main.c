/* cli/main.c - `sievefs VERB ...`: find the verb and run it. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "common/log.h"

#define CLI_ENTRY(n, u, s) { #n, cli_##n, u, s },
const struct cli_verb cli_verbs[] = { CLI_VERBS(CLI_ENTRY){ NULL, NULL, NULL, NULL } };
#undef CLI_ENTRY

static const struct cli_verb *verb_find(const char *name)
{
	for (const struct cli_verb *v = cli_verbs; v->name; v++)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

void cli_usage(FILE *f, const char *verb)
{
	const struct cli_verb *v = verb_find(verb);

	if (v)
		fprintf(f, "usage: sievefs %s %s\n", v->name, v->usage);
}

int cli_misuse(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fputs("sievefs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cli_usage(stderr, verb);
	return 2;
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("sievefs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int cli_wants_help(int argc, char **argv, const char *verb)
{
	const struct cli_verb *v = verb_find(verb);

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			cli_usage(stdout, verb);
			if (v)
				printf("\n%s.\nSee sievefs(1) for details.\n", v->summary);
			return 1;
		}
	}
	return 0;
}

static int is_store(const char *dir)
{
	char p[4096];
	struct stat st;

	return snprintf(p, sizeof(p), "%s/index.mdb", dir) < (int)sizeof(p) && stat(p, &st) == 0 &&
	       S_ISREG(st.st_mode);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sievefs [--version] [--help] VERB [ARGS...]\n\n"
		   "sievefs mounts versioned, policy-filtered ML datasets as read-only "
		   "directories.\n\nVerbs:\n");
	for (const struct cli_verb *v = cli_verbs; v->name; v++)
		fprintf(f, "  %-8s %s\n", v->name, v->summary);
	fprintf(f, "\nRun 'sievefs VERB --help' for a verb's arguments; see sievefs(1).\n");
}

int main(int argc, char **argv)
{
	const struct cli_verb *v;

	cm_log_init("sievefs", 0, getenv("SIEVEFS_DEBUG") != NULL);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("sievefs %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	v = verb_find(argv[1]);
	if (!v && argc >= 3 && is_store(argv[1])) {
		/* mount(8) -t fuse.sievefs goes through mount.fuse3, which runs
		 * "sievefs STORE MOUNTPOINT -o OPTS": that is `sievefs mount`. */
		argv[0] = "mount";
		return cli_mount(argc, argv);
	}
	if (!v) {
		fprintf(stderr, "sievefs: unknown verb '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	if (cli_wants_help(argc - 1, argv + 1, v->name))
		return 0;
	return v->run(argc - 1, argv + 1);
}
