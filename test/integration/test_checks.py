"""Pre-mount checks against a real sshd: `sshmountfs-tool check` (every
check, --json and text) and `sshmountfs` itself for a few failures.

Every failure asserts the message ("sshmountfs: <check>: ..." on stderr),
the exit status (10 + the failing check's index for the tool, 32 for
sshmountfs), the --json record (outcome, reason, message), and that nothing
got mounted. The passing runs of both plans validate the --json schema that
checks/report.h documents.
"""

import errno
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

import util
from util import SSH_KEYGEN, TEST_USER, run

CHECKS = ['reachable', 'known-host', 'login', 'cipher', 'commands', 'hardlink', 'folder']
OUTCOMES = {'passed', 'failed', 'skipped', 'not-run'}
REASONS = {
    'reachable': {'dns', 'connection-refused', 'timeout', 'unreachable', 'not-ssh', 'no-banner',
                  'internal', 'ssh-config', 'ssh-connect'},
    'known-host': {'unknown-host-key', 'changed-host-key', 'known-hosts-error'},
    'login': {'denied', 'passphrase-needed', 'error'},
    'cipher': {'no-common-cipher', 'unsupported-cipher'},
    'commands': {'missing-command', 'command-failed', 'no-shell', 'exec-refused', 'bad-option'},
    'hardlink': {'no-hardlink-extension', 'link-denied', 'not-same-file', 'setup-failed'},
    'folder': {'not-a-directory', 'not-writable', 'not-searchable', 'create-failed', 'no-home',
               'no-sftp', 'io'},
}
EXIT_FAILED = {name: 10 + i for i, name in enumerate(CHECKS)}
MOUNT_FAILURE = 32
LIGHT = {'reachable', 'known-host', 'login', 'folder'}


# --------------------------------------------------------------------------
# helpers

def validate(records):
    """The --json schema of checks/report.h, strictly."""
    assert isinstance(records, list) and len(records) == len(CHECKS)
    for rec, name in zip(records, CHECKS):
        assert set(rec) == {'check', 'outcome', 'reason', 'message', 'hint', 'detail',
                            'warning', 'seconds', 'attempts'}, rec
        assert rec['check'] == name
        assert rec['outcome'] in OUTCOMES
        for k in ('reason', 'message', 'hint', 'detail', 'warning'):
            assert isinstance(rec[k], str)
        assert rec['outcome'] == 'passed' or rec['warning'] == ''
        assert isinstance(rec['seconds'], (int, float)) and rec['seconds'] >= 0
        assert isinstance(rec['attempts'], int) and rec['attempts'] >= 0
        if rec['outcome'] == 'passed':
            assert rec['reason'] == 'ok' and rec['hint'] == '' and rec['message']
        elif rec['outcome'] == 'skipped':
            assert rec['reason'] == 'skipped' and rec['message']
        elif rec['outcome'] == 'not-run':
            assert rec['reason'] == '' and rec['message'] == '' and rec['seconds'] == 0
        else:
            assert rec['reason'] in REASONS[name], rec
            assert rec['message'] and rec['hint'], rec
        if name != 'reachable':
            assert rec['attempts'] == 0
    return {r['check']: r for r in records}


class Checker:
    """Runs `sshmountfs-tool check` against one sshd."""

    def __init__(self, tool, srv):
        self.tool = tool
        self.srv = srv

    def opts(self, port=None, key=None, known_hosts=None):
        return ['-p', str(port or self.srv.port), '-F', self.srv.client_config,
                '-o', 'IdentityFile=' + (key or self.srv.key),
                '-o', 'UserKnownHostsFile=' + (known_hosts or self.srv.known_hosts)]

    def run(self, path, *extra, user=TEST_USER, light=False, port=None, key=None,
            known_hosts=None, timeout=60):
        args = [self.tool, 'check', '%s@127.0.0.1:%s' % (user, path), '--json']
        args += self.opts(port, key, known_hosts) + list(extra)
        if light:
            args.append('--light')
        t0 = time.monotonic()
        # No terminal, no agent: as a mount started by autofs or cron.
        res = run(args, timeout=timeout, env=self.srv.env())
        res.elapsed = time.monotonic() - t0
        assert res.stdout.strip(), 'no JSON on stdout; stderr: ' + res.stderr
        res.records = validate(json.loads(res.stdout))
        return res

    def fails(self, check, reason, path, *extra, **kw):
        """Runs and asserts that 'check' failed with 'reason', and only it."""
        res = self.run(path, *extra, **kw)
        rec = res.records[check]
        assert rec['outcome'] == 'failed' and rec['reason'] == reason, (rec, res.stderr)
        assert res.returncode == EXIT_FAILED[check], (res.returncode, res.stderr)
        failed = [n for n, r in res.records.items() if r['outcome'] == 'failed']
        assert failed == [check]
        first = res.stderr.splitlines()[0]
        assert first == 'sshmountfs: %s: %s' % (check, rec['message']), res.stderr
        assert '  hint: ' + rec['hint'] in res.stderr
        # The checks after the failing one did not run (a transport without
        # SSH marks the SSH checks skipped up front).
        order = ['reachable', 'known-host', 'login', 'cipher', 'commands', 'folder', 'hardlink']
        for later in order[order.index(check) + 1:]:
            assert res.records[later]['outcome'] in ('not-run', 'skipped'), res.records[later]
            assert res.records[later]['outcome'] == 'not-run' or later not in ('folder',
                                                                               'hardlink')
        return res


