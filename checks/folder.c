/* folder: see folder.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch.h"
#include "folder.h"
#include "randid.h"
#include "result.h"
#include "rfs.h"

static const char *const folder_names[CHK_FOLDER_COUNT] = {
	[CHK_FOLDER_OK] = "ok",
	[CHK_FOLDER_NOT_DIR] = "not-a-directory",
	[CHK_FOLDER_NOT_WRITABLE] = "not-writable",
	[CHK_FOLDER_NOT_SEARCHABLE] = "not-searchable",
	[CHK_FOLDER_CREATE_FAILED] = "create-failed",
	[CHK_FOLDER_NO_HOME] = "no-home",
	[CHK_FOLDER_NO_SFTP] = "no-sftp",
	[CHK_FOLDER_IO] = "io",
};

const char *
chk_folder_reason_name(int reason)
{
	return chk_reason_lookup(folder_names, CHK_FOLDER_COUNT, reason);
}

bool
chk_root_needs_home(const char *path)
{
	return !path || path[0] != '/';
}

/* Collapses "//" and drops a trailing slash except for "/" itself, in place. */
static void
clean(char *s)
{
	size_t k = 0;

	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '/' && k > 0 && s[k - 1] == '/')
			continue;
		s[k++] = s[i];
	}
	while (k > 1 && s[k - 1] == '/')
		k--;
	s[k] = '\0';
}

int
chk_root_path(const char *home, const char *path, char **out)
{
	const char *rel = path ? path : "";
	size_t len;
	char *s;

	*out = NULL;
	if (rel[0] == '/') {
		home = "";
	} else {
		if (rel[0] == '~' && (rel[1] == '/' || rel[1] == '\0'))
			rel++;
		while (rel[0] == '.' && (rel[1] == '/' || rel[1] == '\0'))
			rel += rel[1] ? 2 : 1;
		while (rel[0] == '/')
			rel++;
		if (!home || home[0] != '/')
			return -EINVAL;
	}
	len = strlen(home) + strlen(rel) + 3;
	s = malloc(len);
	if (!s)
		return -ENOMEM;
	snprintf(s, len, "%s%s%s", home, rel[0] && home[0] ? "/" : "", rel);
	clean(s);
	*out = s;
	return 0;
}

void
chk_folder_fail(struct chk_result *res, int reason, const char *what)
{
	static const char *const hints[CHK_FOLDER_COUNT] = {
		[CHK_FOLDER_NO_HOME] = "give an absolute path (host:/path)",
		[CHK_FOLDER_NO_SFTP] = "make sure the server has an SFTP subsystem "
				       "(Subsystem sftp in sshd_config) or give sftp_server=PATH",
		[CHK_FOLDER_IO] = "check the connection and try again",
	};

	chk_res_fail(res, reason, chk_folder_reason_name(reason), hints[reason], "%s", what);
}

/* What one round trip tells about the root: its attributes, whether a
 * name inside can be looked up, whether a file can be created in it. */
struct look {
	int stat_err;
	struct fxp_attr attr;
	int search_err;		/* 0 is impossible: the name is random */
	int open_err;
	struct rfs_handle h;
	char probe[48];		/* name of the created file */
};

static int
look_at(struct fxc *c, const char *root, bool need_write, struct look *lk)
{
	struct batch b;
	struct fxp_attr none = { 0 };
	char id[RANDID_SIZE + 4], path[4096];
	int r;

	memset(lk, 0, sizeof(*lk));
	if (randid_make(id, sizeof(id), 8, NULL) < 0)
		return -EIO;
	snprintf(lk->probe, sizeof(lk->probe), ".sshmountfs-probe-%s", id);
	batch_init(&b);
	r = fxp_enc_path(batch_next(&b), FXP_STAT, root);
	snprintf(path, sizeof(path), "%s/%s", strcmp(root, "/") ? root : "", lk->probe);
	r = r ?: fxp_enc_path(batch_next(&b), FXP_STAT, path);
	if (need_write)
		r = r ?: fxp_enc_open(batch_next(&b), path,
				     FXF_WRITE | FXF_CREAT | FXF_EXCL, &none);
	r = r ?: batch_run(c, 0, &b);
	if (r == 0) {
		lk->stat_err = batch_attrs(&b, 0, &lk->attr);
		lk->search_err = batch_attrs(&b, 1, &none);
		lk->open_err = need_write ? batch_handle(&b, 2, 0, &lk->h) : -ENOSYS;
	}
	batch_free(&b);
	return r;
}

/* Closes and removes the probe file: one round trip, or none when the
 * replies are not waited for. */
static int
unprobe(struct fxc *c, const char *root, struct look *lk, bool wait)
{
	struct batch b;
	char path[4096];
	int r;

	snprintf(path, sizeof(path), "%s/%s", strcmp(root, "/") ? root : "", lk->probe);
	batch_init(&b);
	r = fxp_enc_handle(batch_next(&b), FXP_CLOSE, lk->h.data, lk->h.len);
	r = r ?: fxp_enc_path(batch_next(&b), FXP_REMOVE, path);
	/* The channel keeps the order: REMOVE runs after CLOSE. */
	if (r == 0 && !wait)
		r = batch_send(c, lk->h.chan, &b);
	else if (r == 0 && (r = batch_run(c, lk->h.chan, &b)) == 0)
		r = batch_status(&b, 1);
	batch_free(&b);
	return r;
}

/* mkdir -p over SFTP: parents first, only when the direct mkdir says the
 * parent is missing. *made counts the directories created. */
