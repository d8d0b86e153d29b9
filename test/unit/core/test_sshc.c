/* Unit tests of core/sshc without a network: what sshc_new() hands to
 * libssh (config first, command line on top), the ProxyJump rewrite, and
 * option errors. The connection itself is tested against a real sshd in
 * test/integration/test_sshc.py. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "opts.h"
#include "sshc.h"
#include "tap.h"

static char g_cfg[] = "/tmp/test_sshc.XXXXXX";

static void
write_cfg(void)
{
	static const char text[] =
		"Host sshc-unit-alias\n"
		"  HostName 127.0.0.2\n"
		"  Port 2222\n"
		"  User bob\n";
	int fd = mkstemp(g_cfg);

	if (fd < 0 || write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1))
		abort();
	close(fd);
}

static void
base_opts(struct opts *o, const char *host)
{
	opts_init(o);
	opts_set_string(&o->host, host);
	opts_set_string(&o->ssh_config, g_cfg);
}

/* ssh_options_get() as a comparable string ("" when unset). */
static const char *
get(struct sshc *s, enum ssh_options_e opt)
{
	static char buf[1024];
	char *v = NULL;

	buf[0] = '\0';
	if (ssh_options_get(sshc_session(s), opt, &v) == SSH_OK && v != NULL)
		snprintf(buf, sizeof(buf), "%s", v);
	ssh_string_free_char(v);
	return buf;
}

static unsigned
port_of(struct sshc *s)
{
	unsigned p = 0;

	ssh_options_get_port(sshc_session(s), &p);
	return p;
}

static void
test_config_then_command_line(void)
{
	struct sshc_error e;
	struct sshc *s = NULL;
	struct opts o;

	base_opts(&o, "sshc-unit-alias");
	TAP_EQ_INT(sshc_new(&o, &s, &e), 0);
	TAP_CHECK(strcmp(get(s, SSH_OPTIONS_HOST), "127.0.0.2") == 0);
	TAP_EQ_INT(port_of(s), 2222);
	TAP_CHECK(strcmp(get(s, SSH_OPTIONS_USER), "bob") == 0);
	s = sshc_free(s);

	/* -p and user@ given: they win over the config's Port and User */
	o.port = 2345;
	opts_set_string(&o.user, "alice");
	TAP_EQ_INT(sshc_new(&o, &s, &e), 0);
	TAP_EQ_INT(port_of(s), 2345);
	TAP_CHECK(strcmp(get(s, SSH_OPTIONS_USER), "alice") == 0);
	TAP_CHECK(strcmp(get(s, SSH_OPTIONS_HOST), "127.0.0.2") == 0);
	s = sshc_free(s);
	opts_free(&o);
}

static void
test_known_hosts_tilde(void)
{
	struct passwd *pw = getpwuid(geteuid());
	struct sshc_error e;
	struct sshc *s = NULL;
	char want[512];
	struct opts o;

	base_opts(&o, "h");
	opts_set_string(&o.known_hosts, "~/my_known_hosts");
	setenv("HOME", "/nonexistent-home", 1);	/* must not matter */
	TAP_EQ_INT(sshc_new(&o, &s, &e), 0);
	snprintf(want, sizeof(want), "%s/my_known_hosts", pw->pw_dir);
	TAP_CHECK(strcmp(get(s, SSH_OPTIONS_KNOWNHOSTS), want) == 0);
	sshc_free(s);
	opts_free(&o);
}

/* ProxyJump as ProxyCommand (libssh 0.10 has no native jump). */
static void
check_jump(const char *jump, const char *want)
{
	struct sshc_error e;
	struct sshc *s = NULL;
	struct opts o;

	base_opts(&o, "target");
	opts_set_string(&o.proxy_jump, jump);
	TAP_EQ_INT(sshc_new(&o, &s, &e), 0);
	TAP_CHECK(s != NULL && strcmp(get(s, SSH_OPTIONS_PROXYCOMMAND), want) == 0);
	if (s != NULL && strcmp(get(s, SSH_OPTIONS_PROXYCOMMAND), want) != 0)
		printf("#   got '%s'\n", get(s, SSH_OPTIONS_PROXYCOMMAND));
	sshc_free(s);
	opts_free(&o);
}

static void
test_proxy_jump(void)
{
	char with_cfg[300];

	snprintf(with_cfg, sizeof(with_cfg), "ssh -F '%s' -W '[%%h]:%%p' jump", g_cfg);
	check_jump("jump", with_cfg);
	snprintf(with_cfg, sizeof(with_cfg), "ssh -F '%s' -l u -p 2022 -W '[%%h]:%%p' j1", g_cfg);
	check_jump("u@j1:2022", with_cfg);
	snprintf(with_cfg, sizeof(with_cfg),
		 "ssh -F '%s' -l b -p 3 -J a,x@y -W '[%%h]:%%p' c", g_cfg);
	check_jump("a,x@y,b@c:3", with_cfg);
	snprintf(with_cfg, sizeof(with_cfg), "ssh -F '%s' -p 22 -W '[%%h]:%%p' ::1", g_cfg);
	check_jump("[::1]:22", with_cfg);
}

