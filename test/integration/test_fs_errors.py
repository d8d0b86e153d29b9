"""Errors that tell the truth (issue 10, "errors that lie"): the errno a
program gets from the mount is the one a local filesystem would give, not
whatever OpenSSH's folding of errno values into a few SFTP status codes
suggests, and nothing is silently stored wrong.
"""

import errno
import os

import pytest

from conftest import fuse_test_marker
from fsmount import module_mount, name_gen

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
