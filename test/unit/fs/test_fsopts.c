/* Unit tests for fs/fsopts.c (the libfuse argument vector and loop
 * settings built from struct opts) and fs/mntpt.c (mount table parsing). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fsopts.h"
#include "mntpt.h"
#include "tap.h"

static struct opts
base(void)
{
	struct opts o;

	memset(&o, 0, sizeof(o));
	o.host = "example.org";
	o.user = "alice";
	o.path = "/srv/data";
	o.log_level = -1;
	return o;
}

/* The argv joined with spaces. */
static char *
joined(const struct fsopts *f)
{
	static char buf[2048];
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < f->argc && n < sizeof(buf) - 1; i++) {
		size_t l = strlen(f->argv[i]);

		if (n + l + 2 >= sizeof(buf))
			break;
		memcpy(buf + n, f->argv[i], l);
		n += l;
		buf[n++] = ' ';
		buf[n] = '\0';
	}
	return buf;
}

static void
test_defaults(void)
{
	struct opts o = base();
	struct fsopts f;
	char err[128];

	TAP_EQ_INT(fsopts_build(&o, &f, err, sizeof(err)), 0);
	TAP_CHECK(strcmp(joined(&f), "sshmountfs -o fsname=alice@example.org:/srv/data "
			 "-o subtype=sshmountfs ") == 0);
	TAP_CHECK(f.argv[f.argc] == NULL);
	TAP_EQ_INT(f.max_threads, FSOPTS_DEFAULT_MAX_THREADS);
	TAP_EQ_INT(f.max_idle_threads, -1);
	TAP_CHECK(!f.clone_fd && !f.single_thread);
	fsopts_free(&f);
}

static void
test_model_and_passthrough(void)
{
	struct opts o = base();
	char *items[] = { "attr_timeout=0", "max_threads=7", "clone_fd", "max_idle_threads=2",
			  "fsname=mine", NULL };
	struct fsopts f;
	char err[128];

	o.allow_other = o.default_permissions = o.ro = true;
	o.uid_set = o.gid_set = o.umask_set = true;
	o.uid = 1000;
	o.gid = 100;
	o.umask = 022;
	o.single_thread = true;
	o.kernel_cache = o.direct_io = true;	/* decided per open, not passed */
	o.fuse_opts.v = items;
	o.fuse_opts.n = 5;
	TAP_EQ_INT(fsopts_build(&o, &f, err, sizeof(err)), 0);
	TAP_CHECK(strcmp(joined(&f), "sshmountfs -o fsname=alice@example.org:/srv/data "
			 "-o subtype=sshmountfs -o allow_other -o default_permissions -o ro "
			 "-o uid=1000 -o gid=100 -o umask=22 -o attr_timeout=0 "
			 "-o fsname=mine ") == 0);
	TAP_EQ_INT(f.max_threads, 7);
	TAP_EQ_INT(f.max_idle_threads, 2);
	TAP_CHECK(f.clone_fd && f.single_thread);
	fsopts_free(&f);
}

static void
test_escaping_and_source(void)
{
	struct opts o = base();
	char *items[] = { "subtype=a,b", NULL };
	struct fsopts f;
	char err[128], *src;

	o.path = "/a,b\\c";
	o.fuse_opts.v = items;
	o.fuse_opts.n = 1;
	TAP_EQ_INT(fsopts_build(&o, &f, err, sizeof(err)), 0);
	TAP_CHECK(strcmp(f.argv[2], "fsname=alice@example.org:/a\\,b\\\\c") == 0);
	TAP_CHECK(strcmp(f.argv[6], "subtype=a\\,b") == 0);
	TAP_CHECK(strcmp(f.fsname, "alice@example.org:/a,b\\c") == 0);
	fsopts_free(&f);
	o = base();
	o.host = "::1";
	o.user = NULL;
	o.path = NULL;
	TAP_EQ_INT(fsopts_source(&o, &src), 0);
	TAP_CHECK(strcmp(src, "[::1]:") == 0);
	free(src);
}

static void
test_bad_loop_values(void)
{
	struct opts o = base();
	char *bad[] = { "max_threads=0", "max_threads=x", "max_idle_threads=-1",
			"max_threads=100000" };
	struct fsopts f;
	char err[128];
	int i;

	for (i = 0; i < 4; i++) {
		o.fuse_opts.v = &bad[i];
		o.fuse_opts.n = 1;
		err[0] = '\0';
		TAP_EQ_INT(fsopts_build(&o, &f, err, sizeof(err)), -EINVAL);
		TAP_CHECK(strstr(err, bad[i]) != NULL);
		TAP_CHECK(f.argv == NULL);
	}
}

static void
test_mountinfo(void)
{
	static const char info[] =
		"22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
		"90 22 0:50 / /tmp/mnt rw,nosuid shared:1 - fuse.sshmountfs u@h:/x rw\n"
		"91 22 0:51 / /tmp/with\\040space rw - fuse.sshmountfs u@h:/y rw\n"
		"92 22 0:52 / /tmp/other rw - fuse.sshfs u@h:/z rw\n"
		"garbage line\n";

	TAP_CHECK(mntpt_is_mounted(info, "/tmp/mnt", "fuse.sshmountfs"));
	TAP_CHECK(mntpt_is_mounted(info, "/tmp/with space", "fuse.sshmountfs"));
	TAP_CHECK(!mntpt_is_mounted(info, "/tmp/other", "fuse.sshmountfs"));
	TAP_CHECK(mntpt_is_mounted(info, "/tmp/other", "fuse."));
	TAP_CHECK(!mntpt_is_mounted(info, "/tmp", "fuse."));
}

static void
test_mntpt_check(void)
{
	char err[256] = "";

	TAP_EQ_INT(mntpt_check("/nonexistent/sm-mnt", err, sizeof(err)), -ENOENT);
	TAP_CHECK(strstr(err, "does not exist") != NULL);
	TAP_EQ_INT(mntpt_check("/etc/passwd", err, sizeof(err)), -ENOTDIR);
	TAP_CHECK(strstr(err, "not a directory") != NULL);
	TAP_EQ_INT(mntpt_check("/tmp", err, sizeof(err)), 0);
	TAP_EQ_INT(mntpt_check("/dev/fd/5", err, sizeof(err)), 0);
}

int
main(void)
{
	test_defaults();
	test_model_and_passthrough();
	test_escaping_and_source();
	test_bad_loop_values();
	test_mountinfo();
	test_mntpt_check();
	return tap_done();
}
