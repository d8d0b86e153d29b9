/* fxc-cli: drives the SFTP engine (core/fxc + core/rfs) for the integration
 * tests and the benchmarks. Not installed.
 *
 *   fxc-cli [CONN] SUBCOMMAND ARGS...
 *
 * CONN is either an SSH target with OpenSSH-style options,
 *   [-p PORT] [-F CONFIG] [-o opt,...] [--channels N] [user@]host:[path]
 * or a local byte-stream server (no shell; split on spaces),
 *   --fd-cmd "/usr/lib/openssh/sftp-server -e"
 * plus engine settings: --timeout-ms N, --keepalive-ms N, --keepalive-max N.
 *
 * Subcommands (see usage()): exts, ops, try, put, get, stress,
 * kill-during-get. Every line of output is meant to be parsed by a test;
 * exit status 0 means the subcommand's own checks passed, 1 a check
 * failed, 2 a usage or connection error, 3 a hang bound was hit.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fxc.h"
#include "fxp.h"
#include "log.h"
#include "opts.h"
#include "rfs.h"
#include "sshc.h"

#define CLI_MAX_ARGV 32
#define CLI_MAX_HANDLES 16

struct cli {
	struct opts o;
	bool have_spec;
	const char *fd_cmd;
	struct fxc_config cfg;
	int channels;		/* 0: opts' default */
	struct fxc *c;
	/* transfer tuning */
	size_t block;		/* bytes per rfs_read/rfs_write call */
	int threads;		/* concurrent calls */
	int handles;		/* handles (one per channel) for get/put; 0 = all */
};

/* ---- small helpers ---- */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "OK" or the errno's symbolic name ("ENOENT"), for tests to match. */
static const char *
ename(long r)
{
	const char *s;

	if (r >= 0)
		return "OK";
	s = strerrorname_np((int)-r);
	return s != NULL ? s : "E?";
}

static int
check(bool ok, const char *what, long got)
{
	if (ok)
		printf("ok %s\n", what);
	else
		printf("FAIL %s: got %ld (%s)\n", what, got, ename(got));
	return ok ? 0 : 1;
}

#define CHECK_ERR(expr, want, what) do { long r_ = (expr); \
	fails += check(r_ == (want), what, r_); } while (0)

/* ---- connecting ---- */

static int
usage(void)
{
	fprintf(stderr,
		"usage: fxc-cli [-p PORT] [-F CFG] [-o OPTS] [--channels N] [user@]host:[path] CMD ...\n"
		"       fxc-cli --fd-cmd \"SERVER ARGS\" CMD ...\n"
		"  engine: --timeout-ms N --keepalive-ms N --keepalive-max N\n"
		"  transfer: --block BYTES --threads N --handles N\n"
		"commands:\n"
		"  exts                      announced extensions and limits\n"
		"  ops DIR                   every request type and extension, checked (DIR empty)\n"
		"  try OP ARGS [+ OP ARGS]   single ops; prints 'OP ARGS: OK|ENAME'\n"
		"  put LOCAL REMOTE | get REMOTE LOCAL   pipelined transfer, prints MB/s\n"
		"  stress N PATH             N concurrent requests, reports inversions\n"
		"  kill-during-get REMOTE [--after-mb N] [--external] [--max-wait S]\n");
	return 2;
}

/* Options that take a value; returns how many argv slots were used, 0 if
 * argv[0] is not a connection option, -1 on error. */
static int
parse_conn_opt(struct cli *cl, int argc, char **argv)
{
	char err[OPTS_ERR_LEN];
	const char *a = argv[0], *v = argc > 1 ? argv[1] : NULL;

	if (a[0] != '-')
		return 0;
	if (v == NULL)
		return -1;
	if (strcmp(a, "-p") == 0)
		cl->o.port = (int)strtol(v, NULL, 10);
	else if (strcmp(a, "-F") == 0) {
		if (opts_set_string(&cl->o.ssh_config, v) != 0)
			return -1;
	} else if (strcmp(a, "-o") == 0) {
		if (opts_apply_list(&cl->o, v, err, sizeof(err)) != 0) {
			fprintf(stderr, "fxc-cli: %s\n", err);
			return -1;
		}
	} else if (strcmp(a, "--fd-cmd") == 0)
		cl->fd_cmd = v;
	else if (strcmp(a, "--channels") == 0)
		cl->channels = (int)strtol(v, NULL, 10);
	else if (strcmp(a, "--timeout-ms") == 0)
		cl->cfg.request_timeout_ms = (unsigned)strtoul(v, NULL, 10);
	else if (strcmp(a, "--keepalive-ms") == 0)
		cl->cfg.keepalive_ms = (unsigned)strtoul(v, NULL, 10);
	else if (strcmp(a, "--keepalive-max") == 0)
		cl->cfg.keepalive_count_max = (unsigned)strtoul(v, NULL, 10);
	else if (strcmp(a, "--block") == 0)
		cl->block = strtoul(v, NULL, 10);
	else if (strcmp(a, "--threads") == 0)
		cl->threads = (int)strtol(v, NULL, 10);
	else if (strcmp(a, "--handles") == 0)
		cl->handles = (int)strtol(v, NULL, 10);
	else
		return -1;
	return 2;
}

