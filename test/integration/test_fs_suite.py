"""The cases of sshfs's own test suite (sshfs's test/test_sshfs.py), in our own
words, plus the errno cases users meet, on real mounts.

Each case runs on four mounts: the remote user root and the unprivileged
'smtest' (root passes every permission check on the server, smtest does
not), each with our caches on (timeouts of 1 s, so the tests can wait them
out) and with cache=no. The kernel's own attribute and entry caches are off
(entry_timeout=0, attr_timeout=0), as in sshfs's suite, so that every check
reaches the file system.
"""

import ctypes
import errno
import filecmp
import os
import shutil
import stat
import time

import pytest

import util
from conftest import fuse_test_marker
from fsmount import TEST_DATA, module_mount, name_gen

pytestmark = fuse_test_marker()

KERNEL_NOCACHE = ['-o', 'entry_timeout=0', '-o', 'attr_timeout=0']
VARIANTS = {
    'cache': ['-o', 'cache_timeout=1'] + KERNEL_NOCACHE,
    'nocache': ['-o', 'cache=no'] + KERNEL_NOCACHE,
}
CACHE_WAIT = 1.2


@pytest.fixture(scope='module', params=[(u, v) for u in ('root', 'smtest') for v in VARIANTS],
                ids=lambda p: '%s-%s' % p)
def m(request, sshd):
    user, variant = request.param
    for fm in module_mount(sshd, 'smsuite-', user=user, opts=VARIANTS[variant]):
        fm.variant = variant
        yield fm


def wait_cache(m):
    if m.variant == 'cache':
        time.sleep(CACHE_WAIT)


def new(m):
    """A fresh name; returns (mnt path, src path)."""
    n = name_gen()
    return m.m(n), m.s(n)


def write_via_mnt(path, data=TEST_DATA):
    with open(path, 'wb') as f:
        f.write(data)


def read(path):
    with open(path, 'rb') as f:
        return f.read()


# ---------------------------------------------------------------- sshfs's cases

def test_statvfs(m):
    a, b = os.statvfs(m.mnt), os.statvfs(m.src)
    assert a.f_bsize == b.f_bsize
    assert a.f_frsize == b.f_frsize
    assert a.f_blocks == b.f_blocks
    assert a.f_namemax == b.f_namemax


def test_readdir(m):
    d = name_gen()
    m.src_mkdir(d)
    m.src_write(os.path.join(d, 'file'), b'x')
    m.src_mkdir(os.path.join(d, 'subdir'))
    m.src_write(os.path.join(d, 'subdir', 'file'), b'y')
    assert sorted(os.listdir(m.m(d))) == ['file', 'subdir']
    assert os.listdir(m.m(d, 'subdir')) == ['file']


def test_open_read(m):
    n = name_gen()
    m.src_write(n, TEST_DATA)
    assert filecmp.cmp(m.m(n), m.s(n), shallow=False)


def test_open_write(m):
    n = name_gen()
    m.src_write(n, b'')
    with open(m.m(n), 'r+b') as f:
        f.write(TEST_DATA)
    assert read(m.s(n)) == TEST_DATA


def test_append(m):
    mp, sp = new(m)
    write_via_mnt(mp, b'foo\n')
    fd = os.open(mp, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, b'bar\n')
        os.write(fd, b'baz\n')
    finally:
        os.close(fd)
    assert read(sp) == b'foo\nbar\nbaz\n'
    assert read(mp) == b'foo\nbar\nbaz\n'


def test_seek(m):
    mp, sp = new(m)
    fd = os.open(mp, os.O_WRONLY | os.O_CREAT, 0o644)
    os.lseek(fd, 1, os.SEEK_SET)
    os.write(fd, b'foobar\n')
    os.close(fd)
    fd = os.open(mp, os.O_WRONLY)
    os.lseek(fd, 4, os.SEEK_SET)
    os.write(fd, b'com')
    os.close(fd)
    assert read(sp) == b'\0foocom\n'


