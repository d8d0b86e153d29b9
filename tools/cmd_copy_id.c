/* copy-id: the seed's sshCopyId(pubkey, user, host, port, askPass,
 * cipher) without ssh-copy-id. The key is appended by a small sh script
 * fed on stdin ("sh -s": no argv length limit, any login shell, BiT #1905),
 * which creates ~/.ssh 0700 and the file 0600 and never duplicates a key.
 * A second connection then proves the server takes the key: it must accept
 * it (publickey query), and when the private key is at hand the login is
 * completed with it alone. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmds.h"
#include "keyfile.h"
#include "remote.h"

#define CMD "copy-id"
#define DONE_ADDED "sshmountfs-copy-id: added"
#define DONE_PRESENT "sshmountfs-copy-id: present"

static const char help[] =
	"Usage: " CLI_PROG " copy-id [OPTIONS] [USER@]HOST[:PORT]\n"
	"Install a public key in the remote user's authorized_keys (creating\n"
	"~/.ssh with mode 0700 and the file with 0600 when missing; a key that is\n"
	"already there is not added again), then prove that the server accepts\n"
	"the key, and log in with it alone when its private key is next to it.\n"
	"The first login uses what sshmountfs uses: the agent, IdentityFile keys,\n"
	"keyboard-interactive or password.\n"
	"\n"
	"  -i FILE                 the public key (default: the first of\n"
	"                          ~/.ssh/id_ed25519.pub, id_ecdsa.pub, id_rsa.pub)\n"
	"      --password-stdin    read the login password from standard input\n"
	"      --askpass PROGRAM   ask this program for the login password (or a\n"
	"                          login key's passphrase), only when needed\n"
	"      --passphrase-fd N   passphrase of the new key's private key, for the\n"
	"                          proof login\n"
	"      --authorized-keys PATH  the remote file (default\n"
	"                          .ssh/authorized_keys; relative to the home)\n"
	"  -p PORT, -F FILE, -o OPTION   as for sshmountfs (-o password_stdin,\n"
	"                          -o IdentityFile=..., -o UserKnownHostsFile=...)\n"
	"  -h, --help              this text\n"
	"\n"
	"Exit status: 0 installed (or already there) and accepted, 1 usage,\n"
	"3 connection failed, 4 login failed or the key is not accepted\n"
	"afterwards, 5 host key changed, 6 host key unknown, 7 the public key\n"
	"cannot be read, 8 the remote script failed.\n";

struct copyid {
	const char *pubfile;
	const char *akfile;
	const char *askpass;
	bool password_stdin;
	int pass_fd;
	struct cli_conn conn;
	char *type, *b64, *comment;	/* the key to install */
	char privfile[4200];		/* its private half, "" when unknown */
	char pubbuf[4200];
};

static int
take(const char *cmd, void *ctx, int c, const char *arg)
{
	struct copyid *a = ctx;

	switch (c) {
	case 'i': a->pubfile = arg; break;
	case 'W': a->password_stdin = true; break;
	case 'A': a->askpass = arg; break;
	case 'P': return cli_parse_fd(cmd, "--passphrase-fd", arg, &a->pass_fd);
	case 'K':
		if (!*arg || !cli_printable(arg))
			return cli_usage(cmd, "--authorized-keys: not a usable path");
		a->akfile = arg;
		break;
	}
	return 0;
}

