/* proc: running a helper program (ssh-agent, ssh-add) with a deadline,
 * capturing its output. No shell is involved: argv goes to execvpe.
 *
 * The child gets stdin from /dev/null (or stdin_fd), stdout and stderr
 * into pipes, optionally one extra descriptor as fd 3 (pass_fd, for the
 * askpass-fd hand-over), and no other descriptor of ours. With
 * new_session it runs in a new session, so it has no controlling terminal
 * and cannot prompt on it. Thread: main thread (fork).
 */
#ifndef SSHMOUNTFS_TOOLS_PROC_H
#define SSHMOUNTFS_TOOLS_PROC_H

#include <stdbool.h>
#include <stddef.h>

#define PROC_OUT_MAX (64 * 1024)	/* output kept per stream */

struct proc_spec {
	char *const *argv;
	char *const *envp;	/* NULL = our environment */
	int pass_fd;		/* -1 = none; else becomes fd 3 in the child */
	bool new_session;
	int timeout_ms;		/* the child is killed (SIGKILL) after this */
};

struct proc_result {
	int status;		/* exit status; -1 when killed by a signal */
	bool timed_out;
	int exec_errno;		/* errno of a failed exec (ENOENT: not installed) */
	char *out;		/* NUL-terminated, heap */
	char *err;
};

/* Runs the program to completion. 0 when it ran (see status), or -errno
 * when it could not be started (exec_errno also set for exec failures). */
int proc_run(const struct proc_spec *spec, struct proc_result *res);
void proc_result_free(struct proc_result *res);

/* A copy of our environment without the names in drop[] (NULL-terminated)
 * and with the "NAME=value" entries of add[] appended. Heap; free with
 * proc_env_free. NULL on allocation failure. */
char **proc_env(const char *const *drop, const char *const *add);
void proc_env_free(char **env);

#endif
