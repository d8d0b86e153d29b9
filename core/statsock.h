/* statsock: the status socket of a live mount (fs/status.h serves it,
 * `sshmountfs-tool status` asks it).
 *
 * Where: the abstract unix socket "\0sshmountfs/<major>:<minor>", the
 * mount's device numbers as /proc/self/mountinfo lists them, so a client
 * finds it from the mount point without touching the mount (a stat() of
 * it would wait for the link during an outage). Abstract names need no
 * directory that a user without $XDG_RUNTIME_DIR lacks, and vanish with the
 * process. Anyone may connect, so both ends check the other's uid
 * (SO_PEERCRED): the server answers only the uid it runs as and root; the
 * client believes only a server running as the mount's owner or root (a
 * squatter of the name cannot pass off a fake state).
 *
 * Protocol: one request line ("json\n" or "text\n"), one reply: the
 * header line "sshmountfs-status 1 STATE\n" (STATE: connected,
 * reconnecting, down, failed; or "refused" with nothing after it), then
 * the body in the format asked, then EOF.
 *
 * Thread: any.
 */
#ifndef SSHMOUNTFS_CORE_STATSOCK_H
#define SSHMOUNTFS_CORE_STATSOCK_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#define STATSOCK_MAGIC "sshmountfs-status 1 "
#define STATSOCK_REFUSED "refused"
#define STATSOCK_MAX_REPLY (1u << 20)

/* The address of the socket of the mount on device major:minor. */
void statsock_addr(unsigned major, unsigned minor, struct sockaddr_un *sa, socklen_t *len);

/* A listening socket (close-on-exec) at that address. 0 with *fd set, or
 * -EADDRINUSE (another process holds the name), or another -errno. */
int statsock_listen(unsigned major, unsigned minor, int *fd);

/* The uid of the process at the other end of a connected unix socket.
 * 0 or -errno. */
int statsock_peer_uid(int fd, uid_t *uid);

/* Asks the mount on major:minor, whose owner is 'owner' (mountinfo's
 * user_id; -1 when unknown: then only a server running as root or as the
 * caller is believed), for its status in format 'req' ("json" or "text"),
 * waiting at most timeout_ms in all. Returns 0 with *state (e.g.
 * "connected") and *body (heap, caller frees both); or -ECONNREFUSED /
 * -ENOENT (no status socket), -EACCES (the server refused us), -EPERM
 * (the server is not run by the owner or root), -ETIMEDOUT, -EPROTO (not
 * a status reply), -ENOMEM. */
int statsock_query(unsigned major, unsigned minor, long owner, const char *req,
		   int timeout_ms, char **state, char **body);

#endif
