/* conns: the extra SSH connections of max_conns=N.
 *
 * The checks leave one started engine; max_conns asks for N. Each extra
 * connection is a full login (sshc_open) with its own SFTP channels, so
 * open files spread over several ciphers' worth of CPU (one core per
 * connection's I/O thread). Only SSH transports have them (ssh_command= and
 * directport= stay at one, as in sshfs), and nice/ionice/nocache without
 * sftp_server=PATH keep one connection, because the server path the checks
 * probed for is not handed over. A connection that fails to open is logged
 * and skipped: the mount works with what it has.
 *
 * Thread: main(), before the loop.
 */
#ifndef SSHMOUNTFS_FS_CONNS_H
#define SSHMOUNTFS_FS_CONNS_H

#include "fsctx.h"
#include "opts.h"

/* Adds up to max_conns - 1 engines to c. Returns how many were added. */
int conns_open_extra(struct fs_ctx *c, const struct opts *o);

#endif
