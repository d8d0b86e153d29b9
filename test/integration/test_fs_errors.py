"""What a program gets from the mount is what a local filesystem would
give (issue 10): the errno, not whatever OpenSSH's folding of errno values
into a few SFTP status codes suggests; nothing silently stored wrong (times
past SFTP's range); and the modes it asked for, not what the server's umask
left of them.
"""

import errno
import os

import pytest

import util

from conftest import fuse_test_marker
from fsmount import FsMount, module_mount, name_gen

pytestmark = fuse_test_marker()

KERNEL_NOCACHE = ['-o', 'entry_timeout=0', '-o', 'attr_timeout=0']


@pytest.fixture(scope='module', params=['cache', 'nocache'])
def m(request, sshd):
    opts = KERNEL_NOCACHE + (['-o', 'cache=no'] if request.param == 'nocache' else [])
    yield from module_mount(sshd, 'smerr-', user='smtest', opts=opts)


def errno_of(fn, *args):
    try:
        fn(*args)
    except OSError as e:
        return e.errno
    return 0


def test_name_too_long(m):
    """A 256-byte name is ENAMETOOLONG (statfs says namemax 255), for every
    kind of creation and for lookups; 255 bytes work."""
    d = name_gen()
    os.mkdir(m.m(d))
    long_ = 'x' * 256
    ok = 'y' * 255
    p = m.m(d, long_)
    assert errno_of(os.open, p, os.O_CREAT | os.O_WRONLY, 0o644) == errno.ENAMETOOLONG
    assert errno_of(os.mkdir, p) == errno.ENAMETOOLONG
    assert errno_of(os.symlink, 'target', p) == errno.ENAMETOOLONG
    open(m.m(d, 'f'), 'w').close()
    assert errno_of(os.rename, m.m(d, 'f'), p) == errno.ENAMETOOLONG
    assert errno_of(os.link, m.m(d, 'f'), p) == errno.ENAMETOOLONG
    assert errno_of(os.stat, p) == errno.ENAMETOOLONG
    assert os.statvfs(m.m(d)).f_namemax == 255
    os.rename(m.m(d, 'f'), m.m(d, ok))
    assert sorted(os.listdir(m.s(d))) == [ok]


def test_time_out_of_range(m):
    """SFTP v3 carries times as unsigned 32-bit seconds: a time past
    2^32 - 1, or before 1970, is refused (EOVERFLOW), never stored wrapped."""
    n = name_gen()
    open(m.m(n), 'w').close()
    os.utime(m.m(n), (1000000, 2000000))
    for t in (2 ** 32 + 5, 2 ** 40, -1, -(2 ** 31)):
        assert errno_of(os.utime, m.m(n), (t, t)) in (errno.EOVERFLOW, errno.EINVAL), t
        assert errno_of(os.utime, m.m(n), (1000000, t)) in (errno.EOVERFLOW, errno.EINVAL), t
        st = os.stat(m.s(n))
        assert (st.st_atime, st.st_mtime) == (1000000, 2000000), t
    os.utime(m.m(n), (2 ** 32 - 1, 2 ** 32 - 1))
    assert os.stat(m.s(n)).st_mtime == 2 ** 32 - 1
    fd = os.open(m.m(n), os.O_RDWR)
    try:
        assert errno_of(os.utime, fd, (2 ** 32 + 5, 2 ** 32 + 5)) == errno.EOVERFLOW
    finally:
        os.close(fd)
    assert os.stat(m.s(n)).st_mtime == 2 ** 32 - 1


def test_modes_survive_server_umask(make_sshd, tmp_mnt):
    """sftp-server runs with umask 022 (-u): a program with umask 0 still
    gets the modes it asked for, as on a local filesystem; the server's
    copy is checked."""
    srv = make_sshd(sftp_args=['-u', '022'])
    old = os.umask(0)
    try:
        with FsMount(srv, tmp_mnt, opts=KERNEL_NOCACHE) as m:
            os.mkdir(m.m('d'), 0o777)
            os.close(os.open(m.m('f'), os.O_CREAT | os.O_WRONLY, 0o620))
            os.close(os.open(m.m('s'), os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o4777))
            os.mknod(m.m('n'), 0o100666)
            fd = os.open(m.m('w'), os.O_CREAT | os.O_WRONLY, 0o666)
            os.write(fd, b'data')
            os.close(fd)
            os.umask(0o022)
            os.mkdir(m.m('d22'), 0o777)
            os.close(os.open(m.m('f22'), os.O_CREAT | os.O_WRONLY, 0o666))
            want = {'d': 0o777, 'f': 0o620, 's': 0o4777, 'n': 0o666, 'w': 0o666, 'd22': 0o755,
                    'f22': 0o644}
            for n, mode in want.items():
                assert os.stat(m.s(n)).st_mode & 0o7777 == mode, n
                assert os.stat(m.m(n)).st_mode & 0o7777 == mode, n
            assert open(m.s('w'), 'rb').read() == b'data'
    finally:
        os.umask(old)


