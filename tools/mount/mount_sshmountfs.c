/* mount.sshmountfs: the mount(8) helper of sshmountfs.
 *
 * mount(8) runs "mount.sshmountfs SPEC DIR [-sfnv] [-N NS] [-o OPTS] [-t TYPE]"
 * (also as mount.fuse.sshmountfs for type fuse.sshmountfs). The helper
 * parses that with the one option model (opts_parse_mount), so a bad line
 * fails here with the same message the file system would give, and then
 * execs the sshmountfs binary as "sshmountfs SPEC DIR -o OPTS".
 *
 * Why a separate program: mount(8)'s -s -f -n -v mean sloppy, fake, no
 * mtab and verbose, while FUSE file systems read -s and -f as single thread
 * and foreground (sshfs gets `mount -f` wrong that way). The helper consumes
 * mount's flags itself, so the file system only ever sees its own syntax:
 *   -f  everything is parsed and checked, nothing is mounted, exit 0;
 *   -s  -o items sshmountfs does not know are dropped with a warning;
 *   -n  nothing to do (there is no mtab to write);
 *   -v  the command that runs is shown on stderr;
 *   -N  the helper enters that mount namespace before exec.
 * fstab/mount noise (user, user=, users, _netdev, nofail, noauto, defaults,
 * x-*, comment=, ...) is stripped from what is passed on.
 *
 * The sshmountfs binary is looked up next to this program, then in the
 * build tree this program was built in (only when it runs from there), then
 * in the configured bindir; never through PATH, which autofs and systemd
 * do not set. Exit status: that of sshmountfs (0, 1, 32), or 1 for a bad
 * command line and 32 when sshmountfs cannot be started; never 16, which
 * autofs takes as "mounted, retry with -f".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "opts.h"

#ifndef MOUNT_BINDIR
#define MOUNT_BINDIR "/usr/local/bin"
#endif

#define EXIT_USAGE 1	/* mount(8): incorrect invocation */
#define EXIT_MOUNT 32	/* mount(8): mount failure */
#define FS_NAME "sshmountfs"

struct helper {
	struct opts o;
	struct opts_strv keep;		/* -o items to pass on, still escaped */
	char fs[PATH_MAX];		/* the sshmountfs binary */
	char *spec;			/* [user@]host:[path] rebuilt from o */
	char *optlist;			/* keep joined with commas, or NULL */
	char err[OPTS_ERR_LEN];
};

/* -------------------------------------------------------------- options */

/* True for the fstab-only items mount(8) hands to helpers (opts'
 * noise list: a trailing '=' takes a value, a trailing '-' is a prefix). */
static bool
is_noise(const char *item)
{
	const char *const *n;
	const char *eq = strchr(item, '=');
	size_t klen = eq ? (size_t)(eq - item) : strlen(item), len;

	for (n = opts_noise_names(); *n; n++) {
		len = strlen(*n);
		if ((*n)[len - 1] == '-') {
			if (strncmp(item, *n, len) == 0)
				return true;
		} else if ((*n)[len - 1] == '=') {
			if (eq && klen == len - 1 && strncmp(item, *n, klen) == 0)
				return true;
		} else if (!eq && strcmp(item, *n) == 0) {
			return true;
		}
	}
	return false;
}

/* Whether sshmountfs knows the item, asked of a scratch option set so the
 * answer is the file system's own. */
static bool
is_known(const char *item)
{
	struct opts scratch;
	char err[OPTS_ERR_LEN];
	int r;

	opts_init(&scratch);
	r = opts_apply_list(&scratch, item, err, sizeof(err));
	opts_free(&scratch);
	return r == 0;
}

static int
consider_item(struct helper *h, const char *item)
{
	if (item[0] == '\0' || is_noise(item))
		return 0;
	if (h->o.sloppy && !is_known(item))
		return 0;	/* opts_parse_mount has warned about it */
	return opts_strv_add(&h->keep, item);
}

/* Splits one -o list at commas not escaped by a backslash, keeping the
 * escapes: the file system unescapes the list it is given. */
