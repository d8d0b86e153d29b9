/* sshc: one SSH connection made with libssh, from an opts.
 * See sshc.h for the contract; the parts:
 *   setup    ~/.ssh/config first, command-line values on top (libssh.md §2.3)
 *   connect  our own TCP connect (so DNS, refused and timeout are told apart),
 *            then libssh's banner exchange and KEX on that socket
 *   verify   known_hosts with StrictHostKeyChecking yes|accept-new|no
 *   auth     none, agent, identity files, keyboard-interactive, password
 *   exec     one command on an exec channel; the SFTP channel
 */
#include "sshc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libssh/callbacks.h>

#include "log.h"
#include "secret.h"

#define SSHC_DEFAULT_TIMEOUT 10		/* seconds, as libssh and OpenSSH's habit */
#define SSHC_EXEC_OUT_MAX (1024 * 1024)
#define SSHC_MAX_IDS 32
#define SSHC_PASS_TRIES 3		/* interactive attempts, as OpenSSH's NumberOfPasswordPrompts */

enum auth_bit { AUTH_PUBKEY = 1, AUTH_KBDINT = 2, AUTH_PASSWORD = 4 };

struct sshc {
	ssh_session ss;
	int fd;			/* our TCP socket (-1 with a ProxyCommand); we close it */
	char *typed_host;	/* o->host as typed, for messages */
	char *host_port;	/* "[h]:p" or "h", the known_hosts key, after connect */
	char *home;		/* getpwuid(geteuid())->pw_dir, never $HOME */
	char *ssh_dir;		/* home/.ssh */
	long timeout;		/* seconds: connect, banner, each blocking call */
	enum opts_hostkey_policy policy;
	bool policy_set;
	bool batch;
	bool tcp_keepalive;
	int alive_interval, alive_count;
	int passphrase_fd;
	int prompt_tries;	/* NumberOfPasswordPrompts (3) */
	bool password_stdin;
	unsigned auth_enabled;	/* AUTH_* not switched off by an option */
	char *preferred;	/* PreferredAuthentications, NULL = OpenSSH order */
	char *ids[SSHC_MAX_IDS]; /* explicit IdentityFile values, ~ expanded */
	int n_ids;
	bool config_identity;	/* the ssh config named an IdentityFile */
	struct secret *pw;	/* password (sshc_set_password / password_stdin) */
	struct secret *fd_pass;	/* passphrase read once from passphrase_fd */
	bool fd_pass_read;
	char first_line[96];	/* what a non-SSH peer sent first (sanitized) */
	bool peer_not_ssh;
	char fingerprint[96];	/* "SHA256:..." of the server's host key */
	char keytype[24];	/* "ED25519", "RSA", ... */
};

/* ---- errors ----------------------------------------------------------- */

static int
code_errno(enum sshc_code c)
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

static void
err_clear(struct sshc_error *e)
{
	e->code = SSHC_OK;
	e->msg[0] = e->hint[0] = e->detail[0] = '\0';
}

/* Fills code and msg; returns the negative errno for the code, so a
 * failure path reads "return err_set(e, ...)". */
__attribute__((format(printf, 3, 4))) static int
err_set(struct sshc_error *e, enum sshc_code code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code_errno(code);
}

__attribute__((format(printf, 2, 3))) static void
hint_set(struct sshc_error *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->hint, sizeof(e->hint), fmt, ap);
	va_end(ap);
}

/* Appends one line to e->detail (what happened per key or method). */
__attribute__((format(printf, 2, 3))) static void
detail_add(struct sshc_error *e, const char *fmt, ...)
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

/* Remote text (banners, prompts) is shown only as printable ASCII. */
static void
printable_copy(char *dst, size_t size, const char *src, size_t n)
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

/* "~/.ssh/id_ed25519" for a path under the home directory. */
static const char *
shown_path(const struct sshc *s, const char *path, char *buf, size_t size)
{
	size_t n = strlen(s->home);

	if (n > 1 && strncmp(path, s->home, n) == 0 && path[n] == '/') {
		snprintf(buf, size, "~%s", path + n);
		return buf;
	}
	return path;
}

/* ---- small helpers ---------------------------------------------------- */

static char *
xstrdup_or_null(const char *p)
{
	return p != NULL ? strdup(p) : NULL;
}

/* "~/x" -> home + "/x"; anything else copied. NULL on ENOMEM. */
static char *
expand_tilde(const struct sshc *s, const char *p)
{
	char *out;
	size_t n;

	if (strncmp(p, "~/", 2) != 0)
		return strdup(p);
	n = strlen(s->home) + strlen(p);
	out = malloc(n);
	if (out != NULL)
		snprintf(out, n, "%s%s", s->home, p + 1);
	return out;
}

static int
parse_yesno(const char *v, bool *out)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0) {
		*out = true;
		return 0;
	}
	if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

static int
parse_uint(const char *v, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 0 || n > 86400 * 365)
		return -EINVAL;
	*out = (int)n;
	return 0;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int
