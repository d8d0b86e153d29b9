/* passsrc: see passsrc.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passsrc.h"

void
passsrc_init(struct passsrc *p)
{
	p->fd = -1;
	p->askpass = NULL;
}

static const char *
askpass_program(const struct passsrc *p)
{
	const char *env = getenv("SSH_ASKPASS");

	if (p->askpass && *p->askpass)
		return p->askpass;
	return env && *env ? env : NULL;
}

int
passsrc_get(const struct passsrc *p, const char *prompt, struct secret **out,
	    char *why, size_t whylen)
{
	const char *prog = askpass_program(p);
	int rc;

	if (p->fd >= 0) {
		rc = secret_from_fd(p->fd, out);
		if (rc < 0)
			snprintf(why, whylen, "no passphrase could be read from file "
				 "descriptor %d (%s)", p->fd,
				 rc == -EINVAL ? "empty or longer than 1024 bytes" : strerror(-rc));
		return rc;
	}
	if (prog) {
		rc = secret_from_askpass(prog, prompt, out);
		if (rc < 0)
			snprintf(why, whylen, "the askpass program %s %s", prog,
				 rc == -ENOENT ? "was not found" :
				 rc == -ECANCELED ? "gave no passphrase (cancelled)" :
				 rc == -EINVAL ? "printed an empty or too long answer" :
				 strerror(-rc));
		return rc;
	}
	if (secret_have_tty()) {
		rc = secret_from_tty(prompt, out);
		if (rc < 0)
			snprintf(why, whylen, "no passphrase was typed (%s)",
				 rc == -ECANCELED ? "end of input" : strerror(-rc));
		return rc;
	}
	snprintf(why, whylen, "there is no terminal, "
		 "no --passphrase-fd and no askpass program");
	return -ENXIO;
}
