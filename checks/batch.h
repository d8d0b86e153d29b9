/* batch: several SFTP requests in flight at once, waited for together.
 *
 * The checks run on the caller's thread against a started fxc. Sending
 * requests one by one would cost one round trip each; a batch puts them on
 * one channel back to back (the server answers them in order) and waits
 * for all replies, so the folder check costs one round trip for its three
 * questions.
 *
 * Thread: any thread except fxc's I/O thread. Errors: 0 or a negative errno.
 */
#ifndef SSHMOUNTFS_CHECKS_BATCH_H
#define SSHMOUNTFS_CHECKS_BATCH_H

#include <stddef.h>

#include "fxc.h"

#define CHK_BATCH_MAX 8

struct chk_batch {
	size_t n;
	struct wire_buf pkt[CHK_BATCH_MAX];
	struct fxc_result res[CHK_BATCH_MAX];	/* filled by chk_batch_run */
};

/* Empties b. */
void chk_batch_init(struct chk_batch *b);

/* The next packet buffer to encode into, or NULL when the batch is full. */
struct wire_buf *chk_batch_next(struct chk_batch *b);

/* Sends every packet on 'chan' and waits for every reply. res[i].err is 0
 * when a reply came (then res[i].reply is valid until chk_batch_free),
 * else -ETIMEDOUT / -EIO. Returns 0, or -EIO when nothing could be sent. */
int chk_batch_run(struct fxc *c, int chan, struct chk_batch *b);

void chk_batch_free(struct chk_batch *b);

#endif
