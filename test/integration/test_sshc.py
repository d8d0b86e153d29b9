"""core/sshc against the real private sshd, through test/tools/sshc-probe.

Every run goes through util.run: a new session (no controlling terminal,
so nothing can prompt), stdin /dev/null unless given, and a hard timeout.
The probe prints "key: value" lines (see sshc-probe.c) and exits with
10 + the sshc_code of a failure.
"""

import os
import re
import socket
import subprocess
import threading
import time

import pytest

import util
from util import run

CODES = ['SSHC_OK', 'SSHC_E_CONFIG', 'SSHC_E_DNS', 'SSHC_E_REFUSED', 'SSHC_E_TIMEOUT',
         'SSHC_E_NOT_SSH', 'SSHC_E_KEX', 'SSHC_E_HOSTKEY_UNKNOWN', 'SSHC_E_HOSTKEY_CHANGED',
         'SSHC_E_AUTH', 'SSHC_E_PASSPHRASE', 'SSHC_E_CHANNEL', 'SSHC_E_IO']
PASSPHRASE = 'correct horse battery'


class Result:
    def __init__(self, proc):
        self.proc = proc
        self.rc = proc.returncode
        self.fields = {}
        for line in proc.stdout.splitlines():
            k, _, v = line.partition(': ')
            self.fields.setdefault(k, []).append(v)
        self.code = self.one('code')
        self.msg = self.one('msg')
        self.hint = self.one('hint')
        self.detail = self.fields.get('detail', [])
        self.stdout = self.fields.get('stdout', [])

    def one(self, key):
        return self.fields.get(key, [''])[0]

    def expect(self, code):
        want_rc = 0 if code == 'SSHC_OK' else 10 + CODES.index(code)
        assert (self.code, self.rc) == (code, want_rc), self.dump()
        return self

    def dump(self):
        return 'exit %s\nstdout:\n%s\nstderr:\n%s' % (self.rc, self.proc.stdout, self.proc.stderr)


@pytest.fixture
def probe(bin_path, sshd):
    exe = bin_path('sshc-probe')

    def run_probe(args, env=None, input=None, timeout=60, **kw):
        proc = run([exe] + list(args), timeout=timeout, input=input,
                   env=env if env is not None else sshd.env(), **kw)
        return Result(proc)
    return run_probe


def opts(srv, key=None, known_hosts=None, extra=()):
    """sshmountfs-style options for srv, with the key and known_hosts swappable."""
    o = ['-p', str(srv.port), '-F', srv.client_config,
         '-o', 'IdentityFile=' + (key or srv.key),
         '-o', 'UserKnownHostsFile=' + (known_hosts or srv.known_hosts)]
    for e in extra:
        o += ['-o', e]
    return o


def fingerprint(pubfile):
    """SHA256:... of a public key file, as ssh-keygen -l prints it."""
    out = run(['ssh-keygen', '-l', '-f', pubfile], check=True).stdout.split()
    return out[1]


def new_key(path, passphrase=''):
    run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', passphrase, '-C', 'sshc-test',
         '-f', str(path)], check=True)
    return str(path)


def authorize(srv, user, key):
    with open(os.path.join(srv.tmp, 'authorized_keys', user), 'a') as f:
        f.write(open(key + '.pub').read())


# --------------------------------------------------------------------------
# login and the ssh config

@pytest.mark.parametrize('user', ['smtest', 'root'])
def test_key_login_and_exec(sshd, probe, user):
    r = probe(opts(sshd) + ['%s@127.0.0.1' % user, 'exec', 'id -un; echo oops >&2; exit 3'])
    r.expect('SSHC_OK')
    assert r.stdout == [user]
    assert r.fields['status'] == ['3']
    assert r.fields['stderr'] == ['oops']
    assert r.one('fingerprint') == fingerprint(sshd.host_key + '.pub')


def test_exec_feeds_input_and_opens_sftp(sshd, probe):
    r = probe(opts(sshd) + ['smtest@127.0.0.1', 'exec-in', 'tr a-z A-Z', 'hello\nworld\n', 'sftp'])
    r.expect('SSHC_OK')
    assert r.stdout == ['HELLO', 'WORLD']
    assert r.fields['step'][-1] == 'sftp ok'


def write_config(tmp_path, text):
    cfg = tmp_path / 'ssh_config'
    cfg.write_text(text)
    return str(cfg)


