/* remote: see remote.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hostkey.h"
#include "keyfile.h"
#include "remote.h"

const char *
remote_hostkey_algos(const char *type)
{
	if (!strcasecmp(type, "ed25519"))
		return "ssh-ed25519";
	if (!strcasecmp(type, "ecdsa"))
		return "ecdsa-sha2-nistp521,ecdsa-sha2-nistp384,ecdsa-sha2-nistp256";
	if (!strcasecmp(type, "rsa"))
		return "rsa-sha2-512,rsa-sha2-256,ssh-rsa";
	return NULL;
}

int
remote_hk_take(const char *cmd, void *ctx, int opt, const char *arg)
{
	struct remote_hk_args *a = ctx;

	if (opt == 'H')
		a->hash = true;
	else if (opt == 't' && !(a->algos = remote_hostkey_algos(arg)))
		return cli_usage(cmd, "--type %s: use ed25519, ecdsa or rsa", arg);
	return 0;
}

int
remote_opts(const char *cmd, const char *spec, bool allow_user, const struct cli_conn *c,
	    struct opts *o)
{
	struct cli_host h;
	char err[512];
	int rc;

	opts_init(o);
	if (cli_parse_host(spec, allow_user, &h, err, sizeof(err)) < 0)
		return cli_usage(cmd, "%s", err);
	opts_free(o);
	rc = cli_conn_opts(cmd, c, &h, o);
	cli_host_free(&h);
	return rc;
}

/* The name libssh itself uses for known_hosts: the host after ssh_config's
 * HostName, and the port after Port. */
static int
session_name(ssh_session ss, char *out, size_t len)
{
	char *host = NULL;
	unsigned port = 22;
	int rc;

	if (ssh_options_get(ss, SSH_OPTIONS_HOST, &host) != SSH_OK || !host)
		return -EINVAL;
	if (ssh_options_get_port(ss, &port) != SSH_OK)
		port = 22;
	rc = hostkey_name(host, (int)port, out, len);
	ssh_string_free_char(host);
	return rc;
}

static int
describe_key(const char *cmd, ssh_key key, struct remote_hostkey *out)
{
	char *b64 = NULL;
	const char *tn = ssh_key_type_to_char(ssh_key_type(key));

	if (!tn || ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
		cli_error(cmd, NULL, "the server's host key has a type this program cannot handle");
		return CLI_EXIT_CONNECT;
	}
	snprintf(out->type, sizeof(out->type), "%s", tn);
	out->short_type = keyfile_short_type(key);
	out->b64 = strdup(b64);
	ssh_string_free_char(b64);
	if (!out->b64 || sshc_key_fingerprint(key, SSH_PUBLICKEY_HASH_SHA256, &out->sha256) < 0 ||
	    sshc_key_fingerprint(key, SSH_PUBLICKEY_HASH_MD5, &out->md5) < 0) {
		cli_error(cmd, NULL, "out of memory");
		return CLI_EXIT_LOCAL;
	}
	return CLI_EXIT_OK;
}

int
remote_fetch_hostkey(const char *cmd, const struct opts *o, const char *algos,
		     struct remote_hostkey *out)
{
	struct sshc_error e = { 0 };
	struct sshc *s = NULL;
	ssh_key key = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (sshc_new(o, &s, &e) < 0)
		return cli_sshc_fail(cmd, &e);
	if (algos && ssh_options_set(sshc_session(s), SSH_OPTIONS_HOSTKEYS, algos) < 0) {
		sshc_free(s);
		cli_error(cmd, NULL, "libssh refuses the host key algorithms %s", algos);
		return CLI_EXIT_USAGE;
	}
	if (sshc_connect(s, &e) < 0) {
		sshc_free(s);
		return cli_sshc_fail(cmd, &e);
	}
	if (session_name(sshc_session(s), out->name, sizeof(out->name)) < 0 ||
	    ssh_get_server_publickey(sshc_session(s), &key) != SSH_OK) {
		sshc_free(s);
		cli_error(cmd, NULL, "connected, but libssh gives no host key");
		return CLI_EXIT_CONNECT;
	}
	rc = describe_key(cmd, key, out);
	ssh_key_free(key);
	sshc_free(s);
	if (rc)
		remote_hostkey_free(out);
	return rc;
}

int
remote_hk_fetch(const char *cmd, const char *spec, const struct remote_hk_args *a,
		int (*prepare)(struct opts *o, void *ctx), void *ctx, struct remote_hostkey *out)
{
	struct opts o;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = remote_opts(cmd, spec, false, &a->conn, &o);
	if (!rc && prepare)
		rc = prepare(&o, ctx);
	if (!rc)
		rc = remote_fetch_hostkey(cmd, &o, a->algos, out);
	opts_free(&o);
	return rc;
}

void
remote_hostkey_free(struct remote_hostkey *k)
{
	free(k->b64);
	free(k->sha256);
	free(k->md5);
	memset(k, 0, sizeof(*k));
}
