/* plan: chk_run() and the session it leaves (checks.h).
 *
 * Order (Back In Time's preMountCheck in common/sshtools.py, with the folder
 * before the hard-link test, which works inside it):
 *   reachable, known host, login, [cipher], [commands], folder, [hardlink]
 * The SSH connection the checks log in with is the one the mount keeps,
 * so the light plan costs a plain connect plus the reachability probe and
 * one round trip of the folder check.
 *
 * The commands probe needs an exec channel, which exists only before fxc
 * takes the connection. The full plan's hard-link test wants the shell's
 * view after the SFTP link exists, so when a shell answered, the checks'
 * connection is kept for that and the SFTP engine gets a second one (full
 * plan only; if the second login fails the test goes without the shell).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "checks.h"
#include "cipher.h"
#include "commands.h"
#include "folder.h"
#include "hardlink.h"
#include "known_host.h"
#include "login.h"
#include "reachable.h"
#include "result.h"
#include "script.h"
#include "server_cmd.h"
#include "sshargv.h"
#include "session.h"
#include "sshc.h"
#include "fxc.h"
#include "rfs.h"

struct run {
	const struct opts *o;
	bool full;
	bool keep;		/* the session goes on to serve a mount */
	struct chk_result *res;
	struct sshc *conn;	/* ours until fxc takes it */
	struct sshc *shell;	/* full plan: kept for the hard-link test's exec */
	struct sshc *engine;	/* the connection fxc owns (borrowed) */
	struct fxc *fxc;
	char *root;
	char *server_cmd;
	char *found_server;	/* what the probe found */
	bool have_shell;
	int probe_fd;		/* the reachability probe's socket, for sshc */
	char who[256];
};

/* The result of check id, started now (chk_res_begin). */
static struct chk_result *
begin(struct run *x, enum chk_id id)
{
	chk_res_begin(&x->res[id], id);
	return &x->res[id];
}

static void
skip(struct run *x, enum chk_id id, const char *why)
{
	chk_res_skip(begin(x, id), "%s", why);
}

/* The folder check fails before it could look at the folder. */
static struct chk_result *
folder_fail(struct run *x, int reason, const char *what)
{
	struct chk_result *r = begin(x, CHK_FOLDER);

	chk_folder_fail(r, reason, what);
	return r;
}

/* ---- after the SFTP engine runs: root, folder, hard links ---- */

static int
step_root(struct run *x)
{
	struct chk_result *res;
	char *home = NULL;
	int r = 0;

	if (chk_root_needs_home(x->o->path))
		r = rfs_home(x->fxc, &home);
	if (r < 0) {
		res = folder_fail(x, CHK_FOLDER_NO_HOME,
				  "cannot find the remote home directory for a relative path");
		snprintf(res->detail, sizeof(res->detail), "home-directory / REALPATH \".\": %s",
			 strerror(-r));
		return -1;
	}
	r = chk_root_path(home, x->o->path, &x->root);
	free(home);
	if (r < 0) {
		folder_fail(x, CHK_FOLDER_NO_HOME, "the remote home is not an absolute path");
		return -1;
	}
	return 0;
}

static int
step_sftp_checks(struct run *x)
{
	if (step_root(x) < 0)
		return -1;
	/* With a hard-link test to come, the folder's probe file must be gone
	 * before it, so only a light plan skips waiting for its removal. */
	if (chk_folder(x->fxc, x->root, !x->o->ro, x->full, x->keep && !x->full,
		       &x->res[CHK_FOLDER]) < 0)
		return -1;
	if (!x->full)
		return 0;
	if (x->o->disable_hardlink) {
		skip(x, CHK_HARDLINK, "disable_hardlink: the mount makes no hard links");
		return 0;
	}
	if (x->o->ro) {
		skip(x, CHK_HARDLINK, "read-only mount: the mount makes no hard links");
		return 0;
	}
	return chk_hardlink(x->fxc, x->root, x->shell, &x->res[CHK_HARDLINK]);
}

