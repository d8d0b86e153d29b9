/* sshc_connect(): our own TCP connect (so DNS, refused and timeout are
 * told apart), a peek at the peer's first bytes (so "not an SSH server"
 * and "silent" are too), then libssh's banner exchange and KEX on that
 * socket, or libssh's own connect through a ProxyCommand. See sshc.h.
 */
#include "sshc.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "sshc_int.h"
#include "util.h"

/* ---- connect: TCP ------------------------------------------------------- */

static int
resolve(const struct sshc *s, const char *host, unsigned port, struct addrinfo **res,
	struct sshc_error *e)
{
	struct addrinfo hints;
	char ps[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(ps, sizeof(ps), "%u", port);
	/* getaddrinfo() has no timeout of its own; the resolver's (resolv.conf)
	 * bounds it. getaddrinfo_a() would, but its helper threads do not
	 * survive the daemon's fork. */
	rc = getaddrinfo(host, ps, &hints, res);
	if (rc == 0)
		return 0;
	sshc_err_set(e, SSHC_E_DNS, "cannot resolve host name '%s': %s", host,
		     rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	if (s->typed_host != NULL && strcmp(s->typed_host, host) != 0)
		sshc_hint_set(e, "'%s' is the HostName the ssh config gives for '%s'; check it there",
			      host, s->typed_host);
	else
		sshc_hint_set(e, "check the spelling and your DNS, or give the address; a "
			      "Host block with HostName in ~/.ssh/config can name it");
	return sshc_code_errno(SSHC_E_DNS);
}

/* Nonblocking connect bounded by 'deadline' (ms). fd or -errno. */
static int
connect_one(const struct addrinfo *ai, long deadline)
{
	struct pollfd p;
	socklen_t len = sizeof(int);
	int fd, err = 0, rc;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		err = errno;
		close(fd);
		return -err;
	}
	p.fd = fd;
	p.events = POLLOUT;
	do {
		long left = deadline - util_now_ms();
		if (left <= 0) {
			close(fd);
			return -ETIMEDOUT;
		}
		rc = poll(&p, 1, (int)left);
	} while (rc == 0 || (rc < 0 && errno == EINTR));
	if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		close(fd);
		return -err;
	}
	return fd;
}

static int
tcp_error(const struct sshc *s, const char *host, unsigned port, int err,
	  struct sshc_error *e)
{
	if (err == -ECONNREFUSED) {
		sshc_err_set(e, SSHC_E_REFUSED, "connection to %s port %u refused", host, port);
		sshc_hint_set(e, "no SSH server listens there: check the port (-p PORT, Port in "
			      "the ssh config) and that sshd runs on the host");
	} else if (err == -ETIMEDOUT) {
		sshc_err_set(e, SSHC_E_TIMEOUT, "connection to %s port %u timed out after %ld s",
			     host, port, s->timeout);
		sshc_hint_set(e, "check that the host is up and that no firewall drops the "
			      "traffic; -o ConnectTimeout=SECONDS allows longer");
	} else {
		sshc_err_set(e, SSHC_E_IO, "cannot connect to %s port %u: %s", host, port,
			     strerror(-err));
		sshc_hint_set(e, "check the network path to the host");
	}
	return sshc_code_errno(e->code);
}

/* Liveness on the socket itself: the kernel notices a dead peer even when
 * nobody is sending (libssh does not honour ServerAlive* by itself). */
