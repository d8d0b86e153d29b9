/* sshmountfs-tool: the SSH toolbox of Back In Time's sshtools module, one
 * program with subcommands. main() only dispatches; each subcommand lives
 * in its own cmd_<name>.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "log.h"
#include "secret.h"

struct tool_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct tool_cmd commands[] = {
	{ "keygen", cmd_keygen, "create a key pair (OpenSSH format)" },
	{ "fingerprint", cmd_fingerprint, "SHA256 and MD5 fingerprints of a key file" },
	{ "host-key", cmd_host_key, "fetch a server's host key without logging in" },
	{ "known-hosts-add", cmd_known_hosts_add, "record a server's host key in known_hosts" },
	{ "copy-id", cmd_copy_id, "install a public key in a remote authorized_keys" },
	{ "agent-start", cmd_agent_start, "start ssh-agent unless one answers" },
	{ "agent-unlock", cmd_agent_unlock, "add a key to the running ssh-agent" },
	{ "benchmark-ciphers", cmd_benchmark_ciphers, "measure the throughput of each cipher" },
	{ "random-id", cmd_random_id, "print a random identifier" },
	{ "check", cmd_check, "run the pre-mount checks" },
	{ "status", cmd_status, "the state of a live mount (connected, traffic, cache)" },
	{ "askpass-fd", cmd_askpass_fd, "(internal) askpass reading an inherited descriptor" },
};

static void
usage(FILE *f)
{
	fprintf(f, "Usage: %s COMMAND [OPTIONS] [ARGUMENTS]\n\nCommands:\n", CLI_PROG);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-18s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'%s COMMAND --help' describes a command; sshmountfs-tool(1) has "
		"the details and the exit statuses.\n", CLI_PROG);
}

static const struct tool_cmd *
find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	const struct tool_cmd *c;

	log_init(CLI_PROG, LOG_LVL_WARN);
	if (secret_init() < 0) {
		fprintf(stderr, "%s: libsodium cannot start\n", CLI_PROG);
		return CLI_EXIT_LOCAL;
	}
	/* ssh-add runs us as "$SSH_ASKPASS PROMPT": the variable, not argv,
	 * says we are the askpass program then. */
	if (getenv(TOOL_ASKPASS_FD_ENV) && (argc < 2 || (argv[1][0] != '-' && !find(argv[1]))))
		return cmd_askpass_fd(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (argc > 2 && (c = find(argv[2]))) {
			char *sub[] = { argv[2], "--help", NULL };

			return c->fn(2, sub);
		}
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("%s %s\n", CLI_PROG, SSHMOUNTFS_VERSION);
		return CLI_EXIT_OK;
	}
	c = find(argv[1]);
	if (!c) {
		fprintf(stderr, "%s: unknown command '%s'\n", CLI_PROG, argv[1]);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
