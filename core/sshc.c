/* sshc: one SSH connection made with libssh, from an opts.
 * See sshc.h for the contract and sshc_int.h for how the module is split.
 * This file: creating the session (home directory, then sshc_config.c
 * does the options), the error helpers the other files share, the
 * accessors, sshc_open, sshc_free and the error report.
 */
#include "sshc.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "secret.h"
#include "sshc_int.h"

#define SSHC_DEFAULT_TIMEOUT 10		/* seconds, as libssh and OpenSSH's habit */
#define SSHC_PASS_TRIES 3		/* interactive attempts, as OpenSSH's NumberOfPasswordPrompts */

/* ---- errors ----------------------------------------------------------- */

int
sshc_code_errno(enum sshc_code c)
{
	switch (c) {
	case SSHC_OK: return 0;
	case SSHC_E_CONFIG: return -EINVAL;
	case SSHC_E_DNS: return -EHOSTUNREACH;
	case SSHC_E_REFUSED: return -ECONNREFUSED;
	case SSHC_E_TIMEOUT: return -ETIMEDOUT;
	case SSHC_E_NOT_SSH: return -EPROTO;
	case SSHC_E_KEX: return -EPROTO;
	case SSHC_E_HOSTKEY_UNKNOWN: return -EPERM;
	case SSHC_E_HOSTKEY_CHANGED: return -EPERM;
	case SSHC_E_AUTH: return -EACCES;
	case SSHC_E_PASSPHRASE: return -EACCES;
	case SSHC_E_CHANNEL: return -EIO;
	case SSHC_E_IO: return -EIO;
	}
	return -EIO;
}

void
sshc_err_clear(struct sshc_error *e)
{
	e->code = SSHC_OK;
	e->msg[0] = e->hint[0] = e->detail[0] = '\0';
}

__attribute__((format(printf, 3, 4))) int
sshc_err_set(struct sshc_error *e, enum sshc_code code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return sshc_code_errno(code);
}

__attribute__((format(printf, 2, 3))) void
sshc_hint_set(struct sshc_error *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->hint, sizeof(e->hint), fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 3))) void
sshc_detail_add(struct sshc_error *e, const char *fmt, ...)
{
	size_t len = strlen(e->detail);
	va_list ap;

	if (len + 2 >= sizeof(e->detail))
		return;
	if (len > 0)
		e->detail[len++] = '\n';
	va_start(ap, fmt);
	vsnprintf(e->detail + len, sizeof(e->detail) - len, fmt, ap);
	va_end(ap);
}

/* Remote text (banners, prompts, stderr) is shown only as printable ASCII. */
void
sshc_printable_copy(char *dst, size_t size, const char *src, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n && src[i] != '\0' && src[i] != '\n' && j + 1 < size; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c == '\r')
			continue;
		dst[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[j] = '\0';
}

/* ---- small helpers ---------------------------------------------------- */

static char *
xstrdup_or_null(const char *p)
{
	return p != NULL ? strdup(p) : NULL;
}

/* ---- setup ------------------------------------------------------------ */

static int
find_home(struct sshc *s, struct sshc_error *e)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	size_t n;

	/* Never $HOME: autofs and systemd start us without a useful one. */
	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return sshc_err_set(e, SSHC_E_CONFIG, "cannot find the home directory of uid %u",
				    (unsigned)geteuid());
	s->home = strdup(pw.pw_dir);
	if (s->home == NULL)
		return -ENOMEM;
	n = strlen(s->home) + sizeof("/.ssh");
	s->ssh_dir = malloc(n);
	if (s->ssh_dir == NULL)
		return -ENOMEM;
	snprintf(s->ssh_dir, n, "%s/.ssh", strcmp(s->home, "/") == 0 ? "" : s->home);
	return 0;
}

/* ---- sshc_new ------------------------------------------------------------ */

static struct sshc *
sshc_alloc(const struct opts *o)
{
	struct sshc *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->fd = -1;
	s->timeout = SSHC_DEFAULT_TIMEOUT;
	s->policy = OPTS_HOSTKEY_YES;
	s->tcp_keepalive = true;
	s->alive_count = 3;
	s->prompt_tries = SSHC_PASS_TRIES;
	s->passphrase_fd = o->passphrase_fd;
	s->password_stdin = o->password_stdin;
	s->auth_enabled = SSHC_AUTH_PUBKEY | SSHC_AUTH_KBDINT | SSHC_AUTH_PASSWORD;
	s->typed_host = xstrdup_or_null(o->host);
	return s;
}

int
sshc_new(const struct opts *o, struct sshc **out, struct sshc_error *e)
{
	struct sshc *s;
	int rc;

	sshc_err_clear(e);
	*out = NULL;
	s = sshc_alloc(o);
	if (s == NULL)
		return sshc_err_set(e, SSHC_E_IO, "out of memory");
	rc = find_home(s, e);
	if (rc == 0 && (s->ss = ssh_new()) == NULL)
		rc = sshc_err_set(e, SSHC_E_IO, "cannot create an ssh session (out of memory)");
	if (rc == 0)
		rc = sshc_config_apply(s, o, e);
	if (rc < 0) {
		if (e->code == SSHC_OK)
			sshc_err_set(e, rc == -ENOMEM ? SSHC_E_IO : SSHC_E_CONFIG,
				     "cannot set up the ssh session: %s", strerror(-rc));
		sshc_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

const char *
sshc_fingerprint(const struct sshc *s)
{
	return s != NULL && s->fingerprint[0] != '\0' ? s->fingerprint : NULL;
}

const char *
sshc_cipher(const struct sshc *s)
{
	return s != NULL && s->ss != NULL ? ssh_get_cipher_out(s->ss) : NULL;
}

ssh_session
sshc_session(struct sshc *s)
{
	return s->ss;
}

/* ---- lifetime ----------------------------------------------------------------- */

struct sshc *
sshc_free(struct sshc *s)
{
	if (s == NULL)
		return NULL;
	if (s->ss != NULL) {
		if (ssh_is_connected(s->ss))
			ssh_disconnect(s->ss);
		ssh_free(s->ss);
	}
	/* libssh 0.10 leaves a socket given with SSH_OPTIONS_FD to us. */
	if (s->fd >= 0)
		close(s->fd);
	for (int i = 0; i < s->n_ids; i++)
		free(s->ids[i]);
	secret_free(s->pw);
	secret_free(s->fd_pass);
	free(s->preferred);
	free(s->typed_host);
	free(s->host_port);
	free(s->home);
	free(s->ssh_dir);
	free(s);
	return NULL;
}

int
sshc_open(const struct opts *o, struct sshc **out, struct sshc_error *e)
{
	struct sshc *s = NULL;
	int rc;

	*out = NULL;
	rc = sshc_new(o, &s, e);
	if (rc == 0)
		rc = sshc_connect(s, e);
	if (rc == 0)
		rc = sshc_verify_host(s, e);
	if (rc == 0)
		rc = sshc_authenticate(s, e);
	if (rc < 0) {
		sshc_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
sshc_error_report(const struct sshc_error *e)
{
	const char *p;

	if (e->msg[0] != '\0')
		log_error("%s", e->msg);
	for (p = e->detail; *p != '\0';) {
		size_t n = strcspn(p, "\n");
		log_cont(LOG_LVL_ERROR, "  %.*s", (int)n, p);
		p += n + (p[n] == '\n');
	}
	if (e->hint[0] != '\0')
		log_cont(LOG_LVL_ERROR, "  %s", e->hint);
}
