/* sshc_authenticate(): none, then publickey (agent, identity files),
 * keyboard-interactive and password in OpenSSH's order or
 * PreferredAuthentications'; and where passphrases and passwords come
 * from (passphrase_fd, SSH_ASKPASS, the terminal). See sshc.h.
 */
#include "sshc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "secret.h"
#include "sshc_int.h"

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

/* ---- kept secrets (reconnection, sshc.h) ---------------------------------- */

static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static bool kept_on;
static struct secret *kept_pass, *kept_pw;

void
sshc_secrets_keep(void)
{
	pthread_mutex_lock(&kept_lock);
	kept_on = true;
	pthread_mutex_unlock(&kept_lock);
}

void
sshc_secrets_forget(void)
{
	pthread_mutex_lock(&kept_lock);
	kept_on = false;
	kept_pass = secret_free(kept_pass);
	kept_pw = secret_free(kept_pw);
	pthread_mutex_unlock(&kept_lock);
}

/* The first one wins: later logins use what the mount's first one did. */
static void
kept_copy(struct secret **slot, const struct secret *sec)
{
	pthread_mutex_lock(&kept_lock);
	if (kept_on && *slot == NULL && sec != NULL && secret_from_bytes(sec->s, sec->len, slot) < 0)
		*slot = NULL;
	pthread_mutex_unlock(&kept_lock);
}

int
sshc_use_kept_secrets(struct sshc *s)
{
	int rc = 0;

	s->batch = true;
	s->password_stdin = false;
	s->passphrase_fd = -1;
	s->pw = secret_free(s->pw);
	s->fd_pass = secret_free(s->fd_pass);
	pthread_mutex_lock(&kept_lock);
	if (kept_pw != NULL)
		rc = secret_from_bytes(kept_pw->s, kept_pw->len, &s->pw);
	if (rc == 0 && kept_pass != NULL) {
		rc = secret_from_bytes(kept_pass->s, kept_pass->len, &s->fd_pass);
		/* as if read from passphrase_fd: tried once per key, no prompt */
		s->fd_pass_read = true;
		s->passphrase_fd = rc == 0 ? 0 : -1;
	}
	pthread_mutex_unlock(&kept_lock);
	return rc;
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
			sshc_detail_add(e, "%s: %s (%s)", shown, attempt == 0 ? "needs a passphrase" :
					"wrong passphrase", why);
			note_no_passphrase(st, shown, why, attempt > 0);
			return -EACCES;
		}
		if (pp->len == 0) {
			sshc_detail_add(e, "%s: skipped (empty passphrase)", shown);
			if (owned)
				secret_free(pp);
			return -ECANCELED;
		}
		asked = false;
		rc = ssh_pki_import_privkey_file(path, pp->s, note_asked_cb, &asked, key);
		if (rc == SSH_OK)
			kept_copy(&kept_pass, pp);
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
		sshc_detail_add(e, "%s: cannot read the private key", shown);
		return -ENOENT;
	}
	if (!asked) {
		sshc_detail_add(e, "%s: not a private key this program can use", shown);
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
		sshc_detail_add(e, "%s: cannot derive the public key", path);
		return -1;
	}
	return 0;
}

