/* passsrc: where a subcommand gets a key passphrase from, in the order
 * OpenSSH users expect: an inherited file descriptor (--passphrase-fd), an
 * askpass program (--askpass, else $SSH_ASKPASS), the terminal. Never argv
 * or the environment. Thread: main thread (the terminal prompt installs
 * signal handlers while it runs).
 */
#ifndef SSHMOUNTFS_TOOLS_PASSSRC_H
#define SSHMOUNTFS_TOOLS_PASSSRC_H

#include <stdbool.h>
#include <stddef.h>

#include "secret.h"

struct passsrc {
	int fd;			/* -1 = none */
	const char *askpass;	/* NULL = $SSH_ASKPASS when set */
};

void passsrc_init(struct passsrc *p);

/* Gets one passphrase. 0; -ENXIO when no source is available; -ECANCELED
 * (askpass said no, or end of input); -EINVAL (empty or too long from an
 * fd or askpass); -ENOENT (askpass program missing); -EINTR. 'why' gets a
 * sentence for people on failure. */
int passsrc_get(const struct passsrc *p, const char *prompt, struct secret **out,
		char *why, size_t whylen);

#endif
