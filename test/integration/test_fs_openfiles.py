"""Open files and the names around them (issue 10, part A): a rename over a
held file, a file used after unlink, O_APPEND next to another descriptor's
writes in flight. Every check looks at the server's copy (the sshd's
directory on this machine), not only at what the mount says.

Each case runs on the default options (the kernel's and our caches on, as a
user mounts) and with cache=no.
"""

import os
import stat
import time

import pytest

from conftest import fuse_test_marker
from fsmount import FsMount, module_mount, name_gen

pytestmark = fuse_test_marker()

VARIANTS = {
    'default': [],
    'nocache': ['-o', 'cache=no'],
}

SEEK_DATA = getattr(os, 'SEEK_DATA', 3)
SEEK_HOLE = getattr(os, 'SEEK_HOLE', 4)


@pytest.fixture(scope='module', params=sorted(VARIANTS))
def m(request, sshd):
    for fm in module_mount(sshd, 'smofile-', user='smtest', opts=VARIANTS[request.param]):
        fm.variant = request.param
        yield fm


def server_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


def mount_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


# ------------------------------------------------------- rename over open file

def check_replaced(m, a_m, a_s, want):
    """A's name now holds 'want': the mount and the server agree, and path
    operations reach the new file, not the replaced one."""
    assert server_bytes(a_s) == want
    assert os.stat(a_m).st_size == len(want)
    assert mount_bytes(a_m) == want


def test_rename_over_open_file(m):
    name_a, name_b = 'A' + name_gen(), 'B' + name_gen()
    a_m, a_s, b_m, b_s = m.m(name_a), m.s(name_a), m.m(name_b), m.s(name_b)
    old = b'o' * 1000
    new = bytes(range(256)) * 11 + b'n' * 184      # 3000 bytes
    fd = os.open(a_m, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, old)
        assert os.stat(a_m).st_size == 1000    # cached size of the old file
        with open(b_m, 'wb') as f:
            f.write(new)
        os.rename(b_m, a_m)
        assert not os.path.exists(b_s)
        check_replaced(m, a_m, a_s, new)
        # Path operations while the replaced file is still held open.
        os.truncate(a_m, 100)
        assert os.path.getsize(a_s) == 100
        assert os.stat(a_m).st_size == 100
        os.chmod(a_m, 0o600)
        assert stat.S_IMODE(os.stat(a_s).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(a_m).st_mode) == 0o600
        check_replaced(m, a_m, a_s, new[:100])
        # The old descriptor still reaches the replaced file.
        os.write(fd, b'x')
        assert os.fstat(fd).st_size == 1001
        assert os.pread(fd, 2000, 0) == old + b'x'
    finally:
        os.close(fd)
    check_replaced(m, a_m, a_s, new[:100])
    os.truncate(a_m, 50)
    assert os.path.getsize(a_s) == 50
    os.chmod(a_m, 0o640)
    assert stat.S_IMODE(os.stat(a_s).st_mode) == 0o640
    check_replaced(m, a_m, a_s, new[:50])
    os.unlink(a_m)


def test_rename_away_then_new_file(m):
    """A held file renamed away keeps its data, and the new file made at the
    old name is the one path operations reach."""
    d = 'd' + name_gen()
    os.mkdir(m.m(d))
    a_m, a_s = m.m(d, 'a'), m.s(d, 'a')
    b_m = m.m(d, 'b')
    with open(a_m, 'wb') as f:
        f.write(b'first')
    fd = os.open(a_m, os.O_RDWR)
    try:
        os.rename(a_m, b_m)
        with open(a_m, 'wb') as f:
            f.write(b'second file')
        os.truncate(a_m, 6)
        assert server_bytes(a_s) == b'second'
        assert server_bytes(m.s(d, 'b')) == b'first'
        os.pwrite(fd, b'FIRST', 0)
        assert os.fstat(fd).st_size == 5
    finally:
        os.close(fd)
    assert server_bytes(m.s(d, 'b')) == b'FIRST'
    assert server_bytes(a_s) == b'second'


