"""The life of a mount: daemonizing, readiness, stdio, unmounting, signals,
and failures that must leave nothing mounted.

Exit statuses follow mount(8): 0 mounted, 1 usage, 32 mount failure, never
16. A daemonized sshmountfs returns only once the mount answers, with its
stdout/stderr closed so automount (which reads them until EOF) goes on.
"""

import os
import signal
import subprocess
import threading
import time

import pytest

import util
from conftest import fuse_test_marker
from fsmount import FsMount, wait_until

pytestmark = fuse_test_marker()


def sm(sshd, mnt, user='smtest', path=None, extra=(), timeout=60, env=None):
    src = path if path is not None else sshd.remote_dir(user)
    argv = ([util.bin_path('sshmountfs'), sshd.spec(user, src), mnt] + sshd.ssh_opts() +
            list(extra))
    return util.run(argv, timeout=timeout, env=env or sshd.env())


def assert_nothing_left(mnt):
    assert not os.path.ismount(mnt)
    assert util.fuse_daemon_pids(mnt) == []


# ------------------------------------------------------------ daemonizing

def test_daemon_returns_when_ready_and_closes_stdio(sshd, tmp_mnt):
    src = sshd.remote_dir('smtest')
    open(os.path.join(src, 'hello'), 'w').write('hi')
    argv = ([util.bin_path('sshmountfs'), sshd.spec('smtest', src), tmp_mnt] +
            sshd.ssh_opts())
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=sshd.env(), start_new_session=True)
    try:
        # automount's view: read both pipes until EOF; it must come promptly
        out, err = p.communicate(timeout=20)
        elapsed = time.monotonic() - t0
        assert p.returncode == 0, err
        assert out == b'' and err == b''
        assert elapsed < 10
        # ready means ready: the mount answers at once
        assert os.path.ismount(tmp_mnt)
        assert open(os.path.join(tmp_mnt, 'hello')).read() == 'hi'
        pids = util.fuse_daemon_pids(tmp_mnt)
        assert len(pids) == 1 and pids[0] != p.pid
        # detached: its own session, stdio on /dev/null
        assert os.getsid(pids[0]) == pids[0]
        for fd in (0, 1):
            assert os.readlink('/proc/%d/fd/%d' % (pids[0], fd)) == '/dev/null'
        util.umount(None, tmp_mnt)
    finally:
        if os.path.ismount(tmp_mnt):
            util.cleanup(None, tmp_mnt)


def test_daemon_stdio_eof_with_helper_process(sshd, tmp_mnt, tmp_path):
    """A process the daemon starts (here through ssh_command=) inherits its
    stderr; the caller's pipes must still reach EOF once the parent exits."""
    wrapper = tmp_path / 'fake-ssh'
    wrapper.write_text('#!/bin/sh\n'
                       'echo "fake-ssh: starting" >&2\n'
                       '(sleep 1; echo "fake-ssh: still here" >&2) &\n'
                       'exec %s\n' % util.SFTP_SERVER)
    wrapper.chmod(0o755)
    src = sshd.remote_dir('root')
    argv = [util.bin_path('sshmountfs'), 'dummy:' + src, tmp_mnt,
            '-o', 'ssh_command=%s' % wrapper]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=20)
        assert p.returncode == 0, err
        assert b'starting' in err		# messages before ready still reach us
        assert os.path.ismount(tmp_mnt)
        os.mkdir(os.path.join(tmp_mnt, 'd'))
        assert os.path.isdir(os.path.join(src, 'd'))
        time.sleep(1.5)				# the helper writes again: no SIGPIPE death
        assert os.listdir(tmp_mnt) == ['d']
        util.umount(None, tmp_mnt)
    finally:
        if os.path.ismount(tmp_mnt):
            util.cleanup(None, tmp_mnt)


def test_mount_is_fast(sshd, tmp_mnt):
    t0 = time.monotonic()
    res = sm(sshd, tmp_mnt)
    took = time.monotonic() - t0
    try:
        assert res.returncode == 0, res.stderr
        assert took < 5
    finally:
        util.umount(None, tmp_mnt)


# ------------------------------------------------------------- unmounting

def test_fusermount_ends_foreground_process_with_0(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt) as m:
        assert os.listdir(m.mnt) == []
    assert not os.path.ismount(tmp_mnt)


