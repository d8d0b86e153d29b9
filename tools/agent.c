/* agent: see agent.h. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "util.h"
#include "wire.h"

/* draft-miller-ssh-agent message numbers */
#define AGENT_FAILURE 5
#define AGENT_SUCCESS 6
#define AGENTC_REQUEST_IDENTITIES 11
#define AGENT_IDENTITIES_ANSWER 12
#define AGENTC_REMOVE_IDENTITY 18
#define AGENT_MAX_KEYS 4096

static int
open_sock(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!path || !*path)
		return -ENOENT;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A UNIX connect either completes or fails at once (EAGAIN: the
	 * backlog is full, which for our purpose is "does not answer"). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno == EAGAIN ? ETIMEDOUT : errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* Moves all of buf through fd (write or read) before 'deadline'. */
static int
io_all(int fd, void *buf, size_t len, bool out, long deadline)
{
	uint8_t *p = buf;

	while (len) {
		struct pollfd pf = { .fd = fd, .events = out ? POLLOUT : POLLIN };
		long left = deadline - util_now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pf, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = out ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == 0 || (n < 0 && (errno == EPIPE || errno == ECONNRESET)))
			return -EPROTO;	/* the agent hung up mid-message */
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One request/reply exchange; *reply is heap, *rlen its length. */
static int
transact(const char *sock, int timeout_ms, const struct wire_buf *req, uint8_t **reply,
	 size_t *rlen)
{
	long deadline = util_now_ms() + timeout_ms;
	uint8_t hdr[4];
	uint32_t n;
	int fd, rc;

	*reply = NULL;
	fd = open_sock(sock);
	if (fd < 0)
		return fd;
	wire_poke_u32(hdr, (uint32_t)req->len);
	rc = io_all(fd, hdr, 4, true, deadline);
	if (!rc)
		rc = io_all(fd, req->p, req->len, true, deadline);
	if (!rc)
		rc = io_all(fd, hdr, 4, false, deadline);
	if (!rc) {
		n = wire_peek_u32(hdr);
		if (n == 0 || n > AGENT_MAX_MSG)
			rc = -EPROTO;
		else if (!(*reply = malloc(n)))
			rc = -ENOMEM;
		else
			rc = io_all(fd, *reply, n, false, deadline);
		*rlen = n;
	}
	close(fd);
	if (rc) {
		free(*reply);
		*reply = NULL;
	}
	return rc;
}

static int
parse_ids(const uint8_t *msg, size_t len, struct agent_ids *out)
{
	struct wire_rd rd;
	uint8_t type;
	uint32_t nkeys;

	wire_rd_init(&rd, msg, len);
	if (wire_get_u8(&rd, &type) < 0 || type != AGENT_IDENTITIES_ANSWER ||
	    wire_get_u32(&rd, &nkeys) < 0 || nkeys > AGENT_MAX_KEYS)
		return -EPROTO;
	out->v = calloc(nkeys ? nkeys : 1, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	for (uint32_t i = 0; i < nkeys; i++) {
		const uint8_t *blob;
		uint32_t bl;
		struct agent_id *id = &out->v[i];

		if (wire_get_string_direct(&rd, &blob, &bl) < 0 ||
		    wire_get_cstring(&rd, &id->comment, 4096) < 0)
			return -EPROTO;
		out->n = i + 1;
		id->blob = malloc(bl ? bl : 1);
		if (!id->blob)
			return -ENOMEM;
		memcpy(id->blob, blob, bl);
		id->len = bl;
	}
	return 0;
}

int
agent_list(const char *sock, int timeout_ms, struct agent_ids *out)
{
	struct wire_buf req;
	uint8_t *reply = NULL;
	size_t rlen = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	wire_buf_init(&req, 16);
	rc = wire_put_u8(&req, AGENTC_REQUEST_IDENTITIES);
	if (!rc)
		rc = transact(sock, timeout_ms, &req, &reply, &rlen);
	if (!rc)
		rc = parse_ids(reply, rlen, out);
	if (rc)
		agent_ids_free(out);
	free(reply);
	wire_buf_free(&req);
	return rc;
}

void
agent_ids_free(struct agent_ids *ids)
{
	for (size_t i = 0; ids->v && i < ids->n; i++) {
		free(ids->v[i].blob);
		free(ids->v[i].comment);
	}
	free(ids->v);
	memset(ids, 0, sizeof(*ids));
}

bool
agent_ids_has(const struct agent_ids *ids, const uint8_t *blob, size_t len)
{
	for (size_t i = 0; i < ids->n; i++)
		if (ids->v[i].len == len && !memcmp(ids->v[i].blob, blob, len))
			return true;
	return false;
}

int
agent_remove(const char *sock, int timeout_ms, const uint8_t *blob, size_t len)
{
	struct wire_buf req;
	uint8_t *reply = NULL;
	size_t rlen = 0;
	int rc;

	wire_buf_init(&req, len + 16);
	rc = wire_put_u8(&req, AGENTC_REMOVE_IDENTITY);
	if (!rc)
		rc = wire_put_string(&req, blob, len);
	if (!rc)
		rc = transact(sock, timeout_ms, &req, &reply, &rlen);
	if (!rc)
		rc = reply[0] == AGENT_SUCCESS ? 0 : reply[0] == AGENT_FAILURE ? -ESRCH : -EPROTO;
	free(reply);
	wire_buf_free(&req);
	return rc;
}

/* The value after "NAME=" or "NAME " (csh's setenv), up to ';' or the end
 * of the line; NULL when NAME never appears in such a position. */
static char *
find_value(const char *text, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = strstr(text, name); p; p = strstr(p + nl, name)) {
		const char *v = p + nl, *end;

		if (p > text && (p[-1] == '_' || (p[-1] >= 'A' && p[-1] <= 'Z')))
			continue;
		if (*v == '=')
			v++;
		else if (*v == ' ' || *v == '\t')
			while (*v == ' ' || *v == '\t')
				v++;
		else
			continue;
		end = v + strcspn(v, ";\n");
		if (end > v && *v != ';')
			return strndup(v, (size_t)(end - v));
	}
	return NULL;
}

int
agent_parse_output(const char *text, char **sock, char **pid)
{
	*sock = find_value(text, "SSH_AUTH_SOCK");
	*pid = find_value(text, "SSH_AGENT_PID");
	if (*pid && strspn(*pid, "0123456789") != strlen(*pid)) {
		free(*pid);
		*pid = NULL;
	}
	if (!*sock) {
		free(*pid);
		*pid = NULL;
		return -EINVAL;
	}
	return 0;
}