def test_create(m):
    mp, sp = new(m)
    with pytest.raises(FileNotFoundError):
        os.stat(mp)
    assert os.path.basename(mp) not in os.listdir(m.mnt)
    fd = os.open(mp, os.O_CREAT | os.O_RDWR, 0o640)
    os.close(fd)
    assert os.path.basename(mp) in os.listdir(m.mnt)
    st = os.lstat(mp)
    assert stat.S_ISREG(st.st_mode)
    assert st.st_nlink == 1
    assert st.st_size == 0
    assert stat.S_IMODE(os.stat(sp).st_mode) == 0o640
    assert os.stat(sp).st_uid == m.uid


def test_passthrough(m):
    n = name_gen()
    m.src_write(n, TEST_DATA)
    wait_cache(m)
    a, b = os.stat(m.m(n)), os.stat(m.s(n))
    assert a.st_size == b.st_size
    assert a.st_uid == b.st_uid and a.st_gid == b.st_gid
    assert abs(a.st_mtime - b.st_mtime) < 1
    n2 = name_gen()
    write_via_mnt(m.m(n2))
    a, b = os.stat(m.m(n2)), os.stat(m.s(n2))
    assert a.st_size == b.st_size == len(TEST_DATA)
    assert abs(a.st_mtime - b.st_mtime) < 1


def test_mkdir(m):
    mp, sp = new(m)
    os.mkdir(mp, 0o750)
    st = os.stat(mp)
    assert stat.S_ISDIR(st.st_mode)
    assert os.listdir(mp) == []
    assert st.st_nlink in (1, 2)
    assert os.path.basename(mp) in os.listdir(m.mnt)
    assert stat.S_IMODE(os.stat(sp).st_mode) == 0o750


def test_rmdir(m):
    n = name_gen()
    os.listdir(m.mnt)		# the listing is cached from here on
    m.src_mkdir(n)
    wait_cache(m)
    assert n in os.listdir(m.mnt)
    os.rmdir(m.m(n))
    with pytest.raises(FileNotFoundError):
        os.stat(m.m(n))
    assert n not in os.listdir(m.mnt)
    assert not os.path.exists(m.s(n))


def test_rename(m):
    mp, sp = new(m)
    mp2, sp2 = new(m)
    write_via_mnt(mp)
    os.rename(mp, mp2)
    assert not os.path.exists(mp) and not os.path.exists(sp)
    assert os.path.basename(mp2) in os.listdir(m.mnt)
    assert read(mp2) == TEST_DATA == read(sp2)


def test_rename_over(m):
    mp, sp = new(m)
    mp2, sp2 = new(m)
    write_via_mnt(mp, b'source')
    write_via_mnt(mp2, b'target')
    os.rename(mp, mp2)
    assert read(mp2) == b'source' == read(sp2)
    assert not os.path.exists(mp)


def test_chmod(m):
    mp, sp = new(m)
    write_via_mnt(mp)
    for mode in (0o644, 0o755, 0o600):
        os.chmod(mp, mode)
        assert stat.S_IMODE(os.stat(mp).st_mode) == mode
        assert stat.S_IMODE(os.stat(sp).st_mode) == mode