@pytest.fixture(scope='module')
def tool(bin_path):
    return bin_path('sshmountfs-tool')


@pytest.fixture(scope='module')
def chk(tool, sshd):
    return Checker(tool, sshd)


def mount_fails(bin_path, srv, spec, mnt, *extra, known_hosts=None, port=None, key=None):
    """sshmountfs must refuse: exit 32, the check's message, nothing mounted."""
    exe = bin_path('sshmountfs')
    args = [exe, spec, mnt, '-p', str(port or srv.port), '-F', srv.client_config,
            '-o', 'IdentityFile=' + (key or srv.key),
            '-o', 'UserKnownHostsFile=' + (known_hosts or srv.known_hosts)] + list(extra)
    res = run(args, timeout=60, env=srv.env())
    assert res.returncode == MOUNT_FAILURE, (res.returncode, res.stdout, res.stderr)
    assert not util.is_mounted(mnt)
    assert not util.fuse_daemon_pids(mnt)
    return res


def listener(reply):
    """A TCP listener on 127.0.0.1 that answers each connection with 'reply'
    (None: says nothing) and keeps it open until the peer leaves."""
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen(16)
    srv.settimeout(0.2)
    stop = threading.Event()
    conns = []

    def serve():
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except (socket.timeout, OSError):
                continue
            conns.append(c)
            if reply is not None:
                try:
                    c.sendall(reply)
                except OSError:
                    pass
    th = threading.Thread(target=serve, daemon=True)
    th.start()

    def close():
        stop.set()
        th.join(5)
        for c in conns:
            c.close()
        srv.close()
    return srv.getsockname()[1], conns, close


def no_leftovers(path):
    """No probe file or hard-link test directory left behind."""
    left = [n for n in os.listdir(path)
            if n.startswith('tmp_sshmountfs_') or n.startswith('.sshmountfs-probe-')]
    assert left == []


# --------------------------------------------------------------------------
# passing runs

def test_full_plan_passes_and_creates_the_path(chk, sshd):
    base = sshd.remote_dir()
    path = os.path.join(base, 'new', 'deeper', 'dir')
    res = chk.run(path)
    assert res.returncode == 0, res.stderr
    r = res.records
    for name in CHECKS:
        assert r[name]['outcome'] == 'passed', r[name]
    assert r['reachable']['attempts'] == 1
    assert r['reachable']['message'].startswith('127.0.0.1:%d answers: SSH-2.0-' % sshd.port)
    assert re.search(r'^host key SHA256:\S+ accepted$', r['known-host']['message'])
    assert r['login']['message'] == 'logged in as %s@127.0.0.1' % TEST_USER
    assert r['cipher']['message'].startswith('negotiated ')
    assert 'sftp-server at /' in r['commands']['message']
    assert 'one file under two names' in r['hardlink']['message']
    # the shell confirmed it too (stat -c %h:%i: one inode, two links)
    assert 'stat: one inode, 2:' in r['hardlink']['message']
    assert r['folder']['message'] == 'created remote path ' + path
    st = os.stat(path)
    assert os.path.isdir(path) and st.st_uid == util.ensure_user()[0]
    no_leftovers(path)
    # Text output: one line per check with outcome and time.
    txt = run([chk.tool, 'check', sshd.spec(path=path)] + chk.opts(), timeout=60,
              env=sshd.env())
    assert txt.returncode == 0 and txt.stderr == ''
    lines = txt.stdout.splitlines()
    assert [ln.split()[0] for ln in lines] == CHECKS
    assert all(re.match(r'^\S+\s+passed\s+\d+\.\d{3}s  \S', ln) for ln in lines)
    # Second run: the folder now exists.
    res = chk.run(path)
    assert res.returncode == 0
    assert res.records['folder']['message'] == 'remote path %s is a writable directory' % path


