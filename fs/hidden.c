/* hidden: see hidden.h. */
#include "hidden.h"

#include <errno.h>
#include <linux/fuse.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define HIDDEN_PREFIX ".fuse_hidden"
#define HIDDEN_MAX_PATH 4096

/* The opcode of the request this thread serves (0: unknown), and the
 * hidden name libfuse probed for in it. */
static _Thread_local uint32_t cur_opcode;
static _Thread_local char probed[HIDDEN_MAX_PATH];

static ssize_t
note_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n = read(fd, buf, len);

	(void)userdata;
	cur_opcode = n >= (ssize_t)sizeof(struct fuse_in_header)
			     ? ((const struct fuse_in_header *)buf)->opcode : 0;
	return n;
}

static ssize_t
plain_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	return writev(fd, iov, count);
}

int
hidden_install(struct fuse_session *se)
{
	/* No splice: libfuse then reads each request into memory, as it does
	 * for every request that is not a large write anyway. */
	static const struct fuse_custom_io io = {
		.read = note_read,
		.writev = plain_writev,
	};

	return fuse_session_custom_io(se, &io, fuse_session_fd(se));
}

bool
hidden_is_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return strncmp(b ? b + 1 : path, HIDDEN_PREFIX, sizeof(HIDDEN_PREFIX) - 1) == 0;
}

static bool
in_hiding_request(void)
{
	return cur_opcode == FUSE_UNLINK || cur_opcode == FUSE_RENAME ||
	       cur_opcode == FUSE_RENAME2;
}

bool
hidden_probe(const char *path)
{
	size_t n;

	if (!in_hiding_request() || !hidden_is_name(path))
		return false;
	/* Too long to note: the rename is then an ordinary one. */
	if ((n = strlen(path)) < sizeof(probed))
		memcpy(probed, path, n + 1);
	return true;
}

enum hidden_kind
hidden_rename(const char *to)
{
	bool match = probed[0] && strcmp(probed, to) == 0 && in_hiding_request();

	probed[0] = '\0';
	if (!match)
		return HIDDEN_NONE;
	return cur_opcode == FUSE_UNLINK ? HIDDEN_UNLINK : HIDDEN_REPLACE;
}

bool
hidden_release_unlink(const char *path)
{
	return cur_opcode == FUSE_RELEASE && hidden_is_name(path);
}

struct io_file *
hidden_file(struct fs_ctx *c, const char *path)
{
	return path && hidden_is_name(path) ? ofile_find_hidden(&c->files, path) : NULL;
}