def test_fsync(m):
    mp, sp = new(m)
    fd = os.open(mp, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        os.write(fd, TEST_DATA)
        os.fsync(fd)
        assert read(sp) == TEST_DATA	# on the server while still open
    finally:
        os.close(fd)


def test_unlink(m):
    n = name_gen()
    m.src_write(n, b'x')
    wait_cache(m)
    assert n in os.listdir(m.mnt)
    os.unlink(m.m(n))
    with pytest.raises(FileNotFoundError):
        os.stat(m.m(n))
    assert n not in os.listdir(m.mnt)
    assert not os.path.exists(m.s(n))


def test_symlink(m):
    mp, sp = new(m)
    os.symlink('/imaginary/dest', mp)
    st = os.lstat(mp)
    assert stat.S_ISLNK(st.st_mode)
    assert st.st_nlink == 1
    assert os.readlink(mp) == '/imaginary/dest' == os.readlink(sp)
    assert os.path.basename(mp) in os.listdir(m.mnt)
    os.unlink(mp)
    os.symlink('subdir/file', mp)
    assert os.readlink(mp) == 'subdir/file'
    os.unlink(mp)
    assert not os.path.lexists(sp)


def test_chown(m):
    mp, sp = new(m)
    os.mkdir(mp)
    st = os.lstat(mp)
    if m.user == 'root':
        os.chown(mp, st.st_uid + 1, -1)
        assert os.lstat(mp).st_uid == st.st_uid + 1
        os.chown(mp, -1, st.st_gid + 1)
        st2 = os.lstat(mp)
        assert (st2.st_uid, st2.st_gid) == (st.st_uid + 1, st.st_gid + 1)
        assert (os.lstat(sp).st_uid, os.lstat(sp).st_gid) == (st.st_uid + 1, st.st_gid + 1)
    else:
        with pytest.raises(PermissionError):
            os.chown(mp, 0, -1)
        assert os.lstat(sp).st_uid == m.uid


def test_utimens(m):
    mp, sp = new(m)
    os.mkdir(mp)
    st = os.lstat(mp)
    atime = st.st_atime + 42.28
    mtime = st.st_mtime - 42.23
    os.utime(mp, (atime, mtime))
    st = os.lstat(mp)
    assert abs(st.st_atime - atime) < 1
    assert abs(st.st_mtime - mtime) < 1
    assert abs(os.lstat(sp).st_mtime - mtime) < 1


def test_utimens_now(m):
    mp, sp = new(m)
    write_via_mnt(mp)
    os.utime(mp, (1000000, 1000000))
    os.utime(mp, None)
    st = os.stat(mp)
    assert abs(st.st_mtime - time.time()) < 10
    assert abs(st.st_atime - time.time()) < 10


def test_utimens_omit(m):
    mp, sp = new(m)
    write_via_mnt(mp)
    os.utime(mp, (1000000, 2000000))
    os.utime(mp, ns=(3000000 * 10**9, 2000000 * 10**9))
    st = os.stat(sp)
    assert (st.st_atime, st.st_mtime) == (3000000, 2000000)


def test_link(m):
    mp, sp = new(m)
    mp2, sp2 = new(m)
    write_via_mnt(mp)
    assert os.stat(mp).st_nlink == 1
    os.link(mp, mp2)
    a, b = os.stat(mp), os.stat(mp2)
    for attr in ('st_mode', 'st_dev', 'st_uid', 'st_gid', 'st_size'):
        assert getattr(a, attr) == getattr(b, attr)
    assert int(a.st_mtime) == int(b.st_mtime)
    assert os.stat(sp).st_ino == os.stat(sp2).st_ino	# one file on the server
    assert read(mp2) == TEST_DATA
    os.unlink(mp2)
    with pytest.raises(FileNotFoundError):
        os.lstat(mp2)
    assert os.stat(sp).st_nlink == 1


def test_truncate_path(m):
    mp, sp = new(m)
    write_via_mnt(mp)
    size = len(TEST_DATA)
    os.truncate(mp, size + 1024)
    assert os.stat(mp).st_size == size + 1024
    assert read(mp) == TEST_DATA + b'\0' * 1024
    os.truncate(mp, size - 1024)
    assert read(mp) == TEST_DATA[:size - 1024]
    os.truncate(mp, 0)
    assert os.stat(mp).st_size == 0 == os.stat(sp).st_size


def test_truncate_fd(m):
    mp, sp = new(m)
    size = len(TEST_DATA)
    with open(mp, 'w+b', buffering=0) as f:
        f.write(TEST_DATA)
        f.truncate(size + 1024)
        assert os.fstat(f.fileno()).st_size == size + 1024
        f.seek(0)
        assert f.read() == TEST_DATA + b'\0' * 1024
        f.truncate(size - 1024)
        f.seek(0)
        assert f.read() == TEST_DATA[:size - 1024]
        f.truncate(0)
        assert os.fstat(f.fileno()).st_size == 0
    assert os.stat(sp).st_size == 0


def test_open_unlink(m):
    mp, sp = new(m)
    with open(mp, 'wb+', buffering=0) as f:
        f.write(b'foo')
        os.unlink(mp)
        with pytest.raises(FileNotFoundError):
            os.stat(mp)
        assert os.path.basename(mp) not in os.listdir(m.mnt)
        f.write(b'bar')
        f.seek(0)
        assert f.read() == b'foobar'
    assert not any(n.startswith('.fuse_hidden') for n in os.listdir(m.src))


def test_open_writeonly_read(m):
    mp, sp = new(m)
    write_via_mnt(mp)
    fd = os.open(mp, os.O_WRONLY)
    try:
        with pytest.raises(OSError) as e:
            os.read(fd, 10)
        assert e.value.errno == errno.EBADF
    finally:
        os.close(fd)


def test_access(m):
    mp, sp = new(m)
    write_via_mnt(mp)
    os.chmod(mp, 0o644)
    assert os.access(mp, os.R_OK)
    assert os.access(mp, os.W_OK)
    assert not os.access(mp, os.X_OK)	# root too needs an x bit
    os.chmod(mp, 0o744)
    assert os.access(mp, os.X_OK)


def test_mkdir_exist(m):
    mp, sp = new(m)
    os.mkdir(mp)
    with pytest.raises(FileExistsError):
        os.mkdir(mp)
    write_via_mnt(mp + 'f')
    with pytest.raises(FileExistsError):
        os.mkdir(mp + 'f')


def test_readdir_repeated(m):
    d = name_gen()
    m.src_mkdir(d)
    names = ['n%d' % i for i in range(5)]
    for n in names:
        m.src_write(os.path.join(d, n), b'')
    a = sorted(os.listdir(m.m(d)))
    b = sorted(os.listdir(m.m(d)))
    assert a == b == names


def test_readdir_large(m):
    d = name_gen()
    m.src_mkdir(d)
    names = sorted('entry-%04d' % i for i in range(1500))
    for n in names:
        m.src_write(os.path.join(d, n), b'')
    assert sorted(os.listdir(m.m(d))) == names
    with os.scandir(m.m(d)) as it:
        kinds = {e.name: e.is_file(follow_symlinks=False) for e in it}
    assert len(kinds) == 1500 and all(kinds.values())


def test_rename_sibling(m):
    a, _ = new(m)
    b, _ = new(m)
    c, _ = new(m)
    write_via_mnt(a, b'a')
    write_via_mnt(b, b'b')
    os.rename(a, c)
    assert read(b) == b'b'
    assert read(c) == b'a'


def test_rename_open_release(m):
    mp, sp = new(m)
    mp2, sp2 = new(m)
    f = open(mp, 'wb')
    try:
        f.write(b'data')
        f.flush()
        os.rename(mp, mp2)
    finally:
        f.close()
    assert read(sp2) == b'data'
    assert not os.path.exists(sp)
    assert os.stat(mp2).st_size == 4


# ------------------------------------------------------------------ errno cases

def test_rmdir_not_empty(m):
    mp, sp = new(m)
    os.mkdir(mp)
    write_via_mnt(os.path.join(mp, 'f'))
    with pytest.raises(OSError) as e:
        os.rmdir(mp)
    assert e.value.errno == errno.ENOTEMPTY


def test_create_exclusive(m):
    mp, sp = new(m)
    write_via_mnt(mp)
    with pytest.raises(FileExistsError):
        os.open(mp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    assert read(sp) == TEST_DATA


def test_enoent(m):
    mp, _ = new(m)
    with pytest.raises(FileNotFoundError):
        open(mp, 'rb')
    with pytest.raises(FileNotFoundError):
        os.unlink(mp)
    with pytest.raises(FileNotFoundError):
        os.rmdir(mp)
    with pytest.raises(FileNotFoundError):
        os.rename(mp, mp + 'x')
    with pytest.raises(FileNotFoundError):
        os.mkdir(os.path.join(mp, 'sub'))
    with pytest.raises(FileNotFoundError):
        os.readlink(mp)


def test_eacces(m):
    """A directory the remote user may not write to."""
    n = name_gen()
    p = m.s(n)
    os.mkdir(p, 0o755)		# owned by root on the server
    with open(os.path.join(p, 'ro'), 'w') as f:
        f.write('x')
    os.chmod(os.path.join(p, 'ro'), 0o644)
    target = m.m(n, 'new')
    if m.user == 'root':
        write_via_mnt(target)
        return
    with pytest.raises(PermissionError):
        write_via_mnt(target)
    with pytest.raises(PermissionError):
        os.mkdir(m.m(n, 'd'))
    with pytest.raises(PermissionError):
        open(m.m(n, 'ro'), 'ab')
    with pytest.raises(PermissionError):
        os.unlink(m.m(n, 'ro'))
    assert os.listdir(p) == ['ro']


def _renameat2(src, dst, flags):
    libc = ctypes.CDLL(None, use_errno=True)
    at_fdcwd = -100
    r = libc.renameat2(at_fdcwd, os.fsencode(src), at_fdcwd, os.fsencode(dst), flags)
    return 0 if r == 0 else ctypes.get_errno()


def test_rename_flags(m):
    a, sa = new(m)
    b, sb = new(m)
    write_via_mnt(a, b'a')
    write_via_mnt(b, b'b')
    RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
    assert _renameat2(a, b, RENAME_NOREPLACE) == errno.EEXIST
    assert read(sb) == b'b'
    assert _renameat2(a, b, RENAME_EXCHANGE) == errno.EINVAL
    c = b + 'c'
    assert _renameat2(a, c, RENAME_NOREPLACE) == 0
    assert read(c) == b'a' and not os.path.exists(sa)


def test_copy_file_range(m):
    a, sa = new(m)
    b, sb = new(m)
    data = os.urandom(3 * 1024 * 1024 + 17)
    write_via_mnt(a, data)
    with open(a, 'rb') as fi, open(b, 'wb') as fo:
        done = 0
        while done < len(data):
            n = os.copy_file_range(fi.fileno(), fo.fileno(), len(data) - done, done, done)
            assert n > 0
            done += n
    assert read(sb) == data
    assert read(b) == data


def test_copy_file_range_within_one_file(m):
    """OpenSSH refuses copy-data from a file to itself (FAILURE, which was
    EPERM): the copy must still happen, within one descriptor and between
    two descriptors of the same file (fsx does both)."""
    a, sa = new(m)
    data = os.urandom(300000)
    write_via_mnt(a, data + bytes(200000))
    fd = os.open(a, os.O_RDWR)
    try:
        assert os.copy_file_range(fd, fd, 100000, 0, 300000) == 100000
    finally:
        os.close(fd)
    want = data + data[:100000] + bytes(100000)
    assert read(sa) == want
    fi, fo = os.open(a, os.O_RDONLY), os.open(a, os.O_WRONLY)
    try:
        done = 0
        while done < 50000:
            n = os.copy_file_range(fi, fo, 50000 - done, 1000 + done, 450000 + done)
            assert n > 0
            done += n
    finally:
        os.close(fi)
        os.close(fo)
    want = want[:450000] + data[1000:51000]
    assert read(sa) == want
    assert read(a) == want


def test_utimens_symlink_itself(m):
    """utime on a symlink with follow_symlinks=False changes the link, not
    its target (lsetstat@openssh.com)."""
    t, st_ = new(m)
    ln, sl = new(m)
    write_via_mnt(t)
    os.utime(t, (1000000, 1000000))
    os.symlink(os.path.basename(t), ln)
    os.utime(ln, (2000000, 2000000), follow_symlinks=False)
    assert os.lstat(sl).st_mtime == 2000000
    assert os.stat(st_).st_mtime == 1000000


def test_write_read_sizes(m):
    """Reads and writes around the SFTP request size and page boundaries."""
    mp, sp = new(m)
    data = os.urandom(1 << 20)
    with open(mp, 'wb') as f:
        for chunk in (1, 4095, 4096, 4097, 65535, 261120, 261121, 300000):
            f.write(data[:chunk])
    expect = b''.join(data[:c] for c in (1, 4095, 4096, 4097, 65535, 261120, 261121, 300000))
    assert read(sp) == expect
    with open(mp, 'rb') as f:
        f.seek(261119)
        assert f.read(3) == expect[261119:261122]
        f.seek(len(expect) - 5)
        assert f.read(100) == expect[-5:]
        assert f.read(100) == b''
    shutil.copyfile(mp, mp + '.copy')
    assert read(sp + '.copy') == expect