static int
new_fails(struct opts *o, enum sshc_code want, const char *in_msg)
{
	struct sshc_error e;
	struct sshc *s = NULL;
	int rc = sshc_new(o, &s, &e);

	TAP_CHECK(rc < 0 && s == NULL);
	TAP_EQ_INT(e.code, want);
	TAP_CHECK(strstr(e.msg, in_msg) != NULL);
	if (strstr(e.msg, in_msg) == NULL)
		printf("#   msg '%s'\n", e.msg);
	opts_free(o);
	return rc;
}

static void
test_errors(void)
{
	struct opts o;

	base_opts(&o, "h");
	opts_set_string(&o.proxy_jump, "a;rm -rf /");
	new_fails(&o, SSHC_E_CONFIG, "ProxyJump");

	base_opts(&o, "h");
	opts_set_string(&o.ciphers, "no-such-cipher");
	new_fails(&o, SSHC_E_CONFIG, "Ciphers=no-such-cipher");

	base_opts(&o, "h");
	opts_set_string(&o.ssh_config, "/nonexistent/ssh_config");
	new_fails(&o, SSHC_E_CONFIG, "/nonexistent/ssh_config");

	base_opts(&o, "h");
	opts_strv_add(&o.ssh_passthrough, "PubkeyAuthentication=maybe");
	new_fails(&o, SSHC_E_CONFIG, "PubkeyAuthentication");

	opts_init(&o);
	new_fails(&o, SSHC_E_CONFIG, "no host");
}

static void
test_accepted(void)
{
	struct sshc_error e;
	struct sshc *s = NULL;
	struct opts o;

	base_opts(&o, "::1");		/* IPv6 literal, no brackets */
	opts_set_string(&o.ciphers, "aes128-ctr,aes256-gcm@openssh.com");
	opts_strv_add(&o.ssh_passthrough, "KexAlgorithms=curve25519-sha256");
	opts_strv_add(&o.ssh_passthrough, "ForwardX11=yes");	/* unknown to libssh: ignored */
	opts_strv_add(&o.ssh_passthrough, "StrictHostKeyChecking=accept-new");
	opts_strv_add(&o.ssh_passthrough, "HostName=127.0.0.9");
	TAP_EQ_INT(sshc_new(&o, &s, &e), 0);
	TAP_CHECK(strcmp(get(s, SSH_OPTIONS_HOST), "127.0.0.9") == 0);
	TAP_CHECK(sshc_fingerprint(s) == NULL);		/* not connected */
	sshc_free(s);
	opts_free(&o);
	TAP_CHECK(sshc_free(NULL) == NULL);
}

/* Key names and fingerprints in ssh-keygen -l's form. */
static void
test_key_helpers(void)
{
	ssh_key key = NULL;
	char *sha = NULL, *md5 = NULL;

	TAP_CHECK(!strcmp(sshc_key_type_short(SSH_KEYTYPE_ED25519), "ED25519"));
	TAP_CHECK(!strcmp(sshc_key_type_short(SSH_KEYTYPE_ECDSA_P384), "ECDSA"));
	TAP_CHECK(!strcmp(sshc_key_type_short(SSH_KEYTYPE_RSA), "RSA"));
	TAP_CHECK(sshc_key_type_short(SSH_KEYTYPE_UNKNOWN) == NULL);
	TAP_CHECK(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) == SSH_OK);
	TAP_EQ_INT(sshc_key_fingerprint(key, SSH_PUBLICKEY_HASH_SHA256, &sha), 0);
	TAP_EQ_INT(sshc_key_fingerprint(key, SSH_PUBLICKEY_HASH_MD5, &md5), 0);
	/* 32 bytes: 43 base64 characters without padding; 16 bytes: 16 hex pairs */
	TAP_CHECK(sha && !strncmp(sha, "SHA256:", 7) && strlen(sha) == 7 + 43);
	TAP_CHECK(md5 && !strncmp(md5, "MD5:", 4) && strlen(md5) == 4 + 47 && md5[6] == ':');
	free(sha);
	free(md5);
	ssh_key_free(key);
}

int
main(void)
{
	log_init("test_sshc", LOG_LVL_ERROR);
	write_cfg();
	test_config_then_command_line();
	test_known_hosts_tilde();
	test_proxy_jump();
	test_errors();
	test_accepted();
	test_key_helpers();
	unlink(g_cfg);
	return tap_done();
}