def test_light_plan_passes(chk, sshd):
    path = sshd.remote_dir()
    res = chk.run(path, light=True)
    assert res.returncode == 0, res.stderr
    for name in CHECKS:
        want = 'passed' if name in LIGHT else 'not-run'
        assert res.records[name]['outcome'] == want, res.records[name]
    no_leftovers(path)


def test_relative_and_home_paths(chk, sshd):
    home = os.path.expanduser('~' + TEST_USER)
    res = chk.run('', light=True)
    assert res.returncode == 0, res.stderr
    assert res.records['folder']['message'] == 'remote path %s is a writable directory' % home
    name = 'smchk-rel-%d' % os.getpid()
    try:
        res = chk.run(name + '/x', light=True)
        assert res.returncode == 0, res.stderr
        assert res.records['folder']['message'] == \
            'created remote path %s/%s/x' % (home, name)
        assert os.path.isdir(os.path.join(home, name, 'x'))
    finally:
        shutil.rmtree(os.path.join(home, name), ignore_errors=True)


def test_check_commands_off_skips_the_probe(chk, sshd):
    res = chk.run(sshd.remote_dir(), '-o', 'check_commands=no')
    assert res.returncode == 0, res.stderr
    assert res.records['commands']['outcome'] == 'skipped'
    assert res.records['commands']['message'] == 'check_commands=no'
    # Without the shell probe the hard-link test still runs, SFTP only.
    assert res.records['hardlink']['outcome'] == 'passed'
    assert 'stat:' not in res.records['hardlink']['message']


# --------------------------------------------------------------------------
# reachable

def test_closed_port_retries(chk, sshd, bin_path, tmp_mnt):
    port = util.free_port()
    res = chk.fails('reachable', 'connection-refused', sshd.remote_dir(),
                    '-o', 'reach_tries=3,reach_pause=300ms', port=port)
    rec = res.records['reachable']
    assert rec['attempts'] == 3
    # three refused connects, two pauses of 0.3 s between them
    assert 0.6 <= rec['seconds'] < 1.5, rec
    assert res.elapsed >= 0.6
    assert rec['message'] == ('host 127.0.0.1 port %d: connection refused (3 tries, 2000 ms each)'
                              % port)
    # One try: no pause at all.
    res = chk.fails('reachable', 'connection-refused', sshd.remote_dir(),
                    '-o', 'reach_tries=1,reach_pause=2', port=port)
    assert res.records['reachable']['attempts'] == 1
    assert res.records['reachable']['seconds'] < 0.5
    # The default plan: 5 tries, as Back In Time's checkPingHost.
    res = chk.fails('reachable', 'connection-refused', sshd.remote_dir(),
                    '-o', 'reach_pause=50ms', port=port)
    assert res.records['reachable']['attempts'] == 5
    m = mount_fails(bin_path, sshd, sshd.spec(path=sshd.remote_dir()), tmp_mnt,
                    '-o', 'reach_tries=2,reach_pause=100ms', port=port)
    assert m.stderr.startswith('sshmountfs: reachable: host 127.0.0.1 port %d: connection '
                               'refused (2 tries' % port), m.stderr


def test_port_with_another_service(chk, sshd, bin_path, tmp_mnt):
    port, conns, close = listener(b'HTTP/1.0 400 Bad Request\r\nServer: x\r\n\r\n')
    try:
        res = chk.fails('reachable', 'not-ssh', sshd.remote_dir(), port=port)
        rec = res.records['reachable']
        assert rec['message'] == ('host 127.0.0.1 port %d is not an SSH server '
                                  '(it said "HTTP/1.0 400 Bad Request")' % port)
        assert rec['attempts'] == 1  # an answer that is not SSH is not retried
        m = mount_fails(bin_path, sshd, sshd.spec(path=sshd.remote_dir()), tmp_mnt, port=port)
        assert 'sshmountfs: reachable: host 127.0.0.1 port %d is not an SSH server' % port \
            in m.stderr
    finally:
        close()


def test_port_that_says_nothing(chk, sshd):
    port, conns, close = listener(None)
    try:
        res = chk.fails('reachable', 'no-banner', sshd.remote_dir(),
                        '-o', 'reach_timeout=500ms', port=port)
        rec = res.records['reachable']
        assert rec['message'] == ('host 127.0.0.1 port %d is not an SSH server (no '
                                  'identification line within 500 ms)' % port)
        assert 0.45 <= rec['seconds'] < 2
    finally:
        close()


