/* readahead: the pure decision logic of per-handle sequential read-ahead.
 *
 * The file is cut into aligned chunks of 'chunk' bytes (the SFTP READ
 * size). For every FUSE read, readahead_on_read() says whether the handle is in
 * sequential mode and, if so, which chunk range should be requested (the
 * chunks the read needs plus a window ahead of it) and below which offset
 * cached chunks may be dropped. The window starts at min_win and doubles on
 * every sequential read up to max_win; any non-sequential read resets it.
 * A read counts as sequential when it starts at, or within one window of,
 * where the previous read ended (the kernel's async reads may arrive a
 * little out of order).
 *
 * No I/O, no locks: the caller (io.c) holds its handle lock around these.
 */
#ifndef SSHMOUNTFS_FS_READAHEAD_H
#define SSHMOUNTFS_FS_READAHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define READAHEAD_UNKNOWN_SIZE UINT64_MAX

struct readahead {
	uint32_t chunk;
	uint64_t min_win, max_win;
	uint64_t win;		/* current window, bytes ahead of the read */
	uint64_t next;		/* end of the furthest read so far */
	bool started;		/* a read has been seen */
	bool seq;		/* last decision */
};

struct readahead_plan {
	bool seq;
	uint64_t drop_below;		/* chunks ending at or below this may go */
	uint64_t want_from, want_to;	/* [from, to), multiples of chunk */
};

/* chunk > 0; min_win <= max_win (both rounded up to whole chunks). */
void readahead_init(struct readahead *s, uint32_t chunk, uint64_t min_win, uint64_t max_win);

/* Decides for a read of 'size' bytes at 'off'. 'file_size' bounds the
 * window (READAHEAD_UNKNOWN_SIZE when unknown); the chunks the read itself covers
 * are always wanted. */
void readahead_on_read(struct readahead *s, uint64_t off, size_t size, uint64_t file_size,
		struct readahead_plan *p);

/* Forget the stream (after a write or truncate through the handle). */
void readahead_reset(struct readahead *s);

/* Chunk arithmetic. */
uint64_t readahead_floor(const struct readahead *s, uint64_t off);
uint64_t readahead_ceil(const struct readahead *s, uint64_t off);

#endif