static int
start_fail(struct run *x, const char *how, const char *err)
{
	struct chk_result *r = folder_fail(x, CHK_FOLDER_NO_SFTP, "");

	snprintf(r->msg, sizeof(r->msg), "cannot start the SFTP server (%s): %s", how,
		 err[0] ? err : "failed");
	return -1;
}

/* After a session_start_*(): the engine is up, or why not. */
static int
started(struct run *x, int r, const char *how, const char *err)
{
	if (r < 0)
		return start_fail(x, how, err);
	return step_sftp_checks(x);
}

/* ---- transports without SSH ---- */

static void
skip_ssh_checks(struct run *x, const char *why, bool reach_too)
{
	if (reach_too)
		skip(x, CHK_REACHABLE, why);
	skip(x, CHK_KNOWN_HOST, why);
	skip(x, CHK_LOGIN, why);
	if (x->full) {
		skip(x, CHK_CIPHER, why);
		skip(x, CHK_COMMANDS, why);
	}
}

static int
bad_option(struct run *x, const char *fmt, const char *arg)
{
	chk_res_fail(begin(x, CHK_COMMANDS), CHK_CMD_BAD_OPTION, chk_cmd_reason_name(CHK_CMD_BAD_OPTION),
		     "give the server's path with sftp_server=PATH", fmt, arg);
	return -1;
}

static int
run_command(struct run *x)
{
	struct sshargv av = { 0 };
	char err[512] = "";
	int r;

	skip_ssh_checks(x, "ssh_command=: the command makes the connection", true);
	if (server_cmd_needs_probe(x->o))
		return bad_option(x, "%s with ssh_command= needs sftp_server=PATH "
				  "(the remote cannot be probed for the server)", "nice/ionice/nocache");
	/* the words are judged here, as a bad option, before anything runs */
	r = server_cmd_build(x->o, NULL, &x->server_cmd);
	if (r == 0)
		r = sshargv_for_command(x->o, server_cmd_subsystem(x->o), x->server_cmd, &av);
	sshargv_free(&av);
	if (r < 0)
		return bad_option(x, "ssh_command=%s cannot be split into words", x->o->ssh_command);
	r = session_start_command(x->o, x->server_cmd, &x->fxc, err, sizeof(err));
	return started(x, r, "ssh_command=", err);
}

static int
run_direct(struct run *x)
{
	struct chk_reach_cfg rc = {
		.host = x->o->host, .port = x->o->directport, .tries = x->o->reach_tries,
		.timeout_ms = x->o->reach_timeout_ms, .pause_ms = x->o->reach_pause_ms,
		.want_banner = false, .keep_fd = true, .what = "sftp server",
	};
	char err[512] = "";
	int fd = -1, r;

	skip_ssh_checks(x, "directport=: plain TCP, no SSH", false);
	if (chk_reachable(&rc, &x->res[CHK_REACHABLE], &fd) < 0)
		return -1;
	r = session_start_fd(x->o, fd, &x->fxc, err, sizeof(err));
	return started(x, r, "directport=", err);
}

/* ---- SSH ---- */

/* A failed sshc_new / sshc_connect, put on the check it belongs to. */
static int
conn_fail(struct run *x, const struct sshc_error *e)
{
	static const int reach_of[] = {
		[SSHC_E_DNS] = CHK_REACH_DNS, [SSHC_E_REFUSED] = CHK_REACH_REFUSED,
		[SSHC_E_TIMEOUT] = CHK_REACH_TIMEOUT, [SSHC_E_NOT_SSH] = CHK_REACH_NOT_SSH,
		[SSHC_E_CONFIG] = CHK_REACH_CONFIG,
	};
	struct chk_result *r = &x->res[CHK_REACHABLE];
	int attempts = r->attempts, reason = CHK_REACH_SSH, hr;

	if (e->code == SSHC_E_KEX || (e->code == SSHC_E_CONFIG && x->o->ciphers &&
				      strcasestr(e->msg, "cipher")))
		return chk_cipher_fail(x->o, e, &x->res[CHK_CIPHER]);
	if (e->code == SSHC_E_HOSTKEY_UNKNOWN || e->code == SSHC_E_HOSTKEY_CHANGED) {
		hr = chk_host_reason_of(e);
		chk_res_fail(begin(x, CHK_KNOWN_HOST), hr, chk_host_reason_name(hr), e->hint, "%s",
			     e->msg);
		return -1;
	}
	if ((size_t)e->code < sizeof(reach_of) / sizeof(reach_of[0]) && reach_of[e->code])
		reason = reach_of[e->code];
	chk_res_begin(r, CHK_REACHABLE);
	r->attempts = attempts;
	chk_res_fail(r, reason, chk_reach_reason_name(reason),
		     e->hint[0] ? e->hint : "check the host, the port and the ssh options",
		     "%s", e->msg[0] ? e->msg : "the SSH connection failed");
	snprintf(r->detail, sizeof(r->detail), "%s", e->detail);
	return -1;
}