/* Returns the index of the subcommand in argv, or -1. */
static int
parse_args(struct cli *cl, int argc, char **argv)
{
	char err[OPTS_ERR_LEN];
	int i = 1, n;

	while (i < argc) {
		if ((n = parse_conn_opt(cl, argc - i, argv + i)) < 0) {
			fprintf(stderr, "fxc-cli: bad option %s\n", argv[i]);
			return -1;
		}
		if (n > 0) {
			i += n;
			continue;
		}
		if (cl->fd_cmd != NULL || cl->have_spec)
			return i;
		if (opts_parse_remote(&cl->o, argv[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "fxc-cli: %s\n", err);
			return -1;
		}
		cl->have_spec = true;
		i++;
	}
	return -1;
}

/* Splits s on spaces into argv, in place (no quoting: test commands only). */
static int
split_words(char *s, char **argv, int max)
{
	int n = 0;

	while (*s != '\0' && n < max - 1) {
		while (*s == ' ')
			*s++ = '\0';
		if (*s == '\0')
			break;
		argv[n++] = s;
		while (*s != '\0' && *s != ' ')
			s++;
	}
	argv[n] = NULL;
	return n;
}

static int
open_transport(struct cli *cl, struct fxc_transport **t, char *err, size_t errlen)
{
	char *argv[CLI_MAX_ARGV], *copy;
	struct sshc_error e;
	struct sshc *s;
	int r;

	if (cl->fd_cmd != NULL) {
		if ((copy = strdup(cl->fd_cmd)) == NULL)
			return -ENOMEM;
		if (split_words(copy, argv, CLI_MAX_ARGV) == 0)
			r = -EINVAL;
		else
			r = fxc_transport_cmd(argv, t, err, errlen);
		free(copy);
		return r;
	}
	if ((r = opts_finalize(&cl->o, err, errlen)) != 0)
		return r;
	memset(&e, 0, sizeof(e));
	if ((r = sshc_open(&cl->o, &s, &e)) != 0) {
		sshc_error_report(&e);
		snprintf(err, errlen, "%s", e.msg);
		return r;
	}
	return fxc_transport_ssh(s, cl->channels > 0 ? cl->channels : cl->o.channels,
				 NULL, t, err, errlen);
}

static int
cli_connect(struct cli *cl)
{
	struct fxc_transport *t = NULL;
	char err[512] = "";
	int r;

	if (cl->o.server_alive_interval > 0 && cl->cfg.keepalive_ms == 0)
		cl->cfg.keepalive_ms = (unsigned)cl->o.server_alive_interval * 1000;
	if (cl->o.server_alive_count_max > 0 && cl->cfg.keepalive_count_max == 0)
		cl->cfg.keepalive_count_max = (unsigned)cl->o.server_alive_count_max;
	if ((r = open_transport(cl, &t, err, sizeof(err))) == 0)
		r = fxc_start(t, &cl->cfg, &cl->c, err, sizeof(err));
	if (r != 0) {
		printf("connect: %s %s\n", ename(r), err);
		return r;
	}
	return 0;
}

/* ---- exts ---- */

static const struct {
	enum fxc_ext bit;
	const char *name;
} ext_names[] = {
	{ FXC_EXT_POSIX_RENAME, "posix-rename@openssh.com" },
	{ FXC_EXT_STATVFS, "statvfs@openssh.com" },
	{ FXC_EXT_FSTATVFS, "fstatvfs@openssh.com" },
	{ FXC_EXT_HARDLINK, "hardlink@openssh.com" },
	{ FXC_EXT_FSYNC, "fsync@openssh.com" },
	{ FXC_EXT_LSETSTAT, "lsetstat@openssh.com" },
	{ FXC_EXT_LIMITS, "limits@openssh.com" },
	{ FXC_EXT_EXPAND_PATH, "expand-path@openssh.com" },
	{ FXC_EXT_HOME_DIR, "home-directory" },
	{ FXC_EXT_COPY_DATA, "copy-data" },
	{ FXC_EXT_USERS_GROUPS, "users-groups-by-id@openssh.com" },
};

static int
cmd_exts(struct cli *cl, int argc, char **argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; i < sizeof(ext_names) / sizeof(ext_names[0]); i++)
		if (fxc_has(cl->c, ext_names[i].bit))
			printf("ext %s\n", ext_names[i].name);
	printf("max_read %u\nmax_write %u\nchannels %d\n", fxc_max_read(cl->c),
	       fxc_max_write(cl->c), fxc_nchannels(cl->c));
	return 0;
}

/* ---- try: single operations for tests to assert errno values ---- */

static int
try_data(struct fxc *c, const char *op, const char *p)
{
	static const char text[] = "written by fxc-cli\n";
	struct rfs_handle h;
	char buf[256];
	ssize_t n;
	int r;

	if (strcmp(op, "write") == 0) {
		if ((r = rfs_open(c, -1, p, FXF_WRITE | FXF_CREAT | FXF_TRUNC, NULL, &h)) != 0)
			return r;
		n = rfs_write(c, &h, 0, text, sizeof(text) - 1);
	} else {
		if ((r = rfs_open(c, -1, p, FXF_READ, NULL, &h)) != 0)
			return r;
		n = rfs_read(c, &h, 0, buf, sizeof(buf) - 1);
		if (n >= 0)
			printf("data %.*s\n", (int)n, buf);
	}
	r = rfs_close(c, &h);
	return n < 0 ? (int)n : r;
}

static int
try_print_entry(void *arg, const char *name, const struct fxp_attr *a)
{
	(void)arg;
	printf("entry %s %o\n", name, a->perm);
	return 0;
}

/* Lists a directory: one "entry NAME MODE" line each. */
static int
try_ls(struct fxc *c, const char *path)
{
	struct rfs_handle h;
	int r, i;

	if ((r = rfs_opendir(c, path, &h)) != 0)
		return r;
	for (i = 0; i < 100000 && (r = rfs_readdir(c, &h, try_print_entry, NULL)) > 0; i++)
		;
	if (rfs_close(c, &h) != 0 && r == 0)
		r = -EIO;
	return r;
}