# --------------------------------------------------------- open after unlink

def test_unlinked_temp_file(m):
    temp_file_idiom(m)


@pytest.mark.parametrize('opts', [['-o', 'clone_fd'], ['-s']], ids=['clone_fd', 'single_thread'])
def test_unlinked_temp_file_loops(sshd, tmp_mnt, opts):
    """The request reader hidden.c installs serves every loop libfuse runs."""
    with FsMount(sshd, tmp_mnt, user='smtest', opts=opts) as fm:
        temp_file_idiom(fm)


def temp_file_idiom(m):
    d = 'tmp' + name_gen()
    os.mkdir(m.m(d))
    p = m.m(d, 'scratch')
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.unlink(p)
        assert not os.path.exists(m.s(d, 'scratch'))
        assert os.listdir(m.s(d)) == []
        data = b'0123456789' * 1000
        os.write(fd, data)
        os.pwrite(fd, b'end', 1 << 20)
        st = os.fstat(fd)
        assert st.st_size == (1 << 20) + 3
        os.fchmod(fd, 0o600)
        assert stat.S_IMODE(os.fstat(fd).st_mode) == 0o600
        os.utime(fd, ns=(1_000_000_000 * 1234567, 1_000_000_000 * 2345678))
        st = os.fstat(fd)
        assert st.st_atime == 1234567 and st.st_mtime == 2345678
        assert os.lseek(fd, 0, SEEK_DATA) == 0
        hole = os.lseek(fd, 0, SEEK_HOLE)
        assert len(data) <= hole <= (1 << 20) + 3
        assert os.lseek(fd, 0, os.SEEK_END) == (1 << 20) + 3
        assert os.listdir(m.m(d)) == []
        os.rmdir(m.m(d))
        assert not os.path.exists(m.s(d))
        assert os.pread(fd, len(data), 0) == data
        assert os.pread(fd, 10, 1 << 20) == b'end'
        os.ftruncate(fd, 5)
        assert os.fstat(fd).st_size == 5
    finally:
        os.close(fd)
    assert not os.path.exists(m.s(d))
    assert not any(n.startswith('.fuse_hidden') for n in os.listdir(m.src))


def test_unlinked_file_then_same_name(m):
    """A new file under the name of an unlinked, still open one is a
    different file for every path operation."""
    n = 'u' + name_gen()
    p, s = m.m(n), m.s(n)
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, b'old contents')
        os.unlink(p)
        with open(p, 'wb') as f:
            f.write(b'new')
        os.chmod(p, 0o600)
        os.truncate(p, 2)
        assert server_bytes(s) == b'ne'
        assert stat.S_IMODE(os.stat(s).st_mode) == 0o600
        assert os.fstat(fd).st_size == 12
        assert stat.S_IMODE(os.fstat(fd).st_mode) == 0o644
        assert os.pread(fd, 100, 0) == b'old contents'
    finally:
        os.close(fd)
    assert server_bytes(s) == b'ne'
    assert os.stat(p).st_size == 2
    os.unlink(p)


# ---------------------------------------------------------------- O_APPEND

@pytest.mark.parametrize('rep', range(10))
def test_append_after_writes_in_flight(m, rep):
    n = 'ap' + name_gen()
    p, s = m.m(n), m.s(n)
    big = os.urandom(4 << 20)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        assert os.write(fd, big) == len(big)
        fa = os.open(p, os.O_WRONLY | os.O_APPEND)
        try:
            assert os.write(fa, b'appended') == 8
            assert os.fstat(fa).st_size == len(big) + 8
            assert os.lseek(fa, 0, os.SEEK_END) == len(big) + 8
            assert os.stat(p).st_size == len(big) + 8
        finally:
            os.close(fa)
    finally:
        os.close(fd)
    got = server_bytes(s)
    assert len(got) == len(big) + 8
    assert got[-8:] == b'appended' and got[:len(big)] == big
    os.unlink(p)


