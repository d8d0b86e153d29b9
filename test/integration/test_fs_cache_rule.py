"""The consistency rule of the caches (README "Caches and coherence"): with
the same cache options a program never sees a listing, attribute or missing
name staler than sshfs 3.7 would show it, and our own changes update every
cached piece they make stale, the parent directory's times included.

Changes "by another channel" are made directly in the sshd's served
directory on local disk, as another client (rsync over ssh, a second
mount) would make them.
"""

import errno
import os
import shutil
import stat
import time

import pytest

import util
from conftest import fuse_test_marker
from fsmount import FsMount, wait_until

pytestmark = fuse_test_marker()

BIT = ['-o', 'idmap=user', '-o', 'cache_dir_timeout=2', '-o', 'cache_stat_timeout=2']


def touch(path):
    open(path, 'wb').close()


def snapshot(m, name):
    """A Back In Time snapshot folder on the server: backup/ and config."""
    m.src_mkdir(name)
    m.src_mkdir(os.path.join(name, 'backup'))
    m.src_write(os.path.join(name, 'backup', 'file'), b'data')
    m.src_write(os.path.join(name, 'config'), b'x')


def bit_lookups(p):
    """What Back In Time's remove does before it deletes a snapshot: the
    folder, then names in it, two of them missing."""
    assert os.path.isdir(p)
    assert os.path.isdir(os.path.join(p, 'backup'))
    assert not os.path.isfile(os.path.join(p, 'name'))
    assert not os.path.isfile(os.path.join(p, 'failed'))


def empty_on_server(m, name):
    for n in os.listdir(m.s(name)):
        p = m.s(name, n)
        shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)


@pytest.mark.parametrize('remover', ['rmtree', 'rm-rf'])
def test_emptied_on_server_after_lookups(sshd, tmp_mnt, remover):
    """Lookups that miss must not leave a listing behind that a later
    readdir serves: sshfs lists the emptied folder at once (issue 10,
    defect 2; Back In Time's FileNotFoundError on 'backup')."""
    with FsMount(sshd, tmp_mnt, opts=BIT) as m:
        snapshot(m, 'snap')
        bit_lookups(m.m('snap'))
        time.sleep(0.5)		# room for anything running in the background
        empty_on_server(m, 'snap')
        assert os.listdir(m.s('snap')) == []
        assert os.listdir(m.m('snap')) == []
        if remover == 'rmtree':
            shutil.rmtree(m.m('snap'))
        else:
            util.run(['rm', '-rf', m.m('snap')], timeout=30, check=True)
        assert not os.path.exists(m.s('snap'))
        assert not os.path.exists(m.m('snap'))


def test_walk_does_not_leave_listings_behind(sshd, tmp_mnt):
    """Opening one subdirectory of a listed directory (a walk starting)
    must not read the other subdirectories ahead into the cache: their
    listings would be served without a program having asked."""
    with FsMount(sshd, tmp_mnt, opts=BIT) as m:
        for d in ('a', 'b', 'c'):
            m.src_mkdir(d)
            m.src_write(os.path.join(d, 'old'))
        assert sorted(os.listdir(m.mnt)) == ['a', 'b', 'c']
        assert os.listdir(m.m('a')) == ['old']	# the walk descends into a
        time.sleep(0.5)
        for d in ('b', 'c'):
            os.unlink(m.s(d, 'old'))
            m.src_write(os.path.join(d, 'new'))
        assert os.listdir(m.m('b')) == ['new']
        assert os.listdir(m.m('c')) == ['new']


def test_mkdir_then_filled_on_server(sshd, tmp_mnt):
    """A directory made through the mount and then filled by another
    client: its names are found by name and listed at once, as on sshfs."""
    with FsMount(sshd, tmp_mnt, opts=BIT) as m:
        os.mkdir(m.m('d1'))
        os.mkdir(m.m('d2'))
        assert os.listdir(m.m('d1')) == []	# a program's own listing: fine
        m.src_write(os.path.join('d1', 'x'), b'123')
        m.src_write(os.path.join('d2', 'y'), b'12345')
        assert os.stat(m.m('d2', 'y')).st_size == 5		# by name first
        assert os.listdir(m.m('d2')) == ['y']
        # d1's listing was a program's, fetched within cache_dir_timeout:
        # it may be served until then (as sshfs does), not longer
        assert wait_until(lambda: os.listdir(m.m('d1')) == ['x'], 3.5)
        assert os.stat(m.m('d1', 'x')).st_size == 3