/* One "try" operation: inputs a, b; outputs s (a string) and at. */
struct try_op {
	struct fxc *c;
	const char *a, *b;
	char *s;
	struct fxp_attr at;
};

static int t_stat(struct try_op *t) { return rfs_stat(t->c, t->a, &t->at); }
static int t_lstat(struct try_op *t) { return rfs_lstat(t->c, t->a, &t->at); }
static int t_mkdir(struct try_op *t) { return rfs_mkdir(t->c, t->a, 0755); }
static int t_rmdir(struct try_op *t) { return rfs_rmdir(t->c, t->a); }
static int t_remove(struct try_op *t) { return rfs_remove(t->c, t->a); }
static int t_rename(struct try_op *t) { return rfs_rename(t->c, t->a, t->b, false); }
static int t_rename_nr(struct try_op *t) { return rfs_rename(t->c, t->a, t->b, true); }
static int t_link(struct try_op *t) { return rfs_link(t->c, t->a, t->b); }
static int t_symlink(struct try_op *t) { return rfs_symlink(t->c, t->a, t->b); }
static int t_readlink(struct try_op *t) { return rfs_readlink(t->c, t->a, &t->s); }
static int t_realpath(struct try_op *t) { return rfs_realpath(t->c, t->a, &t->s); }
static int t_home(struct try_op *t) { return rfs_home(t->c, &t->s); }
static int t_ls(struct try_op *t) { return try_ls(t->c, t->a); }
static int t_write(struct try_op *t) { return try_data(t->c, "write", t->a); }
static int t_read(struct try_op *t) { return try_data(t->c, "read", t->a); }

static int
t_statvfs(struct try_op *t)
{
	struct statvfs sv;

	return rfs_statvfs(t->c, t->a, &sv);
}

static int
t_chmod(struct try_op *t)
{
	struct fxp_attr a = { .flags = FXA_PERMISSIONS,
			      .perm = (uint32_t)strtoul(t->b, NULL, 8) };

	return rfs_setstat(t->c, t->a, &a);
}

/* open + op + close, for the handle operations. */
static int
t_handle(struct try_op *t, bool dir)
{
	struct rfs_handle h;
	int r, e;

	r = dir ? rfs_opendir(t->c, t->a, &h) : rfs_open(t->c, -1, t->a, FXF_READ, NULL, &h);
	if (r != 0)
		return r;
	if (!dir)
		r = rfs_fsync(t->c, &h);
	e = rfs_close(t->c, &h);
	return r != 0 ? r : e;
}

static int t_fsync(struct try_op *t) { return t_handle(t, false); }
static int t_opendir(struct try_op *t) { return t_handle(t, true); }

static const struct {
	const char *name;
	int (*fn)(struct try_op *t);
} try_ops[] = {
	{ "stat", t_stat }, { "lstat", t_lstat }, { "mkdir", t_mkdir },
	{ "rmdir", t_rmdir }, { "remove", t_remove }, { "rename", t_rename },
	{ "rename-noreplace", t_rename_nr }, { "link", t_link },
	{ "symlink", t_symlink }, { "readlink", t_readlink },
	{ "realpath", t_realpath }, { "home", t_home }, { "statvfs", t_statvfs },
	{ "chmod", t_chmod }, { "fsync", t_fsync }, { "opendir", t_opendir },
	{ "ls", t_ls }, { "write", t_write }, { "read", t_read },
};

static int
try_one(struct fxc *c, int argc, char **argv)
{
	struct try_op t = { .c = c, .a = argc > 1 ? argv[1] : "",
			    .b = argc > 2 ? argv[2] : "" };
	size_t i;
	int r = -ENOSYS;

	for (i = 0; i < sizeof(try_ops) / sizeof(try_ops[0]); i++)
		if (strcmp(argv[0], try_ops[i].name) == 0) {
			r = try_ops[i].fn(&t);
			break;
		}
	printf("%s %s%s%s: %s", argv[0], t.a, *t.b ? " " : "", t.b, ename(r));
	if (t.s != NULL)
		printf(" %s", t.s);
	if (r == 0 && (t.at.flags & FXA_PERMISSIONS))
		printf(" mode %o size %llu", t.at.perm, (unsigned long long)t.at.size);
	printf("\n");
	free(t.s);
	return 0;
}

static int
cmd_try(struct cli *cl, int argc, char **argv)
{
	int i, start = 0;

	for (i = 0; i <= argc; i++) {
		if (i < argc && strcmp(argv[i], "+") != 0)
			continue;
		if (i > start)
			try_one(cl->c, i - start, argv + start);
		start = i + 1;
	}
	fflush(stdout);
	return 0;
}

/* ---- ops: every request type and extension, with checks ---- */

#define PATHBUF 4096

static const char *
pj(char *buf, const char *dir, const char *name)
{
	/* Test paths are short; a cut one would only fail a check. */
	if ((size_t)snprintf(buf, PATHBUF, "%s/%s", dir, name) >= PATHBUF)
		buf[0] = '\0';
	return buf;
}

