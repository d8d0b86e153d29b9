/* hardlink: see hardlink.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hardlink.h"
#include "randid.h"
#include "result.h"
#include "rfs.h"
#include "server_cmd.h"

static const char *const link_names[CHK_LINK_COUNT] = {
	[CHK_LINK_OK] = "ok",
	[CHK_LINK_UNSUPPORTED] = "no-hardlink-extension",
	[CHK_LINK_DENIED] = "link-denied",
	[CHK_LINK_NOT_SAME] = "not-same-file",
	[CHK_LINK_SETUP] = "setup-failed",
};

const char *
chk_link_reason_name(int reason)
{
	return chk_reason_lookup(link_names, CHK_LINK_COUNT, reason);
}

struct lt {
	struct fxc *c;
	char id[RANDID_SIZE + 1];
	char dir[4096], a[4200], b[4200];
	char note[200];		/* what the shell said, for the pass message */
};

static int
put_file(struct fxc *c, const char *path, uint32_t flags, const char *data)
{
	struct fxp_attr none = { 0 };
	struct rfs_handle h;
	ssize_t n;
	int r = rfs_open(c, -1, path, flags, &none, &h);

	if (r < 0)
		return r;
	n = rfs_write(c, &h, 0, data, strlen(data));
	r = rfs_close(c, &h);
	return n < 0 ? (int)n : r;
}

static int
get_file(struct fxc *c, const char *path, char *buf, size_t len)
{
	struct rfs_handle h;
	ssize_t n;
	int r = rfs_open(c, -1, path, FXF_READ, NULL, &h);

	if (r < 0)
		return r;
	n = rfs_read(c, &h, 0, buf, len - 1);
	rfs_close(c, &h);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	return 0;
}

int
chk_stat_same_inode(const char *out)
{
	unsigned long h1, h2;
	uint64_t i1, i2;

	if (!out || sscanf(out, "%lu:%" SCNu64 "\n%lu:%" SCNu64, &h1, &i1, &h2, &i2) != 4)
		return -1;
	return i1 == i2 && h1 >= 2 && h2 >= 2 ? 1 : 0;
}

/* The shell's view: one inode, two links. 1 / 0 / -1 as above. */
static int
shell_view(struct sshc *s, struct lt *t)
{
	struct sshc_error e;
	char *qa = NULL, *qb = NULL, *cmd = NULL, *out = NULL;
	int status = -1, r = -1;

	memset(&e, 0, sizeof(e));
	if (server_cmd_shell_quote(t->a, &qa) == 0 && server_cmd_shell_quote(t->b, &qb) == 0 &&
	    asprintf(&cmd, "stat -c %%h:%%i -- %s %s", qa, qb) > 0 &&
	    sshc_exec(s, cmd, NULL, &out, &status, &e) == 0 && status == 0)
		r = chk_stat_same_inode(out);
	if (r == 1)
		snprintf(t->note, sizeof(t->note), "; stat: one inode, %.40s", out);
	else if (r < 0)
		snprintf(t->note, sizeof(t->note), "; no `stat -c` on the remote to confirm");
	if (r == 1)
		t->note[strcspn(t->note, "\n") ] = '\0';
	free(qa);
	free(qb);
	free(cmd);
	free(out);
	return r;
}

/* Links and proves; leaves what it made for cleanup(). */
static int
trial(struct lt *t, struct sshc *shell, struct chk_result *res)
{
	char first[64], second[96], back[128];
	struct fxp_attr st;
	int r;

	snprintf(first, sizeof(first), "sshmountfs hardlink test %s\n", t->id);
	r = rfs_mkdir(t->c, t->dir, 0700);
	if (r == 0)
		r = put_file(t->c, t->a, FXF_WRITE | FXF_CREAT | FXF_EXCL, first);
	if (r < 0) {
		chk_res_fail(res, CHK_LINK_SETUP, link_names[CHK_LINK_SETUP],
			     "the remote path must be writable (see the folder check)",
			     "cannot make the test file in %s: %s", t->dir, strerror(-r));
		return -1;
	}
	r = rfs_link(t->c, t->a, t->b);
	if (r == -EOPNOTSUPP || r == -ENOSYS) {
		chk_res_fail(res, CHK_LINK_UNSUPPORTED, link_names[CHK_LINK_UNSUPPORTED],
			     "use an OpenSSH sftp-server (5.7 or later), or mount with -o disable_hardlink",
			     "the SFTP server does not offer hard links (hardlink@openssh.com)");
		return -1;
	}
	if (r < 0) {
		chk_res_fail(res, CHK_LINK_DENIED, link_names[CHK_LINK_DENIED],
			     "the server or its filesystem refuses hard links (FAT, some NAS "
			     "shares, sftp-server -P); choose another path or -o disable_hardlink",
			     "remote host doesn't support hardlinks in %s: %s", t->dir, strerror(-r));
		return -1;
	}
	snprintf(second, sizeof(second), "written through the second name %s, longer\n", t->id);
	r = rfs_lstat(t->c, t->b, &st);
	if (r == 0 && (!(st.flags & FXA_PERMISSIONS) || !S_ISREG(st.perm)))
		r = -EMLINK;
	if (r == 0)
		r = put_file(t->c, t->b, FXF_WRITE, second);
	if (r == 0)
		r = get_file(t->c, t->a, back, sizeof(back));
	if (r == 0 && strcmp(back, second) != 0)
		r = -EMLINK;
	if (r == 0 && shell && shell_view(shell, t) == 0)
		r = -EMLINK;
	if (r < 0) {
		chk_res_fail(res, CHK_LINK_NOT_SAME, link_names[CHK_LINK_NOT_SAME],
			     "the server's filesystem fakes links (a copy or a symlink); "
			     "choose another path or -o disable_hardlink",
			     "the link in %s is not the same file as its source%s%s", t->dir,
			     r == -EMLINK ? "" : ": ", r == -EMLINK ? "" : strerror(-r));
		return -1;
	}
	return 0;
}

/* Always runs, whatever trial() left. Returns 0 when nothing remains. */
static int
cleanup(struct lt *t)
{
	int ra = rfs_remove(t->c, t->a), rb = rfs_remove(t->c, t->b);
	int rd = rfs_rmdir(t->c, t->dir);

	(void)ra;
	(void)rb;
	return rd == 0 || rd == -ENOENT ? 0 : rd;
}

int
chk_hardlink(struct fxc *c, const char *root, struct sshc *shell, struct chk_result *res)
{
	struct lt t;
	const char *base = strcmp(root, "/") ? root : "";
	int r, rc;

	chk_res_begin(res, CHK_HARDLINK);
	memset(&t, 0, sizeof(t));
	t.c = c;
	if (randid_make(t.id, sizeof(t.id), RANDID_SIZE, NULL) < 0) {
		chk_res_fail(res, CHK_LINK_SETUP, link_names[CHK_LINK_SETUP], NULL,
			     "no random numbers (libsodium)");
		return -1;
	}
	snprintf(t.dir, sizeof(t.dir), "%s/tmp_sshmountfs_%s", base, t.id);
	snprintf(t.a, sizeof(t.a), "%s/a", t.dir);
	snprintf(t.b, sizeof(t.b), "%s/b", t.dir);
	r = trial(&t, shell, res);
	rc = cleanup(&t);
	if (r == 0)
		chk_res_pass(res, "hard links work in %s (one file under two names%s)%s",
			     root, t.note, rc ? "; could not remove the test directory" : "");
	else if (rc)
		snprintf(res->detail, sizeof(res->detail),
			 "could not remove the test directory %.900s: %s", t.dir, strerror(-rc));
	return r;
}
