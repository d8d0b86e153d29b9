/* mount: see mount.h. */
#include "mount.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bgthread.h"
#include "checks.h"
#include "conns.h"
#include "ctl.h"
#include "dirops.h"
#include "fsopts.h"
#include "fuseapi.h"
#include "hidden.h"
#include "log.h"
#include "ops.h"
#include "probe.h"
#include "session.h"
#include "status.h"

struct live {
	struct fs_ctx *c;
	struct fuse *f;
	struct fuse_session *se;
	const struct opts *o;
	struct daemon *d;
	struct ctl ctl;
	pthread_t probe;
	atomic_bool ready;
	struct status status;	/* started by the probe once the mount answers */
};

/* ---- before the mount ---- */

static int
connect_checked(struct fs_ctx *c, const struct opts *o)
{
	struct chk_result res[CHK_COUNT];
	struct chk_session s;
	char err[512] = "";
	int r;

	/* before the first login: a passphrase or password it takes is
	 * needed again to reconnect */
	session_keep_secrets(o);
	r = chk_run(o, o->full_check ? CHK_PLAN_FULL : CHK_PLAN_LIGHT, res, &s);
	if (r != 0) {
		if (chk_failed(res) >= 0)
			chk_report_failure(res);
		else
			log_error("the pre-mount checks could not run: %s", strerror(-r));
		chk_session_close(&s);
		return MOUNT_EXIT_FAILED;
	}
	for (int i = 0; i < CHK_COUNT; i++)
		if (res[i].outcome == CHK_PASSED && res[i].warning[0])
			log_warn("%s", res[i].warning);
	c->root = s.root;
	s.root = NULL;
	if (fsctx_add_conn(c, s.fxc) < 0) {
		chk_session_close(&s);
		return MOUNT_EXIT_FAILED;
	}
	s.fxc = NULL;
	conns_open_extra(c, o, s.server_cmd);
	chk_session_close(&s);	/* what the mount does not keep (server_cmd) */
	if ((r = prefetch_start(&c->prefetch, c, dirops_prefetch_load)) < 0)
		log_warn("directory read-ahead is off: %s", strerror(-r));
	if ((r = content_start(&c->content, c)) < 0)
		log_warn("content read-ahead is off: %s", strerror(-r));
	if (o->idmap == OPTS_IDMAP_USER && fsctx_setup_idmap(c, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return MOUNT_EXIT_FAILED;
	}
	log_debug("connected: remote root %s, %d connection(s), read %u / write %u bytes "
		  "per request", c->root, c->nconn, fxc_max_read(c->conn[0]),
		  fxc_max_write(c->conn[0]));
	return 0;
}

/* fuse_new() with the translated options; NULL after libfuse said why. */
static struct fuse *
new_fuse(struct fs_ctx *c, const struct fsopts *fo)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse *f = NULL;
	int i;

	for (i = 0; i < fo->argc; i++)
		if (fuse_opt_add_arg(&args, fo->argv[i]) < 0)
			goto out;
	f = fuse_new(&args, ops_table(), sizeof(struct fuse_operations), c);
out:
	fuse_opt_free_args(&args);
	return f;
}

/* ---- the probe ---- */

static void *
probe_main(void *arg)
{
	struct live *l = arg;
	int r;

	r = probe_mount(l->o->mountpoint, MOUNT_PROBE_TIMEOUT_MS, fuse_session_fd(l->se));
	if (r == 0) {
		atomic_store(&l->ready, true);
		log_debug("mounted on %s", l->o->mountpoint);
		/* -ENOENT: a /dev/fd/N mount point (mount.fuse3) is not in
		 * the mount table under that name; nothing to warn about. */
		if ((r = status_start(&l->status, l->c, l->o)) < 0)
			log_msg(r == -ENOENT ? LOG_LVL_DEBUG : LOG_LVL_WARN,
				"no status socket (sshmountfs-tool status will not find "
				"this mount): %s", strerror(-r));
		if (!l->d->foreground)
			log_to_syslog();
		daemon_ready(l->d);
		return NULL;
	}
	log_error("the new mount on %s does not answer: %s", l->o->mountpoint,
		  r == -ETIMEDOUT ? "timed out" : strerror(-r));
	ctl_stop(&l->ctl);
	return NULL;
}