/* Writes 'len' patterned bytes to a new file and reads them back. */
static int
ops_data(struct fxc *c, const char *path, size_t len)
{
	struct rfs_handle h;
	struct fxp_attr a = { .flags = FXA_PERMISSIONS, .perm = 0600 };
	uint8_t *w = malloc(len), *rd = malloc(len + 100);
	int fails = 0;
	size_t i;

	if (w == NULL || rd == NULL)
		return 1;
	for (i = 0; i < len; i++)
		w[i] = (uint8_t)(i * 7 + i / 251);
	CHECK_ERR(rfs_open(c, -1, path, FXF_WRITE | FXF_CREAT | FXF_EXCL, &a, &h), 0, "open-excl-create");
	CHECK_ERR(rfs_write(c, &h, 0, w, len), (long)len, "write-pipelined");
	CHECK_ERR(rfs_fsync(c, &h), 0, "fsync");
	CHECK_ERR(rfs_fstat(c, &h, &a), 0, "fstat");
	fails += check(a.size == len, "fstat-size", (long)a.size);
	a.flags = FXA_PERMISSIONS;
	a.perm = 0640;
	CHECK_ERR(rfs_fsetstat(c, &h, &a), 0, "fsetstat");
	CHECK_ERR(rfs_close(c, &h), 0, "close");
	CHECK_ERR(rfs_open(c, -1, path, FXF_WRITE | FXF_CREAT | FXF_EXCL, NULL, &h), -EEXIST, "open-excl-exists");
	CHECK_ERR(rfs_open(c, -1, path, FXF_READ, NULL, &h), 0, "open-read");
	CHECK_ERR(rfs_read(c, &h, 0, rd, len + 100), (long)len, "read-pipelined-to-eof");
	fails += check(memcmp(w, rd, len) == 0, "read-matches", 0);
	CHECK_ERR(rfs_read(c, &h, len + 10, rd, 10), 0, "read-past-eof");
	CHECK_ERR(rfs_close(c, &h), 0, "close-read");
	free(w);
	free(rd);
	return fails;
}

struct ops_async {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done, err;
	uint32_t len;
	uint8_t data[16];
};

static void
ops_async_status(void *arg, int err)
{
	struct ops_async *x = arg;

	pthread_mutex_lock(&x->lock);
	x->err = err;
	x->done = 1;
	pthread_cond_signal(&x->cond);
	pthread_mutex_unlock(&x->lock);
}

static void
ops_async_read(void *arg, int err, const uint8_t *data, uint32_t len)
{
	struct ops_async *x = arg;

	x->len = len < sizeof(x->data) ? len : sizeof(x->data);
	if (x->len > 0)
		memcpy(x->data, data, x->len);
	ops_async_status(arg, err);
}

static int
ops_async_wait(struct ops_async *x)
{
	pthread_mutex_lock(&x->lock);
	while (!x->done)
		pthread_cond_wait(&x->cond, &x->lock);
	x->done = 0;
	pthread_mutex_unlock(&x->lock);
	return x->err;
}

/* rfs_write_async / rfs_read_async on one handle. */
static int
ops_async(struct fxc *c, const char *path)
{
	struct ops_async x = { .lock = PTHREAD_MUTEX_INITIALIZER,
			       .cond = PTHREAD_COND_INITIALIZER };
	struct rfs_handle h;
	int fails = 0;

	CHECK_ERR(rfs_open(c, -1, path, FXF_READ | FXF_WRITE | FXF_CREAT, NULL, &h), 0, "open-rw");
	CHECK_ERR(rfs_write_async(c, &h, 3, "async", 5, ops_async_status, &x), 0, "write-async-submit");
	CHECK_ERR(ops_async_wait(&x), 0, "write-async");
	CHECK_ERR(rfs_read_async(c, &h, 3, 16, ops_async_read, &x), 0, "read-async-submit");
	CHECK_ERR(ops_async_wait(&x), 0, "read-async");
	fails += check(x.len == 5 && memcmp(x.data, "async", 5) == 0, "read-async-data", x.len);
	CHECK_ERR(rfs_read_async(c, &h, 1000, 16, ops_async_read, &x), 0, "read-async-eof-submit");
	CHECK_ERR(ops_async_wait(&x), 0, "read-async-eof");
	fails += check(x.len == 0, "read-async-eof-empty", x.len);
	CHECK_ERR(rfs_close(c, &h), 0, "close-rw");
	return fails;
}

/* The names ops leaves in DIR by the time it lists it. */
static const char *const ops_expected[] = { "a", "c", "d", "g", "l" };

static int
ops_count_entry(void *arg, const char *name, const struct fxp_attr *a)
{
	unsigned *mask = arg;
	size_t i;

	(void)a;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (i = 0; i < sizeof(ops_expected) / sizeof(ops_expected[0]); i++)
		if (strcmp(name, ops_expected[i]) == 0) {
			*mask |= 1u << i;
			return 0;
		}
	*mask |= 1u << 31;	/* something unexpected */
	printf("unexpected entry %s\n", name);
	return 0;
}

static int
ops_readdir(struct fxc *c, const char *dir, const char *file)
{
	struct rfs_handle h;
	unsigned mask = 0;
	int fails = 0, r, i;

	CHECK_ERR(rfs_opendir(c, dir, &h), 0, "opendir");
	for (i = 0; i < 1000 && (r = rfs_readdir(c, &h, ops_count_entry, &mask)) > 0; i++)
		;
	fails += check(r == 0, "readdir-to-end", r);
	fails += check(mask == (1u << 5) - 1, "readdir-entries", mask);
	CHECK_ERR(rfs_close(c, &h), 0, "closedir");
	CHECK_ERR(rfs_opendir(c, file, &h), -ENOTDIR, "opendir-file-enotdir");
	return fails;
}

