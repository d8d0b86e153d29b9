"""sshmountfs-tool against real parts: OpenSSH's ssh-keygen, ssh, ssh-agent,
ssh-add and a private sshd on 127.0.0.1 (the conftest fixtures).

Every subcommand is run for its success path and for each documented error
path, asserting both the exit status (sshmountfs-tool(1)) and the message.
OpenSSH is the referee: keys we write must load in ssh-keygen, fingerprints
must equal ssh-keygen -l, known_hosts lines must satisfy ssh with
StrictHostKeyChecking=yes, and installed keys must log in with ssh.
"""

import contextlib
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time

import pytest

import util
from util import SSH, SSH_KEYGEN, TEST_PASSWORD, TEST_USER, run

# exit statuses, sshmountfs-tool(1)
OK, USAGE, EXISTS, CONNECT, AUTH, MISMATCH, UNKNOWN_HOST, LOCAL, REMOTE, AGENT = range(10)

SSH_AGENT = '/usr/bin/ssh-agent'
SSH_ADD = '/usr/bin/ssh-add'
COMMANDS = ['keygen', 'fingerprint', 'host-key', 'known-hosts-add', 'copy-id', 'agent-start',
            'agent-unlock', 'benchmark-ciphers', 'random-id', 'check']
# A second account of our own for the tests that use the real ~/.ssh of the
# remote (copy-id's default path) or of the client (known-hosts-add's
# default file): the shared smtest account's home stays untouched.
HOME_USER = 'smtool'
HOME_LOCK = '/tmp/sshmountfs-test-smtool.lock'
MAN_PAGE = os.path.join(os.path.dirname(__file__), '..', '..', 'doc', 'sshmountfs-tool.1')


@pytest.fixture(scope='module')
def tool(bin_path):
    path = bin_path('sshmountfs-tool')

    def run_tool(*args, env=None, input=None, timeout=120, pass_fds=(), **kw):
        if env is None:
            env = _clean_env()
        return run([path] + [str(a) for a in args], env=env, input=input, timeout=timeout,
                   pass_fds=pass_fds, **kw)
    run_tool.path = path
    return run_tool


def _clean_env():
    env = dict(os.environ)
    for k in ('SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'SSH_ASKPASS', 'SSH_ASKPASS_REQUIRE',
              'DISPLAY', 'WAYLAND_DISPLAY', 'SSHMOUNTFS_ASKPASS_FD'):
        env.pop(k, None)
    return env


def expect(res, code, pattern=None):
    """Exit status code and, when given, pattern in stderr (regex)."""
    assert res.returncode == code, 'exit %d, want %d\nstdout: %s\nstderr: %s' % (
        res.returncode, code, res.stdout, res.stderr)
    if pattern:
        assert re.search(pattern, res.stderr), 'stderr lacks %r:\n%s' % (pattern, res.stderr)
    return res


def keygen_ref(path, ktype='ed25519', bits=None, passphrase='', fmt=None, comment='ref'):
    """A key made by OpenSSH's ssh-keygen."""
    cmd = [SSH_KEYGEN, '-q', '-t', ktype, '-N', passphrase, '-C', comment, '-f', path]
    if bits:
        cmd += ['-b', str(bits)]
    if fmt:
        cmd += ['-m', fmt]
    run(cmd, timeout=60, check=True)
    return path


def ref_fingerprint(path, hashname='sha256'):
    res = run([SSH_KEYGEN, '-l', '-E', hashname, '-f', path], timeout=30, check=True)
    return res.stdout.split()[1]


@contextlib.contextmanager
def fd_with(data):
    """A pipe read end holding data (and EOF), for --passphrase-fd."""
    r, w = os.pipe()
    os.write(w, data.encode())
    os.close(w)
    try:
        yield r
    finally:
        os.close(r)


def openssh_login(sshd, user, key, known_hosts, extra=()):
    """ssh with only this key and this known_hosts, no prompts: True on login."""
    cmd = [SSH, '-F', sshd.client_config, '-p', str(sshd.port), '-o', 'BatchMode=yes',
           '-o', 'IdentitiesOnly=yes', '-o', 'IdentityFile=' + key,
           '-o', 'UserKnownHostsFile=' + known_hosts, '-o', 'GlobalKnownHostsFile=/dev/null',
           '-o', 'StrictHostKeyChecking=yes', '-o', 'PasswordAuthentication=no',
           '-o', 'KbdInteractiveAuthentication=no'] + list(extra) + \
        ['%s@%s' % (user, sshd.host), 'echo', 'login-ok']
    res = run(cmd, timeout=60, env=_clean_env())
    return res.returncode == 0 and 'login-ok' in res.stdout, res


def conn_opts(sshd, known_hosts=None, key=None):
    return ['-p', str(sshd.port), '-F', sshd.client_config,
            '-o', 'IdentityFile=' + (key or sshd.key),
            '-o', 'UserKnownHostsFile=' + (known_hosts or sshd.known_hosts)]


def host_pub(sshd):
    return open(sshd.host_key + '.pub').read().split()


# --------------------------------------------------------------------------
# dispatch and help

def test_help_lists_every_command(tool):
    res = expect(tool('--help'), OK)
    for name in COMMANDS:
        assert re.search(r'^\s+%s\s' % re.escape(name), res.stdout, re.M), name
    expect(tool(), USAGE, r'Usage: sshmountfs-tool COMMAND')
    expect(tool('frobnicate'), USAGE, r"unknown command 'frobnicate'")
    res = expect(tool('--version'), OK)
    assert re.match(r'sshmountfs-tool \d+\.\d+', res.stdout)


@pytest.mark.parametrize('name', COMMANDS)
def test_subcommand_help(tool, name):
    res = expect(tool(name, '--help'), OK)
    assert res.stdout.startswith('Usage: sshmountfs-tool ' + name)
    assert 'Exit status' in res.stdout
    assert expect(tool('help', name), OK).stdout == res.stdout


@pytest.mark.parametrize('name', [c for c in COMMANDS if c != 'check'])
def test_subcommand_rejects_unknown_option(tool, name):
    res = expect(tool(name, '--no-such-option'), USAGE,
                 r"sshmountfs-tool %s: unknown option '--no-such-option'" % name)
    assert "Try 'sshmountfs-tool %s --help'" % name in res.stderr


