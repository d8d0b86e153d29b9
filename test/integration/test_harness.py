"""The harness itself: the private sshd, its variants, and clean teardown.

These tests use only OpenSSH's own clients, so they prove the fixtures
before any sshmountfs code is involved.
"""

import os
import subprocess
import time

import pytest

import util
from util import SSH, SFTP, SshServer, run

# Filled by test_sshd_*; read by test_zz_teardown_left_nothing.
_seen = {}


def ssh(srv, user, *cmd, timeout=30):
    return run([SSH] + srv.openssh_opts() + ['%s@%s' % (user, srv.host)] + list(cmd),
               timeout=timeout, env=srv.env())


def sftp_batch(srv, user, batch, timeout=30):
    return run([SFTP] + _sftp_opts(srv) + ['-b', '-', '%s@%s' % (user, srv.host)],
               input=batch, timeout=timeout, env=srv.env())


def _sftp_opts(srv):
    # sftp spells the port -P
    o = srv.openssh_opts()
    o[0] = '-P'
    return o


def test_banner(sshd):
    assert util.read_banner(sshd.host, sshd.port).startswith('SSH-2.0-OpenSSH')
    _seen['module'] = (sshd.tmp, sshd.remote_base, sshd.proc.pid, sshd.port)


@pytest.mark.parametrize('user', ['smtest', 'root'])
def test_login_with_key(sshd, user):
    res = ssh(sshd, user, 'id', '-un')
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == user


def test_wrong_key_is_refused(sshd, tmp_path):
    other = str(tmp_path / 'other')
    run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', other], check=True)
    opts = sshd.openssh_opts()
    opts[opts.index('IdentityFile=' + sshd.key)] = 'IdentityFile=' + other
    res = run([SSH] + opts + ['smtest@127.0.0.1', 'true'], timeout=30, env=sshd.env())
    assert res.returncode == 255
    assert 'Permission denied' in res.stderr


def test_known_hosts_matches_host_key(sshd):
    line = open(sshd.known_hosts).read().split()
    pub = open(sshd.host_key + '.pub').read().split()
    assert line[0] == '[127.0.0.1]:%d' % sshd.port
    assert line[1:3] == pub[0:2]
    # and the server really presents it: strict checking with only this file passes
    res = ssh(sshd, 'smtest', 'true')
    assert res.returncode == 0, res.stderr


def test_unknown_host_key_is_refused(sshd, tmp_path):
    empty = tmp_path / 'kh'
    empty.write_text('')
    opts = [o.replace(sshd.known_hosts, str(empty)) for o in sshd.openssh_opts()]
    res = run([SSH] + opts + ['smtest@127.0.0.1', 'true'], timeout=30, env=sshd.env())
    assert res.returncode == 255
    assert 'Host key verification failed' in res.stderr


def _password_login(srv, method, tmp_path):
    askpass = tmp_path / 'askpass'
    askpass.write_text('#!/bin/sh\necho \'%s\'\n' % srv.password)
    askpass.chmod(0o700)
    env = srv.env()
    env.update(SSH_ASKPASS=str(askpass), SSH_ASKPASS_REQUIRE='force')
    opts = srv.ssh_opts() + ['-o', 'PreferredAuthentications=' + method,
                             '-o', 'PubkeyAuthentication=no', '-o', 'NumberOfPasswordPrompts=1',
                             '-o', 'GlobalKnownHostsFile=/dev/null']
    return run([SSH] + opts + ['smtest@127.0.0.1', 'id', '-un'], timeout=30, env=env)


