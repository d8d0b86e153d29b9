/* dirload: reads a whole remote directory with pipelined READDIRs.
 *
 * OPENDIR, then several READDIRs in flight on the handle's channel (the
 * server answers them in order, each with the next batch of names), growing
 * from 2 to DIRLOAD_MAX_INFLIGHT, until EOF; CLOSE is sent without waiting.
 * On a link with latency this lists a 2000-entry directory in about two
 * round trips instead of twenty.
 *
 * Names are checked (no '/', not empty); "." and ".." are skipped.
 * Thread: any FUSE thread (blocks); the callback runs on that thread.
 * Errors: 0, or the negative errno of OPENDIR / READDIR, or fn's non-zero
 * return (negative errno) which stops the load.
 */
#ifndef SSHMOUNTFS_FS_DIRLOAD_H
#define SSHMOUNTFS_FS_DIRLOAD_H

#include "fxc.h"
#include "fxp.h"

#define DIRLOAD_MAX_INFLIGHT 16

/* 'name' is NUL-terminated and valid during the call only. */
typedef int dirload_fn(void *arg, const char *name, const struct fxp_attr *a);

int dirload(struct fxc *c, const char *rpath, dirload_fn *fn, void *arg);

#endif