def test_port_that_times_out(chk, sshd):
    """A listener whose accept queue is full drops our SYNs: the connect
    times out, as behind a firewall that drops packets."""
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    filler = socket.create_connection(('127.0.0.1', port), timeout=5)
    try:
        res = chk.fails('reachable', 'timeout', sshd.remote_dir(),
                        '-o', 'reach_tries=2,reach_timeout=400ms,reach_pause=100ms', port=port)
        rec = res.records['reachable']
        assert rec['attempts'] == 2
        assert 0.85 <= rec['seconds'] < 2, rec
        assert rec['message'] == ('host 127.0.0.1 port %d: no answer (2 tries, 400 ms each)'
                                  % port)
    finally:
        filler.close()
        srv.close()


def test_proxy_jump_probes_the_jump_host(chk, sshd):
    """With ProxyJump= the target may be unreachable from here by design:
    the probe goes to the first hop, as Back In Time 1.5 does."""
    port = util.free_port()
    res = chk.fails('reachable', 'connection-refused', sshd.remote_dir(),
                    '-o', 'ProxyJump=%s@127.0.0.1:%d,reach_tries=2,reach_pause=10ms'
                    % (TEST_USER, port))
    assert res.records['reachable']['message'].startswith(
        'jump host 127.0.0.1 port %d: connection refused (2 tries' % port)


def test_unresolvable_host(chk, sshd):
    args = [chk.tool, 'check', 'smtest@no-such-host.invalid:/tmp', '--json'] + chk.opts() + \
        ['-o', 'reach_tries=2,reach_pause=10ms']
    res = run(args, timeout=60, env=sshd.env())
    rec = validate(json.loads(res.stdout))['reachable']
    assert res.returncode == EXIT_FAILED['reachable']
    assert rec['reason'] == 'dns'
    assert rec['message'].startswith('cannot resolve host no-such-host.invalid: ')


# --------------------------------------------------------------------------
# known host

def _fingerprint(pubfile):
    out = run([SSH_KEYGEN, '-l', '-E', 'sha256', '-f', pubfile], timeout=30, check=True).stdout
    return out.split()[1]


def test_unknown_host_key(chk, sshd, bin_path, tmp_mnt, tmp_path):
    empty = tmp_path / 'known_hosts'
    empty.write_text('')
    res = chk.fails('known-host', 'unknown-host-key', sshd.remote_dir(),
                    known_hosts=str(empty))
    msg = res.records['known-host']['message']
    assert '[127.0.0.1]:%d' % sshd.port in msg and 'not known' in msg
    assert _fingerprint(sshd.host_key + '.pub') in msg
    assert 'known-hosts-add' in res.records['known-host']['hint']
    assert empty.read_text() == ''  # nothing recorded under the strict default
    m = mount_fails(bin_path, sshd, sshd.spec(path=sshd.remote_dir()), tmp_mnt,
                    known_hosts=str(empty))
    assert m.stderr.startswith('sshmountfs: known-host: host key for [127.0.0.1]:%d is not known'
                               % sshd.port), m.stderr


def test_known_host_hashed_entry_and_plain_host_form(chk, sshd, tmp_path):
    """A hashed known_hosts line (ssh-keygen -H) is found as well."""
    kh = tmp_path / 'known_hosts'
    kh.write_text(open(sshd.known_hosts).read())
    run([SSH_KEYGEN, '-H', '-f', str(kh)], timeout=30, check=True)
    assert '|1|' in kh.read_text() and '127.0.0.1' not in kh.read_text()
    res = chk.run(sshd.remote_dir(), light=True, known_hosts=str(kh))
    assert res.returncode == 0, res.stderr
    assert res.records['known-host']['outcome'] == 'passed'


def test_unknown_host_key_accept_new(chk, sshd, tmp_path):
    kh = tmp_path / 'known_hosts'
    kh.write_text('')
    res = chk.run(sshd.remote_dir(), '-o', 'StrictHostKeyChecking=accept-new', light=True,
                  known_hosts=str(kh))
    assert res.returncode == 0, res.stderr
    assert res.records['known-host']['outcome'] == 'passed'
    # recorded, so the strict default accepts it from now on
    assert kh.read_text().strip()
    res = chk.run(sshd.remote_dir(), light=True, known_hosts=str(kh))
    assert res.returncode == 0, res.stderr


def test_changed_host_key(chk, sshd, tmp_path):
    other = tmp_path / 'other'
    run([SSH_KEYGEN, '-q', '-t', 'ed25519', '-N', '', '-f', str(other)], timeout=30, check=True)
    kt, kb = open(str(other) + '.pub').read().split()[:2]
    kh = tmp_path / 'known_hosts'
    kh.write_text('[127.0.0.1]:%d %s %s\n' % (sshd.port, kt, kb))
    res = chk.fails('known-host', 'changed-host-key', sshd.remote_dir(), known_hosts=str(kh))
    msg = res.records['known-host']['message']
    assert 'CHANGED' in msg
    # both fingerprints: what the server sent and what known_hosts has
    assert _fingerprint(sshd.host_key + '.pub') in msg
    assert _fingerprint(str(other) + '.pub') in msg


