/* tests/bench/readfiles.c - read every file of a list the way a data loader
 * does: J worker processes, worker k reads files k, k+J, k+2J... of the list
 * (in the list's order, i.e. shard order, or shuffled with -r) with
 * open/read/close.
 *
 *   readfiles [-j J] [-t SECONDS] [-r SEED] ROOT < LIST
 *
 * LIST holds paths relative to ROOT, one a line.  With -t, workers stop after
 * that many seconds (for peers too slow to finish).  With -r, the list is
 * shuffled first (Fisher-Yates on a generator seeded with SEED: the same SEED
 * gives the same order on every run and every filesystem), as a data loader
 * shuffles its samples each epoch.  Prints one line:
 *   FILES BYTES SECONDS COMPLETE
 * where COMPLETE is 1 when every file was read.  Exit status 1 on any error.
 *
 * Built and run by tests/bench/run.sh; not part of `make check`. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* splitmix64: a well-mixed sequence from any seed, 0 included */
static uint64_t next_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void shuffle(char **paths, size_t n, uint64_t seed)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(next_rand(&seed) % i); /* bias < 2^-40: fine here */
		char *t = paths[i - 1];

		paths[i - 1] = paths[j];
		paths[j] = t;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned jobs = 2;
	double limit = 0;
	char **paths = NULL, *line = NULL;
	size_t n = 0, cap = 0, linecap = 0;
	ssize_t len;
	int opt, fds[2], bad = 0, shuffled = 0;
	uint64_t files = 0, bytes = 0, seed = 0;
	char *end;
	double t0, deadline;

	while ((opt = getopt(argc, argv, "j:t:r:")) != -1) {
		if (opt == 'j') {
			jobs = (unsigned)strtoul(optarg, &end, 10);
			if (*end)
				goto usage;
		} else if (opt == 't') {
			limit = atof(optarg);
		} else if (opt == 'r') {
			seed = strtoull(optarg, &end, 10);
			if (*end || end == optarg)
				goto usage;
			shuffled = 1;
		} else {
			goto usage;
		}
	}
	if (optind != argc - 1 || jobs < 1 || jobs > 256)
		goto usage;
	while ((len = getline(&line, &linecap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (!len)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			paths = realloc(paths, cap * sizeof(*paths));
			if (!paths)
				return 1;
		}
		if (!(paths[n++] = strdup(line)))
			return 1;
	}
	if (shuffled)
		shuffle(paths, n, seed);
	if (chdir(argv[optind]) < 0) {
		perror(argv[optind]);
		return 1;
	}
	if (pipe(fds) < 0) {
		perror("pipe");
		return 1;
	}
	t0 = now();
	deadline = limit > 0 ? t0 + limit : 0;
	for (unsigned k = 0; k < jobs; k++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			static char buf[1 << 16];
			uint64_t res[3] = { 0, 0, 0 }; /* files, bytes, errors */

			close(fds[0]);
			for (size_t i = k; i < n; i += jobs) {
				int fd = open(paths[i], O_RDONLY);
				ssize_t r;

				if (fd < 0) {
					fprintf(stderr, "readfiles: %s: %s\n", paths[i],
						strerror(errno));
					res[2]++;
					continue;
				}
				while ((r = read(fd, buf, sizeof(buf))) > 0)
					res[1] += (uint64_t)r;
				if (r < 0) {
					fprintf(stderr, "readfiles: %s: %s\n", paths[i],
						strerror(errno));
					res[2]++;
				}
				close(fd);
				res[0]++;
				if (deadline && (res[0] & 15) == 0 && now() > deadline)
					break;
			}
			if (write(fds[1], res, sizeof(res)) != (ssize_t)sizeof(res))
				_exit(1);
			_exit(0);
		}
	}
	close(fds[1]);
	for (unsigned k = 0; k < jobs; k++) {
		uint64_t res[3];

		if (read(fds[0], res, sizeof(res)) != (ssize_t)sizeof(res)) {
			bad = 1;
			continue;
		}
		files += res[0];
		bytes += res[1];
		bad |= res[2] != 0;
	}
	while (wait(NULL) > 0)
		;
	printf("%llu %llu %.6f %d\n", (unsigned long long)files, (unsigned long long)bytes,
	       now() - t0, files == n);
	return bad;
usage:
	fprintf(stderr, "usage: readfiles [-j JOBS] [-t SECONDS] [-r SEED] ROOT < LIST\n");
	return 2;
}