static int
parse(int argc, char **argv, struct copyid *a)
{
	static const struct option lo[] = {
		{ "password-stdin", no_argument, NULL, 'W' },
		{ "askpass", required_argument, NULL, 'A' },
		{ "passphrase-fd", required_argument, NULL, 'P' },
		{ "authorized-keys", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_optspec sp = {
		.cmd = CMD,
		.shortopts = ":i:p:F:o:h",
		.longopts = lo,
		.conn = &a->conn,
		.take = take,
		.ctx = a,
		.operand = "HOST",
	};

	return cli_getopt(&sp, argc, argv);
}

static int
default_pubfile(struct copyid *a)
{
	static const char *const names[] = { "id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub" };

	if (cli_ssh_dir_find(names, sizeof(names) / sizeof(names[0]), R_OK, a->pubbuf,
			     sizeof(a->pubbuf)) == 0) {
		a->pubfile = a->pubbuf;
		return 0;
	}
	cli_error(CMD, "Name the key with -i, or make one with '" CLI_PROG " keygen'.",
		  "no -i given, and none of ~/.ssh/id_ed25519.pub, id_ecdsa.pub, id_rsa.pub exists");
	return CLI_EXIT_LOCAL;
}

/* The key line to install, and where its private half should be. */
static int
load_key(struct copyid *a)
{
	struct keyfile_pub pub;
	char err[600], *b64 = NULL;
	size_t n;

	if (!a->pubfile && default_pubfile(a))
		return CLI_EXIT_LOCAL;
	if (keyfile_load_public(a->pubfile, &pub, err, sizeof(err)) < 0) {
		cli_error(CMD, "Give the .pub file with -i.", "%s", err);
		return CLI_EXIT_LOCAL;
	}
	if (ssh_pki_export_pubkey_base64(pub.key, &b64) == SSH_OK) {
		a->b64 = strdup(b64);
		a->type = strdup(ssh_key_type_to_char(ssh_key_type(pub.key)));
		a->comment = pub.comment && cli_printable(pub.comment) ? strdup(pub.comment) : NULL;
	}
	ssh_string_free_char(b64);
	keyfile_pub_free(&pub);
	if (!a->b64 || !a->type) {
		cli_error(CMD, NULL, "cannot encode the key of %s", a->pubfile);
		return CLI_EXIT_LOCAL;
	}
	n = strlen(a->pubfile);
	if (n > 4 && !strcmp(a->pubfile + n - 4, ".pub"))
		snprintf(a->privfile, sizeof(a->privfile), "%.*s", (int)(n - 4), a->pubfile);
	else
		snprintf(a->privfile, sizeof(a->privfile), "%s", a->pubfile);
	return 0;
}

/* The remote script: everything it prints goes to stdout, the last line
 * says what happened. The key is matched by its base64 field, so a line
 * with options or another comment counts as the same key. */
static char *
build_script(const struct copyid *a)
{
	static const char fmt[] =
		"exec 2>&1\n"
		"umask 077\n"
		"cd || { echo 'sshmountfs-copy-id: no home directory'; exit 1; }\n"
		"f=%s\n"
		"b='%s'\n"
		"d=$(dirname -- \"$f\")\n"
		"if [ ! -d \"$d\" ]; then\n"
		"  mkdir -p -- \"$d\" && chmod 700 -- \"$d\" ||"
		" { echo \"sshmountfs-copy-id: cannot create $d\"; exit 1; }\n"
		"fi\n"
		"if [ ! -e \"$f\" ]; then\n"
		"  : > \"$f\" && chmod 600 -- \"$f\" ||"
		" { echo \"sshmountfs-copy-id: cannot create $f\"; exit 1; }\n"
		"fi\n"
		"if awk -v b=\"$b\" '{ for (i = 1; i <= NF; i++) if ($i == b) f = 1 }"
		" END { exit !f }' \"$f\"; then\n"
		"  echo '" DONE_PRESENT "'; exit 0\n"
		"fi\n"
		"if [ -s \"$f\" ] && [ -n \"$(tail -c 1 -- \"$f\")\" ]; then echo >> \"$f\"; fi\n"
		"cat >> \"$f\" <<'SSHMOUNTFS_KEY_END' || { echo \"sshmountfs-copy-id: cannot write $f\"; exit 1; }\n"
		"%s %s%s%s\n"
		"SSHMOUNTFS_KEY_END\n"
		"echo '" DONE_ADDED "'\n";
	char q[4200];
	size_t n;
	char *s;

	if (cli_shell_quote(a->akfile ? a->akfile : ".ssh/authorized_keys", false, q, sizeof(q)) < 0)
		return NULL;
	n = sizeof(fmt) + strlen(q) + 2 * strlen(a->b64) + strlen(a->type) +
	    (a->comment ? strlen(a->comment) : 0) + 8;
	s = malloc(n);
	if (s)
		snprintf(s, n, fmt, q, a->b64, a->type, a->b64, a->comment ? " " : "",
			 a->comment ? a->comment : "");
	return s;
}

/* The first login: the user's usual methods, or the password given.
 * --askpass makes PROGRAM sshc's SSH_ASKPASS (forced), so it is asked only
 * for what the login really needs: a password, or a key's passphrase. */
static int
login(const struct copyid *a, const struct opts *o, struct sshc **out)
{
	struct sshc_error e = { 0 };
	struct sshc *s = NULL;

	*out = NULL;
	if (a->askpass && (setenv("SSH_ASKPASS", a->askpass, 1) < 0 ||
			   setenv("SSH_ASKPASS_REQUIRE", "force", 1) < 0)) {
		cli_error(CMD, NULL, "cannot set SSH_ASKPASS: %s", strerror(errno));
		return CLI_EXIT_LOCAL;
	}
	if (sshc_open(o, &s, &e) < 0)
		return cli_sshc_fail(CMD, &e);
	*out = s;
	return 0;
}

static int
install(const struct copyid *a, struct sshc *s, bool *added)
{
	struct sshc_error e = { 0 };
	char *script = build_script(a), *out = NULL;
	int status = -1, rc;

	if (!script) {
		cli_error(CMD, NULL, "--authorized-keys path too long");
		return CLI_EXIT_USAGE;
	}
	rc = sshc_exec(s, "sh -s", script, &out, &status, &e);
	free(script);
	if (rc < 0) {
		free(out);
		rc = cli_sshc_fail(CMD, &e);
		return rc == CLI_EXIT_CONNECT ? CLI_EXIT_REMOTE : rc;
	}
	if (status == 0 && out && (strstr(out, DONE_ADDED) || strstr(out, DONE_PRESENT))) {
		*added = strstr(out, DONE_ADDED) != NULL;
		free(out);
		return 0;
	}
	cli_error(CMD, "The remote account needs a POSIX sh, awk, tail and a writable "
		  "home directory.", "installing the key failed on the remote side "
		  "(exit status %d): %s", status, out && *out ? out : "no output");
	free(out);
	return CLI_EXIT_REMOTE;
}

/* The private half for the full proof login: NULL (and a reason) when it
 * is not at hand or its passphrase is not available without asking. */
static ssh_key
proof_key(const struct copyid *a, const char **why)
{
	struct secret *pass = NULL;
	ssh_key priv = NULL;
	int rc;

	*why = NULL;
	if (!a->privfile[0] || access(a->privfile, R_OK) < 0) {
		*why = "its private key is not next to the public key";
		return NULL;
	}
	rc = keyfile_load_private(a->privfile, NULL, &priv);
	if (rc == -EACCES && a->pass_fd >= 0 && secret_from_fd(a->pass_fd, &pass) == 0) {
		rc = keyfile_load_private(a->privfile, pass, &priv);
		secret_free(pass);
		if (rc == -EACCES)
			*why = "the passphrase from --passphrase-fd does not open the private key";
	} else if (rc == -EACCES) {
		*why = "the private key needs its passphrase (give --passphrase-fd)";
	} else if (rc < 0) {
		*why = "the file next to the public key is not its private key";
	}
	if (rc == 0) {
		ssh_key pub = NULL;

		/* the "private half" must really belong to the key installed */
		if (ssh_pki_import_pubkey_base64(a->b64, ssh_key_type_from_name(a->type), &pub) != SSH_OK ||
		    ssh_key_cmp(priv, pub, SSH_KEY_CMP_PUBLIC) != 0) {
			*why = "the file next to the public key holds another key";
			rc = -EINVAL;
		}
		ssh_key_free(pub);
	}
	if (rc < 0) {
		ssh_key_free(priv);
		return NULL;
	}
	return priv;
}

/* A fresh connection that authenticates with nothing but this key. */
static int
prove(const struct copyid *a, const struct opts *o0)
{
	struct sshc_error e = { 0 };
	struct sshc *s = NULL;
	ssh_key pub = NULL, priv = NULL;
	const char *why = NULL;
	int rc;

	if (sshc_new(o0, &s, &e) < 0 || sshc_connect(s, &e) < 0 || sshc_verify_host(s, &e) < 0) {
		sshc_free(s);
		return cli_sshc_fail(CMD, &e);
	}
	rc = ssh_pki_import_pubkey_base64(a->b64, ssh_key_type_from_name(a->type), &pub);
	ssh_userauth_none(sshc_session(s), NULL);
	if (rc != SSH_OK || ssh_userauth_try_publickey(sshc_session(s), NULL, pub) != SSH_AUTH_SUCCESS) {
		cli_error(CMD, "sshd may read keys from another file (AuthorizedKeysFile), or "
			  "refuse the permissions of the home directory (StrictModes).",
			  "the key is in the file, but the server does not accept it: %s",
			  ssh_get_error(sshc_session(s)));
		rc = CLI_EXIT_AUTH;
	} else if (!(priv = proof_key(a, &why))) {
		printf("The server accepts the key (a full login with it was not tried: %s).\n", why);
		rc = CLI_EXIT_OK;
	} else if (ssh_userauth_publickey(sshc_session(s), NULL, priv) != SSH_AUTH_SUCCESS) {
		cli_error(CMD, NULL, "the server offered to take the key but the login with %s "
			  "failed: %s", a->privfile, ssh_get_error(sshc_session(s)));
		rc = CLI_EXIT_AUTH;
	} else {
		printf("Key login works: logged in with %s alone.\n", a->privfile);
		rc = CLI_EXIT_OK;
	}
	ssh_key_free(pub);
	ssh_key_free(priv);
	sshc_free(s);
	return rc;
}

static int
copy_id(struct copyid *a, const char *spec)
{
	struct opts o;
	struct sshc *s = NULL;
	bool added = false;
	int rc;

	opts_init(&o);
	rc = load_key(a);
	if (!rc)
		rc = remote_opts(CMD, spec, true, &a->conn, &o);
	if (!rc) {
		o.password_stdin = o.password_stdin || a->password_stdin;
		rc = login(a, &o, &s);
	}
	if (!rc) {
		rc = install(a, s, &added);
		sshc_free(s);
	}
	if (!rc) {
		printf("%s %s key %s in %s%s%s:%s\n", added ? "Installed the" : "Already there: the",
		       a->type, a->pubfile, o.user ? o.user : "", o.user ? "@" : "", o.host,
		       a->akfile ? a->akfile : "~/.ssh/authorized_keys");
		/* the proof must not read stdin again, nor ask anyone */
		o.password_stdin = false;
		o.batch_mode = true;
		rc = prove(a, &o);
	}
	opts_free(&o);
	return rc;
}

int
cmd_copy_id(int argc, char **argv)
{
	struct copyid a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.pass_fd = -1;
	cli_conn_init(&a.conn);
	rc = parse(argc, argv, &a);
	if (rc == -1)
		rc = cli_help(help);
	else if (!rc)
		rc = copy_id(&a, argv[optind]);
	cli_conn_free(&a.conn);
	free(a.type);
	free(a.b64);
	free(a.comment);
	return rc;
}