# --------------------------------------------------------------------------
# login

def test_key_not_authorized(chk, sshd, tmp_path, bin_path, tmp_mnt):
    key = tmp_path / 'stranger'
    run([SSH_KEYGEN, '-q', '-t', 'ed25519', '-N', '', '-f', str(key)], timeout=30, check=True)
    res = chk.fails('login', 'denied', sshd.remote_dir(), key=str(key))
    rec = res.records['login']
    assert rec['message'].startswith('permission denied for %s on [127.0.0.1]:%d'
                                     % (TEST_USER, sshd.port))
    assert '%s: rejected by the server' % key in rec['detail']
    assert '  %s: rejected by the server' % key in res.stderr
    m = mount_fails(bin_path, sshd, sshd.spec(path=sshd.remote_dir()), tmp_mnt, key=str(key))
    assert m.stderr.startswith('sshmountfs: login: permission denied'), m.stderr


@pytest.fixture
def locked_key(sshd, tmp_path):
    """A passphrase-protected key the server accepts."""
    key = tmp_path / 'locked'
    run([SSH_KEYGEN, '-q', '-t', 'ed25519', '-N', 'a passphrase', '-f', str(key)], timeout=30,
        check=True)
    ak = os.path.join(sshd.tmp, 'authorized_keys', TEST_USER)
    saved = open(ak).read()
    with open(ak, 'a') as f:
        f.write(open(str(key) + '.pub').read())
    yield str(key)
    with open(ak, 'w') as f:
        f.write(saved)


def test_passphrase_needed_without_terminal(chk, sshd, locked_key):
    # util.run starts a new session with stdin on /dev/null: no terminal, no
    # agent, no askpass, as under autofs or cron.
    res = chk.fails('login', 'passphrase-needed', sshd.remote_dir(), key=locked_key)
    rec = res.records['login']
    assert '%s: needs a passphrase' % locked_key in rec['detail']
    assert 'passphrase_fd' in rec['hint']


def test_passphrase_from_fd_logs_in(tool, sshd, locked_key):
    r, w = os.pipe()
    os.write(w, b'a passphrase\n')
    os.close(w)
    try:
        args = [tool, 'check', sshd.spec(path=sshd.remote_dir()), '--json', '--light',
                '-p', str(sshd.port), '-F', sshd.client_config,
                '-o', 'IdentityFile=' + locked_key,
                '-o', 'UserKnownHostsFile=' + sshd.known_hosts, '-o', 'passphrase_fd=%d' % r]
        res = run(args, timeout=60, env=sshd.env(), pass_fds=(r,))
    finally:
        os.close(r)
    assert res.returncode == 0, res.stderr
    assert validate(json.loads(res.stdout))['login']['outcome'] == 'passed'


# --------------------------------------------------------------------------
# cipher

def test_unsupported_cipher(chk, sshd, bin_path, tmp_mnt):
    res = chk.fails('cipher', 'no-common-cipher', sshd.remote_dir(), '-o', 'Ciphers=3des-cbc')
    msg = res.records['cipher']['message']
    assert msg.startswith('cipher 3des-cbc failed: the server offers ')
    offers = msg.split('offers ', 1)[1].split(',')
    assert 'aes128-ctr' in offers and 'chacha20-poly1305@openssh.com' in offers
    # The light plan of a mount meets it at key exchange and says the same.
    m = mount_fails(bin_path, sshd, sshd.spec(path=sshd.remote_dir()), tmp_mnt,
                    '-o', 'Ciphers=3des-cbc')
    assert m.stderr.startswith('sshmountfs: cipher: cipher 3des-cbc failed: the server offers'), \
        m.stderr


def test_cipher_unknown_to_us(chk, sshd):
    res = chk.fails('cipher', 'unsupported-cipher', sshd.remote_dir(), '-o', 'Ciphers=arcfour')
    assert 'arcfour' in res.records['cipher']['message']


def test_configured_cipher_is_used(chk, sshd):
    res = chk.run(sshd.remote_dir(), '-o', 'Ciphers=aes256-ctr\\,3des-cbc\\,aes128-ctr')
    assert res.returncode == 0, res.stderr
    msg = res.records['cipher']['message']
    assert msg.startswith('negotiated aes256-ctr with Ciphers=aes256-ctr,3des-cbc,aes128-ctr')
    # each listed cipher tried alone: the one the server refuses is named
    assert 'unusable alone: 3des-cbc: not offered by the server' in msg


