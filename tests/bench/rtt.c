/* tests/bench/rtt.c - the latency of one request round trip to a FUSE
 * daemon, as a Python loader pays it: ioctl(TCGETS) (what isatty() asks)
 * on an open file, N times, and print the median and 90th percentile of
 * batches of 100 in microseconds.  On a local file the kernel answers
 * without a daemon, which gives the floor.
 *
 *   rtt FILE [N]          default N 20000 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 20000;
	long nb = n / 100;
	struct termios t;
	double *b;
	int fd;

	if (argc < 2 || n < 100) {
		fprintf(stderr, "usage: rtt FILE [N>=100]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	b = calloc((size_t)nb, sizeof(*b));
	if (!b)
		return 1;
	for (long i = 0; i < nb; i++) {
		double t0 = now_us();

		for (int k = 0; k < 100; k++)
			if (ioctl(fd, TCGETS, &t) == 0 || errno != ENOTTY) {
				fprintf(stderr, "%s: ioctl(TCGETS) did not fail with ENOTTY\n", argv[1]);
				return 1;
			}
		b[i] = (now_us() - t0) / 100;
	}
	qsort(b, (size_t)nb, sizeof(*b), cmp);
	printf("%.2f %.2f\n", b[nb / 2], b[nb * 9 / 10]);
	return 0;
}