def test_config_alias_hostname_user_port_identity(sshd, probe, tmp_path):
    cfg = write_config(tmp_path, (
        'Host sshc-alias\n  HostName 127.0.0.1\n  User smtest\n  Port %d\n'
        '  IdentityFile %s\n  UserKnownHostsFile %s\n') % (sshd.port, sshd.key, sshd.known_hosts))
    r = probe(['-F', cfg, 'sshc-alias', 'exec', 'id -un'])
    r.expect('SSHC_OK')
    assert r.stdout == ['smtest']
    # an explicit user@ beats the config's User
    r = probe(['-F', cfg, 'root@sshc-alias', 'exec', 'id -un'])
    r.expect('SSHC_OK')
    assert r.stdout == ['root']


def test_command_line_port_beats_config(sshd, probe, tmp_path):
    dead = util.free_port()
    cfg = write_config(tmp_path, (
        'Host sshc-alias\n  HostName 127.0.0.1\n  User smtest\n  Port %d\n'
        '  IdentityFile %s\n  UserKnownHostsFile %s\n') % (dead, sshd.key, sshd.known_hosts))
    r = probe(['-F', cfg, 'sshc-alias'])
    r.expect('SSHC_E_REFUSED')
    assert 'port %d' % dead in r.msg
    r = probe(['-F', cfg, '-p', str(sshd.port), 'sshc-alias', 'exec', 'id -un'])
    r.expect('SSHC_OK')
    assert r.stdout == ['smtest']


def test_missing_config_file_is_an_error(sshd, probe, tmp_path):
    r = probe(['-F', str(tmp_path / 'nope'), 'smtest@127.0.0.1'])
    r.expect('SSHC_E_CONFIG')
    assert 'nope' in r.msg


def test_ssh_dir_comes_from_passwd_not_HOME(sshd, probe, tmp_path):
    # A config under a fake $HOME must not be read: the alias stays unknown.
    fake = tmp_path / 'home'
    (fake / '.ssh').mkdir(parents=True)
    (fake / '.ssh' / 'config').write_text('Host sshc-home-alias\n  HostName 127.0.0.1\n')
    env = dict(sshd.env(), HOME=str(fake))
    r = probe(['-p', str(sshd.port), 'sshc-home-alias'], env=env)
    r.expect('SSHC_E_DNS')
    assert "'sshc-home-alias'" in r.msg


# --------------------------------------------------------------------------
# host keys

def test_unknown_host_key_refused_with_fingerprint(sshd, probe, tmp_path):
    kh = tmp_path / 'known_hosts'
    kh.write_text('')
    r = probe(opts(sshd, known_hosts=str(kh)) + ['smtest@127.0.0.1'])
    r.expect('SSHC_E_HOSTKEY_UNKNOWN')
    fp = fingerprint(sshd.host_key + '.pub')
    assert fp in r.msg and 'ED25519' in r.msg
    assert '[127.0.0.1]:%d' % sshd.port in r.msg
    assert 'sshmountfs-tool known-hosts-add [127.0.0.1]:%d' % sshd.port in r.hint
    assert 'StrictHostKeyChecking=accept-new' in r.hint
    assert kh.read_text() == ''
    assert 'step: auth' not in r.proc.stdout      # stopped before logging in


def test_accept_new_records_the_key(sshd, probe, tmp_path):
    kh = tmp_path / 'sub' / 'known_hosts'         # directory created too
    r = probe(opts(sshd, known_hosts=str(kh), extra=['StrictHostKeyChecking=accept-new'])
              + ['smtest@127.0.0.1'])
    r.expect('SSHC_OK')
    hk = open(sshd.host_key + '.pub').read().split()
    lines = kh.read_text().splitlines()
    assert len(lines) == 1
    assert lines[0].split()[:3] == ['[127.0.0.1]:%d' % sshd.port, hk[0], hk[1]]
    # recorded: the strict default now accepts it, and nothing is added twice
    probe(opts(sshd, known_hosts=str(kh)) + ['smtest@127.0.0.1']).expect('SSHC_OK')
    probe(opts(sshd, known_hosts=str(kh), extra=['StrictHostKeyChecking=accept-new'])
          + ['smtest@127.0.0.1']).expect('SSHC_OK')
    assert len(kh.read_text().splitlines()) == 1


def test_policy_no_accepts_without_recording(sshd, probe, tmp_path):
    kh = tmp_path / 'known_hosts'
    kh.write_text('')
    r = probe(opts(sshd, known_hosts=str(kh), extra=['StrictHostKeyChecking=no'])
              + ['smtest@127.0.0.1', 'exec', 'id -un'])
    r.expect('SSHC_OK')
    assert r.stdout == ['smtest']
    assert kh.read_text() == ''


