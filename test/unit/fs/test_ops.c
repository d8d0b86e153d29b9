/* Unit tests for fs/ops.c: a lost link never reaches the kernel as
 * ENOTCONN or ECONNABORTED, and every other result passes unchanged. */
#include <errno.h>

#include "ops.h"
#include "tap.h"

int
main(void)
{
	const struct fuse_operations *o = ops_table();

	TAP_EQ_INT(ops_errno(-ENOTCONN), -EIO);
	TAP_EQ_INT(ops_errno(-ECONNABORTED), -EIO);
	TAP_EQ_INT(ops_errno(-ENOENT), -ENOENT);
	TAP_EQ_INT(ops_errno(-EIO), -EIO);
	TAP_EQ_INT(ops_errno(0), 0);
	TAP_EQ_INT(ops_errno(4096), 4096);	/* a read's byte count */
	TAP_CHECK(o->read != NULL && o->write != NULL && o->copy_file_range != NULL);
	return tap_done();
}
