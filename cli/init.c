/* cli/init.c - `sievefs init STORE`. */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "cli/cli.h"
#include "index/store.h"

int cli_init(int argc, char **argv)
{
	int r;

	if (argc != 2 || argv[1][0] == '-')
		return cli_misuse("init", "expected exactly one STORE directory");
	r = idx_store_init(argv[1]);
	if (r == -EEXIST)
		return cli_fail("%s: already a sievefs store", argv[1]);
	if (r < 0)
		return cli_fail("%s: %s", argv[1], idx_strerror(r));
	printf("initialised empty sievefs store in %s\n", argv[1]);
	return 0;
}