def changed_known_hosts(sshd, tmp_path, hashed=False):
    other = new_key(tmp_path / 'other_host_key')
    kh = tmp_path / 'known_hosts_changed'
    pub = open(other + '.pub').read().split()
    kh.write_text('# a comment line\n[127.0.0.1]:%d %s %s\n' % (sshd.port, pub[0], pub[1]))
    if hashed:
        run(['ssh-keygen', '-H', '-f', str(kh)], check=True)
    return kh, fingerprint(other + '.pub')


@pytest.mark.parametrize('policy', [None, 'accept-new', 'no'])
def test_changed_host_key_always_refused(sshd, probe, tmp_path, policy):
    kh, old_fp = changed_known_hosts(sshd, tmp_path)
    extra = ['StrictHostKeyChecking=' + policy] if policy else []
    r = probe(opts(sshd, known_hosts=str(kh), extra=extra) + ['smtest@127.0.0.1'])
    r.expect('SSHC_E_HOSTKEY_CHANGED')
    assert fingerprint(sshd.host_key + '.pub') in r.msg
    assert old_fp in r.msg
    assert 'line 2 of %s' % kh in r.hint
    assert "ssh-keygen -R '[127.0.0.1]:%d'" % sshd.port in r.hint


def test_hashed_known_hosts(sshd, probe, tmp_path):
    kh = tmp_path / 'known_hosts_hashed'
    kh.write_text(open(sshd.known_hosts).read())
    run(['ssh-keygen', '-H', '-f', str(kh)], check=True)
    assert kh.read_text().startswith('|1|')
    probe(opts(sshd, known_hosts=str(kh)) + ['smtest@127.0.0.1']).expect('SSHC_OK')
    # a hashed entry with another key is a changed key, with its fingerprint
    kh2, old_fp = changed_known_hosts(sshd, tmp_path, hashed=True)
    r = probe(opts(sshd, known_hosts=str(kh2)) + ['smtest@127.0.0.1'])
    r.expect('SSHC_E_HOSTKEY_CHANGED')
    assert old_fp in r.msg


# --------------------------------------------------------------------------
# authentication

@pytest.fixture
def locked_key(sshd, tmp_path):
    """A passphrase-protected key that smtest accepts."""
    key = new_key(tmp_path / 'locked', PASSPHRASE)
    authorize(sshd, 'smtest', key)
    return key


def test_passphrase_from_fd(sshd, probe, locked_key):
    r, w = os.pipe()
    os.write(w, (PASSPHRASE + '\n').encode())
    os.close(w)
    try:
        res = probe(opts(sshd, key=locked_key, extra=['passphrase_fd=%d' % r])
                    + ['smtest@127.0.0.1', 'exec', 'id -un'], pass_fds=(r,))
    finally:
        os.close(r)
    res.expect('SSHC_OK')
    assert res.stdout == ['smtest']


def test_wrong_passphrase_from_fd(sshd, probe, locked_key):
    r, w = os.pipe()
    os.write(w, b'not it\n')
    os.close(w)
    try:
        res = probe(opts(sshd, key=locked_key, extra=['passphrase_fd=%d' % r])
                    + ['smtest@127.0.0.1'], pass_fds=(r,))
    finally:
        os.close(r)
    res.expect('SSHC_E_PASSPHRASE')
    assert locked_key in res.msg
    assert any(d.startswith(locked_key + ': wrong passphrase') for d in res.detail), res.dump()


@pytest.mark.parametrize('batch', [False, True])
def test_passphrase_without_terminal_fails_naming_the_key(sshd, probe, locked_key, batch):
    extra = ['BatchMode=yes'] if batch else []
    # util.run: new session, stdin /dev/null -> no controlling terminal
    res = probe(opts(sshd, key=locked_key, extra=extra) + ['smtest@127.0.0.1'], timeout=30)
    res.expect('SSHC_E_PASSPHRASE')
    assert locked_key in res.msg
    why = 'batch mode' if batch else 'without a terminal'
    assert any(d.startswith(locked_key + ': needs a passphrase') and why in d
               for d in res.detail), res.dump()


