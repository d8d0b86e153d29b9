/* sshc_verify_host(): known_hosts with StrictHostKeyChecking
 * yes|accept-new|no, the scan for the recorded entry when the key changed,
 * and the fingerprints shown in both. See sshc.h.
 */
#include "sshc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sshc_int.h"

/* ---- fingerprints ----------------------------------------------------------- */

const char *
sshc_key_type_short(enum ssh_keytypes_e t)
{
	switch (t) {
	case SSH_KEYTYPE_ED25519: return "ED25519";
	case SSH_KEYTYPE_RSA: return "RSA";
	case SSH_KEYTYPE_DSS: return "DSA";
	case SSH_KEYTYPE_ECDSA:
	case SSH_KEYTYPE_ECDSA_P256:
	case SSH_KEYTYPE_ECDSA_P384:
	case SSH_KEYTYPE_ECDSA_P521: return "ECDSA";
	default: return NULL;
	}
}

/* For messages: libssh's own name for a type we have no short one for. */
static const char *
keytype_name(enum ssh_keytypes_e t)
{
	const char *n = sshc_key_type_short(t);

	if (n == NULL)
		n = ssh_key_type_to_char(t);
	return n != NULL ? n : "unknown";
}

int
sshc_key_fingerprint(ssh_key key, enum ssh_publickey_hash_type type, char **out)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	*out = NULL;
	if (ssh_get_publickey_hash(key, type, &hash, &hlen) != SSH_OK)
		return -EINVAL;
	fp = ssh_get_fingerprint_hash(type, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	if (fp == NULL)
		return -ENOMEM;
	/* ours to free() with the rest of the program's strings */
	*out = strdup(fp);
	ssh_string_free_char(fp);
	return *out != NULL ? 0 : -ENOMEM;
}

/* "SHA256:..." of key into buf. 0 or -errno. */
static int
key_fingerprint(ssh_key key, char *buf, size_t size)
{
	char *fp;
	int rc = sshc_key_fingerprint(key, SSH_PUBLICKEY_HASH_SHA256, &fp);

	if (rc == 0)
		snprintf(buf, size, "%s", fp);
	free(fp);
	return rc;
}

void
sshc_note_server_key(struct sshc *s)
{
	ssh_key key = NULL;

	if (ssh_get_server_publickey(s->ss, &key) < 0)
		return;
	snprintf(s->keytype, sizeof(s->keytype), "%s", keytype_name(ssh_key_type(key)));
	if (key_fingerprint(key, s->fingerprint, sizeof(s->fingerprint)) < 0)
		s->fingerprint[0] = '\0';
	ssh_key_free(key);
}

int
sshc_host_key(struct sshc *s, char **out)
{
	ssh_key key = NULL;
	char *b64 = NULL;
	const char *type;
	int rc = 0;

	*out = NULL;
	if (ssh_get_server_publickey(s->ss, &key) < 0)
		return -ENOENT;
	type = ssh_key_type_to_char(ssh_key_type(key));
	if (ssh_pki_export_pubkey_base64(key, &b64) < 0)
		rc = -ENOMEM;
	if (rc == 0 && asprintf(out, "%s %s", type ? type : "?", b64) < 0) {
		*out = NULL;
		rc = -ENOMEM;
	}
	ssh_string_free_char(b64);
	ssh_key_free(key);
	return rc;
}

/* ---- host key ------------------------------------------------------------- */

struct kh_hit {
	char file[256];
	int line;
	char keytype[24];
	char fingerprint[96];
};

/* Finds the first line of 'file' recorded for host_port (plain or hashed;
 * libssh's parser does the matching). libssh reports CHANGED without the
 * entry, and the old fingerprint and the line are what a person needs. */
static bool
kh_find(const char *file, const char *host_port, struct kh_hit *hit)
{
	char line[8192];
	FILE *f;
	int n = 0;
	bool found = false;

	f = fopen(file, "re");
	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		struct ssh_knownhosts_entry *ent = NULL;
		char *p = line + strspn(line, " \t");

		n++;
		p[strcspn(p, "\r\n")] = '\0';
		if (*p == '\0' || *p == '#' || *p == '@')
			continue;
		if (ssh_known_hosts_parse_line(host_port, p, &ent) == SSH_OK && ent != NULL) {
			snprintf(hit->file, sizeof(hit->file), "%s", file);
			hit->line = n;
			snprintf(hit->keytype, sizeof(hit->keytype), "%s",
				 keytype_name(ssh_key_type(ent->publickey)));
			if (key_fingerprint(ent->publickey, hit->fingerprint,
					    sizeof(hit->fingerprint)) < 0)
				snprintf(hit->fingerprint, sizeof(hit->fingerprint), "?");
			found = true;
		}
		ssh_knownhosts_entry_free(ent);
	}
	fclose(f);
	return found;
}