static int
step_reach(struct run *x)
{
	ssh_session ss = sshc_session(x->conn);
	struct chk_reach_cfg rc = {
		.tries = x->o->reach_tries, .timeout_ms = x->o->reach_timeout_ms,
		.pause_ms = x->o->reach_pause_ms, .want_banner = true,
	};
	char jump[256], *host = NULL, *pc = NULL;
	unsigned int port = 22;
	int r;

	if (x->o->proxy_jump) {
		if (chk_parse_jump(x->o->proxy_jump, jump, sizeof(jump), &rc.port) < 0) {
			skip(x, CHK_REACHABLE, "ProxyJump= not understood; the connect will tell");
			return 0;
		}
		rc.host = jump;
		rc.what = "jump host";
		return chk_reachable(&rc, &x->res[CHK_REACHABLE], NULL);
	}
	if (x->o->proxy_command || ssh_options_get(ss, SSH_OPTIONS_PROXYCOMMAND, &pc) == SSH_OK) {
		ssh_string_free_char(pc);
		skip(x, CHK_REACHABLE, "the connection goes through a ProxyCommand");
		return 0;
	}
	if (ssh_options_get(ss, SSH_OPTIONS_HOST, &host) != SSH_OK)
		host = NULL;
	ssh_options_get_port(ss, &port);
	rc.host = host ? host : x->o->host;
	rc.port = (int)port;
	rc.keep_fd = true;
	r = chk_reachable(&rc, &x->res[CHK_REACHABLE], &x->probe_fd);
	ssh_string_free_char(host);
	return r;
}

/* Over the probe's socket when there is one: one TCP handshake, not two. */
static int
step_connect(struct run *x, struct sshc_error *e)
{
	int fd = x->probe_fd;

	x->probe_fd = -1;
	if (fd >= 0)
		return sshc_connect_fd(x->conn, fd, e);
	return sshc_connect(x->conn, e);
}

static void
set_who(struct run *x)
{
	char *user = NULL;

	if (ssh_options_get(sshc_session(x->conn), SSH_OPTIONS_USER, &user) != SSH_OK)
		user = NULL;
	snprintf(x->who, sizeof(x->who), "%s@%s", user ? user : "?", x->o->host);
	ssh_string_free_char(user);
}

static int
step_commands(struct run *x)
{
	bool need = server_cmd_needs_probe(x->o);
	bool user = x->full && !x->o->check_commands_off;
	const struct chk_probe_item *srv;
	struct chk_probe p;
	char err[256] = "";
	int r;

	if (!need && !user) {
		if (x->full)
			skip(x, CHK_COMMANDS, "check_commands=no");
		return 0;
	}
	if (chk_probe_build(x->o, user, &p, err, sizeof(err)) < 0)
		return bad_option(x, "%s", err);
	r = chk_commands(x->conn, &p, &x->res[CHK_COMMANDS], &x->have_shell);
	srv = chk_probe_server(&p);
	if (r == 0 && srv && srv->state == CHK_PROBE_OK && srv->detail[0])
		x->found_server = strdup(srv->detail);
	chk_probe_free(&p);
	return r;
}