/* ---- the loop ---- */

static int
run_loop(struct live *l, const struct fsopts *fo)
{
	struct fuse_loop_config *cfg;
	int r;

	if (fo->single_thread)
		return fuse_loop(l->f);
	if ((cfg = fuse_loop_cfg_create()) == NULL)
		return -ENOMEM;
	fuse_loop_cfg_set_max_threads(cfg, fo->max_threads);
	if (fo->max_idle_threads >= 0)
		fuse_loop_cfg_set_idle_threads(cfg, (unsigned)fo->max_idle_threads);
	fuse_loop_cfg_set_clone_fd(cfg, fo->clone_fd);
	r = fuse_loop_mt(l->f, cfg);
	fuse_loop_cfg_destroy(cfg);
	return r;
}

/* After the control thread detached the mount, fuse_unmount() still has
 * to close the device and free libfuse's copy of the mount point, and would
 * print that the mount point is no longer mounted: true, and not news. */
static void
unmount_quietly(struct fuse *f)
{
	int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (null >= 0)
		dup2(null, STDERR_FILENO);
	fuse_unmount(f);
	if (saved >= 0) {
		dup2(saved, STDERR_FILENO);
		close(saved);
	}
	if (null >= 0)
		close(null);
}

/* A stop (signal, failed probe) during an outage: the workers blocked on
 * the link must not hold the loop for up to reconnect_timeout. */
static void
on_stop(void *arg)
{
	struct live *l = arg;

	for (int i = 0; i < l->c->nconn; i++)
		fxc_stop_waiting(l->c->conn[i]);
}

/* Mounted: control thread, probe, loop, then take it all down. */
static int
serve(struct live *l, const struct fsopts *fo)
{
	int r;

	fcntl(fuse_session_fd(l->se), F_SETFD, FD_CLOEXEC);
	if ((r = ctl_start(&l->ctl, l->se, l->o->mountpoint, on_stop, l)) < 0 ||
	    (r = bgthread_start(&l->probe, probe_main, l)) < 0) {
		log_error("cannot start: %s", strerror(-r));
		ctl_finish(&l->ctl);
		fuse_unmount(l->f);
		return MOUNT_EXIT_FAILED;
	}
	r = run_loop(l, fo);
	if (r != 0 && atomic_load(&l->ready))
		log_warn("the FUSE loop ended with an error (%d)", r);
	ctl_finish(&l->ctl);
	/* Unmounting also ends a probe still waiting on the mount. */
	if (l->ctl.unmounted)
		unmount_quietly(l->f);
	else
		fuse_unmount(l->f);
	pthread_join(l->probe, NULL);
	status_stop(&l->status);
	return atomic_load(&l->ready) ? 0 : MOUNT_EXIT_FAILED;
}

int
mount_serve(struct fs_ctx *c, const struct opts *o, struct daemon *d)
{
	struct live l = { .c = c, .o = o, .d = d };
	struct fsopts fo;
	char err[512] = "";
	int r;

	if ((r = connect_checked(c, o)) != 0)
		return r;
	if (fsopts_build(o, &fo, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return MOUNT_EXIT_USAGE;
	}
	atomic_init(&l.ready, false);
	if ((l.f = new_fuse(c, &fo)) == NULL) {
		fsopts_free(&fo);
		return MOUNT_EXIT_USAGE;	/* libfuse printed which option */
	}
	l.se = fuse_get_session(l.f);
	if (fuse_mount(l.f, o->mountpoint) != 0) {
		log_error("cannot mount on %s", o->mountpoint);
		fuse_destroy(l.f);
		fsopts_free(&fo);
		return MOUNT_EXIT_FAILED;
	}
	if ((r = hidden_install(l.se)) < 0)
		log_warn("files unlinked while open may show up as .fuse_hidden files: %s",
			 strerror(-r));
	r = serve(&l, &fo);
	fuse_destroy(l.f);
	fsopts_free(&fo);
	return r;
}