# --------------------------------------------------------------------------
# remote commands

def test_missing_remote_command(chk, sshd):
    res = chk.fails('commands', 'missing-command', sshd.remote_dir(),
                    '-o', 'check_commands=sh:definitely-not-a-command')
    assert res.records['commands']['message'] == \
        'remote host lacks definitely-not-a-command (for check_commands)'


def test_nice_ionice_nocache(chk, sshd):
    res = chk.run(sshd.remote_dir(), '-o', 'nice,ionice')
    assert res.returncode == 0, res.stderr
    msg = res.records['commands']['message']
    assert 'sftp-server at /usr/lib/openssh/sftp-server' in msg
    assert 'nice' in msg and 'ionice' in msg
    has_nocache = run(['sh', '-c', 'command -v nocache'], timeout=10).returncode == 0
    res = chk.run(sshd.remote_dir(), '-o', 'nice,ionice,nocache', light=True)
    if has_nocache:
        assert res.returncode == 0
    else:
        # The light plan probes them too: the server must run under them.
        assert res.returncode == EXIT_FAILED['commands'], res.stderr
        rec = res.records['commands']
        assert rec['reason'] == 'missing-command'
        assert rec['message'] == 'remote host lacks nocache (for -o nocache)'


def test_nice_ionice_nocache_mount_refused(bin_path, sshd, tmp_mnt):
    if run(['sh', '-c', 'command -v nocache'], timeout=10).returncode == 0:
        pytest.skip('nocache is installed here')
    m = mount_fails(bin_path, sshd, sshd.spec(path=sshd.remote_dir()), tmp_mnt,
                    '-o', 'nocache')
    assert m.stderr.startswith('sshmountfs: commands: remote host lacks nocache (for -o nocache)')


# --------------------------------------------------------------------------
# hard links

def test_server_denying_hard_links(tool, make_sshd):
    srv = make_sshd(sftp_args=['-P', 'hardlink@openssh.com'])
    c = Checker(tool, srv)
    path = srv.remote_dir()
    # sftp-server -P also drops a denied extension from its VERSION list
    # (sftp -D "sftp-server -P hardlink" says "Server does not support
    # hardlink@openssh.com extension"), so the test sees no extension.
    res = c.fails('hardlink', 'no-hardlink-extension', path)
    assert res.records['hardlink']['message'] == \
        'the SFTP server does not offer hard links (hardlink@openssh.com)'
    assert 'disable_hardlink' in res.records['hardlink']['hint']
    assert res.records['folder']['outcome'] == 'passed'
    # cleaned up after the failure: no test directory, no files
    assert os.listdir(path) == []
    # The light plan does not test hard links.
    assert c.run(path, light=True).returncode == 0


def test_hard_link_test_cleans_up(chk, sshd):
    path = sshd.remote_dir()
    res = chk.run(path)
    assert res.returncode == 0
    m = re.search(r'tmp_sshmountfs_', res.records['hardlink']['message'])
    assert m is None  # the message names the folder, not the test directory
    assert os.listdir(path) == []


# --------------------------------------------------------------------------
# remote folder

def test_path_is_a_file(chk, sshd, bin_path, tmp_mnt):
    d = sshd.remote_dir()
    f = os.path.join(d, 'afile')
    open(f, 'w').close()
    res = chk.fails('folder', 'not-a-directory', f, light=True)
    assert res.records['folder']['message'] == 'remote path %s exists but is not a directory' % f
    m = mount_fails(bin_path, sshd, sshd.spec(path=f), tmp_mnt)
    assert m.stderr.startswith('sshmountfs: folder: remote path %s exists but is not a '
                               'directory' % f), m.stderr


@pytest.fixture
def root_dir():
    d = tempfile.mkdtemp(prefix='smchk-root-', dir='/tmp')
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_path_not_writable(chk, sshd, root_dir, bin_path, tmp_mnt):
    """A folder the login user can read but not write: the full plan (Back
    In Time's first run) refuses it, as Back In Time's own check does."""
    res = chk.fails('folder', 'not-writable', root_dir)
    assert res.records['folder']['message'] == \
        'remote path %s is not writable (creating a file in it: Permission denied)' % root_dir
    assert 'chmod u+w' in res.records['folder']['hint']
    assert os.listdir(root_dir) == []
    m = mount_fails(bin_path, sshd, sshd.spec(path=root_dir), tmp_mnt, '-o', 'full_check')
    assert m.stderr.startswith('sshmountfs: folder: remote path %s is not writable' % root_dir)
    # root passes every permission check: the same folder is fine for it
    res = chk.run(root_dir, user='root')
    assert res.returncode == 0, res.stderr
    # and a read-only mount needs no write access
    res = chk.run(root_dir, '-o', 'ro')
    assert res.returncode == 0, res.stderr
    assert res.records['folder']['message'] == 'remote path %s is a directory' % root_dir
    assert res.records['folder']['warning'] == ''


