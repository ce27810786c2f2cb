/* index/backend.c - the local POSIX shard backend. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index/backend.h"

struct idx_bfile {
	int fd;
};

static int posix_open(const char *path, struct idx_bfile **out)
{
	struct idx_bfile *f = malloc(sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (f->fd < 0) {
		int e = errno;
		free(f);
		return -e;
	}
	*out = f;
	return 0;
}

static ssize_t posix_pread(struct idx_bfile *f, void *buf, size_t n, uint64_t off)
{
	ssize_t r;

	if (off > (uint64_t)INT64_MAX)
		return 0;
	do
		r = pread(f->fd, buf, n, (off_t)off);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static int posix_stat(struct idx_bfile *f, uint64_t *size, int64_t *mtime_ns)
{
	struct stat st;

	if (fstat(f->fd, &st) < 0)
		return -errno;
	*size = (uint64_t)st.st_size;
	*mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return 0;
}

static int posix_fd(struct idx_bfile *f)
{
	return f->fd;
}

static void posix_close(struct idx_bfile *f)
{
	if (!f)
		return;
	close(f->fd);
	free(f);
}

const struct idx_backend idx_backend_posix = {
	.name = "posix",
	.open = posix_open,
	.pread = posix_pread,
	.stat = posix_stat,
	.fd = posix_fd,
	.close = posix_close,
};

int idx_bfile_read_full(const struct idx_backend *b, struct idx_bfile *f, void *buf,
			size_t n, uint64_t off)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = b->pread(f, p, n, off);
		if (r < 0)
			return (int)r;
		if (r == 0)
			return -EIO;
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}