@pytest.mark.parametrize('rep', range(6))
def test_later_write_through_other_descriptor_wins(m, rep):
    """Two descriptors of one file on different channels (the first opened
    under another name, then renamed): a write acknowledged to one and still
    queued must not land after a later overlapping write through the other
    (found by test_fs_torture.py: the older data won, about one run in
    two)."""
    a, b = 'wa%d' % rep + name_gen(), 'wb%d' % rep + name_gen()
    first = os.urandom(4 << 20)
    later = b'L' * 65536
    fa = os.open(m.m(a), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.rename(m.m(a), m.m(b))
        fb = os.open(m.m(b), os.O_RDWR)
        try:
            assert os.write(fa, first) == len(first)
            # near the end: behind megabytes still queued on fa's channel
            at = len(first) - len(later) - 4096
            assert os.pwrite(fb, later, at) == len(later)
            want = first[:at] + later + first[at + len(later):]
            assert os.pread(fa, len(later), at) == later
        finally:
            os.close(fb)
    finally:
        os.close(fa)
    assert server_bytes(m.s(b)) == want
    os.unlink(m.m(b))


def test_sizes_include_other_handles_writes(m):
    """Every size a program can see includes the writes already acknowledged
    to any descriptor: fstat, SEEK_END and stat through another descriptor."""
    n = 'sz' + name_gen()
    p, s = m.m(n), m.s(n)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        fr = os.open(p, os.O_RDONLY)
        try:
            os.write(fd, b'z' * (3 << 20))
            assert os.fstat(fr).st_size == 3 << 20
            assert os.lseek(fr, 0, os.SEEK_END) == 3 << 20
            assert os.stat(p).st_size == 3 << 20
        finally:
            os.close(fr)
    finally:
        os.close(fd)
    assert os.path.getsize(s) == 3 << 20
    os.unlink(p)


def test_unlinked_file_in_renamed_folder(m):
    """fstat and fchmod of an unlinked file still work after its folder was
    renamed (libfuse then names it by the folder's new path)."""
    d, d2 = 'r' + name_gen(), 'r' + name_gen()
    os.mkdir(m.m(d))
    p = m.m(d, 'f')
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, b'abc')
        os.unlink(p)
        os.rename(m.m(d), m.m(d2))
        assert os.fstat(fd).st_size == 3
        os.fchmod(fd, 0o640)
        assert stat.S_IMODE(os.fstat(fd).st_mode) == 0o640
        assert os.listdir(m.s(d2)) == []
    finally:
        os.close(fd)
    os.rmdir(m.m(d2))


def test_reader_sees_steady_writer_without_stalling(m):
    """A read through one descriptor waits for the writes another one was
    told succeeded, but a writer that never pauses does not starve it."""
    import threading
    n = 'st' + name_gen()
    p = m.m(n)
    fw = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    fr = os.open(p, os.O_RDONLY)
    stop = time.monotonic() + 4
    acked = [0]
    block = 1 << 20

    def writer():
        i = 0
        while time.monotonic() < stop:
            os.pwrite(fw, bytes([i % 251]) * block, i * block)
            i += 1
            acked[0] = i

    t = threading.Thread(target=writer)
    t.start()
    worst = 0.0
    try:
        while t.is_alive():
            k = acked[0]
            if k:
                t0 = time.monotonic()
                got = os.pread(fr, 16, (k - 1) * block)
                worst = max(worst, time.monotonic() - t0)
                assert got == bytes([(k - 1) % 251]) * 16
            time.sleep(0.02)
    finally:
        t.join()
        os.close(fr)
        os.close(fw)
    assert worst < 2.0, 'a read waited %.1f s behind the writer' % worst
    os.unlink(p)
