/* conns: the extra SSH connections of max_conns=N.
 *
 * The checks leave one started engine; max_conns asks for N. Each extra
 * connection is a full login (session_open) with its own SFTP channels, run
 * the way the checks ran the first (the same server command: subsystem,
 * sftp_server=PATH, or the nice/ionice/nocache prefix; the same engine
 * settings), so open files spread over several ciphers' worth of CPU (one
 * core per connection's I/O thread). Only SSH transports have them
 * (ssh_command= and directport= stay at one, as in sshfs); password_stdin
 * keeps one with noreconnect (the password was read once; with reconnect
 * it is kept for later logins, core/session.h). A connection that
 * fails to open is logged and skipped: the mount works with what it has.
 *
 * Thread: main(), before the loop.
 */
#ifndef SSHMOUNTFS_FS_CONNS_H
#define SSHMOUNTFS_FS_CONNS_H

#include "fsctx.h"
#include "opts.h"

/* Adds up to max_conns - 1 engines to c. 'server_cmd' is the checks'
 * (chk_session.server_cmd; NULL for the subsystem). Returns how many were
 * added. */
int conns_open_extra(struct fs_ctx *c, const struct opts *o, const char *server_cmd);

#endif