def test_locked_key_the_server_rejects_is_not_unlocked(sshd, probe, tmp_path):
    # .pub offered first: the server says no, so no passphrase is wanted
    key = new_key(tmp_path / 'stranger', PASSPHRASE)
    res = probe(opts(sshd, key=key) + ['smtest@127.0.0.1'])
    res.expect('SSHC_E_AUTH')
    assert key + ': rejected by the server' in res.detail
    assert not any('passphrase' in d for d in res.detail)


def askpass_script(tmp_path, answer):
    script = tmp_path / 'askpass.sh'
    script.write_text('#!/bin/sh\n'
                      'tr "\\0" "\\n" < /proc/$$/environ > %s/askpass.env\n'
                      'tr "\\0" "\\n" < /proc/$$/cmdline > %s/askpass.argv\n'
                      'printf "%%s\\n" "%s"\n' % (tmp_path, tmp_path, answer))
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize('how', ['force', 'display'])
def test_askpass_program(sshd, probe, locked_key, tmp_path, how):
    env = dict(sshd.env(), SSH_ASKPASS=askpass_script(tmp_path, PASSPHRASE))
    if how == 'force':
        env['SSH_ASKPASS_REQUIRE'] = 'force'
    else:
        env['DISPLAY'] = ':77'      # OpenSSH's rule: a display and no terminal
    res = probe(opts(sshd, key=locked_key) + ['smtest@127.0.0.1', 'exec', 'id -un'], env=env)
    res.expect('SSHC_OK')
    assert res.stdout == ['smtest']
    argv = (tmp_path / 'askpass.argv').read_text()
    environ = (tmp_path / 'askpass.env').read_text()
    assert locked_key in argv                       # the prompt names the key
    assert PASSPHRASE not in argv and PASSPHRASE not in environ


def test_askpass_never_means_no_prompt(sshd, probe, locked_key, tmp_path):
    env = dict(sshd.env(), SSH_ASKPASS=askpass_script(tmp_path, PASSPHRASE),
               SSH_ASKPASS_REQUIRE='never', DISPLAY=':77')
    res = probe(opts(sshd, key=locked_key) + ['smtest@127.0.0.1'], env=env)
    res.expect('SSHC_E_PASSPHRASE')
    assert not (tmp_path / 'askpass.argv').exists()


def test_password_stdin(sshd, probe, tmp_path):
    args = opts(sshd, key=str(tmp_path / 'nokey'), extra=['password_stdin']) + \
        ['smtest@127.0.0.1', 'exec', 'id -un']
    res = probe(args, input=util.TEST_PASSWORD + '\n')
    res.expect('SSHC_OK')
    assert res.stdout == ['smtest']
    assert 'Accepted password for smtest' in sshd.log()
    res = probe(args, input='wrong-password\n')
    res.expect('SSHC_E_AUTH')
    assert 'password: refused by the server' in res.detail


def test_keyboard_interactive(make_sshd, probe, bin_path, tmp_path):
    srv = make_sshd(config_extra='UsePAM yes\nPasswordAuthentication no\n')
    args = opts(srv, key=str(tmp_path / 'nokey'), extra=['password_stdin']) + \
        ['smtest@127.0.0.1', 'exec', 'id -un']
    res = probe(args, input=util.TEST_PASSWORD + '\n', env=srv.env())
    res.expect('SSHC_OK')
    assert res.stdout == ['smtest']
    assert 'Accepted keyboard-interactive/pam for smtest' in srv.log()


def test_agent(sshd, probe, tmp_path):
    sock = str(tmp_path / 'agent.sock')
    agent = subprocess.Popen(['ssh-agent', '-D', '-a', sock], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.05)
        env = dict(sshd.env(), SSH_AUTH_SOCK=sock)
        run(['ssh-add', sshd.key], env=env, check=True, timeout=30)
        res = probe(opts(sshd, key=str(tmp_path / 'nokey')) + ['smtest@127.0.0.1', 'exec',
                                                              'id -un'], env=env)
        res.expect('SSHC_OK')
        assert res.stdout == ['smtest']
        assert not any('nokey' in d for d in res.detail)   # the agent came first
    finally:
        agent.terminate()
        agent.wait(10)


# --------------------------------------------------------------------------
# connection failures

def test_refused(sshd, probe):
    port = util.free_port()
    res = probe(['-p', str(port), '-F', sshd.client_config, 'smtest@127.0.0.1'])
    res.expect('SSHC_E_REFUSED')
    assert '127.0.0.1 port %d refused' % port in res.msg