static int
ops_names(struct fxc *c, const char *dir)
{
	char p1[PATHBUF], p2[PATHBUF], p3[PATHBUF];
	struct fxp_attr a = { 0 };
	char *s = NULL;
	int fails = 0;

	CHECK_ERR(rfs_mkdir(c, pj(p1, dir, "d"), 0750), 0, "mkdir");
	CHECK_ERR(rfs_mkdir(c, p1, 0750), -EEXIST, "mkdir-eexist");
	CHECK_ERR(rfs_stat(c, p1, &a), 0, "stat-dir");
	fails += check(S_ISDIR(a.perm) && (a.perm & 0777) == 0750, "mkdir-mode", a.perm);
	CHECK_ERR(rfs_symlink(c, "f", pj(p2, dir, "l")), 0, "symlink");
	CHECK_ERR(rfs_symlink(c, "f", p2), -EEXIST, "symlink-eexist");
	CHECK_ERR(rfs_readlink(c, p2, &s), 0, "readlink");
	fails += check(s != NULL && strcmp(s, "f") == 0, "readlink-target", 0);
	free(s);
	CHECK_ERR(rfs_lstat(c, p2, &a), 0, "lstat");
	fails += check(S_ISLNK(a.perm), "lstat-is-link", a.perm);
	CHECK_ERR(rfs_stat(c, p2, &a), 0, "stat-follows");
	fails += check(S_ISREG(a.perm), "stat-is-file", a.perm);
	a.flags = FXA_ACMODTIME;
	a.atime = a.mtime = 1000000000;
	CHECK_ERR(rfs_lsetstat(c, p2, &a), 0, "lsetstat");
	CHECK_ERR(rfs_lstat(c, p2, &a), 0, "lstat-after-lsetstat");
	fails += check(a.mtime == 1000000000, "lsetstat-mtime", a.mtime);
	a.flags = FXA_ACMODTIME;
	a.atime = a.mtime = 1200000000;
	CHECK_ERR(rfs_setstat(c, pj(p3, dir, "f"), &a), 0, "setstat");
	CHECK_ERR(rfs_stat(c, p3, &a), 0, "stat-after-setstat");
	fails += check(a.mtime == 1200000000, "setstat-mtime", a.mtime);
	CHECK_ERR(rfs_link(c, p3, pj(p1, dir, "h")), 0, "hardlink");
	CHECK_ERR(rfs_link(c, p3, p1), -EEXIST, "hardlink-eexist");
	CHECK_ERR(rfs_remove(c, p1), 0, "remove-hardlink");
	CHECK_ERR(rfs_rename(c, p3, pj(p2, dir, "g"), false), 0, "posix-rename");
	/* (rename between two links of one file does nothing, so a new file) */
	CHECK_ERR(try_data(c, "write", pj(p1, dir, "r")), 0, "create-small");
	CHECK_ERR(rfs_rename(c, p1, p2, false), 0, "rename-replace");
	CHECK_ERR(rfs_stat(c, p2, &a), 0, "stat-replaced");
	fails += check(a.size == 19, "rename-replace-content", (long)a.size);
	CHECK_ERR(rfs_rename(c, pj(p1, dir, "l"), p2, true), -EEXIST, "rename-noreplace-eexist");
	CHECK_ERR(rfs_stat(c, p3, &a), -ENOENT, "stat-enoent");
	return fails;
}

static int
ops_copy(struct fxc *c, const char *dir)
{
	char src[PATHBUF], dst[PATHBUF];
	struct rfs_handle in, out;
	struct fxp_attr a = { 0 }, b = { 0 };
	int fails = 0;

	CHECK_ERR(rfs_open(c, 0, pj(src, dir, "g"), FXF_READ, NULL, &in), 0, "open-copy-src");
	CHECK_ERR(rfs_open(c, 0, pj(dst, dir, "c"), FXF_WRITE | FXF_CREAT, NULL, &out), 0, "open-copy-dst");
	CHECK_ERR(rfs_copy_data(c, &in, 0, 0, &out, 0), 0, "copy-data");
	(void)rfs_close(c, &in);
	(void)rfs_close(c, &out);
	CHECK_ERR(rfs_stat(c, src, &a), 0, "stat-copy-src");
	CHECK_ERR(rfs_stat(c, dst, &b), 0, "stat-copy-dst");
	fails += check(a.size == b.size && a.size > 0, "copy-data-size", (long)b.size);
	return fails;
}

static int
ops_cleanup(struct fxc *c, const char *dir)
{
	char p[PATHBUF], q[PATHBUF];
	struct statvfs sv;
	char *s = NULL;
	int fails = 0;

	CHECK_ERR(rfs_statvfs(c, dir, &sv), 0, "statvfs");
	fails += check(sv.f_bsize > 0 && sv.f_blocks > 0, "statvfs-values", (long)sv.f_bsize);
	CHECK_ERR(rfs_realpath(c, dir, &s), 0, "realpath");
	free(s);
	CHECK_ERR(rfs_home(c, &s), 0, "home");
	fails += check(s != NULL && s[0] == '/', "home-absolute", 0);
	free(s);
	CHECK_ERR(rfs_mkdir(c, pj(q, pj(p, dir, "d"), "x"), 0700), 0, "mkdir-nested");
	CHECK_ERR(rfs_rmdir(c, p), -ENOTEMPTY, "rmdir-enotempty");
	CHECK_ERR(rfs_remove(c, p), -EISDIR, "remove-dir-eisdir");
	CHECK_ERR(rfs_rmdir(c, q), 0, "rmdir-nested");
	CHECK_ERR(rfs_rmdir(c, p), 0, "rmdir");
	CHECK_ERR(rfs_remove(c, pj(p, dir, "g")), 0, "remove");
	CHECK_ERR(rfs_remove(c, pj(p, dir, "l")), 0, "remove-link");
	CHECK_ERR(rfs_remove(c, pj(p, dir, "c")), 0, "remove-copy");
	CHECK_ERR(rfs_remove(c, pj(p, dir, "a")), 0, "remove-async");
	CHECK_ERR(rfs_remove(c, p), -ENOENT, "remove-enoent");
	return fails;
}