def test_password_login(sshd, tmp_path):
    res = _password_login(sshd, 'password', tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == 'smtest'


def test_wrong_password_is_refused(make_sshd, tmp_path):
    srv = make_sshd()
    srv.password = 'not-the-password'
    assert _password_login(srv, 'password', tmp_path).returncode == 255


def test_keyboard_interactive_needs_pam_variant(make_sshd, tmp_path):
    # without PAM sshd has no keyboard-interactive device; the variant has one
    srv = make_sshd(config_extra='UsePAM yes\n')
    res = _password_login(srv, 'keyboard-interactive', tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == 'smtest'


def test_remote_dir_owned_by_user(sshd):
    import pwd
    for user in ('smtest', 'root'):
        d = sshd.remote_dir(user)
        st = os.stat(d)
        assert st.st_uid == pwd.getpwnam(user).pw_uid
        assert os.listdir(d) == []
        assert d.startswith(sshd.remote_base + '/')
    assert sshd.remote_dir() != sshd.remote_dir()
    assert sshd.spec('smtest', '/x') == 'smtest@127.0.0.1:/x'


def test_sftp_roundtrip_as_user(sshd, tmp_path):
    d = sshd.remote_dir('smtest')
    src = tmp_path / 'src'
    src.write_bytes(os.urandom(100000))
    res = sftp_batch(sshd, 'smtest', 'put %s %s/f\nln %s/f %s/g\n' % (src, d, d, d))
    assert res.returncode == 0, res.stderr
    assert open(os.path.join(d, 'g'), 'rb').read() == src.read_bytes()
    assert os.stat(os.path.join(d, 'f')).st_nlink == 2


def test_kill_sessions(sshd):
    proc = subprocess.Popen([SSH] + sshd.openssh_opts() + ['smtest@127.0.0.1', 'sleep', '60'],
                            env=sshd.env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not _has_sleep(sshd):
            time.sleep(0.1)
        assert _has_sleep(sshd), 'the session never started'
        killed = sshd.kill_sessions()
        assert killed
        assert proc.wait(15) == 255  # ssh: connection closed
        assert sshd.session_pids() == []
        assert sshd.proc.poll() is None  # the listener lives on
        assert ssh(sshd, 'smtest', 'true').returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def _has_sleep(srv):
    for pid in srv.session_pids():
        try:
            if open('/proc/%d/cmdline' % pid, 'rb').read().startswith(b'sleep\0'):
                return True
        except OSError:
            pass
    return False


def test_log(sshd):
    ssh(sshd, 'smtest', 'true')
    assert 'Accepted publickey for smtest' in sshd.log()


def test_variant_denies_hardlink(make_sshd, tmp_path):
    srv = make_sshd(sftp_args=['-P', 'hardlink@openssh.com'])
    d = srv.remote_dir('smtest')
    src = tmp_path / 'src'
    src.write_text('data')
    res = sftp_batch(srv, 'smtest', 'put %s %s/f\n' % (src, d))
    assert res.returncode == 0, res.stderr
    res = sftp_batch(srv, 'smtest', 'ln %s/f %s/g\n' % (d, d))
    assert res.returncode != 0
    assert not os.path.exists(os.path.join(d, 'g'))
    # OpenSSH's sftp-server does not even announce a denied extension
    assert 'does not support hardlink@openssh.com' in res.stderr
    assert 'sftp-server -P hardlink' in srv.log()


def test_variant_read_only(make_sshd, tmp_path):
    srv = make_sshd(sftp_args=['-R'])
    d = srv.remote_dir('smtest')
    with open(os.path.join(d, 'present'), 'w') as f:
        f.write('hello')
    src = tmp_path / 'src'
    src.write_text('data')
    res = sftp_batch(srv, 'smtest', 'put %s %s/f\n' % (src, d))
    assert res.returncode != 0
    assert not os.path.exists(os.path.join(d, 'f'))
    dst = tmp_path / 'got'
    res = sftp_batch(srv, 'smtest', 'get %s/present %s\n' % (d, dst))
    assert res.returncode == 0, res.stderr
    assert dst.read_text() == 'hello'


def test_variant_unknown_request_name_is_refused():
    with pytest.raises(ValueError):
        SshServer(sftp_args=['-P', 'no-such-request'])


def test_variant_config_extra(make_sshd):
    srv = make_sshd(config_extra='PermitRootLogin no\n')
    assert ssh(srv, 'root', 'true').returncode == 255
    assert ssh(srv, 'smtest', 'true').returncode == 0


def test_variant_teardown_is_clean(make_sshd):
    srv = make_sshd()
    assert srv.server_pids()
    ssh(srv, 'smtest', 'true')
    tmp, base, pid = srv.tmp, srv.remote_base, srv.proc.pid
    assert srv.stop() == []
    assert not os.path.exists(tmp) and not os.path.exists(base)
    assert not util.pid_alive(pid)
    assert util.pids_with_env(srv.tag) == []


def test_teardown_fails_on_leftover_mount():
    srv = SshServer().start()
    d = srv.remote_dir('root')
    util.run(['mount', '-t', 'tmpfs', 'none', d], timeout=10, check=True)
    problems = srv.stop()
    assert len(problems) == 1 and 'mount left behind' in problems[0]
    assert not util.is_mounted(d)
    assert not os.path.exists(srv.tmp)


def test_output_checker(tmp_path):
    chk = util.OutputChecker(str(tmp_path))
    chk.file().write(b'all fine\nsshmountfs: warning: expected one\nERROR: bad\n')
    chk.register(r'warning: expected one', count=1)
    assert chk.bad_lines() == ['ERROR: bad']
    chk.close()


# The mount helpers, proven with sshfs as a stand-in FUSE daemon (sshmountfs
# tests use the same helpers against our own binary).
SSHFS = '/usr/bin/sshfs'
needs_sshfs = pytest.mark.skipif(not os.path.exists(SSHFS) or util.fuse_available() is not None,
                                 reason='needs sshfs and FUSE')


def _sshfs_cmd(srv, d, mnt, *extra):
    return [SSHFS, srv.spec('smtest', d), mnt] + srv.ssh_opts() + \
        ['-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes'] + list(extra)


@needs_sshfs
def test_mount_helpers_foreground(sshd, tmp_mnt):
    d = sshd.remote_dir('smtest')
    open(os.path.join(d, 'f'), 'w').write('remote')
    proc = subprocess.Popen(_sshfs_cmd(sshd, d, tmp_mnt, '-f'), env=sshd.env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        util.wait_for_mount(proc, tmp_mnt)
        assert util.mount_entry(tmp_mnt) == ('fuse.sshfs', sshd.spec('smtest', d))
        assert open(os.path.join(tmp_mnt, 'f')).read() == 'remote'
    except BaseException:
        util.cleanup(proc, tmp_mnt)
        raise
    else:
        util.umount(proc, tmp_mnt)
    assert not os.path.ismount(tmp_mnt)


@needs_sshfs
def test_mount_helpers_daemonized(sshd, tmp_mnt):
    d = sshd.remote_dir('smtest')
    res = run(_sshfs_cmd(sshd, d, tmp_mnt), timeout=30, env=sshd.env())
    assert res.returncode == 0, res.stderr
    try:
        util.wait_for_mount(None, tmp_mnt)
        pids = util.fuse_daemon_pids(tmp_mnt)
        assert len(pids) == 1
    except BaseException:
        util.cleanup(None, tmp_mnt)
        raise
    util.umount(None, tmp_mnt)
    assert not util.pid_alive(pids[0])


@needs_sshfs
def test_wait_for_mount_fails_when_daemon_dies(sshd, tmp_mnt):
    # a wrong known_hosts: sshfs exits at once, and wait_for_mount says so
    cmd = [c.replace(sshd.known_hosts, '/dev/null') for c in _sshfs_cmd(sshd, '/', tmp_mnt, '-f')]
    proc = subprocess.Popen(cmd, env=sshd.env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    t = time.monotonic()
    with pytest.raises(pytest.fail.Exception, match='terminated prematurely'):
        util.wait_for_mount(proc, tmp_mnt)
    assert time.monotonic() - t < 20
    util.cleanup(proc, tmp_mnt)


@needs_sshfs
def test_cleanup_stops_a_daemon_on_a_dead_link(sshd, tmp_mnt):
    d = sshd.remote_dir('smtest')
    proc = subprocess.Popen(_sshfs_cmd(sshd, d, tmp_mnt, '-f'), env=sshd.env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    util.wait_for_mount(proc, tmp_mnt)
    sshd.kill_sessions()
    t = time.monotonic()
    util.cleanup(proc, tmp_mnt)
    assert time.monotonic() - t < 15
    assert proc.poll() is not None
    assert not os.path.ismount(tmp_mnt)


def test_zz_teardown_left_nothing():
    """Runs after the module's other tests; the module-scoped sshd of this
    file is still alive, but every function-scoped variant is gone."""
    tmp, base, pid, port = _seen['module']
    assert util.pid_alive(pid) and os.path.isdir(tmp)
    # the variants made with make_sshd left no directories behind
    left = [d for d in os.listdir('/tmp') if d.startswith('smsshd-')
            and os.path.join('/tmp', d) != tmp and _ours(os.path.join('/tmp', d))]
    assert left == []


def _ours(path):
    # directories of other concurrently running test sessions carry a live sshd
    pidfile = os.path.join(path, 'sshd.pid')
    try:
        return not util.pid_alive(int(open(pidfile).read()))
    except (OSError, ValueError):
        return False
