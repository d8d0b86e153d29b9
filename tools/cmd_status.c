/* status MOUNTPOINT: what a live sshmountfs mount is doing (connected or
 * reconnecting, traffic, open files, cache), asked of its daemon over the
 * status socket (core/statsock.h). The mount point is looked up in
 * /proc/self/mountinfo and never stat()ed: during an outage that would wait
 * for the link, which is exactly when people ask. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmds.h"
#include "mountinfo.h"
#include "statsock.h"

#define CMD "status"
#define STATUS_TIMEOUT_MS 5000

/* Exit statuses, for scripts (sshmountfs-tool(1)). */
#define STATUS_EXIT_CONNECTED 0
#define STATUS_EXIT_NO_STATUS 2		/* not an sshmountfs mount, or no answer */
#define STATUS_EXIT_NOT_CONNECTED 3	/* reconnecting, down or failed */

static const char help[] =
	"Usage: " CLI_PROG " status [--json] MOUNTPOINT\n"
	"Show the state of a live sshmountfs mount: connected, or reconnecting\n"
	"since when and why; reconnections, round-trip time, traffic, open files\n"
	"and writes not yet acknowledged, cache hit rates, options. Only the user\n"
	"who mounted it and root may ask. The mount itself is not touched, so\n"
	"this answers at once while the link is down.\n"
	"\n"
	"      --json    print one JSON object (fields in sshmountfs-tool(1))\n"
	"  -h, --help    this text\n"
	"\n"
	"Exit status: 0 connected, 1 usage, 2 not an sshmountfs mount or its\n"
	"status cannot be read, 3 not connected (reconnecting, down or failed).\n";

struct st_args {
	bool json;
};

static int
take(const char *cmd, void *ctx, int c, const char *arg)
{
	struct st_args *a = ctx;

	(void)cmd;
	(void)arg;
	if (c == 'j')
		a->json = true;
	return 0;
}

/* The absolute, symlink-free name of 'arg' as the mount table lists it,
 * resolving only the directories above it: resolving the last component
 * would look into the mount. */
static int
mount_point_name(const char *arg, char *out, size_t len)
{
	char buf[PATH_MAX], dir[PATH_MAX], *d, *b;
	size_t n;

	if (arg[0] == '/') {
		n = (size_t)snprintf(buf, sizeof(buf), "%s", arg);
	} else {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return -errno;
		n = (size_t)snprintf(buf, sizeof(buf), "%s/%s", cwd, arg);
	}
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	b = strrchr(buf, '/') + 1;
	if (!strcmp(b, ".") || !strcmp(b, "..") || b == buf + 1) {
		/* "/", or a name that needs the mount itself to resolve */
		if (realpath(buf, dir) == NULL)
			return -errno;
		n = (size_t)snprintf(out, len, "%s", dir);
		return n < len ? 0 : -ENAMETOOLONG;
	}
	b[-1] = '\0';
	d = buf[0] ? buf : "/";
	if (realpath(d, dir) == NULL)
		return -errno;
	n = (size_t)snprintf(out, len, "%s/%s", strcmp(dir, "/") ? dir : "", b);
	return n < len ? 0 : -ENAMETOOLONG;
}

static int
query_failed(const char *mnt, int r)
{
	switch (r) {
	case -ENOENT:
	case -ECONNREFUSED:
		cli_error(CMD, "Its daemon is an older sshmountfs, or could not create the "
			  "socket (see its log).", "%s: the mount has no status socket", mnt);
		break;
	case -EACCES:
		cli_error(CMD, "Only the user who mounted it and root may ask.",
			  "%s: the mount's daemon refused to answer", mnt);
		break;
	case -EPERM:
		cli_error(CMD, "Another process holds the mount's status socket name.",
			  "%s: the status socket is not served by the mount's owner", mnt);
		break;
	case -ETIMEDOUT:
		cli_error(CMD, NULL, "%s: the mount's daemon did not answer within %d s", mnt,
			  STATUS_TIMEOUT_MS / 1000);
		break;
	default:
		cli_error(CMD, NULL, "%s: cannot read the status: %s", mnt, strerror(-r));
	}
	return STATUS_EXIT_NO_STATUS;
}

int
cmd_status(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct st_args a = { 0 };
	const struct cli_optspec sp = {
		.cmd = CMD,
		.shortopts = ":h",
		.longopts = lo,
		.take = take,
		.ctx = &a,
		.operand = "MOUNTPOINT",
	};
	struct mountinfo_entry e;
	char mnt[PATH_MAX], *info, *state = NULL, *body = NULL;
	int rc, r;

	rc = cli_getopt(&sp, argc, argv);
	if (rc)
		return rc < 0 ? cli_help(help) : rc;
	if ((r = mount_point_name(argv[optind], mnt, sizeof(mnt))) < 0) {
		cli_error(CMD, NULL, "%s: %s", argv[optind], strerror(-r));
		return STATUS_EXIT_NO_STATUS;
	}
	if ((info = mountinfo_read()) == NULL) {
		cli_error(CMD, NULL, "cannot read /proc/self/mountinfo: %s", strerror(errno));
		return STATUS_EXIT_NO_STATUS;
	}
	r = mountinfo_find(info, mnt, NULL, &e);
	free(info);
	if (r < 0) {
		cli_error(CMD, NULL, "%s is not a mount point", mnt);
		return STATUS_EXIT_NO_STATUS;
	}
	if (strcmp(e.fstype, "fuse.sshmountfs") != 0) {
		cli_error(CMD, NULL, "%s is not an sshmountfs mount (type %s)", mnt, e.fstype);
		return STATUS_EXIT_NO_STATUS;
	}
	r = statsock_query(e.major, e.minor, e.user_id, a.json ? "json" : "text",
			   STATUS_TIMEOUT_MS, &state, &body);
	if (r < 0)
		return query_failed(mnt, r);
	fputs(body, stdout);
	rc = strcmp(state, "connected") == 0 ? STATUS_EXIT_CONNECTED : STATUS_EXIT_NOT_CONNECTED;
	free(state);
	free(body);
	return fflush(stdout) == 0 ? rc : CLI_EXIT_LOCAL;
}
