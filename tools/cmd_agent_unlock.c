/* agent-unlock [KEY]: the seed's unlockSshAgent(force). The passphrase is
 * checked here first (one try, so a wrong cached answer cannot loop as in
 * BiT #1852), then handed to ssh-add through a pipe and our own askpass-fd
 * mode: never through argv, the environment or a terminal ssh-add opens. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "cli.h"
#include "cmds.h"
#include "keyfile.h"
#include "passsrc.h"
#include "proc.h"

#define CMD "agent-unlock"
#define AGENT_MS 5000
#define ADD_MS 30000		/* the whole ssh-add run */

static const char help[] =
	"Usage: " CLI_PROG " agent-unlock [KEY] [OPTIONS]\n"
	"Add the private key KEY (default: the first of ~/.ssh/id_ed25519,\n"
	"id_ecdsa, id_rsa) to the ssh-agent named by SSH_AUTH_SOCK, with OpenSSH's\n"
	"ssh-add. A key already in the agent is left alone (exit 0). The\n"
	"passphrase of an encrypted key comes from --passphrase-fd, else the\n"
	"askpass program (--askpass, else $SSH_ASKPASS), else the terminal; it is\n"
	"checked before ssh-add runs and asked for once.\n"
	"\n"
	"  -f, --force             remove the key from the agent and add it again\n"
	"      --passphrase-fd N   read the passphrase (one line) from descriptor N\n"
	"      --askpass PROGRAM   ask this program for the passphrase\n"
	"      --ssh-add PROGRAM   the ssh-add to run (default ssh-add on PATH)\n"
	"  -h, --help              this text\n"
	"\n"
	"Exit status: 0 the key is in the agent, 1 usage, 4 wrong or no passphrase,\n"
	"7 the key file cannot be read, 9 no agent answers or ssh-add failed.\n";

struct unlock {
	const char *key;
	const char *ssh_add;
	const char *sock;
	bool force;
	struct passsrc ps;
	struct secret *pass;
	uint8_t *blob;
	size_t bloblen;
	char *fp;
	char keybuf[4200];
};

static int
take(const char *cmd, void *ctx, int c, const char *arg)
{
	struct unlock *u = ctx;

	switch (c) {
	case 'f':
		u->force = true;
		break;
	case 'P':
		return cli_parse_fd(cmd, "--passphrase-fd", arg, &u->ps.fd);
	case 'A':
		u->ps.askpass = arg;
		break;
	case 'S':
		u->ssh_add = arg;
		break;
	}
	return 0;
}

