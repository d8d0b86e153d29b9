"""Mounting through mount(8): `mount -t sshmountfs`, `mount -t fuse.sshmountfs`,
fstab lines with mount noise (`mount -a -T`), `mount -f`, and failures.

Each test runs twice (fs_impl): with sshmountfs, and with sshfs behind the
same helper as the reference for the mount(8) plumbing.
"""

import os
import subprocess
import time

import pytest

import util
from conftest import fuse_test_marker
from util import run

pytestmark = [fuse_test_marker(), pytest.mark.require_root]

MOUNT = '/usr/bin/mount'
UMOUNT = '/usr/bin/umount'


def ssh_options(sshd, known_hosts=None):
    return sshd.mount_opts(known_hosts)


def remote_with_file(sshd):
    return sshd.remote_dir('smtest', files={'hello': 'hello from the remote\n'})


def fstype_of(helper):
    return 'fuse.' + helper.fs_name


def assert_mounted(mnt, sshd, d, helper):
    assert os.path.ismount(mnt)
    fstype, src = util.mount_entry(mnt)
    assert fstype == fstype_of(helper)
    assert src == sshd.spec('smtest', d)
    assert open(os.path.join(mnt, 'hello')).read() == 'hello from the remote\n'


def unmount(mnt):
    """umount(8) and require the daemon to go away with the mount."""
    pids = util.fuse_daemon_pids(mnt)
    assert len(pids) == 1, pids
    run([UMOUNT, mnt], timeout=30, check=True)
    assert not os.path.ismount(mnt)
    assert util.wait_pids_gone(pids, 15), 'daemon %s outlived its mount' % pids


def connections(sshd):
    return sshd.log().count('Connection from 127.0.0.1')


@pytest.mark.parametrize('fstype', ['sshmountfs', 'fuse.sshmountfs'])
def test_mount_t_then_umount(sshd, installed_helper, tmp_mnt, fstype):
    d = remote_with_file(sshd)
    res = run([MOUNT, '-t', fstype, sshd.spec('smtest', d), tmp_mnt,
               '-o', ssh_options(sshd)], timeout=60)
    assert res.returncode == 0, res.stderr
    try:
        assert_mounted(tmp_mnt, sshd, d, installed_helper)
        with open(os.path.join(tmp_mnt, 'new'), 'w') as f:
            f.write('written through the mount')
        assert open(os.path.join(d, 'new')).read() == 'written through the mount'
    except BaseException:
        util.cleanup(None, tmp_mnt)
        raise
    unmount(tmp_mnt)


