/* conns: see conns.h. */
#include "conns.h"

#include <string.h>

#include "log.h"
#include "session.h"

static int
open_one(const struct opts *o, const char *server_cmd, struct fxc **out)
{
	char err[512] = "";
	int r = session_open(o, server_cmd, out, err, sizeof(err));

	if (r < 0)
		log_warn("max_conns: an extra connection failed: %s", err);
	return r;
}

int
conns_open_extra(struct fs_ctx *c, const struct opts *o, const char *server_cmd)
{
	int added = 0, i;

	if (o->max_conns <= 1)
		return 0;
	/* the password from stdin is kept for later logins only with reconnect */
	if (o->ssh_command || o->directport > 0 || (o->password_stdin && !o->reconnect)) {
		log_info("max_conns=%d: one connection only with ssh_command=, directport= "
			 "or password_stdin with noreconnect", o->max_conns);
		return 0;
	}
	for (i = 1; i < o->max_conns && i < FS_MAX_CONNS; i++) {
		struct fxc *fx;

		if (open_one(o, server_cmd, &fx) < 0)
			break;
		if (fsctx_add_conn(c, fx) < 0) {
			fxc_free(fx);
			break;
		}
		added++;
	}
	return added;
}
