/* sshc: the ssh config and the command-line values, applied to the libssh
 * session (part of sshc_new(), see sshc.h). The order is the point:
 * values that must exist before ~/.ssh/config is read, then the config,
 * then the command line on top so it wins. Also the
 * ProxyJump rewrite for libssh 0.10 and the -o Name=value passthrough
 * table.
 */
#include "sshc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "sshc_int.h"

/* ---- small helpers ---------------------------------------------------- */

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
opt_fail(struct sshc *s, const char *what, const char *value, struct sshc_error *e)
{
	sshc_err_set(e, SSHC_E_CONFIG, "cannot set %s '%s': %s", what, value ? value : "",
		     ssh_get_error(s->ss));
	return sshc_code_errno(SSHC_E_CONFIG);
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
		sshc_err_set(e, SSHC_E_CONFIG, "Ciphers=%s: none of these ciphers is supported", list);
		sshc_hint_set(e, "supported: aes256-gcm@openssh.com, aes128-gcm@openssh.com, "
			      "chacha20-poly1305@openssh.com, aes256-ctr, aes192-ctr, aes128-ctr, "
			      "aes256-cbc, aes192-cbc, aes128-cbc");
		return sshc_code_errno(SSHC_E_CONFIG);
	}
	return 0;
}

/* AES-GCM is the fastest cipher with AES-NI (sshmountfs-tool benchmark-ciphers); libssh's own
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
		return sshc_err_set(e, SSHC_E_CONFIG, "no host name given");
	/* libssh reads "a:b" as host:port, so IPv6 literals go in brackets. */
	if (strchr(h, ':') != NULL && h[0] != '[') {
		snprintf(buf, sizeof(buf), "[%s]", h);
		h = buf;
	}
	if (ssh_options_set(s->ss, SSH_OPTIONS_HOST, h) < 0)
		return sshc_err_set(e, SSHC_E_CONFIG, "invalid host name '%s'", o->host);
	if (o->user != NULL && o->user[0] != '\0' &&
	    ssh_options_set(s->ss, SSH_OPTIONS_USER, o->user) < 0)
		return sshc_err_set(e, SSHC_E_CONFIG, "invalid user name '%s'", o->user);
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
		sshc_err_set(e, SSHC_E_CONFIG, "cannot read ssh config file %s: %s",
			     o->ssh_config, strerror(rc));
		return sshc_code_errno(SSHC_E_CONFIG);
	}
	/* libssh has no way to list identities; comparing the head of its list
	 * before and after tells whether the config named an IdentityFile. */
	(void)ssh_options_get(s->ss, SSH_OPTIONS_IDENTITY, &before);
	rc = ssh_options_parse_config(s->ss, o->ssh_config);
	if (rc < 0) {
		ssh_string_free_char(before);
		return sshc_err_set(e, SSHC_E_CONFIG, "error in ssh config file %s: %s",
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
		sshc_err_set(e, SSHC_E_CONFIG, "invalid ProxyJump '%s'", jump);
		sshc_hint_set(e, "use ProxyJump=[user@]host[:port][,[user@]host[:port]...]");
		return sshc_code_errno(SSHC_E_CONFIG);
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
		rc = sshc_err_set(e, SSHC_E_CONFIG, "cannot set StrictHostKeyChecking");
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
		return sshc_err_set(e, SSHC_E_CONFIG, "too many IdentityFile options");
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
	 * over the values just set: it would, unless told it was parsed. */
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
	{ "PubkeyAuthentication", PT_AUTH, SSH_OPTIONS_PUBKEY_AUTH, 0, SSHC_AUTH_PUBKEY },
	{ "PasswordAuthentication", PT_AUTH, SSH_OPTIONS_PASSWORD_AUTH, 0, SSHC_AUTH_PASSWORD },
	{ "KbdInteractiveAuthentication", PT_AUTH, SSH_OPTIONS_KBDINT_AUTH, 0, SSHC_AUTH_KBDINT },
	{ "ChallengeResponseAuthentication", PT_AUTH, SSH_OPTIONS_KBDINT_AUTH, 0, SSHC_AUTH_KBDINT },
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
			return sshc_code_errno(SSHC_E_CONFIG);
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
		return sshc_err_set(e, SSHC_E_CONFIG, "malformed ssh option '%s'", item);
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
			rc = sshc_err_set(e, SSHC_E_CONFIG, "invalid value for ssh option %s: '%s'",
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

/* ---- the order ------------------------------------------------------------ */

int
sshc_config_apply(struct sshc *s, const struct opts *o, struct sshc_error *e)
{
	int rc;

	/* Order matters: host and ssh dir, then the config, then the command
	 * line on top, because the config parser overwrites what is set. */
	rc = setup_pre_config(s, o, e);
	if (rc == 0)
		rc = parse_config(s, o, e);
	if (rc == 0)
		rc = apply_passthrough(s, o, e);
	if (rc == 0)
		rc = apply_cli_conn(s, o, e);
	if (rc == 0)
		rc = apply_cli_misc(s, o, e);
	return rc;
}