/* The private key when it opens without a passphrase. */
static bool
load_quiet(const char *path, ssh_key *priv)
{
	bool asked = false;

	*priv = NULL;
	if (ssh_pki_import_privkey_file(path, NULL, note_asked_cb, &asked, priv) == SSH_OK)
		return true;
	*priv = NULL;
	return false;
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
			sshc_detail_add(e, "%s: no such file", shown);
		return SSH_AUTH_DENIED;
	}
	/* A key that opens without a passphrase is signed with at once: the
	 * server's "would you take it" answer saves nothing then, and costs a
	 * round trip. Only a locked key is offered first, so that nobody is
	 * asked for a passphrase the server would not use. */
	if (load_quiet(path, &priv)) {
		rc = ssh_userauth_publickey(s->ss, NULL, priv);
		if (rc == SSH_AUTH_DENIED)
			sshc_detail_add(e, "%s: rejected by the server", shown);
	} else if (load_public(s, st, path, &pub, &priv, e) < 0) {
		return SSH_AUTH_DENIED;
	} else if ((rc = ssh_userauth_try_publickey(s->ss, NULL, pub)) == SSH_AUTH_SUCCESS) {
		if (priv == NULL && load_private(s, st, path, &priv, e) < 0)
			rc = SSH_AUTH_DENIED;
		else if ((rc = ssh_userauth_publickey(s->ss, NULL, priv)) == SSH_AUTH_DENIED)
			sshc_detail_add(e, "%s: signature refused by the server", shown);
	} else if (rc == SSH_AUTH_DENIED) {
		sshc_detail_add(e, "%s: rejected by the server", shown);
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
		sshc_detail_add(e, "ssh-agent: no key accepted by the server");
	} else if (rc == SSH_AUTH_ERROR && ssh_is_connected(s->ss)) {
		sshc_detail_add(e, "ssh-agent: %s", ssh_get_error(s->ss));
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
		int m = ssh_userauth_list(s->ss, NULL);

		/* Known (no "none" was sent) to refuse publickey: spare the
		 * other keys, and their passphrases. */
		if (m != 0 && !(m & SSH_AUTH_METHOD_PUBLICKEY))
			break;
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
	sshc_printable_copy(shown + n, sizeof(shown) - (size_t)n, prompt ? prompt : "",
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
			sshc_detail_add(e, "keyboard-interactive: cannot answer \"%.60s\" (%s)",
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
		sshc_detail_add(e, "keyboard-interactive: refused by the server");
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
			sshc_detail_add(e, "password: already refused through keyboard-interactive");
			return SSH_AUTH_DENIED;
		}
		rc = ssh_userauth_password(s->ss, NULL, s->pw->s);
		if (rc == SSH_AUTH_DENIED)
			sshc_detail_add(e, "password: refused by the server");
		return rc;
	}
	snprintf(prompt, sizeof(prompt), "%s@%s's password: ", st->user, s->host_port);
	for (int i = 0; i < s->prompt_tries && rc == SSH_AUTH_DENIED; i++) {
		if (ask_user(s, prompt, &pw, &why) < 0) {
			sshc_detail_add(e, "password: %s", why);
			return SSH_AUTH_DENIED;
		}
		rc = ssh_userauth_password(s->ss, NULL, pw->s);
		secret_free(pw);
		if (rc == SSH_AUTH_DENIED)
			sshc_detail_add(e, "password: refused by the server");
	}
	return rc;
}

/* ---- authentication: the chain --------------------------------------------- */

static int
libssh_method(unsigned bit)
{
	return bit == SSHC_AUTH_PUBKEY ? SSH_AUTH_METHOD_PUBLICKEY :
	       bit == SSHC_AUTH_KBDINT ? SSH_AUTH_METHOD_INTERACTIVE : SSH_AUTH_METHOD_PASSWORD;
}