add_identity(struct sshc *s, const char *path)
{
	char *p;

	if (s->n_ids == SSHC_MAX_IDS)
		return -E2BIG;
	p = expand_tilde(s, path);
	if (p == NULL)
		return -ENOMEM;
	s->ids[s->n_ids++] = p;
	return 0;
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
		return err_set(e, SSHC_E_CONFIG, "cannot find the home directory of uid %u",
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

static int
opt_fail(struct sshc *s, const char *what, const char *value, struct sshc_error *e)
{
	err_set(e, SSHC_E_CONFIG, "cannot set %s '%s': %s", what, value ? value : "",
		ssh_get_error(s->ss));
	return code_errno(SSHC_E_CONFIG);
}

static int
set_str(struct sshc *s, enum ssh_options_e opt, const char *what, const char *v,
	struct sshc_error *e)
{
	if (ssh_options_set(s->ss, opt, v) < 0)
		return opt_fail(s, what, v, e);
	return 0;
}

static int
set_int(struct sshc *s, enum ssh_options_e opt, const char *what, int v,
	struct sshc_error *e)
{
	char shown[16];

	if (ssh_options_set(s->ss, opt, &v) < 0) {
		snprintf(shown, sizeof(shown), "%d", v);
		return opt_fail(s, what, shown, e);
	}
	return 0;
}

static int
set_ciphers(struct sshc *s, const char *list, struct sshc_error *e)
{
	if (ssh_options_set(s->ss, SSH_OPTIONS_CIPHERS_C_S, list) < 0 ||
	    ssh_options_set(s->ss, SSH_OPTIONS_CIPHERS_S_C, list) < 0) {
		err_set(e, SSHC_E_CONFIG, "Ciphers=%s: none of these ciphers is supported", list);
		hint_set(e, "supported: aes256-gcm@openssh.com, aes128-gcm@openssh.com, "
			 "chacha20-poly1305@openssh.com, aes256-ctr, aes192-ctr, aes128-ctr, "
			 "aes256-cbc, aes192-cbc, aes128-cbc");
		return code_errno(SSHC_E_CONFIG);
	}
	return 0;
}

/* AES-GCM is the fastest cipher with AES-NI (libssh.md §5.5); libssh's own
 * default puts chacha20 first. Set before the config is parsed, so a
 * Ciphers line there (and -o Ciphers= after it) still wins. */
static int
prefer_gcm(struct sshc *s, struct sshc_error *e)
{
#if defined(__x86_64__) || defined(__i386__)
	if (__builtin_cpu_supports("aes"))
		return set_ciphers(s, "aes128-gcm@openssh.com,aes256-gcm@openssh.com,"
				   "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr", e);
#else
	(void)s;
	(void)e;
#endif
	return 0;
}

static int
set_host_user(struct sshc *s, const struct opts *o, struct sshc_error *e)
{
	char buf[300];
	const char *h = o->host;

	if (h == NULL || h[0] == '\0')
		return err_set(e, SSHC_E_CONFIG, "no host name given");
	/* libssh reads "a:b" as host:port, so IPv6 literals go in brackets. */
	if (strchr(h, ':') != NULL && h[0] != '[') {
		snprintf(buf, sizeof(buf), "[%s]", h);
		h = buf;
	}
	if (ssh_options_set(s->ss, SSH_OPTIONS_HOST, h) < 0)
		return err_set(e, SSHC_E_CONFIG, "invalid host name '%s'", o->host);
	if (o->user != NULL && o->user[0] != '\0' &&
	    ssh_options_set(s->ss, SSH_OPTIONS_USER, o->user) < 0)
		return err_set(e, SSHC_E_CONFIG, "invalid user name '%s'", o->user);
	return 0;
}

/* Everything that must be in place before ~/.ssh/config is read. */
static int
setup_pre_config(struct sshc *s, const struct opts *o, struct sshc_error *e)
{
	int rc;

	rc = set_str(s, SSH_OPTIONS_SSH_DIR, "the ssh directory", s->ssh_dir, e);
	if (rc == 0)
		rc = set_int(s, SSH_OPTIONS_LOG_VERBOSITY, "LogLevel", log_libssh_verbosity(), e);
	if (rc == 0)
		rc = set_host_user(s, o, e);
	if (rc == 0)
		rc = prefer_gcm(s, e);
	return rc;
}

static int
parse_config(struct sshc *s, const struct opts *o, struct sshc_error *e)
{
	char *before = NULL, *after = NULL;
	int rc;

	if (o->ssh_config != NULL && access(o->ssh_config, R_OK) < 0) {
		rc = errno;
		err_set(e, SSHC_E_CONFIG, "cannot read ssh config file %s: %s",
			o->ssh_config, strerror(rc));
		return code_errno(SSHC_E_CONFIG);
	}
	/* libssh has no way to list identities; comparing the head of its list
	 * before and after tells whether the config named an IdentityFile. */
	(void)ssh_options_get(s->ss, SSH_OPTIONS_IDENTITY, &before);
	rc = ssh_options_parse_config(s->ss, o->ssh_config);
	if (rc < 0) {
		ssh_string_free_char(before);
		return err_set(e, SSHC_E_CONFIG, "error in ssh config file %s: %s",
			       o->ssh_config ? o->ssh_config : "~/.ssh/config",
			       ssh_get_error(s->ss));
	}
	(void)ssh_options_get(s->ss, SSH_OPTIONS_IDENTITY, &after);
	s->config_identity = after != NULL && (before == NULL || strcmp(before, after) != 0);
	ssh_string_free_char(before);
	ssh_string_free_char(after);
	return 0;
}

/* ---- ProxyJump on libssh 0.10 ------------------------------------------ */

/* The hop text goes into a /bin/sh command line, so only characters that
 * a host, user or port can contain are allowed. */
static bool
jump_text_ok(const char *p)
{
	if (*p == '\0' || *p == '-')
		return false;
	for (; *p; p++) {
		if (!isalnum((unsigned char)*p) && strchr("._-@:[]%,", *p) == NULL)
			return false;
	}
	return true;
}

/* libssh 0.10.6 has no SSH_OPTIONS_PROXYJUMP (0.11 has). Like libssh's own
 * config parser for "ProxyJump", we run OpenSSH's client as a ProxyCommand:
 *   ssh [-F cfg] [-l user] [-p port] [-J earlier,hops] -W '[%h]:%p' lasthop
 * so the last hop opens the TCP stream to the target, and earlier hops
 * chain through ssh's own -J. This needs /usr/bin/ssh; the jump host's
 * host key and authentication are that ssh's business (it prompts on
 * /dev/tty, or fails in its own BatchMode). */
static int
proxy_jump_command(const char *jump, const char *cfg, char *out, size_t size)
{
	char spec[256];
	const char *rest = "", *user = "", *port = "";
	char *hop, *p;
	int n;

	if (strlen(jump) >= sizeof(spec) || !jump_text_ok(jump))
		return -EINVAL;
	if (cfg != NULL && strchr(cfg, '\'') != NULL)
		return -EINVAL;
	/* Split "[a,b,]user@host:port" in place: earlier hops, user, host, port. */
	snprintf(spec, sizeof(spec), "%s", jump);
	hop = strrchr(spec, ',');
	if (hop != NULL) {
		*hop++ = '\0';
		rest = spec;
	} else {
		hop = spec;
	}
	if ((p = strrchr(hop, '@')) != NULL) {
		*p = '\0';
		user = hop;
		hop = p + 1;
	}
	if (hop[0] == '[') {
		p = strchr(++hop, ']');
		if (p == NULL)
			return -EINVAL;
		*p++ = '\0';
		if (*p == ':')
			port = p + 1;
	} else if ((p = strrchr(hop, ':')) != NULL) {
		*p = '\0';
		port = p + 1;
	}
	if (hop[0] == '\0')
		return -EINVAL;
	n = snprintf(out, size, "ssh%s%s%s%s%s%s%s%s%s -W '[%%h]:%%p' %s",
		     cfg ? " -F '" : "", cfg ? cfg : "", cfg ? "'" : "",
		     user[0] ? " -l " : "", user, port[0] ? " -p " : "", port,
		     rest[0] ? " -J " : "", rest, hop);
	return n < 0 || (size_t)n >= size ? -EINVAL : 0;
}

static int
set_proxy_jump(struct sshc *s, const char *jump, const char *cfg, struct sshc_error *e)
{
	char cmd[1024];

	if (strcasecmp(jump, "none") == 0)
		return set_str(s, SSH_OPTIONS_PROXYCOMMAND, "ProxyJump", "none", e);
	if (proxy_jump_command(jump, cfg, cmd, sizeof(cmd)) < 0) {
		err_set(e, SSHC_E_CONFIG, "invalid ProxyJump '%s'", jump);
		hint_set(e, "use ProxyJump=[user@]host[:port][,[user@]host[:port]...]");
		return code_errno(SSHC_E_CONFIG);
	}
	log_debug("ProxyJump %s runs as ProxyCommand: %s", jump, cmd);
	return set_str(s, SSH_OPTIONS_PROXYCOMMAND, "ProxyJump", cmd, e);
}

/* ---- command-line values, after the config so they win ------------------ */

static int
apply_known_hosts(struct sshc *s, const char *path, bool global, struct sshc_error *e)
{
	char *p = expand_tilde(s, path);
	int rc;

	if (p == NULL)
		return -ENOMEM;
	rc = set_str(s, global ? SSH_OPTIONS_GLOBAL_KNOWNHOSTS : SSH_OPTIONS_KNOWNHOSTS,
		     global ? "GlobalKnownHostsFile" : "UserKnownHostsFile", p, e);
	free(p);
	return rc;
}

static int
apply_policy(struct sshc *s, enum opts_hostkey_policy p)
{
	int strict = 1;

	/* We apply the policy ourselves in sshc_verify_host(); libssh must
	 * report unknown keys as unknown, whatever the config said. */
	s->policy = p;
	s->policy_set = true;
	return ssh_options_set(s->ss, SSH_OPTIONS_STRICTHOSTKEYCHECK, &strict) < 0 ? -EINVAL : 0;
}

static int
apply_cli_conn(struct sshc *s, const struct opts *o, struct sshc_error *e)
{
	int rc = 0;

	if (o->port > 0)
		rc = set_int(s, SSH_OPTIONS_PORT, "Port", o->port, e);
	if (rc == 0 && o->ciphers != NULL && o->ciphers[0] != '\0')
		rc = set_ciphers(s, o->ciphers, e);
	if (rc == 0 && o->known_hosts != NULL && o->known_hosts[0] != '\0')
		rc = apply_known_hosts(s, o->known_hosts, false, e);
	if (rc == 0 && o->compression)
		rc = set_str(s, SSH_OPTIONS_COMPRESSION, "Compression", "yes", e);
	if (rc == 0 && o->proxy_command != NULL && o->proxy_command[0] != '\0')
		rc = set_str(s, SSH_OPTIONS_PROXYCOMMAND, "ProxyCommand", o->proxy_command, e);
	else if (rc == 0 && o->proxy_jump != NULL && o->proxy_jump[0] != '\0')
		rc = set_proxy_jump(s, o->proxy_jump, o->ssh_config, e);
	if (rc == 0 && o->hostkey_policy_set && apply_policy(s, o->hostkey_policy) < 0)
		rc = err_set(e, SSHC_E_CONFIG, "cannot set StrictHostKeyChecking");
	return rc;
}

static int
apply_cli_misc(struct sshc *s, const struct opts *o, struct sshc_error *e)
{
	bool no = false;
	int rc = 0;

	/* IdentityFile values stay with us, not libssh: our own loop walks
	 * them (per-key detail, no .pub written, passphrase sources), and
	 * libssh's list must keep the config's IdentityFile at its head for
	 * parse_config()'s check. */
	for (size_t i = 0; rc == 0 && i < o->identity_files.n; i++)
		rc = add_identity(s, o->identity_files.v[i]);
	if (rc < 0)
		return err_set(e, SSHC_E_CONFIG, "too many IdentityFile options");
	if (o->connect_timeout > 0)
		s->timeout = o->connect_timeout;
	if (o->server_alive_interval > 0)
		s->alive_interval = o->server_alive_interval;
	if (o->server_alive_count_max > 0)
		s->alive_count = o->server_alive_count_max;
	if (o->batch_mode)
		s->batch = true;
	rc = set_int(s, SSH_OPTIONS_NODELAY, "TCP_NODELAY", 1, e);
	if (rc == 0)
		rc = ssh_options_set(s->ss, SSH_OPTIONS_TIMEOUT, &s->timeout) < 0 ?
		     opt_fail(s, "ConnectTimeout", "", e) : 0;
	/* The config was read above; ssh_connect() must not read it again
	 * over the values just set (libssh.md §2.3). */
	if (rc == 0 && ssh_options_set(s->ss, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0)
		rc = opt_fail(s, "ProcessConfig", "no", e);
	return rc;
}

/* ---- other ssh options (-o Name=value that opts keeps as passthrough) ---- */

enum pt_kind {
	PT_STR,		/* one libssh string option */
	PT_STR2,	/* two libssh string options (both directions) */
	PT_AUTH,	/* yes/no switching an authentication method */
	PT_OTHER,	/* handled in apply_pt_other() */
};

struct pt_entry {
	const char *name;
	enum pt_kind kind;
	enum ssh_options_e opt, opt2;
	unsigned auth_bit;
};

static const struct pt_entry pt_table[] = {
	{ "KexAlgorithms", PT_STR, SSH_OPTIONS_KEY_EXCHANGE, 0, 0 },
	{ "HostKeyAlgorithms", PT_STR, SSH_OPTIONS_HOSTKEYS, 0, 0 },
	{ "PubkeyAcceptedAlgorithms", PT_STR, SSH_OPTIONS_PUBLICKEY_ACCEPTED_TYPES, 0, 0 },
	{ "PubkeyAcceptedKeyTypes", PT_STR, SSH_OPTIONS_PUBLICKEY_ACCEPTED_TYPES, 0, 0 },
	{ "IdentityAgent", PT_STR, SSH_OPTIONS_IDENTITY_AGENT, 0, 0 },
	{ "BindAddress", PT_STR, SSH_OPTIONS_BINDADDR, 0, 0 },
	{ "HostName", PT_STR, SSH_OPTIONS_HOST, 0, 0 },
	{ "User", PT_STR, SSH_OPTIONS_USER, 0, 0 },
	{ "Port", PT_STR, SSH_OPTIONS_PORT_STR, 0, 0 },
	{ "ProxyCommand", PT_STR, SSH_OPTIONS_PROXYCOMMAND, 0, 0 },
	{ "MACs", PT_STR2, SSH_OPTIONS_HMAC_C_S, SSH_OPTIONS_HMAC_S_C, 0 },
	{ "PubkeyAuthentication", PT_AUTH, SSH_OPTIONS_PUBKEY_AUTH, 0, AUTH_PUBKEY },
	{ "PasswordAuthentication", PT_AUTH, SSH_OPTIONS_PASSWORD_AUTH, 0, AUTH_PASSWORD },
	{ "KbdInteractiveAuthentication", PT_AUTH, SSH_OPTIONS_KBDINT_AUTH, 0, AUTH_KBDINT },
	{ "ChallengeResponseAuthentication", PT_AUTH, SSH_OPTIONS_KBDINT_AUTH, 0, AUTH_KBDINT },
	{ "Ciphers", PT_OTHER, 0, 0, 0 },
	{ "Compression", PT_OTHER, 0, 0, 0 },
	{ "ConnectTimeout", PT_OTHER, 0, 0, 0 },
	{ "ServerAliveInterval", PT_OTHER, 0, 0, 0 },
	{ "ServerAliveCountMax", PT_OTHER, 0, 0, 0 },
	{ "TCPKeepAlive", PT_OTHER, 0, 0, 0 },
	{ "BatchMode", PT_OTHER, 0, 0, 0 },
	{ "PreferredAuthentications", PT_OTHER, 0, 0, 0 },
	{ "IdentityFile", PT_OTHER, 0, 0, 0 },
	{ "UserKnownHostsFile", PT_OTHER, 0, 0, 0 },
	{ "GlobalKnownHostsFile", PT_OTHER, 0, 0, 0 },
	{ "StrictHostKeyChecking", PT_OTHER, 0, 0, 0 },
	{ "ProxyJump", PT_OTHER, 0, 0, 0 },
	{ "NumberOfPasswordPrompts", PT_OTHER, 0, 0, 0 },
};

static int
pt_policy(struct sshc *s, const char *v)
{
	bool b;

	if (strcasecmp(v, "accept-new") == 0)
		return apply_policy(s, OPTS_HOSTKEY_ACCEPT_NEW);
	if (strcasecmp(v, "off") == 0 || (parse_yesno(v, &b) == 0 && !b))
		return apply_policy(s, OPTS_HOSTKEY_NO);
	if (strcasecmp(v, "ask") == 0 || (parse_yesno(v, &b) == 0 && b))
		return apply_policy(s, OPTS_HOSTKEY_YES);
	return -EINVAL;
}

/* Options libssh has no setter for, or that steer our own code. */
static int
apply_pt_other(struct sshc *s, const char *name, const char *v, const char *cfg,
	       struct sshc_error *e)
{
	bool b;
	int n;

	if (strcasecmp(name, "Ciphers") == 0)
		return set_ciphers(s, v, e);
	if (strcasecmp(name, "Compression") == 0)
		return parse_yesno(v, &b) < 0 ? -EINVAL :
		       set_str(s, SSH_OPTIONS_COMPRESSION, name, b ? "yes" : "no", e);
	if (strcasecmp(name, "ConnectTimeout") == 0) {
		if (parse_uint(v, &n) < 0)
			return -EINVAL;
		if (n > 0)
			s->timeout = n;
		return 0;
	}
	if (strcasecmp(name, "ServerAliveInterval") == 0)
		return parse_uint(v, &s->alive_interval);
	if (strcasecmp(name, "ServerAliveCountMax") == 0)
		return parse_uint(v, &s->alive_count);
	if (strcasecmp(name, "TCPKeepAlive") == 0)
		return parse_yesno(v, &s->tcp_keepalive);
	if (strcasecmp(name, "BatchMode") == 0)
		return parse_yesno(v, &s->batch);
	if (strcasecmp(name, "NumberOfPasswordPrompts") == 0)
		return parse_uint(v, &s->prompt_tries);
	if (strcasecmp(name, "PreferredAuthentications") == 0) {
		free(s->preferred);
		s->preferred = strdup(v);
		return s->preferred != NULL ? 0 : -ENOMEM;
	}
	if (strcasecmp(name, "IdentityFile") == 0)
		return add_identity(s, v);
	if (strcasecmp(name, "UserKnownHostsFile") == 0)
		return apply_known_hosts(s, v, false, e);
	if (strcasecmp(name, "GlobalKnownHostsFile") == 0)
		return apply_known_hosts(s, v, true, e);
	if (strcasecmp(name, "StrictHostKeyChecking") == 0)
		return pt_policy(s, v);
	if (strcasecmp(name, "ProxyJump") == 0)
		return set_proxy_jump(s, v, cfg, e);
	return -ENOENT;
}

static int
apply_pt_entry(struct sshc *s, const struct pt_entry *t, const char *v, const char *cfg,
	       struct sshc_error *e)
{
	bool b;

	switch (t->kind) {
	case PT_STR:
		return set_str(s, t->opt, t->name, v, e);
	case PT_STR2:
		if (set_str(s, t->opt, t->name, v, e) < 0)
			return code_errno(SSHC_E_CONFIG);
		return set_str(s, t->opt2, t->name, v, e);
	case PT_AUTH:
		if (parse_yesno(v, &b) < 0)
			return -EINVAL;
		s->auth_enabled = b ? (s->auth_enabled | t->auth_bit)
				    : (s->auth_enabled & ~t->auth_bit);
		return set_int(s, t->opt, t->name, b ? 1 : 0, e);
	case PT_OTHER:
		return apply_pt_other(s, t->name, v, cfg, e);
	}
	return -EINVAL;
}

/* One "Name=value" (or "Name value"). Names libssh 0.10 cannot honour
 * (ForwardAgent, IdentitiesOnly, ...) are logged once at debug. */
static int
apply_passthrough_one(struct sshc *s, const char *item, const char *cfg,
		      struct sshc_error *e)
{
	char name[64];
	size_t n = strcspn(item, "= \t");
	const char *v = item + n;
	int rc;

	if (n == 0 || n >= sizeof(name))
		return err_set(e, SSHC_E_CONFIG, "malformed ssh option '%s'", item);
	memcpy(name, item, n);
	name[n] = '\0';
	v += strspn(v, "= \t");
	for (size_t i = 0; i < sizeof(pt_table) / sizeof(pt_table[0]); i++) {
		if (strcasecmp(name, pt_table[i].name) != 0)
			continue;
		if (v[0] == '\0') {
			log_debug("ssh option %s without a value: ignored", name);
			return 0;
		}
		e->code = SSHC_OK;
		rc = apply_pt_entry(s, &pt_table[i], v, cfg, e);
		if (rc < 0 && e->code == SSHC_OK)
			rc = err_set(e, SSHC_E_CONFIG, "invalid value for ssh option %s: '%s'",
				     name, v);
		return rc;
	}
	log_debug("ssh option %s is not supported by libssh %s: ignored", name,
		  ssh_version(0));
	return 0;
}

static int
apply_passthrough(struct sshc *s, const struct opts *o, struct sshc_error *e)
{
	for (size_t i = 0; i < o->ssh_passthrough.n; i++) {
		int rc = apply_passthrough_one(s, o->ssh_passthrough.v[i], o->ssh_config, e);
		if (rc < 0)
			return rc;
	}
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
	s->auth_enabled = AUTH_PUBKEY | AUTH_KBDINT | AUTH_PASSWORD;
	s->typed_host = xstrdup_or_null(o->host);
	return s;
}

int
sshc_new(const struct opts *o, struct sshc **out, struct sshc_error *e)
{
	struct sshc *s;
	int rc;

	err_clear(e);
	*out = NULL;
	s = sshc_alloc(o);
	if (s == NULL)
		return err_set(e, SSHC_E_IO, "out of memory");
	rc = find_home(s, e);
	if (rc == 0 && (s->ss = ssh_new()) == NULL)
		rc = err_set(e, SSHC_E_IO, "cannot create an ssh session (out of memory)");
	/* Order matters: host and ssh dir, then the config, then the command
	 * line on top, because the config parser overwrites what is set. */
	if (rc == 0)
		rc = setup_pre_config(s, o, e);
	if (rc == 0)
		rc = parse_config(s, o, e);
	if (rc == 0)
		rc = apply_passthrough(s, o, e);
	if (rc == 0)
		rc = apply_cli_conn(s, o, e);
	if (rc == 0)
		rc = apply_cli_misc(s, o, e);
	if (rc < 0) {
		if (e->code == SSHC_OK)
			err_set(e, rc == -ENOMEM ? SSHC_E_IO : SSHC_E_CONFIG,
				"cannot set up the ssh session: %s", strerror(-rc));
		sshc_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* ---- connect: TCP ------------------------------------------------------- */

static int
resolve(const struct sshc *s, const char *host, unsigned port, struct addrinfo **res,
	struct sshc_error *e)
{
	struct addrinfo hints;
	char ps[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(ps, sizeof(ps), "%u", port);
	/* getaddrinfo() has no timeout of its own; the resolver's (resolv.conf)
	 * bounds it. getaddrinfo_a() would, but its helper threads do not
	 * survive the daemon's fork. */
	rc = getaddrinfo(host, ps, &hints, res);
	if (rc == 0)
		return 0;
	err_set(e, SSHC_E_DNS, "cannot resolve host name '%s': %s", host,
		rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	if (s->typed_host != NULL && strcmp(s->typed_host, host) != 0)
		hint_set(e, "'%s' is the HostName the ssh config gives for '%s'; check it there",
			 host, s->typed_host);
	else
		hint_set(e, "check the spelling and your DNS, or give the address; a "
			 "Host block with HostName in ~/.ssh/config can name it");
	return code_errno(SSHC_E_DNS);
}

/* Nonblocking connect bounded by 'deadline' (ms). fd or -errno. */
static int
connect_one(const struct addrinfo *ai, long deadline)
{
	struct pollfd p;
	socklen_t len = sizeof(int);
	int fd, err = 0, rc;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		err = errno;
		close(fd);
		return -err;
	}
	p.fd = fd;
	p.events = POLLOUT;
	do {
		long left = deadline - now_ms();
		if (left <= 0) {
			close(fd);
			return -ETIMEDOUT;
		}
		rc = poll(&p, 1, (int)left);
	} while (rc == 0 || (rc < 0 && errno == EINTR));
	if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		close(fd);
		return -err;
	}
	return fd;
}

static int
tcp_error(const struct sshc *s, const char *host, unsigned port, int err,
	  struct sshc_error *e)
{
	if (err == -ECONNREFUSED) {
		err_set(e, SSHC_E_REFUSED, "connection to %s port %u refused", host, port);
		hint_set(e, "no SSH server listens there: check the port (-p PORT, Port in "
			 "the ssh config) and that sshd runs on the host");
	} else if (err == -ETIMEDOUT) {
		err_set(e, SSHC_E_TIMEOUT, "connection to %s port %u timed out after %ld s",
			host, port, s->timeout);
		hint_set(e, "check that the host is up and that no firewall drops the "
			 "traffic; -o ConnectTimeout=SECONDS allows longer");
	} else {
		err_set(e, SSHC_E_IO, "cannot connect to %s port %u: %s", host, port,
			strerror(-err));
		hint_set(e, "check the network path to the host");
	}
	return code_errno(e->code);
}

/* Liveness on the socket itself: the kernel notices a dead peer even when
 * nobody is sending (libssh does not honour ServerAlive*, libssh.md §2.7). */
static void
tune_socket(const struct sshc *s)
{
	int one = 1, idle = 60, intvl = 15, cnt = 4;
	unsigned user_to = 0;

	(void)setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (s->alive_interval > 0) {
		idle = intvl = s->alive_interval;
		cnt = s->alive_count > 0 ? s->alive_count : 3;
		user_to = (unsigned)s->alive_interval * (unsigned)cnt * 1000u;
	}
	if (s->tcp_keepalive) {
		(void)setsockopt(s->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		(void)setsockopt(s->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		(void)setsockopt(s->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		(void)setsockopt(s->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	}
	/* Unacknowledged data older than this kills the connection. */
	if (user_to > 0)
		(void)setsockopt(s->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_to, sizeof(user_to));
}

static int
tcp_connect(struct sshc *s, const char *host, unsigned port, struct sshc_error *e)
{
	struct addrinfo *res = NULL, *ai;
	long deadline = now_ms() + s->timeout * 1000L;
	int rc, last = -ETIMEDOUT;

	rc = resolve(s, host, port, &res, e);
	if (rc < 0)
		return rc;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		rc = connect_one(ai, deadline);
		if (rc >= 0) {
			s->fd = rc;
			break;
		}
		last = rc;
		if (rc == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (s->fd < 0)
		return tcp_error(s, host, port, last, e);
	tune_socket(s);
	return 0;
}

/* Waits for the peer's first bytes and looks at them without consuming
 * them (libssh reads the banner itself). This is what tells "not an SSH
 * server" and "silent" apart from libssh's single "timeout". */
static int
peek_banner(struct sshc *s, const char *host, unsigned port, struct sshc_error *e)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	long deadline = now_ms() + s->timeout * 1000L;
	char buf[256];
	ssize_t n;
	int rc;

	do {
		long left = deadline - now_ms();
		rc = left > 0 ? poll(&p, 1, (int)left) : 0;
	} while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		err_set(e, SSHC_E_TIMEOUT, "%s port %u accepted the connection but sent no "
			"SSH banner within %ld s", host, port, s->timeout);
		hint_set(e, "is an SSH server listening on that port? (some other service, "
			 "or a firewall holding the connection open)");
		return code_errno(SSHC_E_TIMEOUT);
	}
	n = recv(s->fd, buf, sizeof(buf) - 1, MSG_PEEK);
	if (n <= 0) {
		err_set(e, SSHC_E_IO, "%s port %u closed the connection before sending an "
			"SSH banner", host, port);
		hint_set(e, "the server refuses this client (MaxStartups, tcp wrappers, "
			 "fail2ban) or is not an SSH server");
		return code_errno(SSHC_E_IO);
	}
	buf[n] = '\0';
	if (strncmp(buf, "SSH-", (size_t)n < 4 ? (size_t)n : 4) != 0) {
		s->peer_not_ssh = true;
		printable_copy(s->first_line, sizeof(s->first_line), buf, (size_t)n);
	}
	return 0;
}

/* ---- connect: SSH ------------------------------------------------------- */

/* Copies the text between 'start' and 'end' markers of src into dst. */
static bool
between(const char *src, const char *start, const char *end, char *dst, size_t size)
{
	const char *a = strstr(src, start), *b;

	if (a == NULL)
		return false;
	a += strlen(start);
	b = strstr(a, end);
	if (b == NULL)
		return false;
	snprintf(dst, size, "%.*s", (int)(b - a), a);
	return true;
}

/* libssh: "kex error : no match for method encryption client->server:
 * server [aes256-ctr], client [aes128-cbc]" -> which kind, both lists. */
static int
kex_error(const char *host_port, const char *msg, struct sshc_error *e)
{
	char method[64] = "", server[200] = "?", client[200] = "?";
	const char *what = "algorithm", *opt = "KexAlgorithms";

	between(msg, "method ", ": server [", method, sizeof(method));
	between(msg, "server [", "]", server, sizeof(server));
	between(msg, "client [", "]", client, sizeof(client));
	if (strstr(method, "encryption") != NULL) {
		what = "cipher";
		opt = "Ciphers";
	} else if (strstr(method, "mac") != NULL) {
		what = "MAC";
		opt = "MACs";
	} else if (strstr(method, "host key") != NULL) {
		what = "host key algorithm";
		opt = "HostKeyAlgorithms";
	} else if (strstr(method, "kex") != NULL) {
		what = "key exchange algorithm";
	} else if (strstr(method, "compression") != NULL) {
		what = "compression method";
		opt = "Compression";
	}
	err_set(e, SSHC_E_KEX, "no common %s with %s: the server offers %s; we offer %s",
		what, host_port, server, client);
	/* libssh's own words too: "... server [list], client [list]". */
	detail_add(e, "%s", msg);
	hint_set(e, "pick one the server offers with -o %s=NAME, or leave %s unset",
		 opt, opt);
	return code_errno(SSHC_E_KEX);
}

static int
ssh_connect_failed(struct sshc *s, const char *host_port, bool proxied, struct sshc_error *e)
{
	const char *msg = ssh_get_error(s->ss);
	bool banner = ssh_get_serverbanner(s->ss) != NULL;

	if (strstr(msg, "no match for method") != NULL)
		return kex_error(host_port, msg, e);
	if ((!banner && s->peer_not_ssh) || strstr(msg, "too large banner") != NULL ||
	    strstr(msg, "No version of SSH protocol") != NULL) {
		err_set(e, SSHC_E_NOT_SSH, "%s is not an SSH server: it said \"%s\"",
			host_port, s->first_line[0] ? s->first_line : msg);
		hint_set(e, "check the port (-p PORT, Port in the ssh config)");
		return code_errno(SSHC_E_NOT_SSH);
	}
	if (strstr(msg, "Timeout") != NULL) {
		err_set(e, SSHC_E_TIMEOUT, "%s: no SSH %s within %ld s%s", host_port,
			banner ? "key exchange" : "banner", s->timeout,
			proxied ? " (through the ProxyCommand)" : "");
		hint_set(e, "-o ConnectTimeout=SECONDS allows longer");
		return code_errno(SSHC_E_TIMEOUT);
	}
	err_set(e, SSHC_E_IO, "ssh connection to %s failed%s: %s", host_port,
		proxied ? " (through the ProxyCommand)" : "", msg);
	if (proxied)
		hint_set(e, "run the ProxyCommand by hand to see why it fails");
	return code_errno(SSHC_E_IO);
}

static const char *
keytype_name(enum ssh_keytypes_e t)
{
	switch (t) {
	case SSH_KEYTYPE_ED25519: return "ED25519";
	case SSH_KEYTYPE_RSA: return "RSA";
	case SSH_KEYTYPE_DSS: return "DSA";
	case SSH_KEYTYPE_ECDSA:
	case SSH_KEYTYPE_ECDSA_P256:
	case SSH_KEYTYPE_ECDSA_P384:
	case SSH_KEYTYPE_ECDSA_P521: return "ECDSA";
	default: return ssh_key_type_to_char(t) ? ssh_key_type_to_char(t) : "unknown";
	}
}

/* "SHA256:..." of key into buf. 0 or -1. */
static int
key_fingerprint(ssh_key key, char *buf, size_t size)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) < 0)
		return -1;
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	if (fp == NULL)
		return -1;
	snprintf(buf, size, "%s", fp);
	ssh_string_free_char(fp);
	return 0;
}

static void
note_server_key(struct sshc *s)
{
	ssh_key key = NULL;

	if (ssh_get_server_publickey(s->ss, &key) < 0)
		return;
	snprintf(s->keytype, sizeof(s->keytype), "%s", keytype_name(ssh_key_type(key)));
	if (key_fingerprint(key, s->fingerprint, sizeof(s->fingerprint)) < 0)
		s->fingerprint[0] = '\0';
	ssh_key_free(key);
}

/* The target after the config: HostName and Port applied. */
static int
target(struct sshc *s, char **host, unsigned *port, struct sshc_error *e)
{
	size_t n;

	if (ssh_options_get(s->ss, SSH_OPTIONS_HOST, host) < 0 ||
	    ssh_options_get_port(s->ss, port) < 0)
		return err_set(e, SSHC_E_CONFIG, "no host to connect to");
	n = strlen(*host) + 16;
	free(s->host_port);
	s->host_port = malloc(n);
	if (s->host_port == NULL)
		return err_set(e, SSHC_E_IO, "out of memory");
	/* As libssh keys known_hosts: "[h]:p" unless the port is 22. */
	if (*port == 22)
		snprintf(s->host_port, n, "%s", *host);
	else
		snprintf(s->host_port, n, "[%s]:%u", *host, *port);
	return 0;
}

static bool
has_proxy_command(struct sshc *s)
{
	char *pc = NULL;
	bool yes;

	yes = ssh_options_get(s->ss, SSH_OPTIONS_PROXYCOMMAND, &pc) == 0 && pc != NULL &&
	      pc[0] != '\0' && strcasecmp(pc, "none") != 0;
	ssh_string_free_char(pc);
	return yes;
}

static int
own_socket(struct sshc *s, const char *host, unsigned port, struct sshc_error *e)
{
	socket_t fd;
	int rc;

	rc = tcp_connect(s, host, port, e);
	if (rc == 0)
		rc = peek_banner(s, host, port, e);
	if (rc < 0)
		return rc;
	fd = s->fd;
	if (ssh_options_set(s->ss, SSH_OPTIONS_FD, &fd) < 0)
		return err_set(e, SSHC_E_IO, "cannot hand the socket to libssh: %s",
			       ssh_get_error(s->ss));
	return 0;
}

int
sshc_connect(struct sshc *s, struct sshc_error *e)
{
	char *host = NULL;
	unsigned port = 22;
	bool proxied;
	int rc;

	err_clear(e);
	rc = target(s, &host, &port, e);
	if (rc < 0)
		return rc;
	/* With a ProxyCommand libssh runs it and owns that stream. */
	proxied = has_proxy_command(s);
	if (!proxied)
		rc = own_socket(s, host, port, e);
	ssh_string_free_char(host);
	if (rc < 0)
		return rc;
	if (ssh_connect(s->ss) != SSH_OK)
		return ssh_connect_failed(s, s->host_port, proxied, e);
	note_server_key(s);
	log_debug("connected to %s: %s, cipher %s, kex %s", s->host_port,
		  ssh_get_serverbanner(s->ss) ? ssh_get_serverbanner(s->ss) : "?",
		  ssh_get_cipher_out(s->ss) ? ssh_get_cipher_out(s->ss) : "?",
		  ssh_get_kex_algo(s->ss) ? ssh_get_kex_algo(s->ss) : "?");
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

/* ---- host key ------------------------------------------------------------- */

struct kh_hit {
	char file[256];
	int line;
	char keytype[24];
	char fingerprint[96];
};

/* Finds the first line of 'file' recorded for host_port (plain or hashed;
 * libssh's parser does the matching). libssh reports CHANGED without the
 * entry, and the old fingerprint and the line are what a person needs. */
static bool
kh_find(const char *file, const char *host_port, struct kh_hit *hit)
{
	char line[8192];
	FILE *f;
	int n = 0;
	bool found = false;

	f = fopen(file, "re");
	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		struct ssh_knownhosts_entry *ent = NULL;
		char *p = line + strspn(line, " \t");

		n++;
		p[strcspn(p, "\r\n")] = '\0';
		if (*p == '\0' || *p == '#' || *p == '@')
			continue;
		if (ssh_known_hosts_parse_line(host_port, p, &ent) == SSH_OK && ent != NULL) {
			snprintf(hit->file, sizeof(hit->file), "%s", file);
			hit->line = n;
			snprintf(hit->keytype, sizeof(hit->keytype), "%s",
				 keytype_name(ssh_key_type(ent->publickey)));
			if (key_fingerprint(ent->publickey, hit->fingerprint,
					    sizeof(hit->fingerprint)) < 0)
				snprintf(hit->fingerprint, sizeof(hit->fingerprint), "?");
			found = true;
		}
		ssh_knownhosts_entry_free(ent);
	}
	fclose(f);
	return found;
}

static char *
known_hosts_file(struct sshc *s, bool global)
{
	char *p = NULL;

	if (ssh_options_get(s->ss, global ? SSH_OPTIONS_GLOBAL_KNOWNHOSTS
				   : SSH_OPTIONS_KNOWNHOSTS, &p) < 0)
		return NULL;
	return p;
}

static int
host_changed(struct sshc *s, enum ssh_known_hosts_e state, struct sshc_error *e)
{
	char *user = known_hosts_file(s, false), *global = known_hosts_file(s, true);
	struct kh_hit hit;
	bool found;

	memset(&hit, 0, sizeof(hit));
	found = (user != NULL && kh_find(user, s->host_port, &hit)) ||
		(global != NULL && kh_find(global, s->host_port, &hit));
	err_set(e, SSHC_E_HOSTKEY_CHANGED,
		"host key for %s has CHANGED: the server sent %s key %s, known_hosts "
		"has %s key %s%s", s->host_port, s->keytype, s->fingerprint,
		found ? hit.keytype : "a", found ? hit.fingerprint : "(another)",
		state == SSH_KNOWN_HOSTS_OTHER ? " (of another type)" : "");
	if (found)
		hint_set(e, "someone may be intercepting the connection; if the host key "
			 "really changed, remove line %d of %s (ssh-keygen -R '%s' -f %s) "
			 "and verify the new key", hit.line, hit.file, s->host_port, hit.file);
	else
		hint_set(e, "someone may be intercepting the connection; if the host key "
			 "really changed, remove the old entry for %s from %s",
			 s->host_port, user ? user : "known_hosts");
	ssh_string_free_char(user);
	ssh_string_free_char(global);
	return code_errno(SSHC_E_HOSTKEY_CHANGED);
}

static int
host_unknown(struct sshc *s, struct sshc_error *e)
{
	char *file;
	int rc = 0;

	if (s->policy == OPTS_HOSTKEY_NO) {
		log_info("host key of %s not verified (StrictHostKeyChecking=no): %s key %s",
			 s->host_port, s->keytype, s->fingerprint);
		return 0;
	}
	if (s->policy == OPTS_HOSTKEY_YES) {
		err_set(e, SSHC_E_HOSTKEY_UNKNOWN, "host key for %s is not known: %s key %s",
			s->host_port, s->keytype, s->fingerprint);
		hint_set(e, "check the fingerprint with the server's admin, then record it "
			 "with `sshmountfs-tool known-hosts-add %s`, or mount once with "
			 "-o StrictHostKeyChecking=accept-new", s->host_port);
		return code_errno(SSHC_E_HOSTKEY_UNKNOWN);
	}
	file = known_hosts_file(s, false);
	if (ssh_session_update_known_hosts(s->ss) != SSH_OK) {
		rc = err_set(e, SSHC_E_HOSTKEY_UNKNOWN, "cannot record the host key of %s in %s: %s",
			     s->host_port, file ? file : "known_hosts", ssh_get_error(s->ss));
		hint_set(e, "check that the file and its directory are writable");
	} else {
		log_info("recorded the host key of %s in %s: %s key %s", s->host_port,
			 file ? file : "known_hosts", s->keytype, s->fingerprint);
	}
	ssh_string_free_char(file);
	return rc;
}

int
sshc_verify_host(struct sshc *s, struct sshc_error *e)
{
	enum ssh_known_hosts_e state;

	err_clear(e);
	if (s->fingerprint[0] == '\0')
		return err_set(e, SSHC_E_IO, "no host key: not connected");
	state = ssh_session_is_known_server(s->ss);
	switch (state) {
	case SSH_KNOWN_HOSTS_OK:
		return 0;
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		return host_unknown(s, e);
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		return host_changed(s, state, e);
	case SSH_KNOWN_HOSTS_ERROR:
	default:
		err_set(e, SSHC_E_CONFIG, "cannot check the host key of %s: %s",
			s->host_port, ssh_get_error(s->ss));
		hint_set(e, "check that the known_hosts files are readable");
		return code_errno(SSHC_E_CONFIG);
	}
}

/* ---- authentication: where secrets come from ------------------------------ */

struct auth_run {
	char user[128];
	unsigned tried;			/* AUTH_* methods run */
	bool pass_needed;		/* an accepted key needed a passphrase we could not get */
	bool pass_wrong;		/* ... or every passphrase we got was wrong */
	char pass_key[256];		/* that key, as shown */
	const char *pass_why;
	bool kbd_used_pw;		/* keyboard-interactive already spent the password */
};

static bool
env_set(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0';
}

/* OpenSSH's rules (ssh(1) SSH_ASKPASS_REQUIRE): "force" always, "prefer"
 * when there is a display, "never" not at all, and by default only when
 * there is a display but no terminal. */
static bool
use_askpass(bool tty, const char **prog)
{
	const char *req = getenv("SSH_ASKPASS_REQUIRE");
	bool display = env_set("DISPLAY") || env_set("WAYLAND_DISPLAY");

	*prog = getenv("SSH_ASKPASS");
	if (!env_set("SSH_ASKPASS"))
		return false;
	if (req != NULL && strcmp(req, "never") == 0)
		return false;
	if (req != NULL && strcmp(req, "force") == 0)
		return true;
	if (req != NULL && strcmp(req, "prefer") == 0)
		return display;
	return !tty && display;
}

/* Asks a person: the askpass program or the terminal, never in batch mode
 * and never without a terminal unless askpass applies. */
static int
ask_user(const struct sshc *s, const char *prompt, struct secret **out, const char **why)
{
	const char *prog;
	bool tty;
	int rc;

	*out = NULL;
	if (s->batch) {
		*why = "none available in batch mode";
		return -ENXIO;
	}
	tty = secret_have_tty();
	if (use_askpass(tty, &prog)) {
		rc = secret_from_askpass(prog, prompt, out);
		*why = rc == -ENOENT ? "the SSH_ASKPASS program was not found" :
		       rc == -ECANCELED ? "the SSH_ASKPASS program was cancelled" :
		       "the SSH_ASKPASS program gave none";
		return rc;
	}
	if (tty) {
		rc = secret_from_tty(prompt, out);
		*why = "none entered";
		return rc;
	}
	*why = "none available without a terminal, and SSH_ASKPASS is not set";
	return -ENXIO;
}

/* passphrase_fd first (read once, tried once per key), else a person.
 * *owned tells whether the caller must free *pp. */
static int
key_passphrase(struct sshc *s, const char *shown, int attempt, struct secret **pp,
	       bool *owned, const char **why)
{
	char prompt[320];
	int rc;

	*owned = false;
	*pp = NULL;
	if (s->passphrase_fd >= 0) {
		if (!s->fd_pass_read) {
			s->fd_pass_read = true;
			if (secret_from_fd(s->passphrase_fd, &s->fd_pass) < 0)
				s->fd_pass = NULL;
		}
		if (s->fd_pass != NULL && attempt == 0) {
			*pp = s->fd_pass;
			return 0;
		}
		*why = s->fd_pass != NULL ? "the passphrase from passphrase_fd does not fit"
					  : "passphrase_fd gave none";
		return -ENXIO;
	}
	if (attempt >= s->prompt_tries) {
		*why = "wrong passphrase";
		return -EACCES;
	}
	snprintf(prompt, sizeof(prompt), "Enter passphrase for key '%s': ", shown);
	rc = ask_user(s, prompt, pp, why);
	*owned = rc == 0;
	return rc;
}

/* An auth_fn for libssh that only notes it was asked: used to learn
 * whether a key is encrypted without letting libssh (or OpenSSL's own PEM
 * callback) prompt anyone. */
static int
note_asked_cb(const char *prompt, char *buf, size_t len, int echo, int verify, void *ud)
{
	(void)prompt;
	(void)buf;
	(void)len;
	(void)echo;
	(void)verify;
	*(bool *)ud = true;
	return -1;
}

static void
note_no_passphrase(struct auth_run *st, const char *shown, const char *why, bool wrong)
{
	if (st->pass_needed && !wrong)
		return;
	if (wrong && (st->pass_needed || st->pass_wrong))
		return;
	snprintf(st->pass_key, sizeof(st->pass_key), "%s", shown);
	st->pass_why = why;
	if (wrong)
		st->pass_wrong = true;
	else
		st->pass_needed = true;
}

static int
load_encrypted(struct sshc *s, struct auth_run *st, const char *path, const char *shown,
	       ssh_key *key, struct sshc_error *e)
{
	const char *why = "";
	struct secret *pp;
	bool owned, asked;
	int rc;

	for (int attempt = 0;; attempt++) {
		rc = key_passphrase(s, shown, attempt, &pp, &owned, &why);
		if (rc < 0) {
			detail_add(e, "%s: %s (%s)", shown, attempt == 0 ? "needs a passphrase" :
				   "wrong passphrase", why);
			note_no_passphrase(st, shown, why, attempt > 0);
			return -EACCES;
		}
		if (pp->len == 0) {
			detail_add(e, "%s: skipped (empty passphrase)", shown);
			if (owned)
				secret_free(pp);
			return -ECANCELED;
		}
		asked = false;
		rc = ssh_pki_import_privkey_file(path, pp->s, note_asked_cb, &asked, key);
		if (owned)
			secret_free(pp);
		if (rc == SSH_OK)
			return 0;
		if (!owned)	/* from passphrase_fd: no second chance */
			log_debug("%s: the passphrase from passphrase_fd is wrong", shown);
	}
}

/* The private key, decrypting it when needed. 0 or <0 with e->detail told. */
static int
load_private(struct sshc *s, struct auth_run *st, const char *path, ssh_key *key,
	     struct sshc_error *e)
{
	char buf[256];
	const char *shown = shown_path(s, path, buf, sizeof(buf));
	bool asked = false;
	int rc;

	*key = NULL;
	rc = ssh_pki_import_privkey_file(path, NULL, note_asked_cb, &asked, key);
	if (rc == SSH_OK)
		return 0;
	if (rc == SSH_EOF) {
		detail_add(e, "%s: cannot read the private key", shown);
		return -ENOENT;
	}
	if (!asked) {
		detail_add(e, "%s: not a private key this program can use", shown);
		return -EINVAL;
	}
	return load_encrypted(s, st, path, shown, key, e);
}

/* ---- authentication: methods ----------------------------------------------- */

/* The public half: <key>.pub, or derived from the private key (which may
 * need the passphrase before the server has even seen the key). Unlike
 * ssh_userauth_publickey_auto() this never writes a .pub file. */
static int
load_public(struct sshc *s, struct auth_run *st, const char *path, ssh_key *pub,
	    ssh_key *priv, struct sshc_error *e)
{
	char pubpath[4200];

	*pub = *priv = NULL;
	snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
	if (ssh_pki_import_pubkey_file(pubpath, pub) == SSH_OK)
		return 0;
	*pub = NULL;
	if (load_private(s, st, path, priv, e) < 0)
		return -1;
	if (ssh_pki_export_privkey_to_pubkey(*priv, pub) != SSH_OK) {
		detail_add(e, "%s: cannot derive the public key", path);
		return -1;
	}
	return 0;
}

/* One identity: offer the public key, and only if the server would take
 * it, load (decrypt) the private key and sign. SSH_AUTH_* */
static int
try_identity(struct sshc *s, struct auth_run *st, const char *path, bool quiet_missing,
	     struct sshc_error *e)
{
	char buf[256];
	const char *shown = shown_path(s, path, buf, sizeof(buf));
	ssh_key pub = NULL, priv = NULL;
	int rc;

	if (access(path, F_OK) < 0) {
		if (!quiet_missing)
			detail_add(e, "%s: no such file", shown);
		return SSH_AUTH_DENIED;
	}
	if (load_public(s, st, path, &pub, &priv, e) < 0)
		return SSH_AUTH_DENIED;
	rc = ssh_userauth_try_publickey(s->ss, NULL, pub);
	if (rc == SSH_AUTH_SUCCESS) {
		if (priv == NULL && load_private(s, st, path, &priv, e) < 0)
			rc = SSH_AUTH_DENIED;
		else if ((rc = ssh_userauth_publickey(s->ss, NULL, priv)) == SSH_AUTH_DENIED)
			detail_add(e, "%s: signature refused by the server", shown);
	} else if (rc == SSH_AUTH_DENIED) {
		detail_add(e, "%s: rejected by the server", shown);
	}
	if (rc == SSH_AUTH_SUCCESS || rc == SSH_AUTH_PARTIAL)
		log_debug("authenticated with %s%s", shown,
			  rc == SSH_AUTH_PARTIAL ? " (partial)" : "");
	ssh_key_free(pub);
	ssh_key_free(priv);
	return rc;
}

static bool
id_listed(char **ids, int n, const char *p)
{
	for (int i = 0; i < n; i++)
		if (strcmp(ids[i], p) == 0)
			return true;
	return false;
}

/* As OpenSSH: the IdentityFiles given (command line, then the config's),
 * and the default names only when none was given. libssh 0.10 offers no
 * way to list its identities, so of the config's IdentityFile lines only
 * the one libssh holds first (the last one read) is seen. */
static int
collect_identities(struct sshc *s, char **ids, bool *explicit_id, int max)
{
	static const char *const defaults[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	char *cfg = NULL, path[4200];
	int n = 0;

	for (int i = 0; i < s->n_ids && n < max; i++) {
		if (!id_listed(ids, n, s->ids[i]) && (ids[n] = strdup(s->ids[i])) != NULL)
			explicit_id[n++] = true;
	}
	if (s->config_identity && ssh_options_get(s->ss, SSH_OPTIONS_IDENTITY, &cfg) == 0 &&
	    cfg != NULL && n < max && !id_listed(ids, n, cfg) && (ids[n] = strdup(cfg)) != NULL)
		explicit_id[n++] = true;
	ssh_string_free_char(cfg);
	for (size_t i = 0; n == 0 && i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", s->ssh_dir, defaults[i]);
		if ((ids[i] = strdup(path)) != NULL)
			explicit_id[i] = false;
	}
	if (n == 0)
		n = (int)(sizeof(defaults) / sizeof(defaults[0]));
	return n;
}

static int
try_agent(struct sshc *s, struct sshc_error *e)
{
	int rc;

	if (!env_set("SSH_AUTH_SOCK"))
		return SSH_AUTH_DENIED;
	rc = ssh_userauth_agent(s->ss, NULL);
	if (rc == SSH_AUTH_DENIED) {
		detail_add(e, "ssh-agent: no key accepted by the server");
	} else if (rc == SSH_AUTH_ERROR && ssh_is_connected(s->ss)) {
		detail_add(e, "ssh-agent: %s", ssh_get_error(s->ss));
		rc = SSH_AUTH_DENIED;
	}
	return rc;
}

static int
auth_pubkey(struct sshc *s, struct auth_run *st, struct sshc_error *e)
{
	char *ids[SSHC_MAX_IDS + 1] = { NULL };
	bool explicit_id[SSHC_MAX_IDS + 1];
	int n, rc;

	rc = try_agent(s, e);
	if (rc != SSH_AUTH_DENIED)
		return rc;
	n = collect_identities(s, ids, explicit_id, SSHC_MAX_IDS + 1);
	for (int i = 0; i < n && rc == SSH_AUTH_DENIED; i++) {
		if (ids[i] != NULL)
			rc = try_identity(s, st, ids[i], !explicit_id[i], e);
	}
	for (int i = 0; i < n; i++)
		free(ids[i]);
	return rc;
}

/* The password for a hidden prompt (once), else a person. */
static int
kbdint_answer(struct sshc *s, struct auth_run *st, const char *prompt, char echo,
	      struct secret **ans, bool *owned, const char **why)
{
	char shown[320];
	int n;

	*owned = false;
	if (!echo && s->pw != NULL && !st->kbd_used_pw) {
		st->kbd_used_pw = true;
		*ans = s->pw;
		return 0;
	}
	/* As OpenSSH: "(user@host) Password: ", so a person knows who asks. */
	n = snprintf(shown, sizeof(shown), "(%s@%s) ", st->user, s->host_port);
	if (n < 0 || (size_t)n >= sizeof(shown))
		n = 0;
	printable_copy(shown + n, sizeof(shown) - (size_t)n, prompt ? prompt : "",
		       strlen(prompt ? prompt : ""));
	if (ask_user(s, shown, ans, why) < 0)
		return -ENXIO;
	*owned = true;
	return 0;
}

static int
kbdint_round(struct sshc *s, struct auth_run *st, struct sshc_error *e)
{
	int n = ssh_userauth_kbdint_getnprompts(s->ss);

	for (int i = 0; i < n; i++) {
		const char *prompt, *why = "";
		struct secret *ans;
		char echo = 0;
		bool owned;
		int rc;

		prompt = ssh_userauth_kbdint_getprompt(s->ss, (unsigned)i, &echo);
		if (kbdint_answer(s, st, prompt, echo, &ans, &owned, &why) < 0) {
			detail_add(e, "keyboard-interactive: cannot answer \"%.60s\" (%s)",
				   prompt ? prompt : "", why);
			return SSH_AUTH_DENIED;
		}
		rc = ssh_userauth_kbdint_setanswer(s->ss, (unsigned)i, ans->s);
		if (owned)
			secret_free(ans);
		if (rc < 0)
			return SSH_AUTH_ERROR;
	}
	return SSH_AUTH_INFO;
}

static int
auth_kbdint(struct sshc *s, struct auth_run *st, struct sshc_error *e)
{
	int rc = ssh_userauth_kbdint(s->ss, NULL, NULL);

	/* Bounded: PAM may send info rounds without prompts, but not forever. */
	for (int round = 0; rc == SSH_AUTH_INFO && round < 16; round++) {
		rc = kbdint_round(s, st, e);
		if (rc != SSH_AUTH_INFO)
			return rc;
		rc = ssh_userauth_kbdint(s->ss, NULL, NULL);
	}
	if (rc == SSH_AUTH_INFO || rc == SSH_AUTH_DENIED) {
		detail_add(e, "keyboard-interactive: refused by the server");
		rc = SSH_AUTH_DENIED;
	}
	return rc;
}

static int
auth_password(struct sshc *s, struct auth_run *st, struct sshc_error *e)
{
	const char *why = "";
	char prompt[300];
	struct secret *pw;
	int rc = SSH_AUTH_DENIED;

	if (s->pw != NULL) {
		if (st->kbd_used_pw) {
			detail_add(e, "password: already refused through keyboard-interactive");
			return SSH_AUTH_DENIED;
		}
		rc = ssh_userauth_password(s->ss, NULL, s->pw->s);
		if (rc == SSH_AUTH_DENIED)
			detail_add(e, "password: refused by the server");
		return rc;
	}
	snprintf(prompt, sizeof(prompt), "%s@%s's password: ", st->user, s->host_port);
	for (int i = 0; i < s->prompt_tries && rc == SSH_AUTH_DENIED; i++) {
		if (ask_user(s, prompt, &pw, &why) < 0) {
			detail_add(e, "password: %s", why);
			return SSH_AUTH_DENIED;
		}
		rc = ssh_userauth_password(s->ss, NULL, pw->s);
		secret_free(pw);
		if (rc == SSH_AUTH_DENIED)
			detail_add(e, "password: refused by the server");
	}
	return rc;
}

/* ---- authentication: the chain --------------------------------------------- */

static int
libssh_method(unsigned bit)
{
	return bit == AUTH_PUBKEY ? SSH_AUTH_METHOD_PUBLICKEY :
	       bit == AUTH_KBDINT ? SSH_AUTH_METHOD_INTERACTIVE : SSH_AUTH_METHOD_PASSWORD;
}

/* OpenSSH's order, or PreferredAuthentications' (unknown names skipped). */
static int
auth_order(const struct sshc *s, unsigned order[3])
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "publickey", AUTH_PUBKEY },
		{ "keyboard-interactive", AUTH_KBDINT },
		{ "password", AUTH_PASSWORD },
	};
	const char *p = s->preferred;
	int n = 0;

	if (p == NULL) {
		order[0] = AUTH_PUBKEY;
		order[1] = AUTH_KBDINT;
		order[2] = AUTH_PASSWORD;
		return 3;
	}
	while (*p != '\0' && n < 3) {
		size_t len = strcspn(p, ",");
		for (size_t i = 0; i < 3; i++) {
			if (strlen(names[i].name) == len && strncmp(p, names[i].name, len) == 0)
				order[n++] = names[i].bit;
		}
		p += len + (p[len] == ',');
	}
	return n;
}

static int
run_method(struct sshc *s, struct auth_run *st, unsigned bit, struct sshc_error *e)
{
	if (bit == AUTH_PUBKEY)
		return auth_pubkey(s, st, e);
	if (bit == AUTH_KBDINT)
		return auth_kbdint(s, st, e);
	return auth_password(s, st, e);
}

static void
methods_text(int m, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s", (m & SSH_AUTH_METHOD_PUBLICKEY) ? "publickey," : "",
		 (m & SSH_AUTH_METHOD_INTERACTIVE) ? "keyboard-interactive," : "",
		 (m & SSH_AUTH_METHOD_PASSWORD) ? "password," : "",
		 (m & SSH_AUTH_METHOD_HOSTBASED) ? "hostbased," : "");
	if (buf[0] != '\0')
		buf[strlen(buf) - 1] = '\0';
	else
		snprintf(buf, size, "nothing we can use");
}

static int
auth_failed(struct sshc *s, struct auth_run *st, int methods, struct sshc_error *e)
{
	char list[80];

	if (st->pass_needed || st->pass_wrong) {
		err_set(e, SSHC_E_PASSPHRASE, "key %s %s: %s", st->pass_key,
			st->pass_needed ? "needs a passphrase" : "could not be unlocked",
			st->pass_why ? st->pass_why : "");
		hint_set(e, "load the key into ssh-agent (ssh-add), give the passphrase with "
			 "-o passphrase_fd=N, or set SSH_ASKPASS (with SSH_ASKPASS_REQUIRE=force "
			 "when there is no display)");
		return code_errno(SSHC_E_PASSPHRASE);
	}
	methods_text(methods, list, sizeof(list));
	err_set(e, SSHC_E_AUTH, "permission denied for %s on %s (the server accepts: %s)",
		st->user, s->host_port, list);
	hint_set(e, "put your public key into ~%s/.ssh/authorized_keys on the server "
		 "(ssh-copy-id), name the key with -o IdentityFile=, or use -o password_stdin",
		 st->user);
	return code_errno(SSHC_E_AUTH);
}

static int
auth_lost(struct sshc *s, struct sshc_error *e)
{
	err_set(e, SSHC_E_IO, "authentication with %s failed: %s", s->host_port,
		ssh_get_error(s->ss));
	return code_errno(SSHC_E_IO);
}

static int
auth_chain(struct sshc *s, struct auth_run *st, struct sshc_error *e)
{
	unsigned order[3];
	int n = auth_order(s, order), methods = 0, rc = SSH_AUTH_DENIED;

	/* A PARTIAL success (several factors required) lists the methods
	 * left; each method runs at most once. */
	for (int round = 0; round < 3; round++) {
		methods = ssh_userauth_list(s->ss, NULL);
		rc = SSH_AUTH_DENIED;
		for (int i = 0; i < n; i++) {
			if ((st->tried & order[i]) || !(s->auth_enabled & order[i]) ||
			    !(methods & libssh_method(order[i])))
				continue;
			st->tried |= order[i];
			rc = run_method(s, st, order[i], e);
			if (rc != SSH_AUTH_DENIED)
				break;
		}
		if (rc == SSH_AUTH_SUCCESS)
			return 0;
		if (rc == SSH_AUTH_ERROR || !ssh_is_connected(s->ss))
			return auth_lost(s, e);
		if (rc != SSH_AUTH_PARTIAL)
			break;
	}
	return auth_failed(s, st, methods, e);
}

int
sshc_set_password(struct sshc *s, struct secret *pw)
{
	if (s == NULL) {
		secret_free(pw);
		return -EINVAL;
	}
	secret_free(s->pw);
	s->pw = pw;
	return 0;
}

static void
auth_user(struct sshc *s, struct auth_run *st)
{
	char *u = NULL;

	if (ssh_options_get(s->ss, SSH_OPTIONS_USER, &u) == 0 && u != NULL)
		snprintf(st->user, sizeof(st->user), "%s", u);
	else
		snprintf(st->user, sizeof(st->user), "?");
	ssh_string_free_char(u);
}

int
sshc_authenticate(struct sshc *s, struct sshc_error *e)
{
	struct auth_run st;
	int rc;

	err_clear(e);
	memset(&st, 0, sizeof(st));
	auth_user(s, &st);
	if (s->password_stdin && s->pw == NULL && secret_from_fd(0, &s->pw) < 0) {
		err_set(e, SSHC_E_CONFIG, "password_stdin: no password on standard input");
		return code_errno(SSHC_E_CONFIG);
	}
	rc = ssh_userauth_none(s->ss, NULL);
	if (rc == SSH_AUTH_SUCCESS)
		rc = 0;
	else if (rc == SSH_AUTH_ERROR)
		rc = auth_lost(s, e);
	else
		rc = auth_chain(s, &st, e);
	/* Secrets live no longer than the login. */
	s->pw = secret_free(s->pw);
	s->fd_pass = secret_free(s->fd_pass);
	return rc;
}

/* ---- channels ---------------------------------------------------------------- */

struct exec_out {
	char *buf;
	size_t len;
	bool truncated;
	char err[512];		/* the start of stderr, for the message */
	size_t errlen;
};

static int
exec_open(struct sshc *s, const char *command, ssh_channel *out, struct sshc_error *e)
{
	ssh_channel ch = ssh_channel_new(s->ss);

	*out = NULL;
	if (ch == NULL)
		return err_set(e, SSHC_E_CHANNEL, "cannot create a channel: %s",
			       ssh_get_error(s->ss));
	if (ssh_channel_open_session(ch) != SSH_OK) {
		err_set(e, SSHC_E_CHANNEL, "%s refused to open a session channel: %s",
			s->host_port, ssh_get_error(s->ss));
		ssh_channel_free(ch);
		return code_errno(SSHC_E_CHANNEL);
	}
	if (ssh_channel_request_exec(ch, command) != SSH_OK) {
		err_set(e, SSHC_E_CHANNEL, "%s refused to run a command: %s", s->host_port,
			ssh_get_error(s->ss));
		hint_set(e, "the account may be restricted (ForceCommand, a restricted shell)");
		ssh_channel_close(ch);
		ssh_channel_free(ch);
		return code_errno(SSHC_E_CHANNEL);
	}
	*out = ch;
	return 0;
}

static void
exec_keep(struct exec_out *o, const char *data, size_t n, bool is_err)
{
	size_t room;

	if (is_err) {
		room = sizeof(o->err) - 1 - o->errlen;
		n = n < room ? n : room;
		memcpy(o->err + o->errlen, data, n);
		o->errlen += n;
		o->err[o->errlen] = '\0';
		return;
	}
	room = SSHC_EXEC_OUT_MAX - o->len;
	if (n > room) {
		o->truncated = true;
		n = room;
	}
	memcpy(o->buf + o->len, data, n);
	o->len += n;
}

/* Drains stdout and stderr until EOF or the deadline. stderr is read
 * too, so a chatty command cannot stall on a full channel window. */
static int
exec_drain(ssh_channel ch, struct exec_out *o, long deadline)
{
	char buf[16384];
	int n;

	for (;;) {
		long left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = ssh_channel_read_timeout(ch, buf, sizeof(buf), 0, left < 100 ? (int)left : 100);
		if (n < 0 && n != SSH_AGAIN)
			return -EIO;
		if (n > 0)
			exec_keep(o, buf, (size_t)n, false);
		while ((n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), 1)) > 0)
			exec_keep(o, buf, (size_t)n, true);
		if (ssh_channel_is_eof(ch) && ssh_channel_poll(ch, 0) <= 0 &&
		    ssh_channel_poll(ch, 1) <= 0)
			return 0;
		if (ssh_channel_is_closed(ch))
			return 0;
	}
}