static int
split_list(struct helper *h, const char *list)
{
	size_t len = strlen(list), i, n = 0;
	char *item = malloc(len + 1);
	int r = 0;

	if (item == NULL)
		return -ENOMEM;
	for (i = 0; r == 0 && i <= len; i++) {
		if (list[i] == '\\' && list[i + 1] != '\0') {
			item[n++] = list[i++];
			item[n++] = list[i];
		} else if (list[i] == ',' || list[i] == '\0') {
			item[n] = '\0';
			r = consider_item(h, item);
			n = 0;
		} else {
			item[n++] = list[i];
		}
	}
	free(item);
	return r;
}

/* The -o values of a command line opts_parse_mount has accepted (so every
 * -o, -N and -t has its value): "-o LIST" and "-oLIST". */
static int
collect_lists(struct helper *h, int argc, char **argv)
{
	int i, r = 0;

	for (i = 1; r == 0 && i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (a[0] != '-' || a[1] == '\0')
			continue;
		if (a[1] == 'o')
			r = split_list(h, a[2] ? a + 2 : argv[++i]);
		else if ((a[1] == 'N' || a[1] == 't') && a[2] == '\0')
			i++;
	}
	return r;
}

static int
join_items(struct helper *h)
{
	size_t i, len = 0;
	char *p;

	if (h->keep.n == 0)
		return 0;
	for (i = 0; i < h->keep.n; i++)
		len += strlen(h->keep.v[i]) + 1;
	h->optlist = p = malloc(len);
	if (p == NULL)
		return -ENOMEM;
	for (i = 0; i < h->keep.n; i++) {
		size_t l = strlen(h->keep.v[i]);

		memcpy(p, h->keep.v[i], l);
		p += l;
		*p++ = (i + 1 < h->keep.n) ? ',' : '\0';
	}
	return 0;
}

/* "[user@]host:[path]" from the parsed model, so a legacy
 * "sshmountfs#user@host:/p" spec reaches the file system in plain form. */
static int
rebuild_spec(struct helper *h)
{
	const struct opts *o = &h->o;
	bool v6 = strchr(o->host, ':') != NULL;
	int n;

	n = asprintf(&h->spec, "%s%s%s%s%s:%s",
		     o->user_from_spec && o->user ? o->user : "",
		     o->user_from_spec && o->user ? "@" : "",
		     v6 ? "[" : "", o->host, v6 ? "]" : "", o->path ? o->path : "");
	return n < 0 ? -ENOMEM : 0;
}

static int
check_type(const struct opts *o, char *err, size_t errlen)
{
	const char *t = o->mount_type;

	if (t == NULL || strcmp(t, FS_NAME) == 0 || strcmp(t, "fuse." FS_NAME) == 0)
		return 0;
	snprintf(err, errlen, "cannot mount type '%s' (this helper mounts %s and fuse.%s)",
		 t, FS_NAME, FS_NAME);
	return -EINVAL;
}

/* -------------------------------------------------------------- finding sshmountfs */

static bool
try_fs(struct helper *h, const char *dir, size_t dirlen)
{
	int n = snprintf(h->fs, sizeof(h->fs), "%.*s/" FS_NAME, (int)dirlen, dir);

	return n > 0 && (size_t)n < sizeof(h->fs) && access(h->fs, X_OK) == 0;
}

static int
find_fs(struct helper *h)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *slash;

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL && try_fs(h, self, (size_t)(slash - self)))
			return 0;
#ifdef MOUNT_BUILD_ROOT
		/* uninstalled: the file system target of the same build */
		if (strncmp(self, MOUNT_BUILD_ROOT "/", strlen(MOUNT_BUILD_ROOT) + 1) == 0 &&
		    access(MOUNT_BUILD_FS, X_OK) == 0) {
			snprintf(h->fs, sizeof(h->fs), "%s", MOUNT_BUILD_FS);
			return 0;
		}
#endif
	}
	if (try_fs(h, MOUNT_BINDIR, strlen(MOUNT_BINDIR)))
		return 0;
	snprintf(h->err, sizeof(h->err), "cannot find the %s program (looked next to "
		 "this helper and in %s)", FS_NAME, MOUNT_BINDIR);
	return -ENOENT;
}

