/* cli/mount.c - `sievefs mount STORE MOUNTPOINT [-o OPTS] [-f] [-d]`.
 * Options may come before or after the operands, as mount(8) helpers pass
 * them.  All the work is in fs/. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "fs/fs.h"

int cli_mount(int argc, char **argv)
{
	const char *operands[2];
	struct fs_config c;
	char err[512];
	int n = 0, rc = 0, dashdash = 0;

	fs_config_init(&c);
	for (int i = 1; i < argc && rc == 0; i++) {
		const char *a = argv[i];

		if (!dashdash && !strcmp(a, "--")) {
			dashdash = 1;
		} else if (!dashdash && (!strcmp(a, "-f") || !strcmp(a, "--foreground"))) {
			c.foreground = 1;
		} else if (!dashdash && (!strcmp(a, "-d") || !strcmp(a, "--debug"))) {
			c.debug = 1;
		} else if (!dashdash && !strncmp(a, "-o", 2)) {
			const char *opts = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);

			if (!opts)
				rc = cli_misuse("mount", "-o needs a list of options");
			else if (fs_config_add_opts(&c, opts, err, sizeof(err)) < 0)
				rc = cli_misuse("mount", "%s", err);
		} else if (!dashdash && a[0] == '-' && a[1]) {
			rc = cli_misuse("mount", "unknown option '%s'", a);
		} else if (n < 2) {
			operands[n++] = a;
		} else {
			rc = cli_misuse("mount", "unexpected argument '%s'", a);
		}
	}
	if (rc == 0 && n < 2)
		rc = cli_misuse("mount", "needs a STORE and a MOUNTPOINT");
	if (rc == 0) {
		c.store = operands[0];
		c.mountpoint = operands[1];
		rc = fs_mount(&c) < 0 ? 1 : 0; /* fs_mount printed why */
	}
	fs_config_free(&c);
	return rc;
}