static int
exec_feed(ssh_channel ch, const char *input)
{
	size_t len = input ? strlen(input) : 0, off = 0;

	while (off < len) {
		int n = ssh_channel_write(ch, input + off, (uint32_t)(len - off));
		if (n < 0)
			return -EIO;
		off += (size_t)n;
	}
	return ssh_channel_send_eof(ch) == SSH_OK ? 0 : -EIO;
}

static int
exec_result(struct sshc *s, const char *command, int rc, struct exec_out *o,
	    struct sshc_error *e)
{
	printable_copy(e->detail, sizeof(e->detail), o->err, o->errlen);
	if (rc == -ETIMEDOUT) {
		err_set(e, SSHC_E_IO, "the command '%.80s' on %s did not finish within %ld s",
			command, s->host_port, s->timeout);
		return rc;
	}
	if (rc < 0)
		return err_set(e, SSHC_E_IO, "running '%.80s' on %s failed: %s", command,
			       s->host_port, ssh_get_error(s->ss));
	if (o->truncated)
		log_debug("output of '%s' cut at %d bytes", command, SSHC_EXEC_OUT_MAX);
	return 0;
}

int
sshc_exec(struct sshc *s, const char *command, const char *input, char **out, int *status,
	  struct sshc_error *e)
{
	struct exec_out o;
	ssh_channel ch;
	int rc;

