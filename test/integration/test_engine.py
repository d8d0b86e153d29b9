"""The SFTP engine (core/fxc + core/rfs) against a real sshd, variants of
OpenSSH's sftp-server, and a hostile fake server, driven through
test/tools/fxc-cli (see the top of fxc-cli.c for its commands).

Nothing here mounts: these are the engine's own guarantees, under the FUSE
layer. Every command runs with a timeout, and the tests that kill or stall
the link assert how long the client took to give up.
"""

import hashlib
import os
import re
import subprocess
import sys
import time

import pytest

from util import SFTP_SERVER, run

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, '..', 'tools', 'fake_sftp_server.py')
FAKE_FILE_SIZE = 1 << 20

OPENSSH_EXTS = ['posix-rename@openssh.com', 'statvfs@openssh.com', 'fstatvfs@openssh.com',
                'hardlink@openssh.com', 'fsync@openssh.com', 'lsetstat@openssh.com',
                'limits@openssh.com', 'expand-path@openssh.com', 'home-directory',
                'copy-data', 'users-groups-by-id@openssh.com']


@pytest.fixture(scope='module')
def fxc_cli():
    from util import bin_path
    return bin_path('fxc-cli')


def ssh_conn(sshd, user='smtest', extra=()):
    return list(sshd.ssh_opts()) + list(extra) + [sshd.spec(user, '')]


def cli(fxc_cli, sshd, conn, args, timeout=120):
    return run([fxc_cli] + conn + args, timeout=timeout, env=sshd.env() if sshd else None)


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def random_file(path, size):
    with open(path, 'wb') as f:
        left = size
        while left > 0:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n


def chown_to(path, user='smtest'):
    import pwd
    pw = pwd.getpwnam(user)
    os.chown(path, pw.pw_uid, pw.pw_gid)


def try_results(out):
    """{'op args': 'RESULT'} from `fxc-cli try` lines."""
    res = {}
    for line in out.splitlines():
        m = re.match(r'^(\S+(?: \S+)*?): (OK|E[A-Z0-9]+)\b', line)
        if m:
            res[m.group(1)] = m.group(2)
    return res


# --------------------------------------------------------------------------
# Protocol coverage

def test_extensions_and_limits(fxc_cli, sshd):
    r = cli(fxc_cli, sshd, ssh_conn(sshd), ['exts'])
    assert r.returncode == 0, r.stdout + r.stderr
    exts = set(line.split()[1] for line in r.stdout.splitlines() if line.startswith('ext '))
    assert exts == set(OPENSSH_EXTS), r.stdout
    # OpenSSH's limits@: 261120-byte reads and writes; several channels.
    assert 'max_read 261120' in r.stdout
    assert 'max_write 261120' in r.stdout
    nch = int(re.search(r'channels (\d+)', r.stdout).group(1))
    assert nch >= 2


@pytest.mark.parametrize('user', ['smtest', 'root'])
def test_every_request_type(fxc_cli, sshd, user):
    d = sshd.remote_dir(user)
    r = cli(fxc_cli, sshd, ssh_conn(sshd, user), ['ops', d])
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'ops: 0 failed' in r.stdout
    oks = set(line[3:] for line in r.stdout.splitlines() if line.startswith('ok '))
    # One line per request type and extension, each checked by ops.
    for op in ['open-excl-create', 'write-pipelined', 'fsync', 'fstat', 'fsetstat', 'close',
               'open-excl-exists', 'read-pipelined-to-eof', 'read-matches', 'read-past-eof',
               'write-async', 'read-async-data', 'read-async-eof-empty',
               'mkdir', 'mkdir-eexist', 'symlink', 'symlink-eexist', 'readlink-target',
               'lstat-is-link', 'stat-is-file', 'lsetstat-mtime', 'setstat-mtime',
               'hardlink', 'hardlink-eexist', 'posix-rename', 'rename-replace',
               'rename-noreplace-eexist', 'stat-enoent', 'copy-data', 'copy-data-size',
               'opendir', 'readdir-to-end', 'readdir-entries', 'opendir-file-enotdir',
               'statvfs-values', 'realpath', 'home-absolute', 'rmdir-enotempty',
               'remove-dir-eisdir', 'rmdir', 'remove', 'remove-enoent']:
        assert op in oks, 'missing ok line for %s:\n%s' % (op, r.stdout)
    assert os.listdir(d) == []


