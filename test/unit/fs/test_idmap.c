/* Unit tests for fs/idmap.c (sshfs's idmap=none|user|file, nomap=) and
 * fs/attr.c (SFTP attributes to struct stat, access() checks). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attr.h"
#include "idmap.h"
#include "tap.h"

/* A fake local user/group database. */
static int
fake_resolve(void *arg, const char *name, uint32_t *id)
{
	(void)arg;
	if (strcmp(name, "alice") == 0)
		*id = 1000;
	else if (strcmp(name, "bob") == 0)
		*id = 1001;
	else if (strcmp(name, "broken") == 0)
		return -EIO;
	else
		return -ENOENT;
	return 0;
}

static uint32_t
to_local(const struct idmap *m, enum idmap_kind k, uint32_t id, int *r)
{
	uint32_t out = 0xdead;

	*r = idmap_to_local(m, k, id, &out);
	return out;
}

static uint32_t
to_remote(const struct idmap *m, enum idmap_kind k, uint32_t id, int *r)
{
	uint32_t out = 0xdead;

	*r = idmap_to_remote(m, k, id, &out);
	return out;
}

static void
test_none_user(void)
{
	struct idmap m;
	int r;

	idmap_init_none(&m);
	TAP_EQ_INT(to_local(&m, IDMAP_UID, 5000, &r), 5000);
	TAP_EQ_INT(r, 0);
	idmap_init_user(&m, 1001, 1002, 0, 0);
	TAP_EQ_INT(to_local(&m, IDMAP_UID, 1001, &r), 0);
	TAP_EQ_INT(to_local(&m, IDMAP_GID, 1002, &r), 0);
	TAP_EQ_INT(to_local(&m, IDMAP_UID, 1002, &r), 1002);	/* only the pair */
	TAP_EQ_INT(to_local(&m, IDMAP_UID, 7, &r), 7);
	TAP_EQ_INT(to_remote(&m, IDMAP_UID, 0, &r), 1001);
	TAP_EQ_INT(to_remote(&m, IDMAP_GID, 0, &r), 1002);
	TAP_EQ_INT(to_remote(&m, IDMAP_UID, 33, &r), 33);
	idmap_free(&m);
}

static void
test_file(void)
{
	static const char text[] =
		"alice:5000\n"
		"\n"
		"# a comment\n"
		"bob:x:5001:5001:Bob:/home/bob:/bin/sh\r\n"
		"nobody-here:5002\n";
	struct idmap m;
	char err[256] = "";
	int r;

	idmap_init_file(&m, true);
	TAP_EQ_INT(idmap_parse(&m, IDMAP_UID, text, fake_resolve, NULL, "uidfile",
			       err, sizeof(err)), 0);
	TAP_EQ_INT(m.t[IDMAP_UID].n, 2);	/* the unknown local name is skipped */
	TAP_EQ_INT(to_local(&m, IDMAP_UID, 5000, &r), 1000);
	TAP_EQ_INT(to_local(&m, IDMAP_UID, 5001, &r), 1001);
	TAP_EQ_INT(r, 0);
	to_local(&m, IDMAP_UID, 5002, &r);
	TAP_EQ_INT(r, -EPERM);			/* nomap=error */
	TAP_EQ_INT(to_remote(&m, IDMAP_UID, 1000, &r), 5000);
	to_remote(&m, IDMAP_UID, 4, &r);
	TAP_EQ_INT(r, -EPERM);
	TAP_EQ_INT(to_local(&m, IDMAP_GID, 77, &r), 77);	/* no gid table: */
	TAP_EQ_INT(r, -EPERM);					/* unmapped */
	idmap_free(&m);

	idmap_init_file(&m, false);		/* nomap=ignore */
	idmap_parse(&m, IDMAP_UID, text, fake_resolve, NULL, "uidfile", err, sizeof(err));
	TAP_EQ_INT(to_local(&m, IDMAP_UID, 5002, &r), 5002);
	TAP_EQ_INT(r, 0);
	idmap_free(&m);
}

static void
test_file_errors(void)
{
	struct idmap m;
	char err[256] = "";

	idmap_init_file(&m, true);
	TAP_EQ_INT(idmap_parse(&m, IDMAP_UID, "alice:5000\nalice\n", fake_resolve, NULL,
			       "f", err, sizeof(err)), -EINVAL);
	TAP_CHECK(strstr(err, "f:2") != NULL);
	TAP_EQ_INT(idmap_parse(&m, IDMAP_UID, "alice:12x\n", fake_resolve, NULL,
			       "f", err, sizeof(err)), -EINVAL);
	TAP_EQ_INT(idmap_parse(&m, IDMAP_UID, "alice:99999999999\n", fake_resolve, NULL,
			       "f", err, sizeof(err)), -EINVAL);
	TAP_EQ_INT(idmap_parse(&m, IDMAP_UID, ":5\n", fake_resolve, NULL,
			       "f", err, sizeof(err)), -EINVAL);
	TAP_EQ_INT(idmap_parse(&m, IDMAP_UID, "broken:5\n", fake_resolve, NULL,
			       "f", err, sizeof(err)), -EIO);
	TAP_CHECK(strstr(err, "broken") != NULL);
	idmap_free(&m);
}