@pytest.mark.require_root
def test_umount_ends_daemon(sshd, tmp_mnt):
    res = sm(sshd, tmp_mnt)
    assert res.returncode == 0, res.stderr
    pids = util.fuse_daemon_pids(tmp_mnt)
    assert pids
    util.run(['umount', tmp_mnt], timeout=30, check=True)
    assert util.wait_pids_gone(pids, 10)
    assert_nothing_left(tmp_mnt)


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_unmounts_cleanly(sshd, tmp_mnt, sig):
    m = FsMount(sshd, tmp_mnt).start()
    try:
        os.listdir(tmp_mnt)
        m.proc.send_signal(sig)
        assert m.proc.wait(timeout=15) == 0
        assert not os.path.ismount(tmp_mnt)
    finally:
        m.cleanup()


def test_end_right_after_listings(sshd, tmp_mnt):
    """The kernel sends a closed directory's release in the background; a
    mount ended right after a listing (signal or unmount) never gets it. The
    daemon frees such handles itself and still exits 0 (in the sanitizer
    build a leaked handle made it exit 1, about one run in three)."""
    for i in range(20):
        # -d: logging every request widens the window, as a loaded machine does
        m = FsMount(sshd, tmp_mnt, opts=['-d']).start()
        try:
            os.listdir(tmp_mnt)
            if i % 4 == 3:
                m.stop()
                continue
            m.proc.send_signal(signal.SIGINT if i % 2 else signal.SIGTERM)
            assert m.proc.wait(timeout=15) == 0, 'run %d' % i
            assert not os.path.ismount(tmp_mnt)
        finally:
            m.cleanup()


def test_sigterm_while_busy(sshd, tmp_mnt):
    """SIGTERM while files are open and threads are reading: still a clean
    exit with 0 and nothing left mounted."""
    m = FsMount(sshd, tmp_mnt).start()
    stop = threading.Event()
    try:
        with open(m.m('big'), 'wb') as f:
            f.write(os.urandom(4 << 20))

        def reader():
            while not stop.is_set():
                try:
                    with open(m.m('big'), 'rb') as f:
                        while f.read(1 << 16):
                            pass
                except OSError:
                    return
        ts = [threading.Thread(target=reader) for _ in range(4)]
        for t in ts:
            t.start()
        time.sleep(0.5)
        m.proc.send_signal(signal.SIGTERM)
        assert m.proc.wait(timeout=15) == 0
        assert not os.path.ismount(tmp_mnt)
    finally:
        stop.set()
        m.cleanup()


def test_daemon_sigterm(sshd, tmp_mnt):
    res = sm(sshd, tmp_mnt)
    assert res.returncode == 0, res.stderr
    pids = util.fuse_daemon_pids(tmp_mnt)
    try:
        os.kill(pids[0], signal.SIGTERM)
        assert util.wait_pids_gone(pids, 15)
        assert wait_until(lambda: not os.path.ismount(tmp_mnt), 5)
    finally:
        util.cleanup(None, tmp_mnt)


# --------------------------------------------------------------- failures

class MountWatcher:
    """Polls the mount table while a failing mount runs: not even a brief
    appearance is allowed."""

    def __init__(self, mnt):
        self.mnt = os.path.realpath(mnt)
        self.seen = False
        self.stop = threading.Event()
        self.t = threading.Thread(target=self._run)
        self.t.start()

    def _run(self):
        while not self.stop.is_set():
            if any(m == self.mnt for m, _, _ in util.mountinfo()):
                self.seen = True
            time.sleep(0.002)

    def done(self):
        self.stop.set()
        self.t.join()
        return self.seen


def test_unknown_host_key(sshd, tmp_mnt, tmp_path):
    empty = tmp_path / 'kh'
    empty.write_text('')
    w = MountWatcher(tmp_mnt)
    res = sm(sshd, tmp_mnt, extra=['-o', 'UserKnownHostsFile=%s' % empty])
    assert not w.done()
    assert res.returncode == 32
    assert 'known-host' in res.stderr and 'not known' in res.stderr
    assert 'SHA256:' in res.stderr
    assert_nothing_left(tmp_mnt)


def test_changed_host_key(sshd, tmp_mnt, tmp_path):
    kh = tmp_path / 'kh'
    other = tmp_path / 'other'
    util.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(other)], check=True)
    kh.write_text('[127.0.0.1]:%d %s\n' % (sshd.port, ' '.join(
        open(str(other) + '.pub').read().split()[:2])))
    res = sm(sshd, tmp_mnt, extra=['-o', 'UserKnownHostsFile=%s' % kh])
    assert res.returncode == 32
    assert 'known-host' in res.stderr
    assert_nothing_left(tmp_mnt)