# --------------------------------------------------------------------------
# keygen

KEY_TYPES = [('ed25519', None, 256), ('ecdsa', None, 256), ('ecdsa', 384, 384),
             ('ecdsa', 521, 521), ('rsa', 2048, 2048)]


@pytest.mark.parametrize('ktype,bits,want_bits', KEY_TYPES)
def test_keygen_types_load_in_openssh(tool, tmp_path, ktype, bits, want_bits):
    key = str(tmp_path / 'key')
    args = ['keygen', key, '--type', ktype, '--comment', 'made by test']
    if bits:
        args += ['--bits', bits]
    res = expect(tool(*args), OK)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(key + '.pub').st_mode) == 0o644
    with open(key) as f:
        assert f.readline() == '-----BEGIN OPENSSH PRIVATE KEY-----\n'
    pub = open(key + '.pub').read()
    assert pub.endswith(' made by test\n') and pub.count('\n') == 1
    # ssh-keygen derives the same public key from our private file
    derived = run([SSH_KEYGEN, '-y', '-f', key], timeout=30, check=True).stdout.split()
    assert derived[:2] == pub.split()[:2]
    listed = run([SSH_KEYGEN, '-l', '-f', key + '.pub'], timeout=30, check=True).stdout.split()
    assert listed[0] == str(want_bits)
    assert listed[1] in res.stdout


@pytest.mark.parametrize('ktype', ['ed25519', 'ecdsa', 'rsa'])
def test_keygen_passphrase_fd(tool, tmp_path, ktype):
    key = str(tmp_path / 'key')
    secret = 'correct horse %s' % ktype
    args = ['keygen', key, '--type', ktype] + (['--bits', '2048'] if ktype == 'rsa' else [])
    with fd_with(secret + '\n') as fd:
        expect(tool(*(args + ['--passphrase-fd', fd, '--rounds', '4']), pass_fds=[fd]), OK)
    good = run([SSH_KEYGEN, '-y', '-P', secret, '-f', key], timeout=60)
    assert good.returncode == 0, good.stderr
    assert good.stdout.split()[:2] == open(key + '.pub').read().split()[:2]
    for wrong in ('', 'correct horse'):
        bad = run([SSH_KEYGEN, '-y', '-P', wrong, '-f', key], timeout=60)
        assert bad.returncode != 0 and 'passphrase' in bad.stderr
    # the public half stays readable without the passphrase, as in OpenSSH
    assert ref_fingerprint(key) == ref_fingerprint(key + '.pub')


def test_keygen_refuses_overwrite(tool, tmp_path):
    key = str(tmp_path / 'key')
    expect(tool('keygen', key), OK)
    before = open(key).read(), open(key + '.pub').read()
    expect(tool('keygen', key), EXISTS, r'refusing to overwrite: .*key already exists')
    assert (open(key).read(), open(key + '.pub').read()) == before
    # a lone FILE.pub is protected too, and no private key appears
    lone = str(tmp_path / 'lone')
    open(lone + '.pub', 'w').write('keep me\n')
    expect(tool('keygen', lone), EXISTS, r'lone\.pub already exists')
    assert not os.path.exists(lone)
    assert open(lone + '.pub').read() == 'keep me\n'


def test_keygen_errors(tool, tmp_path):
    key = str(tmp_path / 'k')
    expect(tool('keygen'), USAGE, 'which FILE')
    expect(tool('keygen', key, key + '2'), USAGE, 'one FILE only')
    expect(tool('keygen', key, '--type', 'dsa'), USAGE, 'use ed25519, ecdsa or rsa')
    expect(tool('keygen', key, '--type', 'ecdsa', '--bits', '300'), USAGE, 'does not fit')
    expect(tool('keygen', key, '--type', 'rsa', '--bits', '512'), USAGE, 'does not fit')
    expect(tool('keygen', key, '--bits', 'many'), USAGE, 'not a key size')
    expect(tool('keygen', key, '--comment', 'two\nlines'), USAGE, 'without control characters')
    expect(tool('keygen', key, '--passphrase-fd', '77'), USAGE, 'descriptor 77 is not open')
    expect(tool('keygen', key, '--passphrase-fd'), USAGE, "'--passphrase-fd' needs a value")
    with fd_with('\n') as fd:
        expect(tool('keygen', key, '--passphrase-fd', fd, pass_fds=[fd]), USAGE,
               'empty or longer')
    expect(tool('keygen', str(tmp_path / 'no' / 'dir' / 'k')), LOCAL,
           'cannot create .*No such file or directory')
    assert os.listdir(str(tmp_path)) == []


# --------------------------------------------------------------------------
# fingerprint

@pytest.mark.parametrize('ktype,bits', [('ed25519', None), ('ecdsa', 384), ('rsa', 2048)])
def test_fingerprint_matches_ssh_keygen(tool, tmp_path, ktype, bits):
    plain = keygen_ref(str(tmp_path / 'plain'), ktype, bits)
    enc = keygen_ref(str(tmp_path / 'enc'), ktype, bits, passphrase='pw pw pw')
    pem = keygen_ref(str(tmp_path / 'pem'), ktype, bits, fmt='PEM')
    os.unlink(pem + '.pub')  # an unencrypted PEM key alone still has its public half
    os.unlink(enc + '.pub')  # the OpenSSH format stores the public key in clear
    for path in (plain, plain + '.pub', enc, pem):
        res = expect(tool('fingerprint', path), OK)
        lines = res.stdout.splitlines()
        assert len(lines) == 2, res.stdout
        assert lines[0].split()[1] == ref_fingerprint(path, 'sha256')
        assert lines[1].split()[1] == ref_fingerprint(path, 'md5')
        assert re.match(r'SHA256:[A-Za-z0-9+/]{43}$', lines[0].split()[1])
        assert re.match(r'MD5(:[0-9a-f]{2}){16}$', lines[1].split()[1])
        # the rest of the line is ssh-keygen -l's: bits and type
        ref = run([SSH_KEYGEN, '-l', '-f', path], timeout=30, check=True).stdout.split()
        assert lines[0].split()[0] == ref[0] and lines[0].split()[-1] == ref[-1]
    res = expect(tool('fingerprint', '-E', 'md5', '-q', plain), OK)
    assert res.stdout == ref_fingerprint(plain, 'md5') + '\n'
    res = expect(tool('fingerprint', '--hash', 'sha256', '--quiet', plain + '.pub'), OK)
    assert res.stdout == ref_fingerprint(plain) + '\n'


