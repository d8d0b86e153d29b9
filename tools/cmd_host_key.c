/* host-key HOST[:PORT]: the seed's sshHostKey(host, port), which returns
 * (fingerprint, hashed known_hosts line, key type). Unlike BiT's
 * ssh-keyscan loop it also takes Ed25519 keys (the server picks its
 * preferred key unless --type says which). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cmds.h"
#include "hostkey.h"
#include "remote.h"

#define CMD "host-key"

static const char help[] =
	"Usage: " CLI_PROG " host-key HOST[:PORT] [OPTIONS]\n"
	"Fetch the server's host key without logging in (and without looking at\n"
	"known_hosts), and print three lines:\n"
	"  1. its fingerprint (SHA256:...)\n"
	"  2. a known_hosts line for it (HOST, or [HOST]:PORT when PORT is not 22)\n"
	"  3. its type: ED25519, ECDSA or RSA\n"
	"HOST may be an ssh_config alias; an IPv6 address with a port is\n"
	"written [ADDR]:PORT.\n"
	"\n"
	"  -H, --hash              hash the host name in the known_hosts line\n"
	"  -t, --type TYPE         ask for this key type: ed25519, ecdsa or rsa\n"
	"  -p PORT                 port (default 22 or ssh_config's Port)\n"
	"  -F FILE                 ssh_config file instead of ~/.ssh/config\n"
	"  -o OPTION               an sshmountfs/ssh option (repeatable)\n"
	"  -h, --help              this text\n"
	"\n"
	"Exit status: 0 printed, 1 usage, 3 the host cannot be reached or is\n"
	"not an SSH server.\n";

static int
parse(int argc, char **argv, struct remote_hk_args *a)
{
	static const struct option lo[] = {
		{ "hash", no_argument, NULL, 'H' },
		{ "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_optspec sp = {
		.cmd = CMD,
		.shortopts = ":Ht:p:F:o:h",
		.longopts = lo,
		.conn = &a->conn,
		.take = remote_hk_take,
		.ctx = a,
		.operand = "HOST",
	};

	return cli_getopt(&sp, argc, argv);
}

static int
print_key(const struct remote_hostkey *k, bool hash)
{
	char *line = NULL;

	if (hostkey_format_line(k->name, hash, k->type, k->b64, &line) < 0) {
		cli_error(CMD, NULL, "cannot build the known_hosts line");
		return CLI_EXIT_LOCAL;
	}
	printf("%s\n%s\n%s\n", k->sha256, line, k->short_type);
	free(line);
	return CLI_EXIT_OK;
}

int
cmd_host_key(int argc, char **argv)
{
	struct remote_hk_args a = { .hash = false };
	struct remote_hostkey k = { 0 };
	int rc;

	cli_conn_init(&a.conn);
	rc = parse(argc, argv, &a);
	if (rc == -1)
		rc = cli_help(help);
	else if (!rc && !(rc = remote_hk_fetch(CMD, argv[optind], &a, NULL, NULL, &k)))
		rc = print_key(&k, a.hash);
	remote_hostkey_free(&k);
	cli_conn_free(&a.conn);
	return rc;
}
