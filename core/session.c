/* session: see session.h. */
#include "session.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fxc.h"
#include "log.h"
#include "server_cmd.h"
#include "sshargv.h"
#include "sshc.h"

/* What a redial needs, for one engine. Freed by session_end(), after the
 * engines: a redial that fxc_free() abandoned (fxc.h) may still be reading
 * it, so one that is busy then is left alone. The opts it points to live
 * as long as the mount. */
struct redial {
	struct redial *next;	/* all of them, under reg_lock */
	unsigned busy;		/* redials running on it, under reg_lock */
	const struct opts *o;
	char *server_cmd;	/* NULL = the subsystem */
	bool command;		/* ssh_command=: run it again */
	char *pin;		/* SSH: the host key verified at mount time (sshc_host_key) */
	char pin_fp[96];	/* and its fingerprint, for the message */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct redial *reg_head;

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
	cfg->reconnect_timeout_ms = (unsigned)o->reconnect_timeout * 1000u;
}

void
session_keep_secrets(const struct opts *o)
{
	if (o->reconnect)
		sshc_secrets_keep();
}

static void
redial_free(struct redial *rd)
{
	if (rd != NULL) {
		free(rd->pin);
		free(rd->server_cmd);
		free(rd);
	}
}

void
session_end(void)
{
	struct redial **pp, *rd;

	pthread_mutex_lock(&reg_lock);
	for (pp = &reg_head; (rd = *pp) != NULL;) {
		if (rd->busy > 0) {
			pp = &rd->next;
			continue;
		}
		*pp = rd->next;
		redial_free(rd);
	}
	pthread_mutex_unlock(&reg_lock);
	sshc_secrets_forget();
}

static int
nchannels(const struct opts *o)
{
	return o->channels > 0 ? o->channels : SESSION_DEFAULT_CHANNELS;
}

/* Errors that fxc would take for "stop for good" but are not. */
static int
transient(int r)
{
	return r == -EACCES || r == -EKEYREJECTED ? -EIO : r;
}

static void
say(const struct sshc_error *e, const char *dflt, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", e->msg[0] ? e->msg : dflt);
}

/* An SSH login without a person: connect, then the host key (the pinned
 * one when pin is set, else known_hosts), then the secrets the mount kept
 * (sshc_use_kept_secrets). -EKEYREJECTED for another key than the pinned
 * one, -EACCES when the server refused the login. */
static int
login(const struct opts *o, const struct redial *pin, struct sshc **out, char *err, size_t errlen)
{
	struct sshc *conn = NULL;
	struct sshc_error e;
	char *key = NULL;
	int r;

	*out = NULL;
	memset(&e, 0, sizeof(e));
	r = sshc_new(o, &conn, &e);
	if (r == 0)
		r = sshc_connect(conn, &e);
	if (r < 0) {
		say(&e, "the SSH connection failed", err, errlen);
		sshc_free(conn);
		return transient(r);
	}
	if (pin != NULL) {
		r = sshc_host_key(conn, &key);
		if (r < 0 || strcmp(key, pin->pin) != 0) {
			snprintf(err, errlen, "the server's host key is not the one verified at "
				 "mount time (it was %s, it is now %s): not reconnecting",
				 pin->pin_fp, sshc_fingerprint(conn) ? sshc_fingerprint(conn) : "unknown");
			free(key);
			sshc_free(conn);
			return -EKEYREJECTED;
		}
		free(key);
	} else if ((r = sshc_verify_host(conn, &e)) < 0) {
		say(&e, "the host key check failed", err, errlen);
		sshc_free(conn);
		return transient(r);
	}
	r = sshc_use_kept_secrets(conn);
	if (r == 0)
		r = sshc_authenticate(conn, &e);
	if (r < 0) {
		say(&e, "the login failed", err, errlen);
		r = e.code == SSHC_E_AUTH || e.code == SSHC_E_PASSPHRASE ? -EACCES : transient(r);
		sshc_free(conn);
		return r;
	}
	*out = conn;
	return 0;
}

static int
command_transport(const struct opts *o, const char *server_cmd, struct fxc_transport **t,
		  char *err, size_t errlen)
{
	struct sshargv av = { 0 };
	int r;

	r = sshargv_for_command(o, server_cmd_subsystem(o), server_cmd, &av);
	if (r < 0) {
		snprintf(err, errlen, "ssh_command=%s cannot be split into words", o->ssh_command);
		return r;
	}
	r = fxc_transport_cmd(av.v, t, err, errlen);
	sshargv_free(&av);
	return r;
}