def test_dns_failure(sshd, probe):
    t0 = time.monotonic()
    res = probe(['-F', sshd.client_config, 'smtest@nonexistent.invalid'], timeout=60)
    res.expect('SSHC_E_DNS')
    assert "'nonexistent.invalid'" in res.msg
    assert time.monotonic() - t0 < 30


class Listener:
    """A TCP listener on 127.0.0.1 that answers each connection with 'send'
    (bytes; None = stay silent and keep the connection open)."""

    def __init__(self, send=None):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.send = send
        self.conns = []
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(c)
            if self.send is not None:
                c.sendall(self.send)

    def close(self):
        self.stop = True
        self.thread.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.mark.parametrize('reply', [b'HTTP/1.0 400 Bad Request\r\nServer: x\r\n\r\n',
                                   b'220 smtp.example ESMTP ready\r\n'])
def test_not_ssh(sshd, probe, reply):
    lis = Listener(reply)
    try:
        res = probe(['-p', str(lis.port), '-F', sshd.client_config, '-o', 'ConnectTimeout=3',
                     'smtest@127.0.0.1'])
    finally:
        lis.close()
    res.expect('SSHC_E_NOT_SSH')
    assert reply.split(b'\r\n')[0].decode() in res.msg


def test_connect_timeout_on_silent_listener(sshd, probe):
    lis = Listener(None)
    try:
        t0 = time.monotonic()
        res = probe(['-p', str(lis.port), '-F', sshd.client_config, '-o', 'ConnectTimeout=2',
                     'smtest@127.0.0.1'], timeout=30)
        took = time.monotonic() - t0
    finally:
        lis.close()
    res.expect('SSHC_E_TIMEOUT')
    assert 'no SSH banner within 2 s' in res.msg
    assert 1.5 < took < 8, took


def test_unsupported_cipher_names_both_lists(make_sshd, probe):
    srv = make_sshd(config_extra='Ciphers aes256-ctr\n')
    res = probe(opts(srv, extra=['Ciphers=aes128-cbc']) + ['smtest@127.0.0.1'], env=srv.env())
    res.expect('SSHC_E_KEX')
    assert 'cipher' in res.msg and 'aes256-ctr' in res.msg and 'aes128-cbc' in res.msg
    assert 'Ciphers=' in res.hint
    assert any('server [aes256-ctr]' in d for d in res.detail), res.dump()
    res = probe(opts(srv) + ['smtest@127.0.0.1'], env=srv.env())
    res.expect('SSHC_OK')
    assert res.one('cipher') == 'aes256-ctr'


def test_ciphers_option_is_used(sshd, probe):
    res = probe(opts(sshd, extra=['Ciphers=aes192-ctr']) + ['smtest@127.0.0.1'])
    res.expect('SSHC_OK')
    assert res.one('cipher') == 'aes192-ctr'


RELAY = '''
import os, selectors, socket, sys
open(sys.argv[3], "a").write("%s %s\\n" % (sys.argv[1], sys.argv[2]))
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.settimeout(None)
sel = selectors.DefaultSelector()
sel.register(0, selectors.EVENT_READ)
sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select(60):
        if key.fileobj == 0:
            d = os.read(0, 65536)
            if not d:
                s.shutdown(socket.SHUT_WR)
                sel.unregister(0)
                continue
            s.sendall(d)
        else:
            d = s.recv(65536)
            if not d:
                sys.exit(0)
            os.write(1, d)
'''


@pytest.mark.parametrize('where', ['config', 'option'])
def test_proxy_command(sshd, probe, tmp_path, where):
    relay = tmp_path / 'relay.py'
    relay.write_text(RELAY)
    marker = tmp_path / 'relay.log'
    cmd = '/usr/bin/python3 %s %%h %%p %s' % (relay, marker)
    if where == 'config':
        cfg = write_config(tmp_path, 'Host sshc-proxied\n  HostName 127.0.0.1\n'
                           '  ProxyCommand %s\n' % cmd)
        args = ['-F', cfg, '-p', str(sshd.port), '-o', 'IdentityFile=' + sshd.key,
                '-o', 'UserKnownHostsFile=' + sshd.known_hosts, 'smtest@sshc-proxied']
    else:
        args = opts(sshd, extra=['ProxyCommand=' + cmd]) + ['smtest@127.0.0.1']
    res = probe(args + ['exec', 'id -un'])
    res.expect('SSHC_OK')
    assert res.stdout == ['smtest']
    assert marker.read_text() == '127.0.0.1 %d\n' % sshd.port


