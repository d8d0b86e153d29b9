/* agent: a client for a running ssh-agent (the agent protocol over the
 * UNIX socket in SSH_AUTH_SOCK: REQUEST_IDENTITIES and REMOVE_IDENTITY),
 * and a reader for the variable lines ssh-agent prints when it starts.
 *
 * Every socket operation is bounded by timeout_ms. Replies are capped at
 * AGENT_MAX_MSG and parsed as hostile input. Thread: reentrant.
 */
#ifndef SSHMOUNTFS_TOOLS_AGENT_H
#define SSHMOUNTFS_TOOLS_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_MAX_MSG (256 * 1024)

struct agent_id {
	uint8_t *blob;		/* public key blob */
	size_t len;
	char *comment;
};

struct agent_ids {
	struct agent_id *v;
	size_t n;
};

/* Asks the agent for its identities. 0; -ENOENT (no such socket or empty
 * path), -ECONNREFUSED (nobody listens), -ETIMEDOUT, -EPROTO (the answer is
 * not an agent's), -ENAMETOOLONG, -ENOMEM, other -errno. */
int agent_list(const char *sock, int timeout_ms, struct agent_ids *out);
void agent_ids_free(struct agent_ids *ids);
bool agent_ids_has(const struct agent_ids *ids, const uint8_t *blob, size_t len);

/* Removes one identity. 0 when removed, -ESRCH when the agent refused (it
 * does not hold the key), else as agent_list. */
int agent_remove(const char *sock, int timeout_ms, const uint8_t *blob, size_t len);

/* Finds SSH_AUTH_SOCK and SSH_AGENT_PID in ssh-agent's output, in any of
 * its forms ("X=v; export X;", "setenv X v;", "export X=v;"). *sock and
 * *pid are heap; *pid may be NULL when absent. 0 or -EINVAL (no socket). */
int agent_parse_output(const char *text, char **sock, char **pid);

#endif
