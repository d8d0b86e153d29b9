/* session: see session.h. */
#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fxc.h"
#include "server_cmd.h"
#include "sshargv.h"
#include "sshc.h"

void
session_engine_config(const struct opts *o, struct fxc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if (o->server_alive_interval > 0)
		cfg->keepalive_ms = (unsigned)o->server_alive_interval * 1000u;
	if (o->server_alive_count_max > 0)
		cfg->keepalive_count_max = (unsigned)o->server_alive_count_max;
	cfg->max_read = o->max_read;
	cfg->max_write = o->max_write;
}

/* Takes t (fxc_start owns it on success and on failure). */
static int
start(const struct opts *o, struct fxc_transport *t, struct fxc **out, char *err, size_t errlen)
{
	struct fxc_config cfg;

	session_engine_config(o, &cfg);
	return fxc_start(t, &cfg, out, err, errlen);
}

int
session_start_ssh(const struct opts *o, struct sshc *conn, const char *server_cmd,
		  struct fxc **out, char *err, size_t errlen)
{
	struct fxc_transport *t = NULL;
	int r;

	r = fxc_transport_ssh(conn, o->channels > 0 ? o->channels : SESSION_DEFAULT_CHANNELS,
			      server_cmd, &t, err, errlen);
	if (r < 0)
		return r;
	return start(o, t, out, err, errlen);
}

int
session_start_command(const struct opts *o, const char *server_cmd, struct fxc **out,
		      char *err, size_t errlen)
{
	struct fxc_transport *t = NULL;
	struct sshargv av = { 0 };
	int r;

	r = sshargv_for_command(o, server_cmd_subsystem(o), server_cmd, &av);
	if (r < 0) {
		snprintf(err, errlen, "ssh_command=%s cannot be split into words", o->ssh_command);
		return r;
	}
	r = fxc_transport_cmd(av.v, &t, err, errlen);
	sshargv_free(&av);
	if (r < 0)
		return r;
	return start(o, t, out, err, errlen);
}

int
session_start_fd(const struct opts *o, int fd, struct fxc **out, char *err, size_t errlen)
{
	struct fxc_transport *t = NULL;

	if (fxc_transport_fds(fd, fd, 0, &t) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return start(o, t, out, err, errlen);
}

int
session_open(const struct opts *o, const char *server_cmd, struct fxc **out, char *err,
	     size_t errlen)
{
	struct sshc *conn = NULL;
	struct sshc_error e;
	int r;

	if (o->ssh_command || o->directport > 0) {
		/* one connection only, as sshfs (fs/conns.h); nothing redials them yet */
		snprintf(err, errlen, "%s: no further connections",
			 o->ssh_command ? "ssh_command=" : "directport=");
		return -EOPNOTSUPP;
	}
	memset(&e, 0, sizeof(e));
	if ((r = sshc_open(o, &conn, &e)) < 0) {
		snprintf(err, errlen, "%s", e.msg[0] ? e.msg : "the SSH connection failed");
		return r;
	}
	return session_start_ssh(o, conn, server_cmd, out, err, errlen);
}