static int
mkdir_p(struct fxc *c, char *path, int depth, int *made, char *failed, size_t flen)
{
	char *slash;
	int r = rfs_mkdir(c, path, 0777);

	if (r == -ENOENT && depth < 256) {
		slash = strrchr(path, '/');
		if (slash && slash != path) {
			*slash = '\0';
			r = mkdir_p(c, path, depth + 1, made, failed, flen);
			*slash = '/';
			if (r == 0)
				r = rfs_mkdir(c, path, 0777);
		}
	}
	if (r == 0)
		(*made)++;
	else if (r == -EEXIST)
		r = 0;
	else if (!failed[0])
		snprintf(failed, flen, "%s", path);
	return r;
}

static int
create_root(struct fxc *c, const char *root, struct chk_result *res)
{
	char failed[4096] = "", *p = strdup(root);
	int made = 0, r;

	if (!p)
		return -ENOMEM;
	r = mkdir_p(c, p, 0, &made, failed, sizeof(failed));
	free(p);
	if (r < 0)
		chk_res_fail(res, CHK_FOLDER_CREATE_FAILED, folder_names[CHK_FOLDER_CREATE_FAILED],
			     "create it on the server, or choose a path the login user may create",
			     "remote path %s is missing and cannot be created: mkdir %s: %s",
			     root, failed, strerror(-r));
	return r;
}

/* Creating a file in the folder was refused for lack of permission. */
static bool
not_writable(const struct look *lk)
{
	return lk->open_err == -EACCES || lk->open_err == -EPERM || lk->open_err == -EROFS;
}

static int
judge(const char *root, const struct look *lk, bool need_write, struct chk_result *res)
{
	if (lk->stat_err == -EACCES || lk->stat_err == -EPERM)
		chk_res_fail(res, CHK_FOLDER_NOT_SEARCHABLE, folder_names[CHK_FOLDER_NOT_SEARCHABLE],
			     "a directory above it does not let the login user through (x bit)",
			     "remote path %s cannot be reached: %s", root, strerror(-lk->stat_err));
	else if (lk->stat_err)
		chk_res_fail(res, CHK_FOLDER_IO, folder_names[CHK_FOLDER_IO],
			     "check the path and the connection",
			     "cannot look at remote path %s: %s", root, strerror(-lk->stat_err));
	else if (!(lk->attr.flags & FXA_PERMISSIONS) || !S_ISDIR(lk->attr.perm))
		chk_res_fail(res, CHK_FOLDER_NOT_DIR, folder_names[CHK_FOLDER_NOT_DIR],
			     "give the path of a directory (or a new name to create)",
			     "remote path %s exists but is not a directory", root);
	else if (lk->search_err == -EACCES || lk->search_err == -EPERM)
		chk_res_fail(res, CHK_FOLDER_NOT_SEARCHABLE, folder_names[CHK_FOLDER_NOT_SEARCHABLE],
			     "give the login user search (x) permission on it: chmod u+x",
			     "remote path %s is not searchable (no x permission for the login user)", root);
	else if (need_write && not_writable(lk))
		chk_res_fail(res, CHK_FOLDER_NOT_WRITABLE, folder_names[CHK_FOLDER_NOT_WRITABLE],
			     "give the login user write permission on it (chmod u+w), "
			     "or mount read-only with -o ro",
			     "remote path %s is not writable (creating a file in it: %s)", root,
			     strerror(-lk->open_err));
	else if (need_write && lk->open_err)
		chk_res_fail(res, CHK_FOLDER_IO, folder_names[CHK_FOLDER_IO],
			     "check the server's disk (full? quota?) and its log",
			     "cannot create a file in remote path %s: %s", root, strerror(-lk->open_err));
	else
		return 0;
	return -1;
}

int
chk_folder(struct fxc *c, const char *root, bool need_write, bool must_write,
	   bool lingering, struct chk_result *res)
{
	struct look lk;
	bool created = false, left = false, ro_only;
	int r;

	chk_res_begin(res, CHK_FOLDER);
	r = look_at(c, root, need_write, &lk);
	if (r == 0 && lk.stat_err == -ENOENT) {
		if (create_root(c, root, res) < 0)
			return -1;
		created = true;
		r = look_at(c, root, need_write, &lk);
	}
	if (r < 0) {
		chk_folder_fail(res, CHK_FOLDER_IO, "the connection failed while checking the remote path");
		return -1;
	}
	if (lk.open_err == 0 && unprobe(c, root, &lk, !lingering) < 0)
		left = true;
	/* Readable but not writable: sshfs mounts it (/usr/share/doc, a
	 * published folder) and programs meet EACCES on writes; only the full
	 * plan (Back In Time's first run) insists. */
	ro_only = !must_write && need_write && not_writable(&lk);
	if (judge(root, &lk, need_write && !ro_only, res) < 0)
		return -1;
	if (created)
		chk_res_pass(res, "created remote path %s", root);
	else
		chk_res_pass(res, "remote path %s is a %sdirectory", root,
			     ro_only ? "read-only " : need_write ? "writable " : "");
	if (ro_only)
		snprintf(res->warning, sizeof(res->warning),
			 "remote path %.400s is not writable by the login user (%s): "
			 "writes will fail", root, strerror(-lk.open_err));
	if (left)
		snprintf(res->detail, sizeof(res->detail), "could not remove the probe file %.900s/%s",
			 root, lk.probe);
	return 0;
}
