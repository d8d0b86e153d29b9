/* fingerprint FILE: the seed's sshKeyFingerprint(path), both hashes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cmds.h"
#include "keyfile.h"

#define CMD "fingerprint"

static const char help[] =
	"Usage: " CLI_PROG " fingerprint FILE [-E sha256|md5]\n"
	"Print the fingerprints of the key in FILE: a public key (one line, as in\n"
	"a .pub file), or a private key (its public half; an encrypted key that\n"
	"is not in OpenSSH format needs FILE.pub next to it). The lines read as\n"
	"ssh-keygen -l prints them: BITS FINGERPRINT COMMENT (TYPE), first\n"
	"SHA256 (\"SHA256:\" and unpadded base64), then MD5 (\"MD5:\" and hex pairs).\n"
	"\n"
	"  -E, --hash sha256|md5   print only this one\n"
	"  -q, --quiet             print the bare fingerprint(s), nothing else\n"
	"  -h, --help              this text\n"
	"\n"
	"Exit status: 0 printed, 1 usage, 7 no key could be read from FILE.\n";

static int
print_one(const struct keyfile_pub *pub, enum ssh_publickey_hash_type t, bool quiet)
{
	char *fp = NULL;

	if (sshc_key_fingerprint(pub->key, t, &fp) < 0)
		return -EINVAL;
	if (quiet)
		printf("%s\n", fp);
	else
		printf("%u %s %s (%s)\n", pub->bits, fp, pub->comment ? pub->comment : "no comment",
		       pub->short_type);
	free(fp);
	return 0;
}

struct fp_args {
	bool sha, md5, quiet;
};

static int
take(const char *cmd, void *ctx, int c, const char *arg)
{
	struct fp_args *a = ctx;

	switch (c) {
	case 'E':
		a->sha = !strcasecmp(arg, "sha256");
		a->md5 = !strcasecmp(arg, "md5");
		if (!a->sha && !a->md5)
			return cli_usage(cmd, "-E %s: use sha256 or md5", arg);
		break;
	case 'q':
		a->quiet = true;
		break;
	}
	return 0;
}

int
cmd_fingerprint(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "hash", required_argument, NULL, 'E' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fp_args a = { .sha = true, .md5 = true };
	const struct cli_optspec sp = {
		.cmd = CMD,
		.shortopts = ":E:qh",
		.longopts = lo,
		.take = take,
		.ctx = &a,
		.operand = "FILE",
	};
	struct keyfile_pub pub;
	char err[512];
	int rc;

	rc = cli_getopt(&sp, argc, argv);
	if (rc)
		return rc < 0 ? cli_help(help) : rc;
	rc = keyfile_load_public(argv[optind], &pub, err, sizeof(err));
	if (rc < 0) {
		cli_error(CMD, rc == -EINVAL ? "Give the .pub file, or a private key that "
			  "is not encrypted or in OpenSSH format." : NULL, "%s", err);
		return CLI_EXIT_LOCAL;
	}
	rc = (a.sha ? print_one(&pub, SSH_PUBLICKEY_HASH_SHA256, a.quiet) : 0) |
	     (a.md5 ? print_one(&pub, SSH_PUBLICKEY_HASH_MD5, a.quiet) : 0);
	keyfile_pub_free(&pub);
	if (rc) {
		cli_error(CMD, NULL, "cannot hash the key in %s", argv[optind]);
		return CLI_EXIT_LOCAL;
	}
	return CLI_EXIT_OK;
}