static void
tune_socket(const struct sshc *s)
{
	int one = 1, idle = 60, intvl = 15, cnt = 4;
	unsigned user_to = 0;

	(void)setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (s->alive_interval > 0) {
		idle = intvl = s->alive_interval;
		cnt = s->alive_count > 0 ? s->alive_count : 3;
		user_to = (unsigned)s->alive_interval * (unsigned)cnt * 1000u;
	}
	if (s->tcp_keepalive) {
		(void)setsockopt(s->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		(void)setsockopt(s->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		(void)setsockopt(s->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		(void)setsockopt(s->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	}
	/* Unacknowledged data older than this kills the connection. */
	if (user_to > 0)
		(void)setsockopt(s->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_to, sizeof(user_to));
}

static int
tcp_connect(struct sshc *s, const char *host, unsigned port, struct sshc_error *e)
{
	struct addrinfo *res = NULL, *ai;
	long deadline = util_now_ms() + s->timeout * 1000L;
	int rc, last = -ETIMEDOUT;

	rc = resolve(s, host, port, &res, e);
	if (rc < 0)
		return rc;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		rc = connect_one(ai, deadline);
		if (rc >= 0) {
			s->fd = rc;
			break;
		}
		last = rc;
		if (rc == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (s->fd < 0)
		return tcp_error(s, host, port, last, e);
	tune_socket(s);
	return 0;
}

/* Waits for the peer's first bytes and looks at them without consuming
 * them (libssh reads the banner itself). This is what tells "not an SSH
 * server" and "silent" apart from libssh's single "timeout". */
static int
peek_banner(struct sshc *s, const char *host, unsigned port, struct sshc_error *e)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	long deadline = util_now_ms() + s->timeout * 1000L;
	char buf[256];
	ssize_t n;
	int rc;

	do {
		long left = deadline - util_now_ms();
		rc = left > 0 ? poll(&p, 1, (int)left) : 0;
	} while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		sshc_err_set(e, SSHC_E_TIMEOUT, "%s port %u accepted the connection but sent no "
			     "SSH banner within %ld s", host, port, s->timeout);
		sshc_hint_set(e, "is an SSH server listening on that port? (some other service, "
			      "or a firewall holding the connection open)");
		return sshc_code_errno(SSHC_E_TIMEOUT);
	}
	n = recv(s->fd, buf, sizeof(buf) - 1, MSG_PEEK);
	if (n <= 0) {
		sshc_err_set(e, SSHC_E_IO, "%s port %u closed the connection before sending an "
			     "SSH banner", host, port);
		sshc_hint_set(e, "the server refuses this client (MaxStartups, tcp wrappers, "
			      "fail2ban) or is not an SSH server");
		return sshc_code_errno(SSHC_E_IO);
	}
	buf[n] = '\0';
	if (strncmp(buf, "SSH-", (size_t)n < 4 ? (size_t)n : 4) != 0) {
		s->peer_not_ssh = true;
		sshc_printable_copy(s->first_line, sizeof(s->first_line), buf, (size_t)n);
	}
	return 0;
}

/* ---- connect: SSH ------------------------------------------------------- */

/* Copies the text between 'start' and 'end' markers of src into dst. */
static bool
between(const char *src, const char *start, const char *end, char *dst, size_t size)
{
	const char *a = strstr(src, start), *b;

	if (a == NULL)
		return false;
	a += strlen(start);
	b = strstr(a, end);
	if (b == NULL)
		return false;
	snprintf(dst, size, "%.*s", (int)(b - a), a);
	return true;
}

/* libssh: "kex error : no match for method encryption client->server:
 * server [aes256-ctr], client [aes128-cbc]" -> which kind, both lists. */
static int
kex_error(const char *host_port, const char *msg, struct sshc_error *e)
{
	char method[64] = "", server[200] = "?", client[200] = "?";
	const char *what = "algorithm", *opt = "KexAlgorithms";

	between(msg, "method ", ": server [", method, sizeof(method));
	between(msg, "server [", "]", server, sizeof(server));
	between(msg, "client [", "]", client, sizeof(client));
	if (strstr(method, "encryption") != NULL) {
		what = "cipher";
		opt = "Ciphers";
	} else if (strstr(method, "mac") != NULL) {
		what = "MAC";
		opt = "MACs";
	} else if (strstr(method, "host key") != NULL) {
		what = "host key algorithm";
		opt = "HostKeyAlgorithms";
	} else if (strstr(method, "kex") != NULL) {
		what = "key exchange algorithm";
	} else if (strstr(method, "compression") != NULL) {
		what = "compression method";
		opt = "Compression";
	}
	sshc_err_set(e, SSHC_E_KEX, "no common %s with %s: the server offers %s; we offer %s",
		     what, host_port, server, client);
	/* libssh's own words too: "... server [list], client [list]". */
	sshc_detail_add(e, "%s", msg);
	sshc_hint_set(e, "pick one the server offers with -o %s=NAME, or leave %s unset",
		      opt, opt);
	return sshc_code_errno(SSHC_E_KEX);
}

static int
connect_failed(struct sshc *s, const char *host_port, bool proxied, struct sshc_error *e)
{
	const char *msg = ssh_get_error(s->ss);
	bool banner = ssh_get_serverbanner(s->ss) != NULL;

	if (strstr(msg, "no match for method") != NULL)
		return kex_error(host_port, msg, e);
	if ((!banner && s->peer_not_ssh) || strstr(msg, "too large banner") != NULL ||
	    strstr(msg, "No version of SSH protocol") != NULL) {
		sshc_err_set(e, SSHC_E_NOT_SSH, "%s is not an SSH server: it said \"%s\"",
			     host_port, s->first_line[0] ? s->first_line : msg);
		sshc_hint_set(e, "check the port (-p PORT, Port in the ssh config)");
		return sshc_code_errno(SSHC_E_NOT_SSH);
	}
	if (strstr(msg, "Timeout") != NULL) {
		sshc_err_set(e, SSHC_E_TIMEOUT, "%s: no SSH %s within %ld s%s", host_port,
			     banner ? "key exchange" : "banner", s->timeout,
			     proxied ? " (through the ProxyCommand)" : "");
		sshc_hint_set(e, "-o ConnectTimeout=SECONDS allows longer");
		return sshc_code_errno(SSHC_E_TIMEOUT);
	}
	sshc_err_set(e, SSHC_E_IO, "ssh connection to %s failed%s: %s", host_port,
		     proxied ? " (through the ProxyCommand)" : "", msg);
	if (proxied)
		sshc_hint_set(e, "run the ProxyCommand by hand to see why it fails");
	return sshc_code_errno(SSHC_E_IO);
}

/* The target after the config: HostName and Port applied. */
static int
target(struct sshc *s, char **host, unsigned *port, struct sshc_error *e)
{
	size_t n;

	if (ssh_options_get(s->ss, SSH_OPTIONS_HOST, host) < 0 ||
	    ssh_options_get_port(s->ss, port) < 0)
		return sshc_err_set(e, SSHC_E_CONFIG, "no host to connect to");
	n = strlen(*host) + 16;
	free(s->host_port);
	s->host_port = malloc(n);
	if (s->host_port == NULL)
		return sshc_err_set(e, SSHC_E_IO, "out of memory");
	/* As libssh keys known_hosts: "[h]:p" unless the port is 22. */
	if (*port == 22)
		snprintf(s->host_port, n, "%s", *host);
	else
		snprintf(s->host_port, n, "[%s]:%u", *host, *port);
	return 0;
}

static bool
has_proxy_command(struct sshc *s)
{
	char *pc = NULL;
	bool yes;

	yes = ssh_options_get(s->ss, SSH_OPTIONS_PROXYCOMMAND, &pc) == 0 && pc != NULL &&
	      pc[0] != '\0' && strcasecmp(pc, "none") != 0;
	ssh_string_free_char(pc);
	return yes;
}

static int
own_socket(struct sshc *s, const char *host, unsigned port, struct sshc_error *e)
{
	socket_t fd;
	int rc;

	rc = tcp_connect(s, host, port, e);
	if (rc == 0)
		rc = peek_banner(s, host, port, e);
	if (rc < 0)
		return rc;
	fd = s->fd;
	if (ssh_options_set(s->ss, SSH_OPTIONS_FD, &fd) < 0)
		return sshc_err_set(e, SSHC_E_IO, "cannot hand the socket to libssh: %s",
				    ssh_get_error(s->ss));
	return 0;
}

/* Key exchange over whatever stream libssh now has, then note the key. */
static int
handshake(struct sshc *s, bool proxied, struct sshc_error *e)
{
	if (ssh_connect(s->ss) != SSH_OK)
		return connect_failed(s, s->host_port, proxied, e);
	sshc_note_server_key(s);
	log_debug("connected to %s: %s, cipher %s, kex %s", s->host_port,
		  ssh_get_serverbanner(s->ss) ? ssh_get_serverbanner(s->ss) : "?",
		  ssh_get_cipher_out(s->ss) ? ssh_get_cipher_out(s->ss) : "?",
		  ssh_get_kex_algo(s->ss) ? ssh_get_kex_algo(s->ss) : "?");
	return 0;
}

int
sshc_connect(struct sshc *s, struct sshc_error *e)
{
	char *host = NULL;
	unsigned port = 22;
	bool proxied;
	int rc;

	sshc_err_clear(e);
	rc = target(s, &host, &port, e);
	if (rc < 0)
		return rc;
	/* With a ProxyCommand libssh runs it and owns that stream. */
	proxied = has_proxy_command(s);
	if (!proxied)
		rc = own_socket(s, host, port, e);
	ssh_string_free_char(host);
	if (rc < 0)
		return rc;
	return handshake(s, proxied, e);
}

int
sshc_connect_fd(struct sshc *s, int fd, struct sshc_error *e)
{
	char *host = NULL;
	unsigned port = 22;
	socket_t sfd = fd;
	int rc;

	sshc_err_clear(e);
	/* Owned from here on, whatever happens: sshc_free() closes it. */
	s->fd = fd;
	rc = target(s, &host, &port, e);
	ssh_string_free_char(host);
	if (rc < 0)
		return rc;
	tune_socket(s);
	if (ssh_options_set(s->ss, SSH_OPTIONS_FD, &sfd) < 0)
		return sshc_err_set(e, SSHC_E_IO, "cannot hand the socket to libssh: %s",
				    ssh_get_error(s->ss));
	return handshake(s, false, e);
}