def test_fingerprint_of_our_own_keys(tool, tmp_path):
    key = str(tmp_path / 'k')
    expect(tool('keygen', key, '-t', 'ecdsa'), OK)
    res = expect(tool('fingerprint', '-q', key), OK)
    assert res.stdout.split() == [ref_fingerprint(key), ref_fingerprint(key, 'md5')]


def test_fingerprint_errors(tool, tmp_path):
    expect(tool('fingerprint'), USAGE, 'which FILE')
    expect(tool('fingerprint', str(tmp_path / 'missing')), LOCAL, 'No such file or directory')
    junk = tmp_path / 'junk'
    junk.write_text('this is not a key\n')
    expect(tool('fingerprint', str(junk)), LOCAL, 'holds no key')
    # an encrypted PEM key hides its public half; without .pub nothing can be said
    pem = keygen_ref(str(tmp_path / 'pem'), 'ecdsa', passphrase='secret', fmt='PEM')
    os.unlink(pem + '.pub')
    expect(tool('fingerprint', pem), LOCAL, r'no readable .*pem\.pub')
    expect(tool('fingerprint', '-E', 'sha1', str(junk)), USAGE, 'use sha256 or md5')


# --------------------------------------------------------------------------
# host-key

def test_host_key_three_items(tool, sshd, tmp_path):
    res = expect(tool('host-key', '127.0.0.1:%d' % sshd.port, '-F', sshd.client_config), OK)
    fp, line, ktype = res.stdout.splitlines()
    assert fp == ref_fingerprint(sshd.host_key + '.pub')
    assert ktype == 'ED25519'
    hk = host_pub(sshd)
    assert line.split() == ['[127.0.0.1]:%d' % sshd.port, hk[0], hk[1]]
    # -p gives the same; OpenSSH accepts the line as a known_hosts entry
    res2 = expect(tool('host-key', '127.0.0.1', '-p', sshd.port), OK)
    assert res2.stdout == res.stdout
    kh = tmp_path / 'kh'
    kh.write_text(line + '\n')
    ok, r = openssh_login(sshd, 'root', sshd.key, str(kh))
    assert ok, r.stderr


def test_host_key_hashed_line_accepted_by_openssh(tool, sshd, tmp_path):
    res = expect(tool('host-key', '127.0.0.1:%d' % sshd.port, '--hash'), OK)
    fp, line, ktype = res.stdout.splitlines()
    fields = line.split()
    assert len(fields) == 3 and re.match(r'\|1\|[A-Za-z0-9+/]{27}=\|[A-Za-z0-9+/]{27}=$', fields[0])
    assert fields[1:] == host_pub(sshd)[:2]
    kh = tmp_path / 'kh'
    kh.write_text(line + '\n')
    ok, r = openssh_login(sshd, 'root', sshd.key, str(kh))
    assert ok, r.stderr
    # ssh-keygen -F finds the hashed entry under OpenSSH's name for the host
    found = run([SSH_KEYGEN, '-F', '[127.0.0.1]:%d' % sshd.port, '-f', str(kh)], timeout=30)
    assert found.returncode == 0 and fields[2] in found.stdout
    # a fresh salt each time
    again = expect(tool('host-key', '127.0.0.1:%d' % sshd.port, '--hash'), OK)
    assert again.stdout.splitlines()[1].split()[0] != fields[0]


@pytest.fixture(scope='module')
def multi_key_sshd(tmp_path_factory):
    """An sshd with ECDSA and RSA host keys besides the fixture's Ed25519."""
    d = tmp_path_factory.mktemp('hostkeys')
    keys = {'ecdsa': keygen_ref(str(d / 'hk_ecdsa'), 'ecdsa'),
            'rsa': keygen_ref(str(d / 'hk_rsa'), 'rsa', 2048)}
    srv = util.SshServer(config_extra='HostKey %s\nHostKey %s\n' % (keys['ecdsa'], keys['rsa']))
    try:
        srv.start()
        srv.extra_keys = keys
        yield srv
    finally:
        problems = srv.stop()
        assert not problems, problems


@pytest.mark.parametrize('ktype,short', [('ecdsa', 'ECDSA'), ('rsa', 'RSA'), ('ed25519', 'ED25519')])
def test_host_key_types(tool, multi_key_sshd, tmp_path, ktype, short):
    srv = multi_key_sshd
    res = expect(tool('host-key', '127.0.0.1:%d' % srv.port, '--type', ktype), OK)
    fp, line, got = res.stdout.splitlines()
    pubfile = srv.extra_keys[ktype] + '.pub' if ktype in srv.extra_keys else srv.host_key + '.pub'
    assert got == short
    assert fp == ref_fingerprint(pubfile)
    assert line.split()[1:] == open(pubfile).read().split()[:2]
    kh = tmp_path / 'kh'
    kh.write_text(line + '\n')
    ok, r = openssh_login(srv, 'root', srv.key, str(kh))
    assert ok, r.stderr


def _listener(reply):
    """A TCP port on 127.0.0.1 that answers every connection with reply."""
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    s.listen(8)
    stop = threading.Event()

    def serve():
        s.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = s.accept()
            except OSError:
                continue
            with c:
                try:
                    c.sendall(reply)
                    time.sleep(0.2)
                except OSError:
                    pass
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return s.getsockname()[1], lambda: (stop.set(), t.join(5), s.close())


def test_host_key_errors(tool):
    port = util.free_port()
    expect(tool('host-key', '127.0.0.1:%d' % port), CONNECT, r'refused')
    expect(tool('host-key', '[::1]:%d' % port), CONNECT, r'::1')
    expect(tool('host-key'), USAGE, 'which HOST')
    expect(tool('host-key', 'a', 'b'), USAGE, 'one HOST only')
    expect(tool('host-key', '127.0.0.1:99999'), USAGE, 'not a port number')
    expect(tool('host-key', '127.0.0.1:22', '-p', '23'), USAGE, 'disagree')
    expect(tool('host-key', '-oops'), USAGE, None)
    expect(tool('host-key', 'bad;host'), USAGE, 'not a usable host name')
    expect(tool('host-key', 'user@127.0.0.1'), USAGE, 'takes no user name')
    expect(tool('host-key', '[::1'), USAGE, 'IPv6 address in brackets')
    expect(tool('host-key', '127.0.0.1', '--type', 'dsa'), USAGE, 'use ed25519, ecdsa or rsa')
    expect(tool('host-key', '127.0.0.1', '-o', 'NoSuchOption=1'), USAGE, 'NoSuchOption')
    expect(tool('host-key', 'host.invalid'), CONNECT, r'host\.invalid')
    lport, close = _listener(b'HTTP/1.0 400 Bad Request\r\n\r\n')
    try:
        expect(tool('host-key', '127.0.0.1:%d' % lport), CONNECT, r'not an SSH server|HTTP')
    finally:
        close()


