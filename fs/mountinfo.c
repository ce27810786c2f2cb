/* fs/mountinfo.c - find a mount in /proc/self/mountinfo without touching
 * the mounted filesystem (a stat of a FUSE mountpoint would ask the daemon,
 * which may be dead or not yet serving). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/mountinfo.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/* Split line in place at spaces; returns the number of fields (at most max). */
static int split(char *line, char **fields, int max)
{
	int n = 0;

	while (*line && n < max) {
		while (*line == ' ' || *line == '\n')
			*line++ = '\0';
		if (!*line)
			break;
		fields[n++] = line;
		while (*line && *line != ' ' && *line != '\n')
			line++;
	}
	if (*line)
		*line = '\0';
	return n;
}

int fs_mountinfo_find(const char *mnt, struct fs_mountinfo *out)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char *fld[32];
		unsigned maj, min;
		int n = split(line, fld, 32), i;

		if (n < 8 || sscanf(fld[2], "%u:%u", &maj, &min) != 2)
			continue;
		unescape(fld[4]);
		if (strcmp(fld[4], mnt))
			continue;
		/* Optional fields end with a lone "-"; fstype follows. */
		for (i = 6; i < n - 1 && strcmp(fld[i], "-"); i++)
			;
		if (i >= n - 1)
			continue;
		/* The last match is the topmost mount. */
		snprintf(out->fstype, sizeof(out->fstype), "%s", fld[i + 1]);
		out->major = maj;
		out->minor = min;
		found = 1;
	}
	free(line);
	fclose(f);
	return found ? 0 : -ENOENT;
}