/* idmap_load_file's ownership rules, with the real passwd database. */
static void
test_load_file(void)
{
	char path[] = "/tmp/smidmap-XXXXXX", err[256] = "";
	struct idmap m;
	int fd = mkstemp(path);

	TAP_CHECK(fd >= 0);
	TAP_CHECK(write(fd, "root:4242\n", 10) == 10);
	close(fd);
	chmod(path, 0644);
	idmap_init_file(&m, true);
	TAP_EQ_INT(idmap_load_file(&m, IDMAP_UID, path, err, sizeof(err)), 0);
	{
		uint32_t out;

		TAP_EQ_INT(idmap_to_local(&m, IDMAP_UID, 4242, &out), 0);
		TAP_EQ_INT(out, 0);
	}
	idmap_free(&m);
	chmod(path, 0666);
	idmap_init_file(&m, true);
	TAP_EQ_INT(idmap_load_file(&m, IDMAP_UID, path, err, sizeof(err)), -EPERM);
	TAP_CHECK(strstr(err, "writable") != NULL);
	idmap_free(&m);
	unlink(path);
	TAP_EQ_INT(idmap_load_file(&m, IDMAP_UID, path, err, sizeof(err)), -ENOENT);
}

static void
test_attr(void)
{
	struct idmap m;
	struct attr_cfg cfg = { .idmap = &m };
	struct fxp_attr a = {
		.flags = FXA_SIZE | FXA_UIDGID | FXA_PERMISSIONS | FXA_ACMODTIME,
		.size = 1000, .uid = 1001, .gid = 1002, .perm = S_IFREG | 0640,
		.atime = 11, .mtime = 22,
	};
	struct stat st;

	idmap_init_user(&m, 1001, 1002, 0, 0);
	TAP_EQ_INT(attr_to_stat(&cfg, &a, &st), 0);
	TAP_EQ_INT(st.st_size, 1000);
	TAP_EQ_INT(st.st_uid, 0);
	TAP_EQ_INT(st.st_gid, 0);
	TAP_EQ_INT(st.st_mode, S_IFREG | 0640);
	TAP_EQ_INT(st.st_mtim.tv_sec, 22);
	TAP_EQ_INT(st.st_atim.tv_sec, 11);
	TAP_EQ_INT(st.st_nlink, 1);
	TAP_EQ_INT(st.st_blocks, 8);		/* one 4 KiB block */
	cfg.set_uid = true;
	cfg.uid = 77;
	cfg.set_umask = true;
	cfg.umask = 027;
	a.perm = S_IFDIR | 0777;
	attr_to_stat(&cfg, &a, &st);
	TAP_EQ_INT(st.st_uid, 77);
	TAP_EQ_INT(st.st_mode, S_IFDIR | 0750);
	a.flags = 0;				/* a server that says nothing */
	cfg.set_uid = false;
	cfg.self_uid = 4321;
	attr_to_stat(&cfg, &a, &st);
	TAP_CHECK(S_ISREG(st.st_mode));
	TAP_EQ_INT(st.st_uid, 4321);		/* the mounting user's */
	idmap_free(&m);
	idmap_init_file(&m, true);
	a.flags = FXA_UIDGID;
	TAP_EQ_INT(attr_to_stat(&cfg, &a, &st), -EPERM);
	idmap_free(&m);
}

static void
test_access(void)
{
	struct stat st;
	gid_t groups[] = { 50, 60 };

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0640;
	st.st_uid = 1000;
	st.st_gid = 60;
	TAP_EQ_INT(attr_access(&st, R_OK | W_OK, 1000, 1000, NULL, 0), 0);
	TAP_EQ_INT(attr_access(&st, X_OK, 1000, 1000, NULL, 0), -EACCES);
	TAP_EQ_INT(attr_access(&st, R_OK, 2000, 2000, groups, 2), 0);	/* supplementary */
	TAP_EQ_INT(attr_access(&st, W_OK, 2000, 2000, groups, 2), -EACCES);
	TAP_EQ_INT(attr_access(&st, R_OK, 2000, 2000, NULL, 0), -EACCES);
	TAP_EQ_INT(attr_access(&st, F_OK, 2000, 2000, NULL, 0), 0);
	TAP_EQ_INT(attr_access(&st, R_OK | W_OK, 0, 0, NULL, 0), 0);	/* root */
	TAP_EQ_INT(attr_access(&st, X_OK, 0, 0, NULL, 0), -EACCES);
	st.st_mode = S_IFDIR | 0700;
	TAP_EQ_INT(attr_access(&st, X_OK, 0, 0, NULL, 0), 0);
}

int
main(void)
{
	test_none_user();
	test_file();
	test_file_errors();
	test_load_file();
	test_attr();
	test_access();
	return tap_done();
}