# --------------------------------------------------------------------------
# known-hosts-add

def test_known_hosts_add_once(tool, sshd, tmp_path):
    kh = tmp_path / 'known_hosts'
    spec = '127.0.0.1:%d' % sshd.port
    res = expect(tool('known-hosts-add', spec, '--file', kh), OK)
    assert 'Added the ED25519 key of [127.0.0.1]:%d' % sshd.port in res.stdout
    first = kh.read_text()
    assert first == '[127.0.0.1]:%d %s %s\n' % ((sshd.port,) + tuple(host_pub(sshd)[:2]))
    res = expect(tool('known-hosts-add', spec, '--file', kh), OK)
    assert 'already has' in res.stdout and '(line 1)' in res.stdout
    assert kh.read_text() == first
    ok, r = openssh_login(sshd, 'root', sshd.key, str(kh))
    assert ok, r.stderr


def test_known_hosts_add_sees_hashed_and_hashes(tool, sshd, tmp_path):
    spec = '127.0.0.1:%d' % sshd.port
    kh = tmp_path / 'kh'
    # a file that ends without a newline, then the hashed entry
    kh.write_text('# comment\nother.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJZBSjFN'
                  'zOlfc4YHoKA+lK1UvlJD4sg1GXWBrhexD9mz')
    expect(tool('known-hosts-add', spec, '--file', kh, '--hash'), OK)
    lines = kh.read_text().splitlines()
    assert len(lines) == 3 and lines[2].startswith('|1|')
    assert lines[1].startswith('other.example ')
    # a plain run recognises the hashed entry
    res = expect(tool('known-hosts-add', spec, '--file', kh), OK)
    assert '(line 3)' in res.stdout
    assert len(kh.read_text().splitlines()) == 3
    ok, r = openssh_login(sshd, 'root', sshd.key, str(kh))
    assert ok, r.stderr
    # and an entry OpenSSH itself hashed (ssh-keygen -H) counts as well
    kh2 = tmp_path / 'kh2'
    kh2.write_text('[127.0.0.1]:%d %s %s\n' % ((sshd.port,) + tuple(host_pub(sshd)[:2])))
    run([SSH_KEYGEN, '-H', '-f', str(kh2)], timeout=30, check=True)
    hashed = kh2.read_text()
    assert hashed.startswith('|1|')
    expect(tool('known-hosts-add', spec, '--file', kh2), OK)
    assert kh2.read_text() == hashed


def test_known_hosts_add_fingerprint(tool, sshd, tmp_path):
    spec = '127.0.0.1:%d' % sshd.port
    good = ref_fingerprint(sshd.host_key + '.pub')
    kh = tmp_path / 'kh'
    wrong = good[:-1] + ('A' if good[-1] != 'A' else 'B')
    res = expect(tool('known-hosts-add', spec, '--file', kh, '--fingerprint', wrong), MISMATCH,
                 r'shows the ED25519 key %s .*not %s' % (re.escape(good), re.escape(wrong)))
    assert 'nothing was written' in res.stderr
    assert not kh.exists()
    md5 = ref_fingerprint(sshd.host_key + '.pub', 'md5')
    expect(tool('known-hosts-add', spec, '--file', kh, '--fingerprint', md5.upper().replace('MD5', 'md5')),
           OK)
    assert len(kh.read_text().splitlines()) == 1
    kh.unlink()
    expect(tool('known-hosts-add', spec, '--file', kh, '--fingerprint', good), OK)
    expect(tool('known-hosts-add', spec, '--file', kh, '--fingerprint', 'abc'), USAGE,
           'SHA256:... or MD5')


def test_known_hosts_add_refuses_changed_key(tool, sshd, tmp_path):
    spec = '127.0.0.1:%d' % sshd.port
    other = keygen_ref(str(tmp_path / 'other'))
    kh = tmp_path / 'kh'
    text = '[127.0.0.1]:%d %s\n' % (sshd.port, ' '.join(open(other + '.pub').read().split()[:2]))
    kh.write_text(text)
    expect(tool('known-hosts-add', spec, '--file', kh), MISMATCH,
           r'line 1 holds another ssh-ed25519 key .*a new key, or someone in the middle')
    assert kh.read_text() == text
    # a wildcard pattern that covers the host counts the same
    kh.write_text('[127.0.0.*]:%d,!nothing %s\n' % (sshd.port, ' '.join(open(other + '.pub').read().split()[:2])))
    expect(tool('known-hosts-add', spec, '--file', kh), MISMATCH, 'line 1 holds another')
    # @revoked for the server's own key
    kh.write_text('@revoked * %s\n' % ' '.join(host_pub(sshd)[:2]))
    expect(tool('known-hosts-add', spec, '--file', kh), MISMATCH, 'as @revoked')


def test_known_hosts_add_errors(tool, sshd, tmp_path):
    expect(tool('known-hosts-add', '127.0.0.1:%d' % util.free_port(), '--file', tmp_path / 'k'),
           CONNECT, 'refused')
    assert not (tmp_path / 'k').exists()
    expect(tool('known-hosts-add', '127.0.0.1:%d' % sshd.port, '--file', tmp_path / 'no/dir/kh'),
           LOCAL, 'cannot open .*No such file')
    expect(tool('known-hosts-add'), USAGE, 'which HOST')