@pytest.mark.parametrize('change', ['create', 'unlink', 'rename'])
def test_own_change_drops_the_listing(sshd, tmp_mnt, change):
    """A name a program adds or removes through the mount makes the next
    listing of that directory come from the server (sshfs drops it too), so
    it also shows what another client put there meanwhile, not only our own
    change on top of the old listing."""
    with FsMount(sshd, tmp_mnt, opts=['-o', 'cache_dir_timeout=60']) as m:
        m.src_mkdir('d')
        m.src_write(os.path.join('d', 'old'), b'1')
        assert os.listdir(m.m('d')) == ['old']
        m.src_write(os.path.join('d', 'theirs'), b'2')
        if change == 'create':
            touch(m.m('d', 'mine'))
            want = ['mine', 'old', 'theirs']
        elif change == 'unlink':
            os.unlink(m.m('d', 'old'))
            want = ['theirs']
        else:
            os.rename(m.m('d', 'old'), m.m('d', 'new'))
            want = ['new', 'theirs']
        assert sorted(os.listdir(m.m('d'))) == want
        assert sorted(os.listdir(m.s('d'))) == want


# ---------------------------------------------------------------- parent times

def _setup_none(m):
    pass


CHANGES = {
    # name: (setup in d before the pause, the change, directories whose times change)
    'mkdir': (_setup_none, lambda m: os.mkdir(m.m('d', 'x')), ['d']),
    'create': (_setup_none, lambda m: touch(m.m('d', 'f')), ['d']),
    'mknod': (_setup_none, lambda m: os.mknod(m.m('d', 'f'), 0o644 | stat.S_IFREG), ['d']),
    'symlink': (_setup_none, lambda m: os.symlink('target', m.m('d', 'l')), ['d']),
    'link': (lambda m: touch(m.m('e', 'f')),
             lambda m: os.link(m.m('e', 'f'), m.m('d', 'h')), ['d']),
    'rename': (lambda m: touch(m.m('e', 'f')),
               lambda m: os.rename(m.m('e', 'f'), m.m('d', 'f')), ['d', 'e']),
    'rename-within': (lambda m: touch(m.m('d', 'f')),
                      lambda m: os.rename(m.m('d', 'f'), m.m('d', 'g')), ['d']),
    'rename-over': (lambda m: (touch(m.m('d', 'f')), touch(m.m('e', 'f'))),
                    lambda m: os.rename(m.m('e', 'f'), m.m('d', 'f')), ['d', 'e']),
    'unlink': (lambda m: touch(m.m('d', 'f')), lambda m: os.unlink(m.m('d', 'f')), ['d']),
    'rmdir': (lambda m: os.mkdir(m.m('d', 'x')), lambda m: os.rmdir(m.m('d', 'x')), ['d']),
}


@pytest.mark.parametrize('kind', sorted(CHANGES))
def test_parent_times_after_change(sshd, tmp_mnt, kind):
    """mkdir d; sleep 1.1; change a name in d: `stat d` shows the new
    mtime/ctime (the server's) at once, not after cache_stat_timeout
    (pjdfstest mkdir/00.t 33-34 and friends; issue 10, defect 3)."""
    setup, change, changed = CHANGES[kind]
    with FsMount(sshd, tmp_mnt) as m:	# default timeouts: 20 s
        os.mkdir(m.m('d'))
        os.mkdir(m.m('e'))
        setup(m)
        before = {d: os.stat(m.m(d)) for d in ('d', 'e')}	# cached from here on
        time.sleep(1.1)
        change(m)
        for d in ('d', 'e'):
            got, srv = os.stat(m.m(d)), os.stat(m.s(d))
            if d in changed:
                assert int(srv.st_mtime) > int(before[d].st_mtime), 'server did not change'
                assert int(got.st_mtime) == int(srv.st_mtime), (d, got, srv)
                assert got.st_ctime > before[d].st_ctime, (d, got, before[d])
            else:
                assert int(got.st_mtime) == int(before[d].st_mtime)


def test_parent_times_through_kernel_cache(sshd, tmp_mnt):
    """The same with the kernel's own caches off (every stat reaches us):
    the parent's times come from the server, not from our cache."""
    with FsMount(sshd, tmp_mnt, opts=['-o', 'attr_timeout=0', '-o', 'entry_timeout=0']) as m:
        os.mkdir(m.m('d'))
        before = os.stat(m.m('d'))
        time.sleep(1.1)
        touch(m.m('d', 'f'))
        assert int(os.stat(m.m('d')).st_mtime) == int(os.stat(m.s('d')).st_mtime)
        assert os.stat(m.m('d')).st_mtime > before.st_mtime
        with pytest.raises(OSError) as e:
            os.rmdir(m.m('d'))
        assert e.value.errno == errno.ENOTEMPTY