/* OpenSSH's order, or PreferredAuthentications' (unknown names skipped). */
static int
auth_order(const struct sshc *s, unsigned order[3])
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "publickey", SSHC_AUTH_PUBKEY },
		{ "keyboard-interactive", SSHC_AUTH_KBDINT },
		{ "password", SSHC_AUTH_PASSWORD },
	};
	const char *p = s->preferred;
	int n = 0;

	if (p == NULL) {
		order[0] = SSHC_AUTH_PUBKEY;
		order[1] = SSHC_AUTH_KBDINT;
		order[2] = SSHC_AUTH_PASSWORD;
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
	if (bit == SSHC_AUTH_PUBKEY)
		return auth_pubkey(s, st, e);
	if (bit == SSHC_AUTH_KBDINT)
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
		sshc_err_set(e, SSHC_E_PASSPHRASE, "key %s %s: %s", st->pass_key,
			     st->pass_needed ? "needs a passphrase" : "could not be unlocked",
			     st->pass_why ? st->pass_why : "");
		sshc_hint_set(e, "load the key into ssh-agent (ssh-add), give the passphrase with "
			      "-o passphrase_fd=N, or set SSH_ASKPASS (with SSH_ASKPASS_REQUIRE=force "
			      "when there is no display)");
		return sshc_code_errno(SSHC_E_PASSPHRASE);
	}
	methods_text(methods, list, sizeof(list));
	sshc_err_set(e, SSHC_E_AUTH, "permission denied for %s on %s (the server accepts: %s)",
		     st->user, s->host_port, list);
	sshc_hint_set(e, "put your public key into ~%s/.ssh/authorized_keys on the server "
		      "(ssh-copy-id), name the key with -o IdentityFile=, or use -o password_stdin",
		      st->user);
	return sshc_code_errno(SSHC_E_AUTH);
}

static int
auth_lost(struct sshc *s, struct sshc_error *e)
{
	sshc_err_set(e, SSHC_E_IO, "authentication with %s failed: %s", s->host_port,
		     ssh_get_error(s->ss));
	return sshc_code_errno(SSHC_E_IO);
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

/* Publickey first, without the "none" request OpenSSH sends before it:
 * the server's answer to a key tells the methods it accepts as well as
 * "none" would, one round trip sooner. Only when nobody can be asked
 * anything on the way (an agent, or a first key that opens without a
 * passphrase): with "none" first, a server that takes no keys spares the
 * user a passphrase prompt. */
static bool
pubkey_at_once(struct sshc *s)
{
	char *ids[SSHC_MAX_IDS + 1] = { NULL };
	bool explicit_id[SSHC_MAX_IDS + 1], quiet = false;
	unsigned order[3];
	ssh_key priv = NULL;
	int n;

	if (!(s->auth_enabled & SSHC_AUTH_PUBKEY) || auth_order(s, order) < 1 ||
	    order[0] != SSHC_AUTH_PUBKEY)
		return false;
	if (env_set("SSH_AUTH_SOCK"))
		return true;
	/* The first key that exists decides: it is the first one tried. */
	n = collect_identities(s, ids, explicit_id, SSHC_MAX_IDS + 1);
	for (int i = 0; i < n; i++) {
		if (ids[i] != NULL && access(ids[i], F_OK) == 0) {
			quiet = load_quiet(ids[i], &priv);
			break;
		}
	}
	ssh_key_free(priv);
	for (int i = 0; i < n; i++)
		free(ids[i]);
	return quiet;
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

	sshc_err_clear(e);
	memset(&st, 0, sizeof(st));
	auth_user(s, &st);
	if (s->password_stdin && s->pw == NULL && secret_from_fd(0, &s->pw) < 0) {
		sshc_err_set(e, SSHC_E_CONFIG, "password_stdin: no password on standard input");
		return sshc_code_errno(SSHC_E_CONFIG);
	}
	if (pubkey_at_once(s)) {
		st.tried |= SSHC_AUTH_PUBKEY;
		rc = auth_pubkey(s, &st, e);
		/* Nothing was sent (an agent without keys): ask for the list. */
		if (rc == SSH_AUTH_DENIED && ssh_userauth_list(s->ss, NULL) == 0)
			rc = ssh_userauth_none(s->ss, NULL);
	} else {
		rc = ssh_userauth_none(s->ss, NULL);
	}
	if (rc == SSH_AUTH_SUCCESS)
		rc = 0;
	else if (rc == SSH_AUTH_ERROR)
		rc = auth_lost(s, e);
	else
		rc = auth_chain(s, &st, e);
	if (rc == 0)
		kept_copy(&kept_pw, s->pw);
	/* Secrets live no longer than the login (copies kept above, if asked). */
	s->pw = secret_free(s->pw);
	s->fd_pass = secret_free(s->fd_pass);
	return rc;
}