def test_every_request_type_fd_transport(fxc_cli, tmp_path):
    """The same checks through a local sftp-server on pipes (one channel)."""
    d = str(tmp_path / 'remote')
    os.mkdir(d)
    r = run([fxc_cli, '--fd-cmd', SFTP_SERVER, 'ops', d], timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'ops: 0 failed' in r.stdout
    r = run([fxc_cli, '--fd-cmd', SFTP_SERVER, 'exts'], timeout=30)
    assert 'channels 1' in r.stdout


def test_readdir_and_errors(fxc_cli, sshd):
    d = sshd.remote_dir('smtest')
    for name in ['a', 'b c', 'x' * 200]:
        with open(os.path.join(d, name), 'w') as f:
            f.write(name)
    os.mkdir(os.path.join(d, 'sub'))
    os.chmod(os.path.join(d, 'sub'), 0o700)
    r = cli(fxc_cli, sshd, ssh_conn(sshd), ['try', 'ls', d, '+', 'stat', d + '/nope',
                                           '+', 'ls', d + '/a', '+', 'read', d + '/b c'])
    names = set(line[6:].rsplit(' ', 1)[0] for line in r.stdout.splitlines()
                if line.startswith('entry '))
    assert {'a', 'b c', 'x' * 200, 'sub', '.', '..'} <= names, r.stdout
    res = try_results(r.stdout)
    assert res['stat %s/nope' % d] == 'ENOENT'
    assert res['ls %s/a' % d] == 'ENOTDIR'
    assert 'data b c' in r.stdout


# --------------------------------------------------------------------------
# Concurrency and bulk data

def test_1000_concurrent_requests_out_of_order(fxc_cli, sshd):
    d = sshd.remote_dir('smtest')
    big = os.path.join(d, 'big')
    random_file(big, 32 << 20)
    r = cli(fxc_cli, sshd, ssh_conn(sshd), ['stress', '1000', big], timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r'(\d+) requests, (\d+) completed, (\d+) errors, (\d+) inversions', r.stdout)
    assert m, r.stdout
    n, done, errors, inversions = map(int, m.groups())
    assert (n, done, errors) == (1000, 1000, 0)
    # LSTATs on other channels overtake the 255 KiB READs queued before them.
    assert inversions > 0, r.stdout


@pytest.mark.slow
def test_64mib_upload_download_sha256(fxc_cli, sshd, tmp_path):
    d = sshd.remote_dir('smtest')
    src = str(tmp_path / 'src')
    back = str(tmp_path / 'back')
    random_file(src, 64 << 20)
    want = sha256(src)
    r = cli(fxc_cli, sshd, ssh_conn(sshd), ['put', src, d + '/up'], timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'put: OK 67108864 bytes' in r.stdout
    assert os.path.getsize(d + '/up') == 64 << 20
    assert sha256(d + '/up') == want
    r = cli(fxc_cli, sshd, ssh_conn(sshd), ['get', d + '/up', back], timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'get: OK 67108864 bytes' in r.stdout
    assert sha256(back) == want
    # One handle per channel: blocks went over several server processes.
    assert re.search(r'\((\d+) handles', r.stdout).group(1) != '1'
    print(r.stdout)


def test_transfer_one_handle_odd_block(fxc_cli, sshd, tmp_path):
    """A size that is no multiple of anything, one handle, odd block size."""
    d = sshd.remote_dir('smtest')
    src = str(tmp_path / 'src')
    random_file(src, 5 * 1048576 + 12345)
    opts = ['--handles', '1', '--block', '777777', '--threads', '3']
    r = cli(fxc_cli, sshd, ssh_conn(sshd, extra=opts), ['put', src, d + '/f'])
    assert r.returncode == 0, r.stdout + r.stderr
    assert sha256(d + '/f') == sha256(src)
    r = cli(fxc_cli, sshd, ssh_conn(sshd, extra=opts), ['get', d + '/f', src + '.back'])
    assert r.returncode == 0, r.stdout + r.stderr
    assert sha256(src + '.back') == sha256(src)


# --------------------------------------------------------------------------
# A dying link: every waiter gets EIO, promptly

def parse_waiters(out):
    m = re.search(r'waiters (\d+) eio (\d+) other (\d+) max_ms (\d+)', out)
    assert m, out
    return tuple(map(int, m.groups()))


def start_kill_get(fxc_cli, sshd, conn, remote, extra=()):
    proc = subprocess.Popen([fxc_cli] + conn + ['kill-during-get', remote, '--external',
                                                '--after-mb', '8', '--max-wait', '60']
                            + list(extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=sshd.env(), start_new_session=True)
    deadline = time.monotonic() + 60
    line = ''
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith('READY') or not line:
            break
    if not line.startswith('READY'):
        proc.kill()
        out, err = proc.communicate(timeout=10)
        pytest.fail('kill-during-get never got going: %r %s %s' % (line, out, err))
    return proc


def finish(proc, timeout):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=10)
        pytest.fail('client hung after the link died:\n%s\n%s' % (out, err))
    return out, err


@pytest.mark.slow
def test_session_killed_mid_transfer_gives_eio(fxc_cli, sshd):
    d = sshd.remote_dir('smtest')
    random_file(d + '/big', 64 << 20)
    chown_to(d + '/big')
    proc = start_kill_get(fxc_cli, sshd, ssh_conn(sshd), d + '/big')
    t0 = time.monotonic()
    killed = sshd.kill_sessions()
    assert killed
    out, err = finish(proc, 30)
    elapsed = time.monotonic() - t0
    n, eio, other, worst = parse_waiters(out)
    assert proc.returncode == 0, out + err
    assert n == 12 and eio == n and other == 0, out
    # A killed sshd closes the TCP connection: no deadline to wait for.
    assert elapsed < 5, 'took %.1f s' % elapsed
    assert worst < 5000, out


def test_fxc_kill_fails_every_waiter(fxc_cli, sshd):
    d = sshd.remote_dir('smtest')
    random_file(d + '/big', 16 << 20)
    t0 = time.monotonic()
    r = cli(fxc_cli, sshd, ssh_conn(sshd), ['kill-during-get', d + '/big', '--after-mb', '4',
                                           '--max-wait', '30'], timeout=90)
    assert r.returncode == 0, r.stdout + r.stderr
    n, eio, other, worst = parse_waiters(r.stdout)
    assert eio == n and other == 0, r.stdout
    assert worst < 1000, r.stdout
    assert time.monotonic() - t0 < 60


@pytest.mark.slow
def test_stalled_link_gives_eio_within_keepalive(fxc_cli, sshd, delay_proxy):
    """No FIN, no RST: only the keepalive can tell. 1 s x 3 probes."""
    proxy = delay_proxy(sshd.port, 1)
    sshd.add_known_port(proxy.port)
    d = sshd.remote_dir('smtest')
    random_file(d + '/big', 64 << 20)
    conn = list(sshd.ssh_opts())
    conn[conn.index('-p') + 1] = str(proxy.port)
    conn += ['--keepalive-ms', '1000', '--keepalive-max', '3', '--timeout-ms', '60000',
             sshd.spec('smtest', '')]
    proc = start_kill_get(fxc_cli, sshd, conn, d + '/big')
    t0 = time.monotonic()
    proxy.stall()
    out, err = finish(proc, 40)
    elapsed = time.monotonic() - t0
    n, eio, other, worst = parse_waiters(out)
    assert eio == n and other == 0, out + err
    # Keepalive budget 3 s (+ one interval of slack for the first probe),
    # far below the 60 s request deadline.
    assert elapsed < 8, 'took %.1f s:\n%s' % (elapsed, out)


# --------------------------------------------------------------------------
# Server variants

def test_denied_extension_is_handled(fxc_cli, make_sshd):
    srv = make_sshd(sftp_args=['-P', 'hardlink@openssh.com,posix-rename@openssh.com'])
    d = srv.remote_dir('smtest')
    with open(d + '/f', 'w') as f:
        f.write('x')
    chown_to(d + '/f')
    r = cli(fxc_cli, srv, ssh_conn(srv), [
        'try', 'link', d + '/f', d + '/h',
        '+', 'rename', d + '/f', d + '/g',
        '+', 'stat', d + '/g', '+', 'mkdir', d + '/sub', '+', 'statvfs', d])
    assert r.returncode == 0, r.stdout + r.stderr
    res = try_results(r.stdout)
    assert res['link %s/f %s/h' % (d, d)] in ('EACCES', 'EPERM', 'EOPNOTSUPP'), r.stdout
    assert not os.path.exists(d + '/h')
    # posix-rename refused: the plain RENAME does the job.
    assert res['rename %s/f %s/g' % (d, d)] == 'OK', r.stdout
    assert res['stat %s/g' % d] == 'OK'
    assert res['mkdir %s/sub' % d] == 'OK'
    assert res['statvfs %s' % d] == 'OK'


def test_read_only_server(fxc_cli, make_sshd):
    srv = make_sshd(sftp_args=['-R'])
    d = srv.remote_dir('smtest')
    with open(d + '/f', 'w') as f:
        f.write('hello')
    r = cli(fxc_cli, srv, ssh_conn(srv), [
        'try', 'read', d + '/f', '+', 'write', d + '/new', '+', 'mkdir', d + '/sub',
        '+', 'remove', d + '/f', '+', 'chmod', d + '/f', '600', '+', 'stat', d + '/f',
        '+', 'ls', d, '+', 'statvfs', d])
    assert r.returncode == 0, r.stdout + r.stderr
    res = try_results(r.stdout)
    assert res['read %s/f' % d] == 'OK' and 'data hello' in r.stdout
    for op in ['write %s/new' % d, 'mkdir %s/sub' % d, 'remove %s/f' % d,
               'chmod %s/f 600' % d]:
        assert res[op] == 'EACCES', (op, r.stdout)
    assert res['stat %s/f' % d] == 'OK'
    assert res['ls %s' % d] == 'OK'
    assert res['statvfs %s' % d] == 'OK'
    assert sorted(os.listdir(d)) == ['f']


# --------------------------------------------------------------------------
# A hostile server on the fd transport: no crash, no hang, a clean error

def fake(fxc_cli, mode, args, timeout_ms=2000, bound=20):
    t0 = time.monotonic()
    r = run([fxc_cli, '--fd-cmd', '%s %s %s' % (sys.executable, FAKE, mode),
             '--timeout-ms', str(timeout_ms)] + args, timeout=60)
    elapsed = time.monotonic() - t0
    # Killed by a signal (crash, sanitizer abort) shows as a negative code;
    # a sanitizer report as its banner.
    assert r.returncode in (0, 1, 2), (r.returncode, r.stdout, r.stderr)
    assert 'Sanitizer' not in r.stderr and 'runtime error' not in r.stderr, r.stderr
    assert elapsed < bound, 'took %.1f s' % elapsed
    return r


PROBE = ['try', 'realpath', '.', '+', 'stat', '/file', '+', 'ls', '/', '+', 'read', '/file']


def test_fake_honest_control(fxc_cli, tmp_path):
    r = fake(fxc_cli, 'honest', PROBE)
    res = try_results(r.stdout)
    assert res == {'realpath .': 'OK', 'stat /file': 'OK', 'ls /': 'OK', 'read /file': 'OK'}, \
        r.stdout
    # The names with '/' and the empty one were dropped.
    entries = [line.split()[1] for line in r.stdout.splitlines() if line.startswith('entry ')]
    assert entries == ['.', 'file'], r.stdout


@pytest.mark.parametrize('mode', ['random', 'zero-length', 'huge-length', 'unknown-id',
                                  'name-count', 'wrong-type'])
def test_fake_garbage_fails_cleanly(fxc_cli, mode):
    r = fake(fxc_cli, mode, PROBE)
    res = try_results(r.stdout)
    assert len(res) == 4, r.stdout
    # The garbage kills the connection: what follows fails with EIO at once.
    assert 'EIO' in res.values(), r.stdout
    assert res['read /file'] == 'EIO', r.stdout


@pytest.mark.parametrize('mode', ['truncated', 'silence'])
def test_fake_silence_hits_the_deadline(fxc_cli, mode):
    r = fake(fxc_cli, mode, ['try', 'realpath', '.'], timeout_ms=1500, bound=15)
    res = try_results(r.stdout)
    assert res['realpath .'] in ('ETIMEDOUT', 'EIO'), r.stdout


@pytest.mark.parametrize('mode', ['version-garbage', 'version-6'])
def test_fake_bad_version_refused(fxc_cli, mode):
    r = fake(fxc_cli, mode, ['exts'], timeout_ms=1500, bound=15)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout.startswith('connect: E'), r.stdout


def test_fake_eof_during_setup_is_seen_at_once(fxc_cli):
    # A 30 s deadline: only noticing the EOF can finish well inside 10 s.
    r = fake(fxc_cli, 'close-early', ['exts'], timeout_ms=30000, bound=10)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout.startswith('connect: EIO'), r.stdout


def test_fake_short_reads_are_completed(fxc_cli, tmp_path):
    out = str(tmp_path / 'out')
    r = fake(fxc_cli, 'short-reads', ['get', '/file', out], bound=60)
    assert r.returncode == 0, r.stdout + r.stderr
    data = open(out, 'rb').read()
    assert len(data) == FAKE_FILE_SIZE
    assert data == bytes(((i * 7 + i // 251) & 0xff) for i in range(FAKE_FILE_SIZE))


@pytest.mark.parametrize('mode', ['zero-data', 'too-much-data'])
def test_fake_bad_data_is_an_error(fxc_cli, tmp_path, mode):
    # rfs's one rule for a broken reply (two empty DATA in a row, more data
    # than asked for): the connection is closed and the read is EIO
    r = fake(fxc_cli, mode, ['get', '/file', str(tmp_path / 'out')])
    assert r.returncode == 1, r.stdout + r.stderr
    assert 'get: EIO' in r.stdout, r.stdout
    assert 'malformed or unexpected DATA reply' in r.stderr, r.stderr
