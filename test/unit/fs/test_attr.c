/* attr: SFTP attributes as the kernel sees them (attr_to_stat). */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "attr.h"
#include "idmap.h"
#include "tap.h"

static void
test_to_stat(void)
{
	struct idmap m;
	struct attr_cfg cfg = { .idmap = &m, .self_uid = 7, .self_gid = 8 };
	struct fxp_attr a = { 0 };
	struct stat st;

	idmap_init_none(&m);
	a.flags = FXA_SIZE | FXA_UIDGID | FXA_PERMISSIONS | FXA_ACMODTIME;
	a.size = 1025;
	a.uid = 1001;
	a.gid = 1002;
	a.perm = 0120777;
	a.atime = 0xfffffff0u;
	a.mtime = 1700000000;
	TAP_EQ_INT(attr_to_stat(&cfg, &a, &st), 0);
	TAP_EQ_INT(st.st_size, 1025);
	TAP_EQ_INT(st.st_blocks, 8);	/* one whole 4 KiB block, as sshfs */
	TAP_EQ_INT(st.st_uid, 1001);
	TAP_EQ_INT(st.st_gid, 1002);
	TAP_CHECK(S_ISLNK(st.st_mode));
	TAP_EQ_INT(st.st_mode & 07777, 0777);
	TAP_EQ_INT(st.st_atim.tv_sec, 0xfffffff0u);	/* unsigned: after 2038 */
	TAP_EQ_INT(st.st_mtim.tv_sec, 1700000000);
	TAP_EQ_INT(st.st_ctim.tv_sec, 1700000000);
	TAP_EQ_INT(st.st_nlink, 1);

	/* A hostile size past what off_t holds must not turn negative. */
	memset(&a, 0, sizeof(a));
	a.flags = FXA_SIZE;
	a.size = UINT64_MAX;
	attr_to_stat(&cfg, &a, &st);
	TAP_CHECK(st.st_size == INT64_MAX);
	TAP_CHECK(st.st_blocks > 0);
	a.size = (uint64_t)INT64_MAX + 1;
	attr_to_stat(&cfg, &a, &st);
	TAP_CHECK(st.st_size == INT64_MAX);

	/* Absent fields: a regular 0644 file of the mount's owner, not garbage. */
	memset(&a, 0, sizeof(a));
	memset(&st, 0x55, sizeof(st));
	attr_to_stat(&cfg, &a, &st);
	TAP_CHECK(st.st_size == 0 && st.st_mode == (S_IFREG | 0644));
	TAP_CHECK(st.st_uid == 7 && st.st_gid == 8 && st.st_mtime == 0);
}

int
main(void)
{
	test_to_stat();
	return tap_done();
}