def test_proxy_jump(sshd, probe, tmp_path):
    # The jump runs OpenSSH's ssh -W through the same sshd (as root); the
    # -F config is handed to that ssh too, so it finds key and known_hosts.
    cfg = write_config(tmp_path, 'Host 127.0.0.1\n  IdentityFile %s\n  UserKnownHostsFile %s\n'
                       '  BatchMode yes\n  IdentitiesOnly yes\n' % (sshd.key, sshd.known_hosts))
    res = probe(['-F', cfg, '-p', str(sshd.port), '-o', 'ProxyJump=root@127.0.0.1:%d' % sshd.port,
                 'smtest@127.0.0.1', 'exec', 'id -un'])
    res.expect('SSHC_OK')
    assert res.stdout == ['smtest']
    # the jump host (this sshd) opened the stream to the target
    assert re.search(r'server_request_direct_tcpip: .*target 127\.0\.0\.1 port %d\b'
                     % sshd.port, sshd.log())


def test_invalid_proxy_jump_is_a_config_error(sshd, probe):
    res = probe(opts(sshd, extra=['ProxyJump=host;rm -rf /']) + ['smtest@127.0.0.1'])
    res.expect('SSHC_E_CONFIG')
    assert 'ProxyJump' in res.msg


def test_keyboard_interactive_without_an_answer(make_sshd, probe, tmp_path):
    # PAM asks "Password:"; with no password and no terminal nobody can
    # answer: a clean AUTH failure that says so, not a hang or an I/O error.
    srv = make_sshd(config_extra='UsePAM yes\nPasswordAuthentication no\n')
    res = probe(opts(srv, key=str(tmp_path / 'nokey')) + ['smtest@127.0.0.1'], env=srv.env(),
                timeout=60)
    res.expect('SSHC_E_AUTH')
    assert any(d.startswith('keyboard-interactive: cannot answer') for d in res.detail), res.dump()


def run_on_pty(argv, env, answers, timeout=30):
    """Runs argv with a new pseudo-terminal as its controlling terminal,
    typing each answer after its prompt shows up. Returns (status, output)."""
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    out = b''
    pending = list(answers)
    seen = 0                        # answers go after prompts not yet answered
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break           # EIO: the child closed the terminal
                if not chunk:
                    break
                out += chunk
            at = out.find(pending[0][0].encode(), seen) if pending else -1
            if at >= 0:
                seen = at + len(pending[0][0])
                os.write(fd, (pending.pop(0)[1] + '\n').encode())
        else:
            os.kill(pid, 9)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors='replace')


def test_passphrase_from_terminal(sshd, bin_path, locked_key):
    argv = [bin_path('sshc-probe')] + opts(sshd, key=locked_key) + \
        ['smtest@127.0.0.1', 'exec', 'id -un']
    prompt = "Enter passphrase for key '%s': " % locked_key
    status, out = run_on_pty(argv, sshd.env(), [(prompt, PASSPHRASE)])
    assert status == 0, out
    assert 'stdout: smtest' in out
    assert PASSPHRASE not in out            # typed with echo off


def test_password_from_terminal(sshd, bin_path, tmp_path):
    argv = [bin_path('sshc-probe')] + opts(sshd, key=str(tmp_path / 'nokey'),
                                          extra=['PreferredAuthentications=password']) + \
        ['smtest@127.0.0.1', 'exec', 'id -un']
    prompt = "smtest@[127.0.0.1]:%d's password: " % sshd.port
    status, out = run_on_pty(argv, sshd.env(), [(prompt, 'wrong one'), (prompt, util.TEST_PASSWORD)])
    assert status == 0, out
    assert out.count(prompt) == 2           # asked again after a wrong one
    assert 'stdout: smtest' in out and util.TEST_PASSWORD not in out


def test_keyboard_interactive_from_terminal(make_sshd, bin_path, tmp_path):
    srv = make_sshd(config_extra='UsePAM yes\nPasswordAuthentication no\n')
    argv = [bin_path('sshc-probe')] + opts(srv, key=str(tmp_path / 'nokey')) + \
        ['smtest@127.0.0.1', 'exec', 'id -un']
    prompt = '(smtest@[127.0.0.1]:%d) Password: ' % srv.port
    status, out = run_on_pty(argv, srv.env(), [(prompt, util.TEST_PASSWORD)])
    assert status == 0, out
    assert 'stdout: smtest' in out and util.TEST_PASSWORD not in out