static int
cmd_ops(struct cli *cl, int argc, char **argv)
{
	char p[PATHBUF];
	int fails = 0;

	if (argc < 1)
		return usage();
	/* 1 MiB + 1: several chunks of any server's size, and a short tail. */
	fails += ops_data(cl->c, pj(p, argv[0], "f"), (1u << 20) + 1);
	fails += ops_async(cl->c, pj(p, argv[0], "a"));
	fails += ops_names(cl->c, argv[0]);
	fails += ops_copy(cl->c, argv[0]);
	fails += ops_readdir(cl->c, argv[0], pj(p, argv[0], "g"));
	fails += ops_cleanup(cl->c, argv[0]);
	printf("ops: %d failed\n", fails);
	return fails ? 1 : 0;
}

/* ---- put / get: pipelined transfers ---- */

/* A transfer: 'threads' workers each move 'block' bytes per call, taking
 * the next block from a shared cursor; blocks go round-robin over one
 * handle per channel so every channel's window is used. */
struct xfer {
	struct fxc *c;
	int fd;				/* local file */
	bool upload;
	uint64_t size;
	size_t block;
	int nh;
	struct rfs_handle h[CLI_MAX_HANDLES];
	_Atomic uint64_t next;		/* next block offset to take */
	_Atomic uint64_t bytes;		/* bytes moved */
	_Atomic int err;		/* first error */
};

static int
xfer_block(struct xfer *x, uint8_t *buf, uint64_t off)
{
	size_t want = x->size - off < x->block ? (size_t)(x->size - off) : x->block;
	const struct rfs_handle *h = &x->h[(off / x->block) % (uint64_t)x->nh];
	ssize_t n;

	if (x->upload) {
		if (pread(x->fd, buf, want, (off_t)off) != (ssize_t)want)
			return -EIO;
		n = rfs_write(x->c, h, off, buf, want);
	} else {
		n = rfs_read(x->c, h, off, buf, want);
		if (n >= 0 && (size_t)n != want)
			return -ENODATA;	/* the file shrank under us */
		if (n > 0 && pwrite(x->fd, buf, (size_t)n, (off_t)off) != n)
			return -EIO;
	}
	if (n < 0)
		return (int)n;
	atomic_fetch_add(&x->bytes, (uint64_t)n);
	return 0;
}

static void *
xfer_worker(void *arg)
{
	struct xfer *x = arg;
	uint8_t *buf = malloc(x->block);
	uint64_t off;
	int r = buf == NULL ? -ENOMEM : 0;

	while (r == 0 && atomic_load(&x->err) == 0 &&
	       (off = atomic_fetch_add(&x->next, x->block)) < x->size)
		r = xfer_block(x, buf, off);
	if (r != 0) {
		int zero = 0;

		atomic_compare_exchange_strong(&x->err, &zero, r);
	}
	free(buf);
	return NULL;
}

/* Opens one handle per channel (the first one creates/truncates). */
static int
xfer_open(struct cli *cl, struct xfer *x, const char *remote)
{
	struct fxp_attr a = { .flags = FXA_PERMISSIONS, .perm = 0644 };
	uint32_t first = x->upload ? FXF_WRITE | FXF_CREAT | FXF_TRUNC : FXF_READ;
	uint32_t rest = x->upload ? FXF_WRITE : FXF_READ;
	int i, r;

	x->nh = cl->handles > 0 ? cl->handles : fxc_nchannels(x->c);
	if (x->nh > CLI_MAX_HANDLES)
		x->nh = CLI_MAX_HANDLES;
	if (x->nh < 1)
		x->nh = 1;
	for (i = 0; i < x->nh; i++) {
		r = rfs_open(x->c, i % fxc_nchannels(x->c), remote, i == 0 ? first : rest,
			     x->upload ? &a : NULL, &x->h[i]);
		if (r != 0) {
			while (i-- > 0)
				(void)rfs_close(x->c, &x->h[i]);
			return r;
		}
	}
	return 0;
}

static int
xfer_run(struct cli *cl, struct xfer *x, const char *what)
{
	pthread_t tids[64];
	int nt = cl->threads > 0 ? cl->threads : 8, i, r = 0;
	double t0 = now_s(), dt;

	if (nt > 64)
		nt = 64;
	x->block = cl->block > 0 ? cl->block : 2u << 20;
	for (i = 0; i < nt; i++)
		if (pthread_create(&tids[i], NULL, xfer_worker, x) != 0)
			break;
	while (i-- > 0)
		pthread_join(tids[i], NULL);
	for (i = 0; i < x->nh; i++) {
		int e = rfs_close(x->c, &x->h[i]);

		if (r == 0)
			r = e;
	}
	dt = now_s() - t0;
	if (atomic_load(&x->err) != 0)
		r = atomic_load(&x->err);
	printf("%s: %s %llu bytes in %.3f s: %.1f MB/s (%d handles, %d threads, block %zu)\n",
	       what, ename(r), (unsigned long long)atomic_load(&x->bytes), dt,
	       (double)atomic_load(&x->bytes) / 1e6 / (dt > 0 ? dt : 1e-9),
	       x->nh, nt, x->block);
	return r == 0 ? 0 : 1;
}