	err_clear(e);
	*out = NULL;
	*status = -1;
	memset(&o, 0, sizeof(o));
	o.buf = malloc(SSHC_EXEC_OUT_MAX + 1);
	if (o.buf == NULL)
		return err_set(e, SSHC_E_IO, "out of memory");
	rc = exec_open(s, command, &ch, e);
	if (rc < 0) {
		free(o.buf);
		return rc;
	}
	rc = exec_feed(ch, input);
	if (rc == 0)
		rc = exec_drain(ch, &o, now_ms() + s->timeout * 1000L);
	if (rc == 0)
		*status = ssh_channel_get_exit_status(ch);
	rc = exec_result(s, command, rc, &o, e);
	ssh_channel_close(ch);
	ssh_channel_free(ch);
	o.buf[o.len] = '\0';
	if (rc < 0)
		free(o.buf);
	else
		*out = o.buf;
	return rc;
}

int
sshc_open_sftp_channel(struct sshc *s, const char *server_cmd, ssh_channel *out,
		       struct sshc_error *e)
{
	ssh_channel ch;
	int rc;

	err_clear(e);
	*out = NULL;
	if (server_cmd != NULL)
		return exec_open(s, server_cmd, out, e);
	ch = ssh_channel_new(s->ss);
	if (ch == NULL)
		return err_set(e, SSHC_E_CHANNEL, "cannot create a channel: %s",
			       ssh_get_error(s->ss));
	rc = ssh_channel_open_session(ch);
	if (rc == SSH_OK)
		rc = ssh_channel_request_subsystem(ch, "sftp");
	if (rc != SSH_OK) {
		err_set(e, SSHC_E_CHANNEL, "%s refused the sftp subsystem: %s", s->host_port,
			ssh_get_error(s->ss));
		hint_set(e, "the server needs \"Subsystem sftp ...\" in sshd_config; or name the "
			 "server program with -o sftp_server=/usr/lib/openssh/sftp-server");
		ssh_channel_close(ch);
		ssh_channel_free(ch);
		return code_errno(SSHC_E_CHANNEL);
	}
	*out = ch;
	return 0;
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