def test_mount_returns_with_stdio_closed(sshd, installed_helper, tmp_mnt):
    # automount reads the helper's output until EOF: the daemon must not
    # keep mount's stdout/stderr open
    d = remote_with_file(sshd)
    proc = subprocess.Popen([MOUNT, '-t', 'sshmountfs', sshd.spec('smtest', d), tmp_mnt,
                             '-o', ssh_options(sshd)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=30)  # EOF, not just the exit
    except subprocess.TimeoutExpired:
        proc.kill()
        util.cleanup(None, tmp_mnt)
        pytest.fail('mount did not close its output within 30 s (daemon holds stdio)')
    assert proc.returncode == 0, out
    assert os.path.ismount(tmp_mnt)
    unmount(tmp_mnt)


def test_mount_fake_mounts_nothing(sshd, installed_helper, tmp_mnt):
    d = remote_with_file(sshd)
    before = connections(sshd)
    res = run([MOUNT, '-f', '-t', 'sshmountfs', sshd.spec('smtest', d), tmp_mnt,
               '-o', ssh_options(sshd)], timeout=60)
    assert res.returncode == 0, res.stderr
    assert not os.path.ismount(tmp_mnt)
    assert util.fuse_daemon_pids(tmp_mnt) == []
    assert connections(sshd) == before


def test_fstab_with_mount_noise(sshd, installed_helper, tmp_path):
    d1, d2 = remote_with_file(sshd), remote_with_file(sshd)
    m1, m2 = tmp_path / 'm1', tmp_path / 'm2'
    m1.mkdir()
    m2.mkdir()
    opts = ssh_options(sshd)
    fstab = tmp_path / 'fstab'
    fstab.write_text(
        '# test fstab\n'
        '%s %s sshmountfs _netdev,nofail,user,x-systemd.automount,'
        'x-systemd.mount-timeout=30,comment=x-gvfs-show,defaults,%s 0 0\n'
        '%s %s fuse.sshmountfs noauto,_netdev,users,nodev,nosuid,%s 0 0\n'
        % (sshd.spec('smtest', d1), m1, opts, sshd.spec('smtest', d2), m2, opts))
    try:
        res = run([MOUNT, '-a', '-T', str(fstab)], timeout=60)
        assert res.returncode == 0, res.stderr
        assert_mounted(str(m1), sshd, d1, installed_helper)
        assert not os.path.ismount(str(m2))  # noauto: not by -a
        res = run([MOUNT, '-T', str(fstab), str(m2)], timeout=60)
        assert res.returncode == 0, res.stderr
        assert_mounted(str(m2), sshd, d2, installed_helper)
    except BaseException:
        util.cleanup(None, str(m1))
        util.cleanup(None, str(m2))
        raise
    unmount(str(m1))
    unmount(str(m2))


def test_unknown_host_key_fails_without_mount(sshd, installed_helper, tmp_mnt, tmp_path):
    empty = tmp_path / 'known_hosts'
    empty.write_text('')
    d = remote_with_file(sshd)
    t = time.monotonic()
    res = run([MOUNT, '-t', 'sshmountfs', sshd.spec('smtest', d), tmp_mnt,
               '-o', ssh_options(sshd, str(empty))], timeout=60)
    assert time.monotonic() - t < 20
    assert res.returncode != 0
    if installed_helper.fs_name == 'sshmountfs':
        assert res.returncode == 32  # sshfs says 1 for everything
        assert 'host key' in res.stderr.lower()
    assert not os.path.ismount(tmp_mnt)
    assert util.fuse_daemon_pids(tmp_mnt) == []


def test_unknown_option_is_a_usage_error(sshd, installed_helper, tmp_mnt):
    res = run([MOUNT, '-t', 'sshmountfs', sshd.spec('smtest', '/'), tmp_mnt,
               '-o', ssh_options(sshd) + ',no_such_option'], timeout=60)
    assert res.returncode == 1
    assert "unknown option 'no_such_option'" in res.stderr
    assert not os.path.ismount(tmp_mnt)


def test_sloppy_mount_ignores_unknown_option(sshd, installed_helper, tmp_mnt):
    d = remote_with_file(sshd)
    res = run([MOUNT, '-s', '-t', 'sshmountfs', sshd.spec('smtest', d), tmp_mnt,
               '-o', ssh_options(sshd) + ',no_such_option'], timeout=60)
    assert res.returncode == 0, res.stderr
    try:
        assert_mounted(tmp_mnt, sshd, d, installed_helper)
    except BaseException:
        util.cleanup(None, tmp_mnt)
        raise
    unmount(tmp_mnt)


@util.mount_namespace_marker()
def test_mount_in_another_namespace(sshd, installed_helper, tmp_mnt):
    # mount -N: the mount exists in that namespace only, and is served there
    d = remote_with_file(sshd)
    ns = subprocess.Popen(['unshare', '--mount', '--propagation', 'private', 'sleep', '120'])
    try:
        deadline = time.monotonic() + 10
        while os.readlink('/proc/%d/ns/mnt' % ns.pid) == os.readlink('/proc/self/ns/mnt'):
            assert time.monotonic() < deadline, 'unshare did not make a namespace'
            time.sleep(0.05)
        res = run([MOUNT, '-N', str(ns.pid), '-t', 'sshmountfs', sshd.spec('smtest', d),
                   tmp_mnt, '-o', ssh_options(sshd)], timeout=60)
        assert res.returncode == 0, res.stderr
        assert not os.path.ismount(tmp_mnt)
        theirs = open('/proc/%d/mountinfo' % ns.pid).read()
        assert ' %s ' % tmp_mnt in theirs and fstype_of(installed_helper) in theirs
        inside = ['nsenter', '-m', '-t', str(ns.pid)]
        res = run(inside + ['cat', os.path.join(tmp_mnt, 'hello')], timeout=30)
        assert res.stdout == 'hello from the remote\n', res.stderr
        pids = util.fuse_daemon_pids(tmp_mnt)
        assert len(pids) == 1, pids
        run(inside + [UMOUNT, tmp_mnt], timeout=30, check=True)
        assert ' %s ' % tmp_mnt not in open('/proc/%d/mountinfo' % ns.pid).read()
        assert util.wait_pids_gone(pids, 15), 'daemon outlived its mount'
    finally:
        ns.kill()
        ns.wait(10)