static int
redial_once(const struct redial *rd, struct fxc_transport **out, char *err, size_t errlen)
{
	struct sshc *conn = NULL;
	int r;

	if (rd->command)
		return transient(command_transport(rd->o, rd->server_cmd, out, err, errlen));
	r = login(rd->o, rd, &conn, err, errlen);
	if (r < 0)
		return r;
	return transient(fxc_transport_ssh(conn, nchannels(rd->o), rd->server_cmd, out, err,
					   errlen));
}

/* fxc_redial_fn: the same transport again, without a person. */
static int
redial(void *arg, struct fxc_transport **out, char *err, size_t errlen)
{
	struct redial *rd = arg;
	int r;

	*out = NULL;
	pthread_mutex_lock(&reg_lock);
	rd->busy++;
	pthread_mutex_unlock(&reg_lock);
	r = redial_once(rd, out, err, errlen);
	pthread_mutex_lock(&reg_lock);
	rd->busy--;
	pthread_mutex_unlock(&reg_lock);
	return r;
}

/* A redial for a new engine; NULL when the mount does not reconnect (or
 * there is no memory: then it does not either, and says so). For SSH, conn
 * is the connection whose host key was verified. */
static struct redial *
redial_new(const struct opts *o, const char *server_cmd, struct sshc *conn)
{
	struct redial *rd;

	if (!o->reconnect)
		return NULL;
	rd = calloc(1, sizeof(*rd));
	if (rd == NULL)
		goto fail;
	rd->o = o;
	rd->command = conn == NULL;
	if (server_cmd != NULL && (rd->server_cmd = strdup(server_cmd)) == NULL)
		goto fail;
	if (conn != NULL) {
		if (sshc_host_key(conn, &rd->pin) < 0)
			goto fail;
		snprintf(rd->pin_fp, sizeof(rd->pin_fp), "%s",
			 sshc_fingerprint(conn) ? sshc_fingerprint(conn) : "unknown");
	}
	return rd;
fail:
	log_warn("cannot prepare reconnection (out of memory): a lost link stays lost");
	redial_free(rd);
	return NULL;
}

/* Takes t (fxc_start owns it on success and on failure) and rd (freed when
 * no engine took it). */
static int
start(const struct opts *o, struct fxc_transport *t, struct redial *rd, struct fxc **out,
      char *err, size_t errlen)
{
	struct fxc_config cfg;
	int r;

	session_engine_config(o, &cfg);
	if (rd != NULL) {
		cfg.redial = redial;
		cfg.redial_arg = rd;
	}
	r = fxc_start(t, &cfg, out, err, errlen);
	if (r < 0) {
		redial_free(rd);
	} else if (rd != NULL) {
		pthread_mutex_lock(&reg_lock);
		rd->next = reg_head;
		reg_head = rd;
		pthread_mutex_unlock(&reg_lock);
	}
	return r;
}

int
session_start_ssh(const struct opts *o, struct sshc *conn, const char *server_cmd,
		  struct fxc **out, char *err, size_t errlen)
{
	struct fxc_transport *t = NULL;
	struct redial *rd = redial_new(o, server_cmd, conn);
	int r;

	r = fxc_transport_ssh(conn, nchannels(o), server_cmd, &t, err, errlen);
	if (r < 0) {
		redial_free(rd);
		return r;
	}
	return start(o, t, rd, out, err, errlen);
}

int
session_start_command(const struct opts *o, const char *server_cmd, struct fxc **out,
		      char *err, size_t errlen)
{
	struct fxc_transport *t = NULL;
	int r;

	r = command_transport(o, server_cmd, &t, err, errlen);
	if (r < 0)
		return r;
	return start(o, t, redial_new(o, server_cmd, NULL), out, err, errlen);
}

int
session_start_fd(const struct opts *o, int fd, struct fxc **out, char *err, size_t errlen)
{
	struct fxc_transport *t = NULL;

	if (fxc_transport_fds(fd, fd, 0, &t) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* directport=: its socket comes from the reachable check, which core
	 * cannot redo; a lost link stays lost (doc/sshmountfs.1). */
	return start(o, t, NULL, out, err, errlen);
}

int
session_open(const struct opts *o, const char *server_cmd, struct fxc **out, char *err,
	     size_t errlen)
{
	struct sshc *conn = NULL;
	int r;

	if (o->ssh_command || o->directport > 0) {
		/* one connection only, as sshfs (fs/conns.h) */
		snprintf(err, errlen, "%s: no further connections",
			 o->ssh_command ? "ssh_command=" : "directport=");
		return -EOPNOTSUPP;
	}
	if ((r = login(o, NULL, &conn, err, errlen)) < 0)
		return r;
	return session_start_ssh(o, conn, server_cmd, out, err, errlen);
}