@pytest.fixture
def home_user():
    """HOME_USER with an empty ~/.ssh, serialised across test sessions."""
    import pwd
    with open(HOME_LOCK, 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        uid, gid, home = util.ensure_user(HOME_USER)
        util.set_password(HOME_USER, TEST_PASSWORD)
        sshdir = os.path.join(home, '.ssh')
        shutil.rmtree(sshdir, ignore_errors=True)
        os.chmod(home, 0o755)
        try:
            yield pwd.getpwnam(HOME_USER)
        finally:
            shutil.rmtree(sshdir, ignore_errors=True)


def as_user(pw, cmd):
    return ['setpriv', '--reuid', str(pw.pw_uid), '--regid', str(pw.pw_gid), '--init-groups',
            '--'] + cmd


def test_known_hosts_add_default_file(tool, sshd, home_user):
    """Without --file: the user's own ~/.ssh/known_hosts from the password
    database (HOME is set to somewhere else on purpose), ~/.ssh made 0700."""
    env = _clean_env()
    env['HOME'] = '/nonexistent'
    res = run(as_user(home_user, [tool.path, 'known-hosts-add', '127.0.0.1:%d' % sshd.port]),
              env=env, timeout=60)
    expect(res, OK)
    sshdir = os.path.join(home_user.pw_dir, '.ssh')
    st = os.stat(sshdir)
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == home_user.pw_uid
    kh = os.path.join(sshdir, 'known_hosts')
    assert open(kh).read().split() == ['[127.0.0.1]:%d' % sshd.port] + host_pub(sshd)[:2]
    assert os.stat(kh).st_uid == home_user.pw_uid
    # -o UserKnownHostsFile=~/... is the default file then, ~ from the same place
    res = run(as_user(home_user, [tool.path, 'known-hosts-add', '127.0.0.1:%d' % sshd.port,
                                  '-o', 'UserKnownHostsFile=~/.ssh/other_kh']), env=env, timeout=60)
    expect(res, OK)
    assert 'other_kh' in res.stdout
    assert open(os.path.join(sshdir, 'other_kh')).read() == open(kh).read()


# --------------------------------------------------------------------------
# copy-id

@pytest.fixture
def ak_server(make_sshd):
    """An sshd reading authorized_keys from a directory of ours:
    <base>/<user>/.ssh/authorized_keys, created by copy-id."""
    import pwd
    base = tempfile.mkdtemp(prefix='smcid-', dir='/tmp')
    os.chmod(base, 0o755)
    pw = pwd.getpwnam(TEST_USER)
    os.mkdir(os.path.join(base, TEST_USER), 0o755)
    os.chown(os.path.join(base, TEST_USER), pw.pw_uid, pw.pw_gid)
    try:
        srv = make_sshd(config_extra='AuthorizedKeysFile %s/%%u/.ssh/authorized_keys\n' % base)
        srv.ak = os.path.join(base, TEST_USER, '.ssh', 'authorized_keys')
        yield srv
    finally:
        shutil.rmtree(base, ignore_errors=True)


def copy_id(tool, srv, pub, *extra, user=TEST_USER, password=TEST_PASSWORD, ak=None, **kw):
    args = ['copy-id', '-i', pub, '-p', srv.port, '-F', srv.client_config,
            '-o', 'UserKnownHostsFile=' + srv.known_hosts]
    if ak or getattr(srv, 'ak', None):
        args += ['--authorized-keys', ak or srv.ak]
    if password is not None:
        args += ['--password-stdin']
    args += list(extra) + ['%s@%s' % (user, srv.host)]
    return tool(*args, input=(password + '\n') if password is not None else None, **kw)


def test_copy_id_installs_once_and_proves_login(tool, ak_server, tmp_path):
    srv = ak_server
    key = str(tmp_path / 'new')
    expect(tool('keygen', key, '-C', 'copy-id test'), OK)
    res = expect(copy_id(tool, srv, key + '.pub'), OK)
    assert 'Installed the ssh-ed25519 key' in res.stdout
    assert 'Key login works: logged in with %s alone' % key in res.stdout
    pub = open(key + '.pub').read()
    assert open(srv.ak).read() == pub
    assert stat.S_IMODE(os.stat(srv.ak).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(srv.ak)).st_mode) == 0o700
    assert os.stat(srv.ak).st_uid == os.stat(os.path.dirname(os.path.dirname(srv.ak))).st_uid
    # twice: still one line
    res = expect(copy_id(tool, srv, key + '.pub'), OK)
    assert 'Already there' in res.stdout and 'Key login works' in res.stdout
    assert open(srv.ak).read() == pub
    # OpenSSH logs in with that key alone
    ok, r = openssh_login(srv, TEST_USER, key, srv.known_hosts)
    assert ok, r.stderr


def test_copy_id_keeps_other_lines_and_options(tool, ak_server, tmp_path):
    srv = ak_server
    k1, k2 = str(tmp_path / 'k1'), str(tmp_path / 'k2')
    expect(tool('keygen', k1, '-t', 'ecdsa'), OK)
    expect(tool('keygen', k2, '-t', 'rsa', '-b', '2048'), OK)
    os.makedirs(os.path.dirname(srv.ak), mode=0o700)
    b1 = open(k1 + '.pub').read().split()
    # k1 already there with options and no final newline
    with open(srv.ak, 'w') as f:
        f.write('# mine\nno-pty,from="127.0.0.1" %s %s other comment' % (b1[0], b1[1]))
    import pwd
    pw = pwd.getpwnam(TEST_USER)
    for p in (os.path.dirname(srv.ak), srv.ak):
        os.chown(p, pw.pw_uid, pw.pw_gid)
    expect(copy_id(tool, srv, k1 + '.pub'), OK)
    assert open(srv.ak).read().count(b1[1]) == 1
    # k2 is appended on a line of its own; login with k1 (no password)
    res = expect(copy_id(tool, srv, k2 + '.pub', '-o', 'IdentityFile=' + k1, password=None), OK)
    assert 'Installed the ssh-rsa key' in res.stdout
    lines = open(srv.ak).read().splitlines()
    assert len(lines) == 3 and lines[2] == open(k2 + '.pub').read().strip()
    ok, r = openssh_login(srv, TEST_USER, k2, srv.known_hosts)
    assert ok, r.stderr