def tmpfs_in(sshd, opts):
    """A tmpfs (mount options opts) at small/ inside a fresh directory of
    the remote user; returns (directory, umount function)."""
    src = sshd.remote_dir('smtest')
    small = os.path.join(src, 'small')
    os.mkdir(small)
    util.run(['mount', '-t', 'tmpfs', '-o', opts + ',mode=0755', 'tmpfs', small], check=True)
    util.run(['chown', 'smtest:', small], check=True)
    return src, lambda: util.run(['umount', '-l', small], timeout=30)


@pytest.fixture
def small_fs(sshd):
    """A 1 MiB tmpfs inside the remote user's directory: a disk to fill."""
    src, done = tmpfs_in(sshd, 'size=1m')
    yield src
    done()


@pytest.fixture
def few_inodes_fs(sshd):
    """A tmpfs with room for only a few files."""
    src, done = tmpfs_in(sshd, 'size=1m,nr_inodes=4')
    yield src
    done()


def fill(path, sync):
    """Writes 4 MiB into path; returns the errno of the first failure."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
        try:
            for _ in range(64):
                os.write(fd, b'x' * 65536)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        return e.errno
    return 0


@pytest.mark.require_root
def test_full_disk_is_enospc(sshd, tmp_mnt, small_fs):
    """OpenSSH folds ENOSPC into FAILURE: a write to a full disk must still
    fail with ENOSPC (errno 28), whether it surfaces at write, fsync or
    close."""
    with FsMount(sshd, tmp_mnt, src=small_fs, opts=KERNEL_NOCACHE) as m:
        assert fill(m.m('small', 'a'), True) == errno.ENOSPC
        os.unlink(m.m('small', 'a'))
        assert fill(m.m('small', 'b'), False) == errno.ENOSPC
        assert fill(m.m('small', 'b'), True) == errno.ENOSPC
        os.unlink(m.m('small', 'b'))
        assert os.listdir(m.s('small')) == []


@pytest.mark.require_root
def test_no_free_inodes_is_enospc(sshd, tmp_mnt, few_inodes_fs):
    """A create or mkdir on a filesystem without free inodes: ENOSPC."""
    with FsMount(sshd, tmp_mnt, src=few_inodes_fs, opts=KERNEL_NOCACHE) as m:
        made, err = 0, 0
        for i in range(10):
            try:
                os.close(os.open(m.m('small', 'f%d' % i), os.O_CREAT | os.O_WRONLY, 0o644))
                made += 1
            except OSError as e:
                err = e.errno
                break
        assert err == errno.ENOSPC and 0 < made < 10, (made, err)
        assert errno_of(os.mkdir, m.m('small', 'd')) == errno.ENOSPC
        assert len(os.listdir(m.s('small'))) == made


def ext4_limit(path):
    """The largest file ext4 with 4 KiB blocks holds (16 TiB - 4 KiB), when
    path is on ext4; else skips the test (tmpfs, xfs and btrfs allow 8 EiB:
    nothing to test)."""
    res = util.run(['stat', '-f', '-c', '%T %S', path], timeout=10, check=True)
    kind, bsize = res.stdout.split()
    if kind != 'ext2/ext3' or bsize != '4096':
        pytest.skip('the server directory is on %s (block %s), not ext4 with 4 KiB blocks'
                    % (kind, bsize))
    return (1 << 44) - 4096


def test_file_too_large_is_efbig(m):
    """A write or truncate past what the server's filesystem allows fails
    with EFBIG, not EPERM (OpenSSH folds EFBIG into FAILURE); a large
    sparse file below the limit works."""
    limit = ext4_limit(m.s())
    n = name_gen()
    fd = os.open(m.m(n), os.O_CREAT | os.O_RDWR, 0o644)
    try:
        os.pwrite(fd, b'x', 1 << 40)
        os.fsync(fd)
        assert os.stat(m.s(n)).st_size == (1 << 40) + 1
        assert errno_of(os.ftruncate, fd, limit + 4096) == errno.EFBIG
        assert errno_of(os.truncate, m.m(n), 1 << 50) == errno.EFBIG
        assert os.stat(m.s(n)).st_size == (1 << 40) + 1
        try:
            os.pwrite(fd, b'y', limit + 4096)
            os.fsync(fd)
            err = 0
        except OSError as e:
            err = e.errno
        assert err == errno.EFBIG
    finally:
        try:
            os.close(fd)
        except OSError as e:
            assert e.errno == errno.EFBIG
    assert os.stat(m.s(n)).st_size == (1 << 40) + 1
    os.unlink(m.m(n))
