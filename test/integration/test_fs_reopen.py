"""Open files across a reconnection (issue 12, fs side; fs/io.h says the
rules): the link is cut (RST) or stalled (no FIN, no RST) by
test/tools/delayproxy.py while programs hold files open. Writers go on and
the server's copy (the sshd's directory on local disk) ends up byte-exact;
readers go on; where that cannot be guaranteed (the file replaced on the
server, O_APPEND with writes in flight, a file unlinked while open) the
descriptor reports EIO instead of writing into the wrong file or dropping
data silently.
"""

import errno
import hashlib
import os
import threading
import time

import pytest

from conftest import fuse_test_marker
from fsmount import FsMount, ProxiedSshd, wait_until
from test_fs_robust import KEEPALIVE

pytestmark = fuse_test_marker()

OPTS = KEEPALIVE + ['-o', 'reconnect']


def proxied(sshd, tmp_mnt, delay_proxy, delay_ms=0, opts=(), output=None):
    proxy = delay_proxy(sshd.port, delay_ms)
    sshd.add_known_port(proxy.port)
    m = FsMount(sshd, tmp_mnt, opts=OPTS + list(opts), output=output)
    m.sshd = ProxiedSshd(sshd, proxy.port)
    return proxy, m


def pattern(n, seed=0):
    """n bytes that differ at every offset (a misplaced replay shows)."""
    out = bytearray()
    i = seed
    while len(out) < n:
        out += hashlib.sha256(b'%d' % i).digest() * 64
        i += 1
    return bytes(out[:n])


def sha(b):
    return hashlib.sha256(b).hexdigest()


def server_bytes(m, name):
    with open(m.s(name), 'rb') as f:
        return f.read()


def stall_until_dead(proxy, m, seconds=4):
    """Stalls the link long enough for keepalive (1 s x 2) to declare it
    dead: that needs a request waiting for its answer, as OpenSSH's
    ServerAlive does not count an idle link, so a lookup is left hanging
    in a thread (it completes on the new link). Returns that thread."""
    proxy.stall()
    t = threading.Thread(target=lambda: os.path.exists(m.m('probe-%f' % time.time())),
                         daemon=True)
    t.start()
    time.sleep(seconds)
    return t


def wait_healed(m, limit=30):
    """The mount answers again (a path request after the outage)."""
    def ok():
        try:
            os.stat(m.m())
            return True
        except OSError:
            return False
    assert wait_until(ok, limit, 0.2), 'the mount did not come back within %ss' % limit


# ------------------------------------------------------------- writers