static int
parse(int argc, char **argv, struct unlock *u)
{
	static const struct option lo[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "passphrase-fd", required_argument, NULL, 'P' },
		{ "askpass", required_argument, NULL, 'A' },
		{ "ssh-add", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_optspec sp = {
		.cmd = CMD,
		.shortopts = ":fh",
		.longopts = lo,
		.take = take,
		.ctx = u,
		.operand = "KEY",
		.operand_optional = true,
	};
	int rc = cli_getopt(&sp, argc, argv);

	if (rc)
		return rc;
	u->key = optind < argc ? argv[optind] : NULL;
	return 0;
}

static int
default_key(struct unlock *u)
{
	static const char *const names[] = { "id_ed25519", "id_ecdsa", "id_rsa" };

	if (cli_ssh_dir_find(names, sizeof(names) / sizeof(names[0]), F_OK, u->keybuf,
			     sizeof(u->keybuf)) == 0) {
		u->key = u->keybuf;
		return 0;
	}
	cli_error(CMD, "Name the key file.", "no KEY given, and none of ~/.ssh/id_ed25519, "
		  "id_ecdsa, id_rsa exists");
	return CLI_EXIT_LOCAL;
}

static int
set_identity(struct unlock *u, ssh_key key)
{
	if (keyfile_blob(key, &u->blob, &u->bloblen) < 0 ||
	    sshc_key_fingerprint(key, SSH_PUBLICKEY_HASH_SHA256, &u->fp) < 0) {
		cli_error(CMD, NULL, "cannot encode the key of %s", u->key);
		return CLI_EXIT_LOCAL;
	}
	return 0;
}

/* Asks the agent whether it holds the key (*has; false while the key's
 * identity is not known yet, which still proves an agent answers).
 * 0 or an exit status. */
static int
in_agent(const struct unlock *u, bool *has)
{
	struct agent_ids ids;
	int rc = agent_list(u->sock, AGENT_MS, &ids);

	*has = false;
	if (rc < 0) {
		cli_error(CMD, "Start one: eval \"$(" CLI_PROG " agent-start)\"",
			  "no ssh-agent answers on SSH_AUTH_SOCK=%s (%s)", u->sock ? u->sock : "",
			  rc == -EPROTO ? "not an agent" : strerror(-rc));
		return CLI_EXIT_AGENT;
	}
	*has = u->blob && agent_ids_has(&ids, u->blob, u->bloblen);
	agent_ids_free(&ids);
	return 0;
}

/* --force: only after the passphrase proved right, so a wrong one never
 * leaves the agent without the key. */
static int
remove_key(const struct unlock *u)
{
	int rc = agent_remove(u->sock, AGENT_MS, u->blob, u->bloblen);

	if (rc < 0 && rc != -ESRCH) {
		cli_error(CMD, NULL, "the agent did not remove %s: %s", u->key, strerror(-rc));
		return CLI_EXIT_AGENT;
	}
	fprintf(stderr, "%s %s: removed %s from the agent (--force)\n", CLI_PROG, CMD, u->fp);
	return 0;
}

/* Decrypts the key once with a passphrase from the configured source. */
static int
get_passphrase(struct unlock *u, ssh_key *priv)
{
	char prompt[4300], why[600];
	int rc;

	snprintf(prompt, sizeof(prompt), "Enter passphrase for %s: ", u->key);
	rc = passsrc_get(&u->ps, prompt, &u->pass, why, sizeof(why));
	if (rc < 0) {
		cli_error(CMD, "Give --passphrase-fd N or --askpass PROGRAM.", "%s needs its "
			  "passphrase, but %s", u->key, why);
		return CLI_EXIT_AUTH;
	}
	rc = keyfile_load_private(u->key, u->pass, priv);
	if (rc == -EACCES) {
		cli_error(CMD, "Nothing was added; run it again with the right passphrase.",
			  "wrong passphrase for %s", u->key);
		return CLI_EXIT_AUTH;
	}
	if (rc < 0) {
		cli_error(CMD, NULL, "cannot read %s: %s", u->key, strerror(-rc));
		return CLI_EXIT_LOCAL;
	}
	return 0;
}

/* The key's identity when it can be read without the passphrase. */
static int
identity_from_public(struct unlock *u)
{
	struct keyfile_pub pub;
	char err[600];
	int rc;

	if (keyfile_load_public(u->key, &pub, err, sizeof(err)) < 0)
		return 0;	/* known after decryption */
	rc = set_identity(u, pub.key);
	keyfile_pub_free(&pub);
	return rc;
}

/* Opens the private key, with the passphrase when it is encrypted. */
static int
open_private(struct unlock *u, ssh_key *priv)
{
	int rc = keyfile_load_private(u->key, NULL, priv);

	if (rc == -EACCES)
		return get_passphrase(u, priv);
	if (rc < 0) {
		cli_error(CMD, NULL, "cannot read the private key %s: %s", u->key,
			  rc == -EINVAL ? "not a key file libssh reads" : strerror(-rc));
		return CLI_EXIT_LOCAL;
	}
	return 0;
}

static int
pass_pipe(const struct secret *pass)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* A passphrase (<= 1 KiB) fits the pipe buffer: no blocking. */
	if (pass && (write(p[1], pass->s, pass->len) != (ssize_t)pass->len ||
		     write(p[1], "\n", 1) != 1)) {
		close(p[0]);
		close(p[1]);
		return -EIO;
	}
	close(p[1]);
	return p[0];
}