static int
step_server_cmd(struct run *x)
{
	const char *sub = server_cmd_subsystem(x->o);

	if (sub && strcmp(sub, "sftp") != 0) {
		chk_res_fail(begin(x, CHK_FOLDER), CHK_FOLDER_NO_SFTP,
			     chk_folder_reason_name(CHK_FOLDER_NO_SFTP),
			     "give the server's path instead: sftp_server=/path/to/sftp-server",
			     "sftp_server=%s: only the \"sftp\" subsystem is supported", sub);
		return -1;
	}
	if (server_cmd_build(x->o, x->found_server, &x->server_cmd) < 0)
		return bad_option(x, "%s: the remote SFTP server was not found", "nice/ionice/nocache");
	return 0;
}

/* Full plan with a shell: keep this connection for the hard-link test's
 * exec and give the SFTP engine a second one. */
static void
step_second_conn(struct run *x)
{
	struct sshc *second = NULL;
	struct sshc_error e;

	if (!x->full || !x->have_shell || x->o->disable_hardlink || x->o->ro)
		return;
	memset(&e, 0, sizeof(e));
	if (sshc_open(x->o, &second, &e) < 0)
		return;
	x->shell = x->conn;
	x->conn = second;
}

static int
run_ssh(struct run *x)
{
	const char *how;
	struct sshc_error e;
	char err[512] = "";
	int r;

	memset(&e, 0, sizeof(e));
	if (sshc_new(x->o, &x->conn, &e) < 0)
		return conn_fail(x, &e);
	if (step_reach(x) < 0)
		return -1;
	if (step_connect(x, &e) < 0)
		return conn_fail(x, &e);
	set_who(x);
	if (chk_known_host(x->conn, &x->res[CHK_KNOWN_HOST]) < 0 ||
	    chk_login(x->conn, x->who, &x->res[CHK_LOGIN]) < 0)
		return -1;
	if (x->full && chk_cipher(x->o, x->conn, &x->res[CHK_CIPHER]) < 0)
		return -1;
	if (step_commands(x) < 0 || step_server_cmd(x) < 0)
		return -1;
	step_second_conn(x);
	how = x->server_cmd ? x->server_cmd : "subsystem sftp";
	x->engine = x->conn;	/* the session takes it, success or not */
	x->conn = NULL;
	r = session_start_ssh(x->o, x->engine, x->server_cmd, &x->fxc, err, sizeof(err));
	if (r < 0)
		x->engine = NULL;
	return started(x, r, how, err);
}

/* ---- the contract ---- */

int
chk_run(const struct opts *o, enum chk_plan plan,
	struct chk_result res[CHK_COUNT], struct chk_session *out)
{
	struct run x = { .o = o, .full = plan == CHK_PLAN_FULL, .keep = out != NULL, .res = res,
			 .probe_fd = -1 };
	int r;

	for (int i = 0; i < CHK_COUNT; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].id = (enum chk_id)i;
		res[i].reason_name = "";
	}
	if (out)
		memset(out, 0, sizeof(*out));
	if (!o->host)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	if (o->ssh_command)
		r = run_command(&x);
	else if (o->directport > 0)
		r = run_direct(&x);
	else
		r = run_ssh(&x);
	if (r == 0 && out) {
		out->conn = x.engine;
		out->fxc = x.fxc;
		out->root = x.root;
		out->server_cmd = x.server_cmd;
		x.fxc = NULL;
		x.root = NULL;
		x.server_cmd = NULL;
	}
	fxc_free(x.fxc);
	sshc_free(x.conn);
	sshc_free(x.shell);
	free(x.root);
	free(x.server_cmd);
	free(x.found_server);
	if (x.probe_fd >= 0)
		close(x.probe_fd);
	if (chk_failed(res) >= 0)
		return -1;
	return r < 0 ? r : 0;
}

void
chk_session_close(struct chk_session *s)
{
	if (!s)
		return;
	fxc_free(s->fxc);	/* closes the connection it owns */
	free(s->root);
	free(s->server_cmd);
	memset(s, 0, sizeof(*s));
}
