"""Content read-ahead under -o exclusive (fs/content.h): when a program
reads the files of a directory one after another, the next small files are
read whole in the background and their opens answered from memory.

Checked against the server's copy (the sshd's directory on local disk):
the contents served are right, a file changed through the mount after it
was read ahead reads its new contents, the memory bound holds (the
daemon's statistics line at debug level), and the default mode never reads
ahead (a file changed on the server between two reads shows its new
contents, as sshfs shows them).
"""

import os
import re
import time

from conftest import fuse_test_marker
from fsmount import FsMount, ProxiedSshd

pytestmark = fuse_test_marker()

EXCL = ['-o', 'exclusive', '-o', 'LogLevel=DEBUG']
STATS = re.compile(r'content read-ahead: (\d+) files loaded, (\d+) served, (\d+) dropped; '
                   r'peak (\d+) bytes held \(bound (\d+)\)')


def body(i, size):
    line = b'file %05d of a directory read one by one\n' % i
    return (line * (size // len(line) + 1))[:size]


def make_dir(m, name, sizes):
    m.src_mkdir(name)
    for i, size in enumerate(sizes):
        m.src_write(os.path.join(name, 'f%03d' % i), body(i, size))


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def stats(output):
    found = STATS.findall(output.text())
    assert len(found) == 1, output.text()[-3000:]
    loaded, served, dropped, peak, bound = (int(x) for x in found[0])
    return dict(loaded=loaded, served=served, dropped=dropped, peak=peak, bound=bound)


def test_contents_read_ahead_are_right(sshd, tmp_mnt, output_checker):
    """cat * (name order) and a readdir-order walk: every byte as on the
    server, files above the size limit and empty files included; most opens
    were answered from contents read ahead."""
    sizes = [4096, 0, 1, 65536, 65537, 200000, 100, 4095] * 5
    m = FsMount(sshd, tmp_mnt, opts=EXCL, output=output_checker)
    make_dir(m, 'd', sizes)
    make_dir(m, 'e', sizes)
    with m:
        for n in sorted(os.listdir(m.m('d'))):
            assert read(m.m('d', n)) == read(m.s('d', n)), n
        for n in os.listdir(m.m('e')):
            assert read(m.m('e', n)) == read(m.s('e', n)), n
    st = stats(output_checker)
    small = sum(1 for s in sizes if s <= 65536)
    # The first two opens of each directory go to the server; then the
    # small files come from read-ahead (a few may still be loading or be
    # taken by the program first).
    assert st['served'] >= small, st
    assert st['peak'] <= st['bound'], st


def test_change_through_mount_after_read_ahead(sshd, tmp_mnt, output_checker):
    """Files read ahead, then changed through the mount (a same-size write
    in place, a truncate, a rename over, an unlink and re-create, a write
    through a descriptor still open): reads show the new contents, and the
    server holds them."""
    m = FsMount(sshd, tmp_mnt, opts=EXCL, output=output_checker)
    make_dir(m, 'd', [4096] * 30)
    with m:
        names = sorted(os.listdir(m.m('d')))
        for n in names[:3]:		# the read-ahead starts at the second
            assert read(m.m('d', n)) == body(int(n[1:]), 4096)
        time.sleep(1.0)			# let it load what comes next
        new = bytes(reversed(body(99, 4096)))
        with open(m.m('d', 'f005'), 'r+b') as f:	# same size, same second
            f.write(new)
        os.truncate(m.m('d', 'f006'), 10)
        with open(m.m('d', 'other'), 'wb') as f:
            f.write(b'renamed over')
        os.rename(m.m('d', 'other'), m.m('d', 'f007'))
        os.unlink(m.m('d', 'f008'))
        with open(m.m('d', 'f008'), 'wb') as f:
            f.write(b'made again')
        w = open(m.m('d', 'f009'), 'r+b')
        w.write(b'WRITTEN')
        w.flush()
        try:
            assert read(m.m('d', 'f009'))[:7] == b'WRITTEN'
        finally:
            w.close()
        assert read(m.m('d', 'f005')) == new
        assert read(m.m('d', 'f006')) == body(6, 4096)[:10]
        assert read(m.m('d', 'f007')) == b'renamed over'
        assert read(m.m('d', 'f008')) == b'made again'
        for n in names[3:]:
            assert read(m.m('d', n)) == read(m.s('d', n)), n
    assert read(m.s('d', 'f005')) == new
    assert read(m.s('d', 'f006')) == body(6, 4096)[:10]
    assert read(m.s('d', 'f007')) == b'renamed over'
    assert read(m.s('d', 'f008')) == b'made again'
    assert read(m.s('d', 'f009'))[:7] == b'WRITTEN'
    assert stats(output_checker)['loaded'] > 0


def test_preloaded_file_changed_by_another_descriptor(sshd, tmp_mnt, output_checker):
    """A descriptor served from contents read ahead stays open while another
    descriptor of the mount rewrites the file: its next read shows the new
    bytes (it opens the file on the server then), and fstat works."""
    m = FsMount(sshd, tmp_mnt, opts=EXCL, output=output_checker)
    make_dir(m, 'd', [4096] * 10)
    with m:
        os.listdir(m.m('d'))		# names and sizes to choose from
        for n in ('f000', 'f001'):
            read(m.m('d', n))
        time.sleep(1.0)
        fd = os.open(m.m('d', 'f002'), os.O_RDONLY)
        try:
            assert os.pread(fd, 10, 0) == body(2, 4096)[:10]
            with open(m.m('d', 'f002'), 'r+b') as w:
                w.write(b'0123456789')
            assert os.pread(fd, 10, 0) == b'0123456789'
            assert os.fstat(fd).st_size == 4096
        finally:
            os.close(fd)
    assert read(m.s('d', 'f002'))[:10] == b'0123456789'
    assert stats(output_checker)['served'] >= 1


def test_memory_bound(sshd, tmp_mnt, output_checker):
    """Files just under the size limit, more than the bound holds: the
    bytes held never pass the bound, and read-ahead still served."""
    m = FsMount(sshd, tmp_mnt, opts=EXCL, output=output_checker)
    make_dir(m, 'd', [60000] * 60)
    with m:
        for n in sorted(os.listdir(m.m('d'))):
            assert read(m.m('d', n)) == read(m.s('d', n)), n
    st = stats(output_checker)
    assert st['bound'] < 60 * 60000
    assert 0 < st['peak'] <= st['bound'], st
    assert st['served'] > 0, st


def test_default_mode_never_reads_ahead(sshd, tmp_mnt, output_checker):
    """Without -o exclusive a file changed on the server between a
    program's reads shows its new contents (as with sshfs), and no
    read-ahead ran."""
    m = FsMount(sshd, tmp_mnt, opts=['-o', 'LogLevel=DEBUG'], output=output_checker)
    make_dir(m, 'd', [4096] * 10)
    with m:
        names = sorted(os.listdir(m.m('d')))
        for n in names[:3]:
            read(m.m('d', n))
        time.sleep(0.5)
        for n in names[3:]:
            with open(m.s('d', n), 'r+b') as f:
                f.write(b'CHANGED ON THE SERVER')
        for n in names[3:]:
            assert read(m.m('d', n)).startswith(b'CHANGED ON THE SERVER'), n
    assert 'content read-ahead' not in output_checker.text()


def test_read_ahead_saves_round_trips(sshd, tmp_mnt, delay_proxy):
    """At 50 ms RTT, reading 40 small files of a listed directory one by
    one takes at least two round trips each without read-ahead (OPEN,
    READ); with it, most opens cost none. Generous bound: at least twice
    as fast as the default mode in the same run."""
    proxy = delay_proxy(sshd.port, 25)
    sshd.add_known_port(proxy.port)
    src = sshd.remote_dir('smtest')
    took = {}
    for mode, opts in (('default', []), ('exclusive', ['-o', 'exclusive'])):
        m = FsMount(sshd, tmp_mnt, src=src, opts=opts)
        m.sshd = ProxiedSshd(sshd, proxy.port)
        d = 'd' + mode
        make_dir(m, d, [4096] * 40)
        with m:
            names = sorted(os.listdir(m.m(d)))
            t0 = time.monotonic()
            for n in names:
                assert read(m.m(d, n)) == body(int(n[1:]), 4096)
            took[mode] = time.monotonic() - t0
    assert took['default'] >= 40 * 2 * 0.05 * 0.9, took
    assert took['exclusive'] * 2 < took['default'], took


def test_walk_reads_sibling_listings_in_parallel(sshd, tmp_mnt, delay_proxy):
    """find over 48 directories at 50 ms RTT under -o exclusive: the
    listings of a walked directory's siblings load in parallel (16 at a
    time), so the walk takes a handful of round trips, not two or three per
    directory (4 at a time took about 30 round trips here)."""
    proxy = delay_proxy(sshd.port, 25)
    sshd.add_known_port(proxy.port)
    src = sshd.remote_dir('smtest')
    m = FsMount(sshd, tmp_mnt, src=src, opts=['-o', 'exclusive'])
    m.sshd = ProxiedSshd(sshd, proxy.port)
    m.src_mkdir('t')
    for i in range(48):
        m.src_mkdir('t/d%02d' % i)
        m.src_write('t/d%02d/f' % i, b'x')
    with m:
        t0 = time.monotonic()
        found = []
        for root, dirs, files in os.walk(m.m('t')):
            found += files
        took = time.monotonic() - t0
    assert len(found) == 48
    assert took < 20 * 0.05, took


def test_walk_reads_ahead_into_the_next_directory(sshd, tmp_mnt, output_checker):
    """A walker (os.walk, as grep -r goes: readdir order) reading every
    file of 8 directories: after the first directory, the first files of
    the next one are read ahead too, so nearly every open is served from
    memory (not the first files of each directory), and all are right."""
    m = FsMount(sshd, tmp_mnt, opts=EXCL, output=output_checker)
    m.src_mkdir('t')
    for d in range(8):
        make_dir(m, 't/d%d' % d, [3000 + d] * 12)
    with m:
        n = 0
        for root, dirs, files in os.walk(m.m('t')):
            for f in files:
                rel = os.path.relpath(os.path.join(root, f), m.mnt)
                assert read(os.path.join(root, f)) == read(m.s(rel)), rel
                n += 1
                time.sleep(0.005)	# a program's own work between files
    assert n == 96
    st = stats(output_checker)
    # Not served: the first two opens of the first directory (the walk
    # is not known yet) and a few the program may reach before their
    # load starts.
    assert st['served'] >= 96 - 2 - 4, st


def test_listings_in_name_order(sshd, tmp_mnt):
    """A directory lists in name order whether the listing comes from the
    server (which gives its own order) or from the cache (kept sorted), so
    a walker goes through a tree in the order read-ahead expects."""
    with FsMount(sshd, tmp_mnt) as m:
        m.src_mkdir('t')
        names = ['n%02d' % ((i * 7) % 24) for i in range(24)]
        for n in names:
            m.src_write('t/' + n, b'x')
        assert os.listdir(m.s('t')) != sorted(names)	# else this proves nothing
        assert os.listdir(m.m('t')) == sorted(names)	# from the server
        assert os.listdir(m.m('t')) == sorted(names)	# from the cache