/* -------------------------------------------------------------- running it */

/* -N: a PID's mount namespace, or a namespace file (/proc/PID/ns/mnt, a
 * bind mount of one). */
static int
enter_ns(struct helper *h, int *fs_fd)
{
	const char *ns = h->o.mount_ns;
	char path[64];
	int fd, saved;

	if (strspn(ns, "0123456789") == strlen(ns)) {
		snprintf(path, sizeof(path), "/proc/%s/ns/mnt", ns);
		ns = path;
	}
	/* the binary is opened here: after setns() its path may not exist */
	*fs_fd = open(h->fs, O_RDONLY | O_CLOEXEC);
	fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (*fs_fd < 0 || fd < 0 || setns(fd, CLONE_NEWNS) != 0) {
		saved = errno;
		snprintf(h->err, sizeof(h->err), "cannot enter mount namespace %s: %s",
			 h->o.mount_ns, strerror(saved));
		if (fd >= 0)
			close(fd);
		return -saved;
	}
	close(fd);
	return 0;
}

static void
show_command(char *const argv[])
{
	int i;

	fprintf(stderr, "mount.sshmountfs: running");
	for (i = 0; argv[i]; i++)
		fprintf(stderr, " %s", argv[i]);
	fputc('\n', stderr);
}

static int
run_fs(struct helper *h)
{
	char *argv[6] = { FS_NAME, h->spec, h->o.mountpoint, NULL, NULL, NULL };
	extern char **environ;
	int fs_fd = -1;

	if (h->optlist != NULL) {
		argv[3] = "-o";
		argv[4] = h->optlist;
	}
	argv[0] = h->fs;
	if (h->o.verbose)
		show_command(argv);
	if (h->o.fake)
		return 0;
	if (h->o.mount_ns != NULL && enter_ns(h, &fs_fd) != 0)
		return EXIT_MOUNT;
	if (fs_fd >= 0)
		fexecve(fs_fd, argv, environ);
	else
		execv(h->fs, argv);
	snprintf(h->err, sizeof(h->err), "cannot run %.400s: %s", h->fs, strerror(errno));
	return EXIT_MOUNT;
}

static int
prepare(struct helper *h, int argc, char **argv)
{
	int r;

	r = opts_parse_mount(&h->o, argc, argv, h->err, sizeof(h->err));
	if (r == 0)
		r = check_type(&h->o, h->err, sizeof(h->err));
	if (r == 0)
		r = collect_lists(h, argc, argv);
	if (r == 0)
		r = join_items(h);
	if (r == 0)
		r = rebuild_spec(h);
	if (r == -ENOMEM)
		snprintf(h->err, sizeof(h->err), "out of memory");
	return r;
}

/* -h and -V alone; mount(8) never passes them. */
static bool
info_request(int argc, char **argv)
{
	if (argc != 2)
		return false;
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		printf("usage: mount.sshmountfs [TYPE#][user@]host:[path] DIR [-sfnv] [-N NS] "
		       "[-o OPTS] [-t TYPE]\n"
		       "The mount(8) helper of sshmountfs: see mount.sshmountfs(8), and\n"
		       "sshmountfs --help for the options.\n");
		return true;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("mount.sshmountfs %s\n", SSHMOUNTFS_VERSION);
		return true;
	}
	return false;
}

int
main(int argc, char **argv)
{
	struct helper h = { .keep = { NULL, 0 } };
	int status;

	if (info_request(argc, argv))
		return 0;
	log_init("mount.sshmountfs", LOG_LVL_WARN);
	opts_init(&h.o);
	if (prepare(&h, argc, argv) != 0)
		status = EXIT_USAGE;
	else if (find_fs(&h) != 0)
		status = EXIT_MOUNT;
	else
		status = run_fs(&h);
	if (status != 0)
		log_error("%s", h.err);
	free(h.spec);
	free(h.optlist);
	opts_strv_free(&h.keep);
	opts_free(&h.o);
	return status;
}
