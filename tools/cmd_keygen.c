/* keygen FILE: the seed's sshKeyGen(keyfile), which refuses to overwrite. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "keyfile.h"
#include "keygen.h"

#define CMD "keygen"

static const char help[] =
	"Usage: " CLI_PROG " keygen FILE [OPTIONS]\n"
	"Create a new key pair: FILE (the private key, OpenSSH format, mode 0600)\n"
	"and FILE.pub. Nothing is overwritten: when FILE or FILE.pub exists the\n"
	"command refuses with exit status 2.\n"
	"\n"
	"  -t, --type TYPE         ed25519 (default), ecdsa or rsa\n"
	"  -b, --bits N            ecdsa: 256 (default), 384, 521; rsa: 1024-16384 (3072)\n"
	"  -C, --comment TEXT      comment stored with the key (default user@host)\n"
	"      --passphrase-fd N   encrypt the key with the first line read from\n"
	"                          descriptor N (default: no passphrase)\n"
	"  -a, --rounds N          bcrypt_pbkdf rounds for the passphrase (default 16)\n"
	"  -h, --help              this text\n"
	"\n"
	"Exit status: 0 created, 1 usage, 2 FILE or FILE.pub exists, 7 cannot write.\n";

struct keygen_args {
	const char *file;
	struct keygen_spec spec;
	int pass_fd;
};

static int
take(const char *cmd, void *ctx, int c, const char *arg)
{
	struct keygen_args *a = ctx;
	unsigned long v;

	switch (c) {
	case 't':
		if (keygen_type_parse(arg, &a->spec.type) < 0)
			return cli_usage(cmd, "--type %s: use ed25519, ecdsa or rsa", arg);
		break;
	case 'b':
		if (cli_parse_ulong(arg, 1, 16384, &v) < 0)
			return cli_usage(cmd, "--bits %s: not a key size", arg);
		a->spec.bits = (unsigned)v;
		break;
	case 'C':
		if (!cli_printable(arg) || strlen(arg) > 400)
			return cli_usage(cmd, "--comment: one line of at most 400 "
					 "characters, without control characters");
		a->spec.comment = arg;
		break;
	case 'P':
		return cli_parse_fd(cmd, "--passphrase-fd", arg, &a->pass_fd);
	case 'a':
		if (cli_parse_ulong(arg, 1, 1000, &v) < 0)
			return cli_usage(cmd, "--rounds %s: a number from 1 to 1000", arg);
		a->spec.rounds = (unsigned)v;
		break;
	}
	return 0;
}

static int
parse(int argc, char **argv, struct keygen_args *a)
{
	static const struct option lo[] = {
		{ "type", required_argument, NULL, 't' },
		{ "bits", required_argument, NULL, 'b' },
		{ "comment", required_argument, NULL, 'C' },
		{ "passphrase-fd", required_argument, NULL, 'P' },
		{ "rounds", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_optspec sp = {
		.cmd = CMD,
		.shortopts = ":t:b:C:a:h",
		.longopts = lo,
		.take = take,
		.ctx = a,
		.operand = "FILE",
	};
	int rc = cli_getopt(&sp, argc, argv);

	if (rc)
		return rc;
	a->file = argv[optind];
	if (keygen_check_bits(a->spec.type, &a->spec.bits) < 0)
		return cli_usage(CMD, "--bits %u does not fit this key type "
				 "(ed25519: 256; ecdsa: 256, 384, 521; rsa: 1024-16384)", a->spec.bits);
	return 0;
}

static int
describe(const char *file)
{
	char err[512], *fp = NULL;
	struct keyfile_pub pub;

	if (keyfile_load_public(file, &pub, err, sizeof(err)) < 0)
		return -EINVAL;
	if (sshc_key_fingerprint(pub.key, SSH_PUBLICKEY_HASH_SHA256, &fp) == 0)
		printf("%u %s %s (%s)\n", pub.bits, fp, pub.comment ? pub.comment : "no comment",
		       pub.short_type);
	free(fp);
	keyfile_pub_free(&pub);
	return 0;
}

int
cmd_keygen(int argc, char **argv)
{
	struct keygen_args a = { .pass_fd = -1 };
	struct secret *pass = NULL;
	char err[512] = "", *publine = NULL;
	int rc;

	rc = parse(argc, argv, &a);
	if (rc)
		return rc == -1 ? cli_help(help) : rc;
	if (a.pass_fd >= 0) {
		rc = secret_from_fd(a.pass_fd, &pass);
		if (rc < 0) {
			cli_error(CMD, "Write the passphrase and a newline to the descriptor, "
				  "or leave out --passphrase-fd for a key without one.",
				  "no passphrase could be read from descriptor %d (%s)", a.pass_fd,
				  rc == -EINVAL ? "empty or longer than 1024 bytes" : strerror(-rc));
			return CLI_EXIT_USAGE;
		}
		a.spec.passphrase = pass;
	}
	rc = keygen_generate(a.file, &a.spec, &publine, err, sizeof(err));
	secret_free(pass);
	if (rc == -EEXIST) {
		cli_error(CMD, "Choose another file name, or remove the old key first if it "
			  "is really no longer needed.", "refusing to overwrite: %s", err);
		return CLI_EXIT_EXISTS;
	}
	if (rc < 0) {
		cli_error(CMD, NULL, "%s", err);
		return rc == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_LOCAL;
	}
	printf("Wrote the private key %s and the public key %s.pub\n", a.file, a.file);
	describe(a.file);
	free(publine);
	return CLI_EXIT_OK;
}