static char *
known_hosts_file(struct sshc *s, bool global)
{
	char *p = NULL;

	if (ssh_options_get(s->ss, global ? SSH_OPTIONS_GLOBAL_KNOWNHOSTS
				   : SSH_OPTIONS_KNOWNHOSTS, &p) < 0)
		return NULL;
	return p;
}

static int
host_changed(struct sshc *s, enum ssh_known_hosts_e state, struct sshc_error *e)
{
	char *user = known_hosts_file(s, false), *global = known_hosts_file(s, true);
	struct kh_hit hit;
	bool found;

	memset(&hit, 0, sizeof(hit));
	found = (user != NULL && kh_find(user, s->host_port, &hit)) ||
		(global != NULL && kh_find(global, s->host_port, &hit));
	sshc_err_set(e, SSHC_E_HOSTKEY_CHANGED,
		     "host key for %s has CHANGED: the server sent %s key %s, known_hosts "
		     "has %s key %s%s", s->host_port, s->keytype, s->fingerprint,
		     found ? hit.keytype : "a", found ? hit.fingerprint : "(another)",
		     state == SSH_KNOWN_HOSTS_OTHER ? " (of another type)" : "");
	if (found)
		sshc_hint_set(e, "someone may be intercepting the connection; if the host key "
			      "really changed, remove line %d of %s (ssh-keygen -R '%s' -f %s) "
			      "and verify the new key", hit.line, hit.file, s->host_port, hit.file);
	else
		sshc_hint_set(e, "someone may be intercepting the connection; if the host key "
			      "really changed, remove the old entry for %s from %s",
			      s->host_port, user ? user : "known_hosts");
	ssh_string_free_char(user);
	ssh_string_free_char(global);
	return sshc_code_errno(SSHC_E_HOSTKEY_CHANGED);
}

static int
host_unknown(struct sshc *s, struct sshc_error *e)
{
	char *file;
	int rc = 0;

	if (s->policy == OPTS_HOSTKEY_NO) {
		log_info("host key of %s not verified (StrictHostKeyChecking=no): %s key %s",
			 s->host_port, s->keytype, s->fingerprint);
		return 0;
	}
	if (s->policy == OPTS_HOSTKEY_YES) {
		sshc_err_set(e, SSHC_E_HOSTKEY_UNKNOWN, "host key for %s is not known: %s key %s",
			     s->host_port, s->keytype, s->fingerprint);
		sshc_hint_set(e, "check the fingerprint with the server's admin, then record it "
			      "with `sshmountfs-tool known-hosts-add %s`, or mount once with "
			      "-o StrictHostKeyChecking=accept-new", s->host_port);
		return sshc_code_errno(SSHC_E_HOSTKEY_UNKNOWN);
	}
	file = known_hosts_file(s, false);
	if (ssh_session_update_known_hosts(s->ss) != SSH_OK) {
		rc = sshc_err_set(e, SSHC_E_HOSTKEY_UNKNOWN, "cannot record the host key of %s in %s: %s",
				  s->host_port, file ? file : "known_hosts", ssh_get_error(s->ss));
		sshc_hint_set(e, "check that the file and its directory are writable");
	} else {
		log_info("recorded the host key of %s in %s: %s key %s", s->host_port,
			 file ? file : "known_hosts", s->keytype, s->fingerprint);
	}
	ssh_string_free_char(file);
	return rc;
}

int
sshc_verify_host(struct sshc *s, struct sshc_error *e)
{
	enum ssh_known_hosts_e state;

	sshc_err_clear(e);
	if (s->fingerprint[0] == '\0')
		return sshc_err_set(e, SSHC_E_IO, "no host key: not connected");
	state = ssh_session_is_known_server(s->ss);
	switch (state) {
	case SSH_KNOWN_HOSTS_OK:
		return 0;
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		return host_unknown(s, e);
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		return host_changed(s, state, e);
	case SSH_KNOWN_HOSTS_ERROR:
	default:
		sshc_err_set(e, SSHC_E_CONFIG, "cannot check the host key of %s: %s",
			     s->host_port, ssh_get_error(s->ss));
		sshc_hint_set(e, "check that the known_hosts files are readable");
		return sshc_code_errno(SSHC_E_CONFIG);
	}
}
