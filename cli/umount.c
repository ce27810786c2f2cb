/* cli/umount.c - `sievefs umount MOUNTPOINT`; see fs_umount(). */
#include "config.h"

#include "cli/cli.h"
#include "fs/fs.h"

int cli_umount(int argc, char **argv)
{
	char err[512];

	if (argc != 2 || argv[1][0] == '-')
		return cli_misuse("umount", "needs exactly one MOUNTPOINT");
	if (fs_umount(argv[1], err, sizeof(err)) < 0)
		return cli_fail("%s", err);
	return 0;
}