static int
run_ssh_add(struct unlock *u)
{
	static const char *const drop[] = { "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE",
					    TOOL_ASKPASS_FD_ENV, NULL };
	char self[4096], askpass[4200];
	const char *add[] = { askpass, "SSH_ASKPASS_REQUIRE=force", TOOL_ASKPASS_FD_ENV "=3", NULL };
	char *argv[] = { (char *)(u->ssh_add ? u->ssh_add : "ssh-add"), (char *)u->key, NULL };
	struct proc_spec spec = { .argv = argv, .new_session = true, .timeout_ms = ADD_MS };
	struct proc_result res;
	char **env;
	int rc;

	if (cli_self_path(self, sizeof(self)) < 0)
		return -ENOENT;
	snprintf(askpass, sizeof(askpass), "SSH_ASKPASS=%s", self);
	env = proc_env(drop, add);
	spec.envp = env;
	spec.pass_fd = pass_pipe(u->pass);
	if (!env || spec.pass_fd < 0) {
		proc_env_free(env);
		return -ENOMEM;
	}
	rc = proc_run(&spec, &res);
	close(spec.pass_fd);
	proc_env_free(env);
	if (rc == -ENOENT)
		cli_error(CMD, "Install OpenSSH's client (Debian: openssh-client) or give "
			  "--ssh-add.", "ssh-add not found (%s)", argv[0]);
	else if (rc < 0)
		cli_error(CMD, NULL, "cannot run %s: %s", argv[0], strerror(-rc));
	else if (res.timed_out || res.status != 0)
		cli_error(CMD, NULL, "%s %s failed (%s): %s", argv[0], u->key,
			  res.timed_out ? "no answer within 30 s" : "non-zero exit status",
			  res.err);
	rc = rc < 0 || res.timed_out || res.status != 0 ? -EIO : 0;
	proc_result_free(&res);
	return rc;
}

static int
already(const struct unlock *u)
{
	printf("%s is already in the agent: %s\n", u->key, u->fp);
	return CLI_EXIT_OK;
}

static int
verify_added(const struct unlock *u)
{
	struct agent_ids ids;
	bool has = false;

	if (agent_list(u->sock, AGENT_MS, &ids) == 0) {
		has = agent_ids_has(&ids, u->blob, u->bloblen);
		agent_ids_free(&ids);
	}
	if (!has) {
		cli_error(CMD, NULL, "ssh-add succeeded but the agent does not list %s (%s)",
			  u->key, u->fp);
		return CLI_EXIT_AGENT;
	}
	printf("Added %s to the agent: %s\n", u->key, u->fp);
	return CLI_EXIT_OK;
}

static int
unlock(struct unlock *u)
{
	ssh_key priv = NULL;
	bool has;
	int rc;

	if (!u->key && (rc = default_key(u)))
		return rc;
	if (access(u->key, R_OK) < 0) {
		cli_error(CMD, NULL, "cannot read %s: %s", u->key, strerror(errno));
		return CLI_EXIT_LOCAL;
	}
	/* Ask the agent before any passphrase question when the identity is
	 * readable without it: a loaded key needs no question at all. */
	if ((rc = identity_from_public(u)) || (rc = in_agent(u, &has)))
		return rc;
	if (has && !u->force)
		return already(u);
	if ((rc = open_private(u, &priv)))
		return rc;
	if (!u->blob && !(rc = set_identity(u, priv)))
		rc = in_agent(u, &has);
	ssh_key_free(priv);
	if (rc)
		return rc;
	if (has && !u->force)
		return already(u);
	if (has && (rc = remove_key(u)))
		return rc;
	if (run_ssh_add(u) < 0)
		return CLI_EXIT_AGENT;
	return verify_added(u);
}

int
cmd_agent_unlock(int argc, char **argv)
{
	struct unlock u;
	int rc;

	memset(&u, 0, sizeof(u));
	passsrc_init(&u.ps);
	u.sock = getenv("SSH_AUTH_SOCK");
	rc = parse(argc, argv, &u);
	if (rc == -1)
		return cli_help(help);
	if (!rc)
		rc = unlock(&u);
	secret_free(u.pass);
	free(u.blob);
	free(u.fp);
	return rc;
}
