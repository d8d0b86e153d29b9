/* main: the sshmountfs command.
 *
 *   options (core/opts.h) -> help / version -> mount point check ->
 *   idmap files -> fork-first daemon (daemon.h) -> checks, mount, serve
 *   (mount.h) -> exit status
 *
 * Exit status as mount(8): 0 mounted (and later unmounted cleanly), 1 bad
 * usage, 32 mount failure; never 16. The daemonized parent prints nothing
 * on success.
 *
 * password_stdin: the password is read from fd 0 by the SSH layer when it
 * logs in (sshc.h), in the daemon child, which keeps the caller's stdin
 * until it is ready.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>

#include "daemon.h"
#include "fsctx.h"
#include "fuseapi.h"
#include "log.h"
#include "mntpt.h"
#include "session.h"
#include "mount.h"
#include "opts.h"
#include "secret.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: sshmountfs [user@]host:[path] MOUNTPOINT [options]\n\n"
		"Mounts a remote directory over SSH (SFTP). Unmount with "
		"fusermount3 -u MOUNTPOINT.\n\n");
	opts_print_help(f);
}

static void
version(void)
{
	printf("sshmountfs %s\n", SSHMOUNTFS_VERSION);
	printf("libfuse %s\n", fuse_pkgversion());
	printf("libssh %s\n", ssh_version(0));
}

static enum log_level
chosen_level(const struct opts *o)
{
	if (o->debug)
		return LOG_LVL_DEBUG;
	if (o->log_level >= 0)
		return (enum log_level)o->log_level;
	return LOG_LVL_INFO;
}

/* Everything that can fail without a network: usage errors exit 1,
 * a bad mount point 32 (mount(8)'s "mount failure"). */
static int
prepare(struct opts *o, int argc, char **argv, struct fs_ctx *c)
{
	char err[OPTS_ERR_LEN] = "";
	int r;

	if (opts_parse_cmdline(o, argc, argv, err, sizeof(err)) < 0 ||
	    (!o->show_help && !o->show_version && opts_finalize(o, err, sizeof(err)) < 0)) {
		log_error("%s", err);
		return MOUNT_EXIT_USAGE;
	}
	if (o->show_help) {
		usage(stdout);
		return -1;
	}
	if (o->show_version) {
		version();
		return -1;
	}
	log_init("sshmountfs", chosen_level(o));
	if (mntpt_check(o->mountpoint, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return MOUNT_EXIT_FAILED;
	}
	if ((r = fsctx_init(c, o, NULL)) < 0) {
		log_error("out of memory");
		return 2;
	}
	if (o->idmap == OPTS_IDMAP_FILE && fsctx_setup_idmap(c, err, sizeof(err)) < 0) {
		log_error("idmap=file: %s", err);
		fsctx_destroy(c);
		return MOUNT_EXIT_USAGE;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct fs_ctx c;
	struct daemon d;
	struct opts o;
	int rc, r;

	memset(&c, 0, sizeof(c));
	log_init("sshmountfs", LOG_LVL_INFO);
	opts_init(&o);
	if ((rc = prepare(&o, argc, argv, &c)) != 0) {
		opts_free(&o);
		return rc < 0 ? 0 : rc;
	}
	if (secret_init() < 0) {
		log_error("cannot initialise libsodium");
		return 2;
	}
	if ((r = daemon_start(&d, o.foreground || o.debug)) < 0) {
		log_error("cannot start the daemon: %s", strerror(-r));
		return 2;
	}
	rc = mount_serve(&c, &o, &d);
	if (rc != 0)
		daemon_fail(&d, rc);
	fsctx_destroy(&c);
	session_end();
	opts_free(&o);
	return rc;
}
