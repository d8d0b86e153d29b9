/* agent-start: the seed's startSshAgent(). BiT trusted SSH_AUTH_SOCK and
 * SSH_AGENT_PID being set; here an agent counts as running only when it
 * answers a REQUEST_IDENTITIES on the socket. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "cli.h"
#include "cmds.h"
#include "proc.h"
#include "util.h"

#define CMD "agent-start"
#define ANSWER_MS 5000
#define READY_MS 10000
#define START_MS 10000

static const char help[] =
	"Usage: " CLI_PROG " agent-start [--fish] [--ssh-agent PROGRAM]\n"
	"Make sure an ssh-agent answers, and print the lines that point a shell\n"
	"at it. When the agent named by SSH_AUTH_SOCK answers, its lines are\n"
	"printed and nothing is started; otherwise ssh-agent is started.\n"
	"  sh, bash, zsh:  eval \"$(" CLI_PROG " agent-start)\"\n"
	"  fish:           " CLI_PROG " agent-start --fish | source\n"
	"\n"
	"  --fish                  print fish commands (set -gx) instead of sh ones\n"
	"  --ssh-agent PROGRAM     the ssh-agent to run (default ssh-agent on PATH)\n"
	"  -h, --help              this text\n"
	"\n"
	"Exit status: 0 an agent answers, 1 usage, 9 ssh-agent is missing, failed,\n"
	"or started but does not answer.\n";

static int
print_var(const char *name, const char *value, bool fish)
{
	char q[4200];

	if (cli_shell_quote(value, fish, q, sizeof(q)) < 0)
		return -ENAMETOOLONG;
	if (fish)
		printf("set -gx %s %s;\n", name, q);
	else
		printf("%s=%s; export %s;\n", name, q, name);
	return 0;
}

static int
print_vars(const char *sock, const char *pid, bool fish)
{
	if (print_var("SSH_AUTH_SOCK", sock, fish) < 0 ||
	    (pid && print_var("SSH_AGENT_PID", pid, fish) < 0)) {
		cli_error(CMD, NULL, "the agent's socket path is too long to print");
		return CLI_EXIT_AGENT;
	}
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_LOCAL;
}

static const char *
why(int rc)
{
	return rc == -EPROTO ? "the answer is not an agent's" : strerror(-rc);
}

/* A fresh agent may still be setting up its socket: ask again for up to
 * READY_MS. */
static int
wait_answer(const char *sock)
{
	long deadline = util_now_ms() + READY_MS;
	struct agent_ids ids;
	int rc;

	for (;;) {
		long left = deadline - util_now_ms();

		rc = agent_list(sock, left < ANSWER_MS ? (int)(left > 100 ? left : 100) : ANSWER_MS,
				&ids);
		if (rc == 0) {
			agent_ids_free(&ids);
			return 0;
		}
		if (util_now_ms() >= deadline)
			return rc;
		nanosleep(&(struct timespec){ 0, 100000000L }, NULL);
	}
}

static int
start_agent(const char *prog, bool fish)
{
	char *argv[] = { (char *)prog, "-s", NULL };
	struct proc_spec spec = { .argv = argv, .pass_fd = -1, .new_session = true,
				  .timeout_ms = START_MS };
	struct proc_result res;
	char *sock = NULL, *pid = NULL;
	int rc = CLI_EXIT_AGENT, r;

	r = proc_run(&spec, &res);
	if (r == -ENOENT)
		cli_error(CMD, "Install OpenSSH's client (Debian: openssh-client) or give "
			  "--ssh-agent.", "ssh-agent not found (%s)", prog);
	else if (r < 0)
		cli_error(CMD, NULL, "cannot run %s: %s", prog, strerror(-r));
	else if (res.timed_out || res.status != 0)
		cli_error(CMD, NULL, "%s failed (%s): %s", prog,
			  res.timed_out ? "no answer within 10 s" : "non-zero exit status",
			  res.err[0] ? res.err : res.out);
	else if (agent_parse_output(res.out, &sock, &pid) < 0)
		cli_error(CMD, NULL, "no SSH_AUTH_SOCK in the output of %s: %s", prog, res.out);
	else if ((r = wait_answer(sock)) < 0)
		cli_error(CMD, NULL, "%s started (socket %s) but does not answer: %s", prog,
			  sock, why(r));
	else {
		fprintf(stderr, "%s %s: started ssh-agent%s%s\n", CLI_PROG, CMD,
			pid ? ", pid " : "", pid ? pid : "");
		rc = print_vars(sock, pid, fish);
	}
	free(sock);
	free(pid);
	proc_result_free(&res);
	return rc;
}

struct start_args {
	const char *prog;
	bool fish;
};

static int
take(const char *cmd, void *ctx, int c, const char *arg)
{
	struct start_args *a = ctx;

	(void)cmd;
	if (c == 'f')
		a->fish = true;
	else if (c == 'A')
		a->prog = arg;
	return 0;
}

int
cmd_agent_start(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "fish", no_argument, NULL, 'f' },
		{ "ssh-agent", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct start_args a = { .prog = "ssh-agent" };
	const struct cli_optspec sp = {
		.cmd = CMD,
		.shortopts = ":h",
		.longopts = lo,
		.take = take,
		.ctx = &a,
	};
	const char *sock = getenv("SSH_AUTH_SOCK");
	struct agent_ids ids;
	int rc;

	rc = cli_getopt(&sp, argc, argv);
	if (rc)
		return rc < 0 ? cli_help(help) : rc;
	if (sock && *sock) {
		rc = agent_list(sock, ANSWER_MS, &ids);
		if (rc == 0) {
			fprintf(stderr, "%s %s: an agent already answers on %s (%zu key%s)\n",
				CLI_PROG, CMD, sock, ids.n, ids.n == 1 ? "" : "s");
			agent_ids_free(&ids);
			return print_vars(sock, getenv("SSH_AGENT_PID"), a.fish);
		}
		fprintf(stderr, "%s %s: SSH_AUTH_SOCK=%s does not answer (%s); starting "
			"a new agent\n", CLI_PROG, CMD, sock, why(rc));
	}
	return start_agent(a.prog, a.fish);
}
