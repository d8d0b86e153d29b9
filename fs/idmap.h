/* idmap: translation of user and group ids between the server and this
 * machine, with sshfs's option names and meanings.
 *
 *   idmap=none   ids pass unchanged (the default on Linux, as sshfs)
 *   idmap=user   the remote login user's uid/gid <-> the mounting user's
 *                uid/gid, both ways; every other id passes unchanged
 *   idmap=file   uidfile=/gidfile= hold "name:remote_id" lines (or
 *                passwd/group lines "name:x:id:..."); the name is looked up
 *                on this machine. Ids with no mapping: nomap=ignore passes
 *                them unchanged, nomap=error fails the operation (EPERM).
 *
 * Thread: built once before the mount, read-only afterwards (any thread).
 * Errors: 0 or a negative errno; loaders fill err for people.
 */
#ifndef SSHMOUNTFS_FS_IDMAP_H
#define SSHMOUNTFS_FS_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum idmap_mode { IDMAP_NONE = 0, IDMAP_USER, IDMAP_FILE };
enum idmap_kind { IDMAP_UID = 0, IDMAP_GID = 1 };

struct idmap_pair {
	uint32_t remote, local;
};

/* A sorted two-way table. */
struct idmap_table {
	struct idmap_pair *by_remote, *by_local;
	size_t n;
};

struct idmap {
	enum idmap_mode mode;
	bool nomap_error;
	uint32_t remote_uid, remote_gid;	/* IDMAP_USER */
	uid_t local_uid;
	gid_t local_gid;
	struct idmap_table t[2];		/* IDMAP_FILE: [IDMAP_UID], [IDMAP_GID] */
};

void idmap_init_none(struct idmap *m);
void idmap_init_user(struct idmap *m, uint32_t remote_uid, uint32_t remote_gid,
		     uid_t local_uid, gid_t local_gid);
void idmap_init_file(struct idmap *m, bool nomap_error);
void idmap_free(struct idmap *m);

/* Looks a local name up: 0 and *id, -ENOENT when there is no such name,
 * another negative errno on failure. */
typedef int idmap_resolve_fn(void *arg, const char *name, uint32_t *id);

/* Parses the text of a uidfile/gidfile into m->t[kind], resolving names
 * with fn (names with no local id are skipped, as sshfs does). 'label'
 * names the file in messages. 0, -EINVAL (bad line, err says which), or
 * -ENOMEM. */
int idmap_parse(struct idmap *m, enum idmap_kind kind, const char *text,
		idmap_resolve_fn *fn, void *arg, const char *label,
		char *err, size_t errlen);

/* Reads 'file' (which must be owned by the calling user and not writable by
 * group or others, as sshfs requires) and parses it with the system's
 * passwd/group database. */
int idmap_load_file(struct idmap *m, enum idmap_kind kind, const char *file,
		    char *err, size_t errlen);

/* Remote id to local id (getattr, readdir). -EPERM for an unmapped id under
 * nomap=error. */
int idmap_to_local(const struct idmap *m, enum idmap_kind kind, uint32_t remote,
		   uint32_t *local);
/* Local id to remote id (chown). -EPERM for an unmapped id under nomap=error. */
int idmap_to_remote(const struct idmap *m, enum idmap_kind kind, uint32_t local,
		    uint32_t *remote);

#endif