def test_copy_id_default_path(tool, make_sshd, home_user, tmp_path):
    """The plain case: ~/.ssh/authorized_keys of the remote account,
    created 0700/0600 and owned by it."""
    srv = make_sshd(config_extra='AuthorizedKeysFile .ssh/authorized_keys\n')
    key = str(tmp_path / 'k')
    expect(tool('keygen', key), OK)
    res = expect(copy_id(tool, srv, key + '.pub', user=HOME_USER, ak=None), OK)
    assert '~/.ssh/authorized_keys' in res.stdout and 'Key login works' in res.stdout
    sshdir = os.path.join(home_user.pw_dir, '.ssh')
    ak = os.path.join(sshdir, 'authorized_keys')
    assert stat.S_IMODE(os.stat(sshdir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(ak).st_mode) == 0o600
    assert os.stat(ak).st_uid == home_user.pw_uid
    expect(copy_id(tool, srv, key + '.pub', user=HOME_USER), OK)
    assert open(ak).read() == open(key + '.pub').read()
    ok, r = openssh_login(srv, HOME_USER, key, srv.known_hosts)
    assert ok, r.stderr


def test_copy_id_askpass_and_encrypted_key(tool, ak_server, tmp_path):
    srv = ak_server
    key = str(tmp_path / 'enc')
    with fd_with('key pass\n') as fd:
        expect(tool('keygen', key, '--passphrase-fd', fd, '-a', '2', pass_fds=[fd]), OK)
    marker = tmp_path / 'asked'
    askpass = tmp_path / 'askpass.sh'
    askpass.write_text('#!/bin/sh\necho "$1" >> %s\necho %s\n' % (marker, TEST_PASSWORD))
    askpass.chmod(0o755)
    # without the passphrase: installed, and the server's acceptance is proven
    res = expect(copy_id(tool, srv, key + '.pub', '--askpass', askpass, password=None), OK)
    assert 'The server accepts the key' in res.stdout and 'needs its passphrase' in res.stdout
    assert 'password' in marker.read_text()
    # with it: the full login
    with fd_with('key pass\n') as fd:
        res = expect(copy_id(tool, srv, key + '.pub', '--passphrase-fd', fd, pass_fds=[fd]), OK)
    assert 'Key login works' in res.stdout
    assert open(srv.ak).read().count('\n') == 1
    # a login that needs no password does not ask the program
    marker.unlink()
    plain, other = str(tmp_path / 'plain'), str(tmp_path / 'other')
    expect(tool('keygen', plain), OK)
    expect(tool('keygen', other), OK)
    expect(copy_id(tool, srv, plain + '.pub'), OK)
    expect(copy_id(tool, srv, other + '.pub', '-o', 'IdentityFile=' + plain, '--askpass', askpass,
                   password=None), OK)
    assert not marker.exists()
    assert open(srv.ak).read().count('\n') == 3


def test_copy_id_errors(tool, ak_server, sshd, tmp_path):
    srv = ak_server
    key = str(tmp_path / 'k')
    expect(tool('keygen', key), OK)
    pub = key + '.pub'
    expect(copy_id(tool, srv, pub, password='wrong password'), AUTH, 'authentication|password')
    assert not os.path.exists(srv.ak)
    expect(copy_id(tool, srv, str(tmp_path / 'missing.pub')), LOCAL, 'No such file')
    empty = tmp_path / 'empty_kh'
    empty.write_text('')
    expect(tool('copy-id', '-i', pub, '-p', srv.port, '-o', 'UserKnownHostsFile=%s' % empty,
                '--password-stdin', '%s@127.0.0.1' % TEST_USER, input=TEST_PASSWORD + '\n'),
           UNKNOWN_HOST, r'known-hosts-add')
    other = keygen_ref(str(tmp_path / 'otherhost'))
    changed = tmp_path / 'changed_kh'
    changed.write_text('[127.0.0.1]:%d %s\n' % (srv.port, ' '.join(open(other + '.pub').read().split()[:2])))
    expect(tool('copy-id', '-i', pub, '-p', srv.port, '-o', 'UserKnownHostsFile=%s' % changed,
                '--password-stdin', '%s@127.0.0.1' % TEST_USER, input=TEST_PASSWORD + '\n'),
           MISMATCH, r'changed|differ|SHA256')
    expect(tool('copy-id', '-i', pub, '%s@127.0.0.1:%d' % (TEST_USER, util.free_port())),
           CONNECT, 'refused')
    expect(tool('copy-id', '-i', pub), USAGE, 'which HOST')
    expect(tool('copy-id', '-i', pub, 'x y'), USAGE, 'not a usable host name')
    # the remote script fails: a directory the user cannot write
    res = expect(copy_id(tool, srv, pub, ak='/root/forbidden/.ssh/authorized_keys'), REMOTE,
                 'installing the key failed on the remote side')
    assert 'cannot create' in res.stderr
    # installed where sshd does not look: the proof fails
    elsewhere = tempfile.mkdtemp(prefix='smcid-notread-', dir='/tmp')
    os.rmdir(elsewhere)  # the remote user creates it
    try:
        expect(copy_id(tool, srv, pub, ak=elsewhere + '/ak'), AUTH,
               'the key is in the file, but the server does not accept it')
    finally:
        shutil.rmtree(elsewhere, ignore_errors=True)


# --------------------------------------------------------------------------
# agent-start / agent-unlock

def parse_sh(out):
    env = dict(re.findall(r'^(SSH_AUTH_SOCK|SSH_AGENT_PID)=([^;]+); export \1;$', out, re.M))
    return env


@pytest.fixture
def agent_env(tool):
    """An ssh-agent started by agent-start; killed afterwards."""
    started = []

    def start(env=None, *args):
        res = expect(tool('agent-start', *args, env=env or _clean_env()), OK)
        vars_ = parse_sh(res.stdout)
        assert 'SSH_AUTH_SOCK' in vars_ and vars_.get('SSH_AGENT_PID', '').isdigit(), res.stdout
        started.append(int(vars_['SSH_AGENT_PID']))
        env2 = _clean_env()
        env2.update(vars_)
        return env2, res
    yield start
    for pid in started:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    assert util.wait_pids_gone(started, 10)


def agent_fingerprints(env):
    res = run([SSH_ADD, '-l'], env=env, timeout=30)
    return re.findall(r'SHA256:\S+', res.stdout)


def test_agent_start_and_reuse(tool, agent_env):
    env, res = agent_env()
    assert 'started ssh-agent, pid %s' % env['SSH_AGENT_PID'] in res.stderr
    sock = env['SSH_AUTH_SOCK']
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    assert run([SSH_ADD, '-l'], env=env, timeout=30).returncode == 1  # answers: no identities
    # one answers now: the same lines, nothing started
    again = expect(tool('agent-start', env=env), OK)
    assert parse_sh(again.stdout) == {'SSH_AUTH_SOCK': sock, 'SSH_AGENT_PID': env['SSH_AGENT_PID']}
    assert 'already answers on %s (0 keys)' % sock in again.stderr
    fish = expect(tool('agent-start', '--fish', env=env), OK)
    assert fish.stdout == 'set -gx SSH_AUTH_SOCK %s;\nset -gx SSH_AGENT_PID %s;\n' % (
        sock, env['SSH_AGENT_PID'])
    # the sh lines work in a real shell
    res = run(['/bin/sh', '-c', again.stdout + '\n' + SSH_ADD + ' -l >/dev/null; echo $?'],
              env=_clean_env(), timeout=30)
    assert res.stdout.strip() == '1'


def test_agent_start_replaces_dead_socket(tool, agent_env, tmp_path):
    env = _clean_env()
    env['SSH_AUTH_SOCK'] = str(tmp_path / 'gone.sock')
    env2, res = agent_env(env)
    assert 'does not answer' in res.stderr and 'starting a new agent' in res.stderr
    assert env2['SSH_AUTH_SOCK'] != env['SSH_AUTH_SOCK']


def test_agent_start_errors(tool, tmp_path):
    expect(tool('agent-start', '--ssh-agent', '/bin/false'), AGENT, r'/bin/false failed')
    expect(tool('agent-start', '--ssh-agent', str(tmp_path / 'nope')), AGENT, 'ssh-agent not found')
    talker = tmp_path / 'talker'
    talker.write_text('#!/bin/sh\necho hello\n')
    talker.chmod(0o755)
    expect(tool('agent-start', '--ssh-agent', talker), AGENT, 'no SSH_AUTH_SOCK in the output')
    expect(tool('agent-start', 'extra'), USAGE, "unexpected argument 'extra'")


def test_agent_unlock_plain_key(tool, agent_env, tmp_path):
    env, _ = agent_env()
    key = str(tmp_path / 'k')
    expect(tool('keygen', key), OK)
    fp = ref_fingerprint(key)
    res = expect(tool('agent-unlock', key, env=env), OK)
    assert 'Added %s to the agent: %s' % (key, fp) in res.stdout
    assert agent_fingerprints(env) == [fp]
    res = expect(tool('agent-unlock', key, env=env), OK)
    assert 'already in the agent' in res.stdout
    res = expect(tool('agent-unlock', '--force', key, env=env), OK)
    assert 'removed %s from the agent (--force)' % fp in res.stderr and 'Added' in res.stdout
    assert agent_fingerprints(env) == [fp]


@pytest.mark.parametrize('ktype', ['ed25519', 'rsa'])
def test_agent_unlock_passphrase_fd(tool, agent_env, tmp_path, ktype):
    env, _ = agent_env()
    key = keygen_ref(str(tmp_path / 'k'), ktype, 2048 if ktype == 'rsa' else None,
                     passphrase='sesame open')
    with fd_with('wrong\n') as fd:
        expect(tool('agent-unlock', key, '--passphrase-fd', fd, env=env, pass_fds=[fd]), AUTH,
               'wrong passphrase for')
    assert agent_fingerprints(env) == []
    with fd_with('sesame open\n') as fd:
        expect(tool('agent-unlock', key, '--passphrase-fd', fd, env=env, pass_fds=[fd]), OK)
    assert agent_fingerprints(env) == [ref_fingerprint(key)]
    # --force with a wrong passphrase: refused before anything is removed
    with fd_with('wrong\n') as fd:
        res = expect(tool('agent-unlock', '--force', key, '--passphrase-fd', fd, env=env,
                          pass_fds=[fd]), AUTH, 'wrong passphrase')
    assert 'removed' not in res.stderr
    assert agent_fingerprints(env) == [ref_fingerprint(key)]


def test_agent_unlock_askpass_and_no_terminal(tool, agent_env, tmp_path):
    env, _ = agent_env()
    key = keygen_ref(str(tmp_path / 'k'), 'ecdsa', passphrase='via askpass')
    # no fd, no askpass, no terminal (the run has no controlling tty)
    expect(tool('agent-unlock', key, env=env), AUTH, 'no terminal, no --passphrase-fd')
    askpass = tmp_path / 'ap'
    askpass.write_text('#!/bin/sh\necho "via askpass"\n')
    askpass.chmod(0o755)
    expect(tool('agent-unlock', key, '--askpass', askpass, env=env), OK)
    assert agent_fingerprints(env) == [ref_fingerprint(key)]
    # $SSH_ASKPASS is honoured as BiT sets it
    env2 = dict(env, SSH_ASKPASS=str(askpass))
    expect(tool('agent-unlock', '--force', key, env=env2), OK)
    # an encrypted PEM key without .pub: its identity is learnt after decryption
    pem = keygen_ref(str(tmp_path / 'pem'), 'rsa', 2048, passphrase='via askpass', fmt='PEM')
    os.unlink(pem + '.pub')
    expect(tool('agent-unlock', pem, '--askpass', askpass, env=env), OK)
    assert len(agent_fingerprints(env)) == 2
    res = expect(tool('agent-unlock', pem, '--askpass', askpass, env=env), OK)
    assert 'already in the agent' in res.stdout and 'Added' not in res.stdout


def test_agent_unlock_errors(tool, agent_env, tmp_path):
    key = str(tmp_path / 'k')
    expect(tool('keygen', key), OK)
    expect(tool('agent-unlock', key), AGENT, 'no ssh-agent answers on SSH_AUTH_SOCK')
    env, _ = agent_env()
    expect(tool('agent-unlock', str(tmp_path / 'missing'), env=env), LOCAL, 'No such file')
    junk = tmp_path / 'junk'
    junk.write_text('junk\n')
    expect(tool('agent-unlock', junk, env=env), LOCAL, 'not a key file')
    expect(tool('agent-unlock', key, '--ssh-add', tmp_path / 'nope', env=env), AGENT,
           'ssh-add not found')
    expect(tool('agent-unlock', key, '--ssh-add', '/bin/false', env=env), AGENT, 'failed')
    expect(tool('agent-unlock', key, 'second', env=env), USAGE, 'one KEY only')
    assert agent_fingerprints(env) == []


def test_askpass_fd_mode(tool):
    """What ssh-add sees: "$SSH_ASKPASS PROMPT" prints the line from the fd,
    then an empty answer (so a wrong passphrase cannot loop)."""
    env = _clean_env()
    r, w = os.pipe()
    os.write(w, b'the secret\n')
    os.close(w)
    try:
        env['SSHMOUNTFS_ASKPASS_FD'] = str(r)
        res = run([tool.path, 'Enter passphrase for key:'], env=env, timeout=30, pass_fds=[r])
        assert res.returncode == 0 and res.stdout == 'the secret\n'
        res = run([tool.path, 'Bad passphrase, try again:'], env=env, timeout=30, pass_fds=[r])
        assert res.returncode == 0 and res.stdout == ''
    finally:
        os.close(r)


# --------------------------------------------------------------------------
# benchmark-ciphers

ROW = re.compile(r'^(\S+)\s+(\d+\.\d)$')


def test_benchmark_ciphers_table(tool, sshd):
    res = expect(tool('benchmark-ciphers', '--size', '4', '--runs', '1', *conn_opts(sshd),
                      'root@127.0.0.1', timeout=300), OK)
    lines = res.stdout.splitlines()
    assert lines[0].split() == ['Cipher', 'MB/s']
    rows = [ROW.match(line) for line in lines[1:] if ROW.match(line)]
    names = [m.group(1) for m in rows]
    speeds = [float(m.group(2)) for m in rows]
    assert 'aes128-gcm@openssh.com' in names and 'chacha20-poly1305@openssh.com' in names
    assert speeds == sorted(speeds, reverse=True) and min(speeds) > 0
    assert '\r' not in res.stdout and '\x1b' not in res.stdout  # no progress off a terminal
    # sshd's default Ciphers lack CBC: listed as not offered, not measured
    assert re.search(r'^Not offered by the server: .*aes128-cbc', res.stdout, re.M)
    assert '(4 MiB per run, best of 1 run;' in res.stdout
    # one connection per cipher, each with that cipher only
    log = sshd.log()
    for name in names:
        assert 'kex: client->server cipher: %s ' % name in log, name


def test_benchmark_ciphers_progress_on_terminal(tool, sshd):
    master, slave = pty.openpty()
    proc = subprocess.Popen([tool.path, 'benchmark-ciphers', '--size', '4', '--runs', '1',
                             '--ciphers', 'aes128-gcm@openssh.com'] + conn_opts(sshd) +
                            ['root@127.0.0.1'], stdout=slave, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=_clean_env(), start_new_session=True)
    os.close(slave)
    out = b''
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        assert proc.wait(30) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
        proc.stderr.close()
    text = out.decode(errors='replace')
    assert re.search(r'\raes128-gcm@openssh\.com\s+run 1/1\s+\d+%', text), text
    assert re.search(r'aes128-gcm@openssh\.com\s+\d+\.\d', text)


def test_benchmark_ciphers_errors(tool, sshd):
    target = 'root@127.0.0.1'
    expect(tool('benchmark-ciphers', '--size', '0', target), USAGE, 'MiB from 1 to 4096')
    expect(tool('benchmark-ciphers', '--ciphers', 'rot13', target), USAGE, "does not offer 'rot13'")
    expect(tool('benchmark-ciphers', target, '-p', util.free_port()), CONNECT, 'refused')
    expect(tool('benchmark-ciphers', '--ciphers', 'aes128-cbc', '--size', '1', *conn_opts(sshd),
                target), CONNECT, 'offers none of the ciphers')
    expect(tool('benchmark-ciphers', '--size', '1', '--ciphers', 'aes128-ctr',
                *conn_opts(sshd, key='/nonexistent/key'), '-o', 'BatchMode=yes', target), AUTH, None)
    expect(tool('benchmark-ciphers'), USAGE, 'which HOST')


# --------------------------------------------------------------------------
# random-id

def test_random_id_default_and_uniqueness(tool):
    ids = [expect(tool('random-id'), OK).stdout for _ in range(40)]
    for i in ids:
        assert re.match(r'^[A-Z0-9]{6}\n$', i), i
    assert len(set(ids)) == len(ids)  # 36^6 values: a repeat in 40 draws is ~3e-7


def test_random_id_set_and_size(tool):
    out = expect(tool('random-id', '--size', '4096', '--chars', 'ab'), OK).stdout.strip()
    assert len(out) == 4096 and set(out) == {'a', 'b'}
    # uniform: 2048 expected, 6 standard deviations is 192
    assert abs(out.count('a') - 2048) < 192
    out = expect(tool('random-id', '-s', '1', '-c', 'Z'), OK).stdout
    assert out == 'Z\n'
    out = expect(tool('random-id', '--size', '64', '--chars', '0123456789abcdef'), OK).stdout
    assert re.match(r'^[0-9a-f]{64}\n$', out)


@pytest.mark.parametrize('args,msg', [
    (['--size', '0'], 'a length from 1 to 4096'),
    (['--size', '4097'], 'a length from 1 to 4096'),
    (['--size', '-3'], 'a length from 1 to 4096'),
    (['--chars', ''], 'the set is empty'),
    (['--chars', 'abca'], 'listed twice'),
    (['--chars', 'a b'], 'printable ASCII'),
    (['--chars', 'é'], 'printable ASCII'),
    (['extra'], "unexpected argument 'extra'"),
])
def test_random_id_errors(tool, args, msg):
    expect(tool('random-id', *args), USAGE, msg)


# --------------------------------------------------------------------------
# the man page

def test_man_page_documents_every_command(tool):
    assert os.path.exists(MAN_PAGE), 'doc/sshmountfs-tool.1 is missing'
    text = open(MAN_PAGE).read()
    for name in COMMANDS:
        assert re.search(r'^\.SS\s+"?%s\b' % re.escape(name), text, re.M), name
    for code in range(10):
        assert re.search(r'^\.IP\s+%d\b' % code, text, re.M), 'exit status %d' % code
    assert r'\-\-json' in text
    # groff renders it without a warning
    res = run(['groff', '-man', '-ww', '-z', MAN_PAGE], timeout=60)
    assert res.returncode == 0 and res.stderr == '', res.stderr