def test_writer_keeps_writing_across_cuts(sshd, tmp_mnt, delay_proxy):
    """A program appending a counter line every 20 ms (plain writes at its
    own offset) keeps going through two cuts; every write and the close
    succeed, and the server's file holds exactly what it was told it wrote."""
    proxy, m = proxied(sshd, tmp_mnt, delay_proxy, delay_ms=2)
    with m:
        written = bytearray()
        errors = []
        stop = threading.Event()

        def writer():
            fd = os.open(m.m('log'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                i = 0
                while not stop.is_set():
                    line = b'line %08d %s\n' % (i, b'x' * (i % 200))
                    assert os.write(fd, line) == len(line)
                    written.extend(line)
                    i += 1
                    time.sleep(0.02)
            except OSError as e:
                errors.append(('write', e.errno))
            finally:
                try:
                    os.close(fd)
                except OSError as e:
                    errors.append(('close', e.errno))
        t = threading.Thread(target=writer)
        t.start()
        try:
            for _ in range(2):
                time.sleep(1.0)
                proxy.cut()
            time.sleep(1.5)
        finally:
            stop.set()
            t.join(60)
        assert not t.is_alive(), 'the writer hung'
        assert errors == []
        assert len(written) > 3000
        got = server_bytes(m, 'log')
        assert len(got) == len(written)
        assert got == bytes(written)


def test_100mib_write_with_cut(sshd, tmp_mnt, delay_proxy):
    """A 100 MiB write with the link cut in the middle: writes that were
    queued or in flight at the cut are kept and replayed; close() returns 0
    and the server's copy is exact (before: 9-15 MiB lost, close EIO)."""
    proxy, m = proxied(sshd, tmp_mnt, delay_proxy, delay_ms=1)
    size, chunk = 100 << 20, 1 << 20
    data = pattern(size)
    with m:
        fd = os.open(m.m('big'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            for off in range(0, size, chunk):
                assert os.write(fd, data[off:off + chunk]) == chunk
                if off == 50 << 20:
                    proxy.cut()
        finally:
            os.close(fd)  # raises on EIO
        assert os.stat(m.s('big')).st_size == size
        assert sha(server_bytes(m, 'big')) == sha(data)


def test_lost_writes_reach_server_without_another_call(sshd, tmp_mnt, delay_proxy):
    """Writes in flight at a cut reach the server once the link is back,
    while the program waits with the file open and makes no further call
    (a reader of the server's copy, or a crash of the program's host, must
    not depend on its next write or close)."""
    proxy, m = proxied(sshd, tmp_mnt, delay_proxy, delay_ms=20)
    size = 8 << 20
    data = pattern(size, seed=11)
    with m:
        fd = os.open(m.m('idle'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            for off in range(0, size, 1 << 20):
                os.write(fd, data[off:off + (1 << 20)])
            proxy.cut()  # at 20 ms one-way, most of it is still in flight
            assert wait_until(lambda: os.stat(m.s('idle')).st_size == size, 30, 0.2), \
                'the server has %d of %d bytes' % (os.stat(m.s('idle')).st_size, size)
            assert wait_until(lambda: server_bytes(m, 'idle') == data, 10, 0.2)
        finally:
            os.close(fd)
        assert server_bytes(m, 'idle') == data


def test_file_renamed_during_outage_is_reopened_by_new_name(sshd, tmp_mnt, delay_proxy):
    """A program renames the file it is writing while the link is down (the
    rename waits for the link): the descriptor is reopened under the new
    name, not the old one, and the server's file under the new name holds
    everything written before and after."""
    proxy, m = proxied(sshd, tmp_mnt, delay_proxy)
    first, second = pattern(3 << 20, seed=21), pattern(1 << 20, seed=22)
    with m:
        fd = os.open(m.m('old'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, first)
            waiter = stall_until_dead(proxy, m)
            mover = threading.Thread(target=os.rename, args=(m.m('old'), m.m('new')))
            mover.start()
            time.sleep(0.5)
            proxy.resume()
            mover.join(30)
            waiter.join(30)
            assert not mover.is_alive()
            os.write(fd, second)
        finally:
            os.close(fd)
        assert not os.path.exists(m.s('old'))
        assert server_bytes(m, 'new') == first + second


# ------------------------------------------------------------- readers

@pytest.mark.parametrize('cache', ['cache', 'nocache'])
def test_reader_continues_across_cut(sshd, tmp_mnt, delay_proxy, cache):
    """A reader holding a file open across a cut reads on, and what it read
    is the file (read-ahead of the old link is not served half)."""
    opts = ['-o', 'cache=no'] if cache == 'nocache' else []
    proxy, m = proxied(sshd, tmp_mnt, delay_proxy, opts=opts)
    size = 24 << 20
    data = pattern(size, seed=7)
    with m:
        m.src_write('r', data)
        got = bytearray()
        with open(m.m('r'), 'rb', buffering=0) as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                got += b
                if len(got) == 6 << 20:
                    proxy.cut()
        assert len(got) == size
        assert sha(bytes(got)) == sha(data)


# ------------------------------------------------- what cannot go on

def test_file_replaced_during_stall_gives_eio(sshd, tmp_mnt, delay_proxy, output_checker):
    """The file a program has open (and wrote 1 MiB to, acknowledged) is
    replaced on the server while the link is stalled. After the link is
    back, the descriptor's next use fails with EIO and close reports it;
    nothing of ours is written into the new file."""
    output_checker.register(r'not reopened after a reconnection: it was replaced', 1)
    output_checker.register(r'/doc: a write failed and was reported at close: Input/output', 1)
    output_checker.register(r'reconnect|link|connection|keepalive|timed out')
    proxy, m = proxied(sshd, tmp_mnt, delay_proxy, output=output_checker)
    with m:
        fd = os.open(m.m('doc'), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, pattern(1 << 20))
            os.fsync(fd)  # acknowledged
            new = m.src_write('doc.new', b'the replacement\n')
            waiter = stall_until_dead(proxy, m)
            os.rename(new, m.s('doc'))
            proxy.resume()
            waiter.join(30)
            wait_healed(m)
            with pytest.raises(OSError) as e:
                os.pread(fd, 100, 0)
            assert e.value.errno == errno.EIO
            with pytest.raises(OSError) as e:
                os.write(fd, b'more')
            assert e.value.errno == errno.EIO
        except BaseException:
            os.close(fd)
            raise
        with pytest.raises(OSError) as e:
            os.close(fd)
        assert e.value.errno == errno.EIO
        assert server_bytes(m, 'doc') == b'the replacement\n'


def test_append_with_writes_in_flight_gives_eio(sshd, tmp_mnt, delay_proxy, output_checker):
    """O_APPEND writes in flight when the link dies cannot be replayed at a
    known end of file: the descriptor fails with EIO (at a write or at
    close), and the lost bytes are logged with the path."""
    output_checker.register(r'did not reach the server|a write failed')
    output_checker.register(r'reconnect|link|connection|keepalive|timed out')
    proxy, m = proxied(sshd, tmp_mnt, delay_proxy, delay_ms=20, output=output_checker)
    with m:
        fd = os.open(m.m('app'), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        errs = []
        try:
            for i in range(40):
                try:
                    os.write(fd, pattern(1 << 20, seed=i))
                except OSError as e:
                    errs.append(e.errno)
                    break
                if i == 20:
                    proxy.cut()  # at 20 ms one-way, MiBs are in flight
        finally:
            try:
                os.close(fd)
            except OSError as e:
                errs.append(e.errno)
        assert errno.EIO in errs, errs
        assert set(errs) == {errno.EIO}
        assert 'did not reach the server' in output_checker.text()


def test_unlinked_open_file_after_cut(sshd, tmp_mnt, delay_proxy, output_checker):
    """A file unlinked while open lived only in the server process that held
    it, which is gone after the reconnection: reads fail with EIO; as its
    writes were all acknowledged, close() returns 0 (nothing was lost)."""
    output_checker.register(r'not reopened after a reconnection: it was unlinked while open', 1)
    output_checker.register(r'reconnect|link|connection|keepalive|timed out')
    proxy, m = proxied(sshd, tmp_mnt, delay_proxy, output=output_checker)
    with m:
        data = pattern(4 << 20, seed=3)
        fd = os.open(m.m('tmpf'), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
            os.unlink(m.m('tmpf'))
            assert not os.path.exists(m.s('tmpf'))
            assert os.pread(fd, 7, 0) == data[:7]
            proxy.cut()
            wait_healed(m)
            # not from the page cache: the read must reach the file system
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            with pytest.raises(OSError) as e:
                os.pread(fd, 7, 3 << 20)
            assert e.value.errno == errno.EIO
        finally:
            os.close(fd)  # no error: nothing acknowledged was lost
        assert os.listdir(m.s()) == []


# ------------------------------------------------------- directories

def test_listing_across_cut_is_whole_or_eio(sshd, tmp_mnt, delay_proxy):
    """A listing of 3000 names that takes several round trips, with the link
    cut in the middle: it comes back whole (listed again from the start
    on the new link), never half."""
    proxy, m = proxied(sshd, tmp_mnt, delay_proxy, delay_ms=15, opts=['-o', 'cache=no'])
    with m:
        d = m.src_mkdir('many')
        names = ['entry-with-a-longish-name-%05d' % i for i in range(3000)]
        for n in names:
            open(os.path.join(d, n), 'wb').close()
        for delay in (0.02, 0.05, 0.1):
            box = {}

            def lister():
                try:
                    box['names'] = os.listdir(m.m('many'))
                except OSError as e:
                    box['err'] = e.errno
            t = threading.Thread(target=lister)
            t.start()
            time.sleep(delay)
            proxy.cut()
            t.join(60)
            assert not t.is_alive(), 'the listing hung'
            if 'err' in box:
                assert box['err'] == errno.EIO
            else:
                assert sorted(box['names']) == names
            wait_healed(m)
        assert sorted(os.listdir(m.m('many'))) == names