WARN_RO = ('sshmountfs: remote path %s is not writable by the login user (Permission denied): '
           'writes will fail')


def test_light_plan_mounts_read_only_folder(chk, sshd, root_dir, bin_path, tmp_mnt):
    """The light plan (every plain mount) mounts a folder the login user can
    read but not write, as sshfs does (/usr/share/doc), with one warning
    line; listing works and writes fail with EACCES."""
    with open(os.path.join(root_dir, 'readme'), 'w') as f:
        f.write('hello\n')
    res = chk.run(root_dir, light=True)
    assert res.returncode == 0, res.stderr
    rec = res.records['folder']
    assert rec['outcome'] == 'passed'
    assert rec['message'] == 'remote path %s is a read-only directory' % root_dir
    assert rec['warning'] == (WARN_RO % root_dir)[len('sshmountfs: '):]
    args = [bin_path('sshmountfs'), sshd.spec(path=root_dir), tmp_mnt] + sshd.ssh_opts()
    res = run(args, timeout=60, env=sshd.env())
    try:
        assert res.returncode == 0, res.stderr
        assert res.stderr.splitlines() == [WARN_RO % root_dir], res.stderr
        assert os.listdir(tmp_mnt) == ['readme']
        assert open(os.path.join(tmp_mnt, 'readme')).read() == 'hello\n'
        for fn in (lambda: open(os.path.join(tmp_mnt, 'new'), 'w'),
                   lambda: os.mkdir(os.path.join(tmp_mnt, 'newdir')),
                   lambda: open(os.path.join(tmp_mnt, 'readme'), 'a'),
                   lambda: os.unlink(os.path.join(tmp_mnt, 'readme'))):
            with pytest.raises(OSError) as e:
                fn()
            assert e.value.errno == errno.EACCES
        assert sorted(os.listdir(root_dir)) == ['readme']
    finally:
        if util.is_mounted(tmp_mnt):
            util.umount(None, tmp_mnt)


def test_path_not_creatable(chk, sshd, root_dir):
    path = os.path.join(root_dir, 'sub', 'dir')
    res = chk.fails('folder', 'create-failed', path, light=True)
    assert res.records['folder']['message'] == (
        'remote path %s is missing and cannot be created: mkdir %s/sub: Permission denied'
        % (path, root_dir))


def test_path_not_searchable(chk, sshd):
    d = sshd.remote_dir()
    sub = os.path.join(d, 'noexec')
    os.mkdir(sub)
    os.chown(sub, util.ensure_user()[0], util.ensure_user()[1])
    os.chmod(sub, 0o600)
    res = chk.fails('folder', 'not-searchable', sub, light=True)
    assert res.records['folder']['message'] == (
        'remote path %s is not searchable (no x permission for the login user)' % sub)


# --------------------------------------------------------------------------
# transports without SSH

def test_ssh_command_transport(chk, sshd):
    path = sshd.remote_dir()
    res = chk.run(path, '-o', 'ssh_command=ssh -oBatchMode=yes -oIdentitiesOnly=yes')
    assert res.returncode == 0, res.stderr
    r = res.records
    for name in ('reachable', 'known-host', 'login', 'cipher', 'commands'):
        assert r[name]['outcome'] == 'skipped'
        assert r[name]['message'] == 'ssh_command=: the command makes the connection'
    assert r['folder']['outcome'] == 'passed' and r['hardlink']['outcome'] == 'passed'
    # nice/ionice/nocache cannot be probed through another program's pipes
    res = chk.run(path, '-o', 'ssh_command=ssh,nice')
    assert res.returncode == EXIT_FAILED['commands']
    assert res.records['commands']['reason'] == 'bad-option'
    assert 'sftp_server=PATH' in res.records['commands']['message']


@pytest.fixture
def direct_sftp_server(sshd):
    """A TCP port that runs sftp-server (as smtest) for each connection,
    like socat tcp-listen:PORT,fork exec:sftp-server."""
    code = r'''
import os, socket, sys
uid, gid = int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    if os.fork() == 0:
        os.setgid(gid); os.setuid(uid)
        os.dup2(c.fileno(), 0); os.dup2(c.fileno(), 1)
        os.execv(sys.argv[1], [sys.argv[1]])
    c.close()
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
'''
    uid, gid, _ = util.ensure_user()
    p = subprocess.Popen([sys.executable, '-c', code, util.SFTP_SERVER, str(uid), str(gid)],
                         stdout=subprocess.PIPE, text=True, start_new_session=True)
    port = int(p.stdout.readline())
    yield port
    os.killpg(p.pid, 9)
    p.wait(10)