static int
cmd_put(struct cli *cl, int argc, char **argv)
{
	struct xfer x = { .c = cl->c, .upload = true };
	struct stat st;
	int r;

	if (argc < 2)
		return usage();
	if ((x.fd = open(argv[0], O_RDONLY)) < 0 || fstat(x.fd, &st) != 0) {
		printf("put: %s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	x.size = (uint64_t)st.st_size;
	if ((r = xfer_open(cl, &x, argv[1])) != 0) {
		printf("put: open %s: %s\n", argv[1], ename(r));
		close(x.fd);
		return 1;
	}
	r = xfer_run(cl, &x, "put");
	close(x.fd);
	return r;
}

static int
cmd_get(struct cli *cl, int argc, char **argv)
{
	struct xfer x = { .c = cl->c, .upload = false };
	struct fxp_attr a;
	int r;

	if (argc < 2)
		return usage();
	if ((r = rfs_stat(cl->c, argv[0], &a)) != 0 || (r = xfer_open(cl, &x, argv[0])) != 0) {
		printf("get: %s: %s\n", argv[0], ename(r));
		return 1;
	}
	x.size = a.size;
	if ((x.fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		printf("get: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	r = xfer_run(cl, &x, "get");
	if (close(x.fd) != 0)
		r = 1;
	return r;
}

/* ---- stress: many requests in flight, completions in any order ---- */

struct stress {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int n, done, errors;
	int *order;		/* order[k] = index of the k-th completion */
};

struct stress_slot {
	struct stress *s;
	int i;
};

static void
stress_complete(struct stress_slot *slot, int err)
{
	struct stress *s = slot->s;

	pthread_mutex_lock(&s->lock);
	s->order[s->done++] = slot->i;
	if (err != 0)
		s->errors++;
	if (s->done == s->n)
		pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void
stress_read_done(void *arg, int err, const uint8_t *data, uint32_t len)
{
	(void)data;
	(void)len;
	stress_complete(arg, err);
}

static void
stress_stat_done(void *arg, int err, const struct fxp_reply *rep)
{
	if (err == 0)
		err = fxp_reply_errno(rep, FXP_ATTRS);
	stress_complete(arg, err);
}

/* Every 4th request is a full-size READ on the file's channel; the rest
 * are LSTATs on the other channels, which overtake the queued READs. */
static int
stress_submit(struct cli *cl, struct stress_slot *slot, const struct rfs_handle *h,
	      const char *path, uint64_t size)
{
	uint32_t len = fxc_max_read(cl->c);
	int nch = fxc_nchannels(cl->c), i = slot->i;
	struct wire_buf b = { 0 };
	int r;

	if (i % 4 == 0)
		return rfs_read_async(cl->c, h, size > len ? (uint64_t)i * len % (size - len) : 0,
				      len, stress_read_done, slot);
	if ((r = fxp_enc_path(&b, FXP_LSTAT, path)) != 0)
		return r;
	r = fxc_submit(cl->c, nch > 1 ? 1 + i % (nch - 1) : 0, &b, stress_stat_done, slot);
	wire_buf_free(&b);
	return r;
}

static int
stress_wait(struct stress *s, int seconds)
{
	struct timespec dl;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += seconds;
	pthread_mutex_lock(&s->lock);
	while (s->done < s->n && r == 0)
		r = pthread_cond_timedwait(&s->cond, &s->lock, &dl);
	pthread_mutex_unlock(&s->lock);
	return s->done == s->n ? 0 : -ETIMEDOUT;
}

static int
stress_inversions(const struct stress *s)
{
	int k, maxi = -1, inv = 0;

	/* A completion is out of order when a later-submitted request
	 * completed before it. */
	for (k = 0; k < s->done; k++) {
		if (s->order[k] < maxi)
			inv++;
		else
			maxi = s->order[k];
	}
	return inv;
}

static int
cmd_stress(struct cli *cl, int argc, char **argv)
{
	struct stress s = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	struct stress_slot *slots;
	struct rfs_handle h;
	struct fxp_attr a;
	double t0;
	int i, r;

	if (argc < 2 || (s.n = (int)strtol(argv[0], NULL, 10)) <= 0)
		return usage();
	if ((r = rfs_stat(cl->c, argv[1], &a)) != 0 ||
	    (r = rfs_open(cl->c, 0, argv[1], FXF_READ, NULL, &h)) != 0) {
		printf("stress: %s: %s\n", argv[1], ename(r));
		return 1;
	}
	slots = calloc((size_t)s.n, sizeof(*slots));
	s.order = calloc((size_t)s.n, sizeof(int));
	if (slots == NULL || s.order == NULL)
		return 2;
	t0 = now_s();
	for (i = 0; i < s.n; i++) {
		slots[i] = (struct stress_slot){ &s, i };
		if ((r = stress_submit(cl, &slots[i], &h, argv[1], a.size)) != 0)
			stress_complete(&slots[i], r);
	}
	if (stress_wait(&s, 120) != 0) {
		printf("stress: HUNG %d of %d completed\n", s.done, s.n);
		fflush(stdout);
		_exit(3);
	}
	printf("stress: %d requests, %d completed, %d errors, %d inversions, %.3f s\n",
	       s.n, s.done, s.errors, stress_inversions(&s), now_s() - t0);
	(void)rfs_close(cl->c, &h);
	free(slots);
	free(s.order);
	return s.errors == 0 ? 0 : 1;
}

/* ---- kill-during-get: every waiter must fail promptly on a dead link ---- */

/* Readers loop over the file (wrapping at its end) and statters loop on
 * LSTAT, all blocked in rfs calls when the link dies; each records the
 * first error and when it came. */
struct killget {
	struct xfer x;
	const char *path;
	_Atomic int running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int finished;			/* protected by lock */
};

struct waiter {
	struct killget *k;
	bool statter;
	int err;
	double when;
	pthread_t tid;
};

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct killget *k = w->k;
	uint8_t *buf = malloc(k->x.block);
	struct fxp_attr a;
	uint64_t off;
	int r = buf == NULL ? -ENOMEM : 0;

	while (r == 0) {
		if (w->statter) {
			r = rfs_lstat(k->x.c, k->path, &a);
			continue;
		}
		off = atomic_fetch_add(&k->x.next, k->x.block) % (k->x.size / k->x.block * k->x.block);
		r = (int)rfs_read(k->x.c, &k->x.h[(off / k->x.block) % (uint64_t)k->x.nh], off,
				  buf, k->x.block);
		if (r > 0) {
			atomic_fetch_add(&k->x.bytes, (uint64_t)r);
			r = 0;
		} else if (r == 0)
			r = -ENODATA;
	}
	w->err = r;
	w->when = now_s();
	free(buf);
	pthread_mutex_lock(&k->lock);
	k->finished++;
	pthread_cond_signal(&k->cond);
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

/* Waits until 'n' waiters finished or 'seconds' passed; returns finished. */
static int
killget_wait(struct killget *k, int n, double seconds)
{
	struct timespec dl;
	int f;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += (time_t)seconds;
	pthread_mutex_lock(&k->lock);
	while (k->finished < n &&
	       pthread_cond_timedwait(&k->cond, &k->lock, &dl) == 0)
		;
	f = k->finished;
	pthread_mutex_unlock(&k->lock);
	return f;
}

static void
killget_report(struct waiter *w, int n, double t0)
{
	double worst = 0;
	int i, eio = 0;

	for (i = 0; i < n; i++) {
		double ms = (w[i].when - t0) * 1000;

		printf("waiter %d %s %s %.0f ms\n", i, w[i].statter ? "stat" : "read",
		       ename(w[i].err), ms);
		if (w[i].err == -EIO)
			eio++;
		if (ms > worst)
			worst = ms;
	}
	printf("kill-during-get: waiters %d eio %d other %d max_ms %.0f\n",
	       n, eio, n - eio, worst);
}

struct killget_args {
	double after_mb, max_wait;
	bool external;
	int nread, nstat;
};

static void
killget_parse(int argc, char **argv, struct killget_args *ka)
{
	int i;

	*ka = (struct killget_args){ .after_mb = 4, .max_wait = 120, .nread = 8, .nstat = 4 };
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--external") == 0)
			ka->external = true;
		else if (strcmp(argv[i], "--after-mb") == 0 && i + 1 < argc)
			ka->after_mb = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--max-wait") == 0 && i + 1 < argc)
			ka->max_wait = strtod(argv[++i], NULL);
	}
}

static int
cmd_kill_get(struct cli *cl, int argc, char **argv)
{
	struct killget k = { .x = { .c = cl->c }, .lock = PTHREAD_MUTEX_INITIALIZER,
			     .cond = PTHREAD_COND_INITIALIZER };
	struct waiter w[64];
	struct killget_args ka;
	struct fxp_attr a;
	double t0, start = now_s();
	int i, n, r;

	if (argc < 1)
		return usage();
	killget_parse(argc, argv, &ka);
	k.path = argv[0];
	k.x.block = cl->block > 0 ? cl->block : 1u << 20;
	if ((r = rfs_stat(cl->c, argv[0], &a)) != 0 || (r = xfer_open(cl, &k.x, argv[0])) != 0 ||
	    a.size < k.x.block) {
		printf("kill-during-get: %s: %s (size %llu)\n", argv[0], ename(r),
		       (unsigned long long)a.size);
		return 1;
	}
	k.x.size = a.size;
	n = ka.nread + ka.nstat;
	for (i = 0; i < n; i++) {
		w[i] = (struct waiter){ .k = &k, .statter = i >= ka.nread };
		pthread_create(&w[i].tid, NULL, waiter_main, &w[i]);
	}
	/* Let the pipeline fill first: the cut must hit requests in flight. */
	while (atomic_load(&k.x.bytes) < (uint64_t)(ka.after_mb * 1048576) &&
	       now_s() - start < 60 && killget_wait(&k, 1, 0) == 0)
		usleep(10000);
	printf("READY %llu bytes\n", (unsigned long long)atomic_load(&k.x.bytes));
	fflush(stdout);
	t0 = now_s();
	if (!ka.external)
		fxc_kill(cl->c);
	if (killget_wait(&k, n, ka.max_wait) < n) {
		printf("kill-during-get: HUNG %d of %d waiters still blocked after %.0f s\n",
		       n - k.finished, n, ka.max_wait);
		fflush(stdout);
		_exit(3);
	}
	for (i = 0; i < n; i++)
		pthread_join(w[i].tid, NULL);
	killget_report(w, n, t0);
	return 0;
}

/* ---- main ---- */

static const struct {
	const char *name;
	int (*fn)(struct cli *cl, int argc, char **argv);
} commands[] = {
	{ "exts", cmd_exts },
	{ "ops", cmd_ops },
	{ "try", cmd_try },
	{ "put", cmd_put },
	{ "get", cmd_get },
	{ "stress", cmd_stress },
	{ "kill-during-get", cmd_kill_get },
};

int
main(int argc, char **argv)
{
	struct cli cl;
	size_t i;
	int sub, rc = 2;

	memset(&cl, 0, sizeof(cl));
	log_init("fxc-cli", getenv("FXC_CLI_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_WARN);
	opts_init(&cl.o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((sub = parse_args(&cl, argc, argv)) < 0) {
		opts_free(&cl.o);
		return usage();
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[sub], commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		opts_free(&cl.o);
		return usage();
	}
	if (cli_connect(&cl) == 0)
		rc = commands[i].fn(&cl, argc - sub - 1, argv + sub + 1);
	fxc_free(cl.c);
	opts_free(&cl.o);
	return rc;
}