def test_refused_port(sshd, tmp_mnt):
    port = util.free_port()
    argv = [util.bin_path('sshmountfs'), 'smtest@127.0.0.1:/tmp', tmp_mnt,
            '-p', str(port), '-o', 'reach_tries=2', '-o', 'IdentityFile=' + sshd.key,
            '-o', 'UserKnownHostsFile=' + sshd.known_hosts]
    t0 = time.monotonic()
    res = util.run(argv, timeout=60, env=sshd.env())
    assert res.returncode == 32
    assert 'refused' in res.stderr
    assert time.monotonic() - t0 < 15
    assert_nothing_left(tmp_mnt)


def test_login_refused(sshd, tmp_mnt, tmp_path):
    key = tmp_path / 'k'
    util.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(key)], check=True)
    argv = [util.bin_path('sshmountfs'), sshd.spec('smtest', '/tmp'), tmp_mnt,
            '-p', str(sshd.port), '-F', sshd.client_config,
            '-o', 'IdentityFile=%s' % key, '-o', 'UserKnownHostsFile=' + sshd.known_hosts,
            '-o', 'PasswordAuthentication=no', '-o', 'KbdInteractiveAuthentication=no']
    res = util.run(argv, timeout=60, env=sshd.env())
    assert res.returncode == 32
    assert 'login' in res.stderr
    assert_nothing_left(tmp_mnt)


def test_bad_option(sshd, tmp_mnt):
    res = sm(sshd, tmp_mnt, extra=['-o', 'no_such_option=1'])
    assert res.returncode == 1
    assert 'no_such_option' in res.stderr
    assert_nothing_left(tmp_mnt)


def test_bad_libfuse_option_value(sshd, tmp_mnt):
    res = sm(sshd, tmp_mnt, extra=['-o', 'max_threads=0'])
    assert res.returncode == 1
    assert 'max_threads' in res.stderr
    assert_nothing_left(tmp_mnt)


def test_missing_positional(sshd):
    res = util.run([util.bin_path('sshmountfs'), 'host:'], timeout=30)
    assert res.returncode == 1
    assert res.stderr


def test_mountpoint_problems(sshd, tmp_path):
    res = sm(sshd, str(tmp_path / 'nonexistent'))
    assert res.returncode == 32 and 'does not exist' in res.stderr
    f = tmp_path / 'file'
    f.write_text('')
    res = sm(sshd, str(f))
    assert res.returncode == 32 and 'not a directory' in res.stderr


def test_already_mounted(sshd, tmp_mnt):
    res = sm(sshd, tmp_mnt)
    assert res.returncode == 0, res.stderr
    try:
        res2 = sm(sshd, tmp_mnt)
        assert res2.returncode == 32
        assert 'already mounted' in res2.stderr
        assert len(util.fuse_daemon_pids(tmp_mnt)) == 1
    finally:
        util.umount(None, tmp_mnt)


def test_missing_remote_dir_is_created(sshd, tmp_mnt):
    """The folder check creates a missing remote folder (Back In Time's
    behaviour), so the mount works and the folder exists afterwards."""
    base = sshd.remote_dir('smtest')
    want = os.path.join(base, 'new', 'deeper')
    res = sm(sshd, tmp_mnt, path=want)
    try:
        assert res.returncode == 0, res.stderr
        assert os.path.isdir(want)
        assert os.listdir(tmp_mnt) == []
    finally:
        util.umount(None, tmp_mnt)


def test_remote_path_not_a_directory(sshd, tmp_mnt):
    base = sshd.remote_dir('smtest')
    f = os.path.join(base, 'file')
    open(f, 'w').close()
    res = sm(sshd, tmp_mnt, path=f)
    assert res.returncode == 32
    assert 'folder' in res.stderr
    assert_nothing_left(tmp_mnt)


def test_remote_dir_not_writable_for_user(sshd, tmp_mnt):
    res = sm(sshd, tmp_mnt, path='/root/smtest-cannot-create-this')
    assert res.returncode == 32
    assert 'folder' in res.stderr
    assert_nothing_left(tmp_mnt)


def test_help_and_version(sshd):
    res = util.run([util.bin_path('sshmountfs'), '--help'], timeout=30)
    assert res.returncode == 0
    assert 'usage: sshmountfs' in res.stdout and 'idmap' in res.stdout
    res = util.run([util.bin_path('sshmountfs'), '-V'], timeout=30)
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert lines[0].startswith('sshmountfs ')
    assert any(x.startswith('libfuse 3.') for x in lines)
    assert any(x.startswith('libssh 0.') for x in lines)