def test_directport_transport(chk, sshd, direct_sftp_server):
    path = os.path.join(sshd.remote_dir(), 'made')
    res = chk.run(path, '-o', 'directport=%d' % direct_sftp_server)
    assert res.returncode == 0, res.stderr
    r = res.records
    assert r['reachable']['outcome'] == 'passed'
    assert r['reachable']['message'] == '127.0.0.1:%d accepts connections' % direct_sftp_server
    for name in ('known-host', 'login', 'cipher', 'commands'):
        assert r[name]['outcome'] == 'skipped'
    assert r['folder']['message'] == 'created remote path ' + path
    assert r['hardlink']['outcome'] == 'passed'


def test_directport_closed(chk, sshd):
    port = util.free_port()
    res = chk.fails('reachable', 'connection-refused', sshd.remote_dir(),
                    '-o', 'directport=%d,reach_tries=2,reach_pause=10ms' % port)
    assert res.records['reachable']['message'].startswith('sftp server 127.0.0.1 port %d' % port)


# --------------------------------------------------------------------------
# the command line

def test_usage_errors(tool, sshd):
    res = run([tool, 'check'], timeout=30)
    assert res.returncode == 1 and 'which [user@]host:[path]?' in res.stderr
    res = run([tool, 'check', 'a:', 'b:'], timeout=30)
    assert res.returncode == 1
    res = run([tool, 'check', 'h:', '-o', 'no_such_option'], timeout=30)
    assert res.returncode == 1 and 'no_such_option' in res.stderr
    res = run([tool, 'check', '--help'], timeout=30)
    assert res.returncode == 0 and '--json' in res.stdout and '16 folder' in res.stdout


# --------------------------------------------------------------------------
# passing mounts: the checks' session serves the mount

def _mount_ok(bin_path, srv, path, mnt, *extra):
    exe = bin_path('sshmountfs')
    args = [exe, srv.spec(path=path), mnt, '-p', str(srv.port), '-F', srv.client_config,
            '-o', 'IdentityFile=' + srv.key, '-o', 'UserKnownHostsFile=' + srv.known_hosts]
    res = run(args + list(extra), timeout=60, env=srv.env())
    assert res.returncode == 0, res.stderr
    try:
        util.wait_for_mount(None, mnt)
        yield
    finally:
        if os.path.ismount(mnt):
            util.umount(None, mnt)
        else:
            util.cleanup(None, mnt)


@pytest.mark.skipif(util.fuse_available() is not None, reason=util.fuse_available() or '')
@pytest.mark.parametrize('plan', [[], ['-o', 'full_check']])
def test_mount_after_checks_leaves_nothing_behind(bin_path, sshd, tmp_mnt, plan):
    path = os.path.join(sshd.remote_dir(), 'created')
    for _ in _mount_ok(bin_path, sshd, path, tmp_mnt, *plan):
        # The folder check made it; its probe file is gone (in the light
        # plan its removal is not waited for, so give it a moment).
        assert os.path.isdir(path)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and os.listdir(path):
            time.sleep(0.05)
        no_leftovers(path)
        assert os.listdir(tmp_mnt) == []
        with open(os.path.join(tmp_mnt, 'f'), 'w') as f:
            f.write('through the mount')
        assert open(os.path.join(path, 'f')).read() == 'through the mount'


@pytest.mark.skipif(util.fuse_available() is not None, reason=util.fuse_available() or '')
def test_mount_with_nice_ionice_runs_the_probed_server(bin_path, sshd, tmp_mnt):
    path = sshd.remote_dir()
    before = set(sshd.session_pids())
    for _ in _mount_ok(bin_path, sshd, path, tmp_mnt, '-o', 'nice,ionice'):
        servers = []
        for pid in set(sshd.session_pids()) - before:
            try:
                if open('/proc/%d/comm' % pid).read().strip() == 'sftp-server':
                    servers.append(pid)
            except OSError:
                pass
        assert servers, 'no sftp-server under the test sshd'
        for pid in servers:
            stat = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
            assert int(stat[16]) == 19  # nice -n 19
            io = run(['ionice', '-p', str(pid)], timeout=10, check=True).stdout.strip()
            assert io == 'best-effort: prio 7'  # ionice -c2 -n7
            exe = os.readlink('/proc/%d/exe' % pid)
            assert exe == '/usr/lib/openssh/sftp-server'
        with open(os.path.join(tmp_mnt, 'g'), 'w') as f:
            f.write('x')
        assert os.path.exists(os.path.join(path, 'g'))
