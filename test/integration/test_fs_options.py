"""Each sshfs option with an observable effect, tested for that effect, and
the server variants (extensions denied, read-only server) the fs must cope
with. Back In Time's exact command line is here too.
"""

import errno
import os
import pwd
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest

import util
from conftest import fuse_test_marker
from fsmount import FsMount, ids, wait_until

pytestmark = fuse_test_marker()

NOKCACHE = ['-o', 'entry_timeout=0', '-o', 'attr_timeout=0']


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def read(path):
    with open(path, 'rb') as f:
        return f.read()


# ------------------------------------------------------------ Back In Time

def test_backintime_command_line(sshd, tmp_mnt):
    """sshtools.SSH.mount() with only the program name changed (plus the
    fixture's own config, key and known_hosts)."""
    src = sshd.remote_dir('smtest')
    argv = [util.bin_path('sshmountfs'),
            '-o', 'ServerAliveInterval=240', '-o', 'LogLevel=Error',
            '-o', 'IdentityFile=' + sshd.key, '-p', str(sshd.port),
            '-o', 'Ciphers=aes128-gcm@openssh.com', '-o', 'idmap=user',
            '-o', 'cache_dir_timeout=2', '-o', 'cache_stat_timeout=2',
            '-F', sshd.client_config, '-o', 'UserKnownHostsFile=' + sshd.known_hosts,
            'smtest@127.0.0.1:' + src, tmp_mnt]
    res = util.run(argv, timeout=60, env=sshd.env())
    try:
        assert res.returncode == 0, res.stderr
        assert res.stdout == '' and res.stderr == ''
        os.mkdir(os.path.join(tmp_mnt, 'backintime'))
        write(os.path.join(tmp_mnt, 'backintime', 'f'), b'snapshot')
        st = os.stat(os.path.join(tmp_mnt, 'backintime', 'f'))
        assert st.st_uid == os.getuid()		# idmap=user
        assert os.stat(os.path.join(src, 'backintime', 'f')).st_uid == ids('smtest')[0]
        assert read(os.path.join(src, 'backintime', 'f')) == b'snapshot'
        assert 'aes128-gcm@openssh.com' in sshd.log()
    finally:
        util.umount(None, tmp_mnt)


def test_port_and_user_options(sshd, tmp_mnt):
    """-o port= and -o User= instead of -p and user@."""
    src = sshd.remote_dir('smtest')
    argv = [util.bin_path('sshmountfs'), '127.0.0.1:' + src, tmp_mnt,
            '-o', 'port=%d' % sshd.port, '-o', 'User=smtest', '-C',
            '-F', sshd.client_config, '-o', 'IdentityFile=' + sshd.key,
            '-o', 'UserKnownHostsFile=' + sshd.known_hosts]
    res = util.run(argv, timeout=60, env=sshd.env())
    try:
        assert res.returncode == 0, res.stderr
        write(os.path.join(tmp_mnt, 'f'), b'x')
        assert os.stat(os.path.join(src, 'f')).st_uid == ids('smtest')[0]
    finally:
        util.umount(None, tmp_mnt)


# ------------------------------------------------------------ ownership

def test_idmap_none_shows_remote_ids(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt) as m:
        write(m.m('f'), b'')
        assert os.stat(m.m('f')).st_uid == m.uid


def test_idmap_user(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt, opts=['-o', 'idmap=user']) as m:
        write(m.m('f'), b'')
        st = os.stat(m.m('f'))
        assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())
        # other owners pass through unchanged
        p = m.s('rootfile')
        write(p, b'')
        os.chown(p, 0, 0)
        assert os.stat(m.m('rootfile')).st_uid == 0


@pytest.mark.require_root
def test_idmap_user_chown_maps_back(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt, user='root', opts=['-o', 'idmap=user']) as m:
        write(m.m('f'), b'')
        os.chown(m.m('f'), 0, 0)	# local root is the remote login (root) here
        assert os.stat(m.s('f')).st_uid == 0


def test_idmap_file(sshd, tmp_mnt, tmp_path):
    suid, sgid = ids('smtest')
    uidfile = tmp_path / 'uids'
    gidfile = tmp_path / 'gids'
    uidfile.write_text('daemon:%d\n' % suid)		# remote smtest shows as daemon
    gidfile.write_text('daemon:%d\n' % sgid)
    os.chmod(uidfile, 0o600)
    os.chmod(gidfile, 0o600)
    d_uid, d_gid = pwd.getpwnam('daemon').pw_uid, pwd.getpwnam('daemon').pw_gid
    opts = ['-o', 'idmap=file', '-o', 'uidfile=%s' % uidfile, '-o', 'gidfile=%s' % gidfile]
    with FsMount(sshd, tmp_mnt, opts=opts + ['-o', 'nomap=ignore']) as m:
        write(m.m('f'), b'')
        st = os.stat(m.m('f'))
        assert (st.st_uid, st.st_gid) == (d_uid, d_gid)
        p = m.s('unmapped')
        write(p, b'')
        os.chown(p, 4242, 4242)
        assert os.stat(m.m('unmapped')).st_uid == 4242	# ignore: unchanged
    with FsMount(sshd, tmp_mnt, opts=opts + ['-o', 'nomap=error'] + NOKCACHE,
                 src=m.src) as m2:
        assert os.stat(m2.m('f')).st_uid == d_uid
        with pytest.raises(PermissionError):
            os.stat(m2.m('unmapped'))


def test_idmap_file_must_be_private(sshd, tmp_mnt, tmp_path):
    uidfile = tmp_path / 'uids'
    uidfile.write_text('daemon:1\n')
    os.chmod(uidfile, 0o666)
    m = FsMount(sshd, tmp_mnt, opts=['-o', 'idmap=file', '-o', 'uidfile=%s' % uidfile],
                foreground=False)
    res = util.run(m.argv(), timeout=30, env=sshd.env())
    assert res.returncode == 1
    assert 'writable' in res.stderr
    assert not os.path.ismount(tmp_mnt)


def test_uid_gid_umask(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt, opts=['-o', 'uid=1234', '-o', 'gid=2345',
                                      '-o', 'umask=027']) as m:
        write(m.m('f'), b'')
        os.chmod(m.m('f'), 0o666)
        os.mkdir(m.m('d'))
        st = os.stat(m.m('f'))
        assert (st.st_uid, st.st_gid) == (1234, 2345)
        assert stat.S_IMODE(st.st_mode) == 0o750
        assert stat.S_IMODE(os.stat(m.m('d')).st_mode) == 0o750
        assert stat.S_IMODE(os.stat(m.s('f')).st_mode) == 0o666	# the server keeps its modes
        names = {e.name: e.stat().st_uid for e in os.scandir(m.mnt)}
        assert names == {'f': 1234, 'd': 1234}


def test_allow_other_and_default_permissions(sshd, tmp_mnt):
    """Another local user sees the mount only with allow_other, and with
    default_permissions the kernel applies the modes the fs reports."""
    src = sshd.remote_dir('smtest')
    write(os.path.join(src, 'secret'), b's')
    os.chmod(os.path.join(src, 'secret'), 0o600)
    os.chown(os.path.join(src, 'secret'), *ids('smtest'))
    nobody = pwd.getpwnam('nobody')

    def as_nobody(*cmd):
        return util.run(['setpriv', '--reuid=%d' % nobody.pw_uid, '--regid=%d' % nobody.pw_gid,
                         '--clear-groups'] + list(cmd), timeout=30)
    with FsMount(sshd, tmp_mnt, src=src):
        assert as_nobody('ls', tmp_mnt).returncode != 0
    with FsMount(sshd, tmp_mnt, src=src, opts=['-o', 'allow_other']):
        assert as_nobody('ls', tmp_mnt).stdout.split() == ['secret']
    with FsMount(sshd, tmp_mnt, src=src, opts=['-o', 'allow_other,default_permissions']):
        res = as_nobody('cat', os.path.join(tmp_mnt, 'secret'))
        assert res.returncode != 0 and 'Permission denied' in res.stderr


# ------------------------------------------------------------ symlinks

def test_follow_symlinks(sshd, tmp_mnt):
    src = sshd.remote_dir('smtest')
    write(os.path.join(src, 'target'), b'target data')
    os.symlink('target', os.path.join(src, 'link'))
    os.symlink('nowhere', os.path.join(src, 'dangling'))
    with FsMount(sshd, tmp_mnt, src=src, opts=['-o', 'follow_symlinks']) as m:
        assert stat.S_ISREG(os.lstat(m.m('link')).st_mode)
        assert read(m.m('link')) == b'target data'
        kinds = {e.name: e.is_symlink() for e in os.scandir(m.mnt)}
        assert kinds['link'] is False
        assert stat.S_ISLNK(os.lstat(m.m('dangling')).st_mode)
    with FsMount(sshd, tmp_mnt, src=src) as m:
        assert stat.S_ISLNK(os.lstat(m.m('link')).st_mode)


def test_transform_symlinks(sshd, tmp_mnt):
    src = sshd.remote_dir('smtest')
    os.mkdir(os.path.join(src, 'other'))
    write(os.path.join(src, 'other', 'file'), b'data')
    os.mkdir(os.path.join(src, 'sub'))
    os.symlink(os.path.join(src, 'other', 'file'), os.path.join(src, 'abs'))
    os.symlink(os.path.join(src, 'other', 'file'), os.path.join(src, 'sub', 'abs2'))
    os.symlink('/etc/hostname', os.path.join(src, 'outside'))
    with FsMount(sshd, tmp_mnt, src=src, opts=['-o', 'transform_symlinks']) as m:
        assert os.readlink(m.m('abs')) == 'other/file'
        assert os.readlink(m.m('sub', 'abs2')) == '../other/file'
        assert read(m.m('sub', 'abs2')) == b'data'
        assert os.readlink(m.m('outside')) == '/etc/hostname'
    with FsMount(sshd, tmp_mnt, src=src) as m:
        assert os.readlink(m.m('abs')) == os.path.join(src, 'other', 'file')


def test_contain_symlinks(sshd, tmp_mnt):
    src = sshd.remote_dir('smtest')
    os.mkdir(os.path.join(src, 'sub'))
    write(os.path.join(src, 'sub', 'target'), b't')
    os.symlink('sub/target', os.path.join(src, 'safe'))
    os.symlink('/etc/passwd', os.path.join(src, 'abs'))
    os.symlink('sub/../../x', os.path.join(src, 'dotdot'))
    with FsMount(sshd, tmp_mnt, src=src, opts=['-o', 'contain_symlinks']) as m:
        assert read(m.m('safe')) == b't'
        for n in ('abs', 'dotdot'):
            with pytest.raises(PermissionError):
                os.readlink(m.m(n))
        with pytest.raises(PermissionError):
            open(m.m('abs'))
    with FsMount(sshd, tmp_mnt, src=src) as m:		# off by default (sshfs 3.7.3)
        assert os.readlink(m.m('abs')) == '/etc/passwd'


def test_disable_hardlink(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt, opts=['-o', 'disable_hardlink']) as m:
        write(m.m('a'), b'')
        with pytest.raises(OSError) as e:
            os.link(m.m('a'), m.m('b'))
        assert e.value.errno in (errno.ENOSYS, errno.EPERM)
        assert not os.path.exists(m.s('b'))


# ------------------------------------------------------------ caches

def test_cache_no_sees_remote_changes_at_once(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt, opts=['-o', 'cache=no'] + NOKCACHE) as m:
        assert os.listdir(m.mnt) == []
        write(m.s('new'), b'12345')
        assert os.listdir(m.mnt) == ['new']
        assert os.stat(m.m('new')).st_size == 5
        write(m.s('new'), b'1234567')
        assert os.stat(m.m('new')).st_size == 7


def test_dir_cache_no(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt, opts=['-o', 'dir_cache=no'] + NOKCACHE) as m:
        assert os.listdir(m.mnt) == []
        write(m.s('new'), b'')
        assert os.listdir(m.mnt) == ['new']


def test_cache_timeouts(sshd, tmp_mnt):
    """Remote changes show once cache_dir_timeout / cache_stat_timeout have
    passed, and not before: the caches really answer in between."""
    opts = ['-o', 'cache_dir_timeout=2', '-o', 'cache_stat_timeout=2'] + NOKCACHE
    with FsMount(sshd, tmp_mnt, opts=opts) as m:
        write(m.s('f'), b'123')
        assert os.listdir(m.mnt) == ['f']
        assert os.stat(m.m('f')).st_size == 3
        t0 = time.monotonic()
        write(m.s('g'), b'')
        write(m.s('f'), b'123456')
        assert os.listdir(m.mnt) == ['f']		# cached listing
        assert os.stat(m.m('f')).st_size == 3		# cached attributes
        assert os.stat(m.m('g')).st_size == 0		# a new name is looked up
        assert wait_until(lambda: sorted(os.listdir(m.mnt)) == ['f', 'g'], 5)
        assert wait_until(lambda: os.stat(m.m('f')).st_size == 6, 5)
        assert time.monotonic() - t0 < 4.5


def test_cache_sees_own_changes(sshd, tmp_mnt):
    """Our own operations update the caches: no stale view even with long
    timeouts."""
    with FsMount(sshd, tmp_mnt, opts=['-o', 'cache_timeout=600'] + NOKCACHE) as m:
        assert os.listdir(m.mnt) == []
        write(m.m('a'), b'1')
        os.mkdir(m.m('d'))
        os.symlink('a', m.m('l'))
        assert sorted(os.listdir(m.mnt)) == ['a', 'd', 'l']
        with open(m.m('a'), 'ab') as f:
            f.write(b'23')
        assert os.stat(m.m('a')).st_size == 3
        os.rename(m.m('a'), m.m('d', 'b'))
        assert sorted(os.listdir(m.mnt)) == ['d', 'l']
        assert os.listdir(m.m('d')) == ['b']
        os.truncate(m.m('d', 'b'), 1)
        assert os.stat(m.m('d', 'b')).st_size == 1
        os.chmod(m.m('d', 'b'), 0o600)
        assert stat.S_IMODE(os.stat(m.m('d', 'b')).st_mode) == 0o600
        os.unlink(m.m('l'))
        os.symlink('d/b', m.m('l'))
        assert os.readlink(m.m('l')) == 'd/b'
        os.unlink(m.m('d', 'b'))
        os.rmdir(m.m('d'))
        assert os.listdir(m.mnt) == ['l']


def _change_keep_mtime(path, data):
    st = os.stat(path)
    write(path, data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_page_cache_kept_while_unchanged(sshd, tmp_mnt):
    """Default: the kernel keeps a file's pages across opens while size and
    mtime are unchanged (no re-read), and drops them when the file changed."""
    with FsMount(sshd, tmp_mnt, opts=['-o', 'cache_timeout=1'] + NOKCACHE) as m:
        write(m.s('f'), b'A' * 5000)
        assert read(m.m('f')) == b'A' * 5000
        _change_keep_mtime(m.s('f'), b'B' * 5000)	# invisible to size/mtime
        time.sleep(1.2)
        assert read(m.m('f')) == b'A' * 5000		# pages kept
        write(m.s('f'), b'C' * 5000)
        os.utime(m.s('f'), (1, 1))			# mtime changed
        time.sleep(1.2)
        assert read(m.m('f')) == b'C' * 5000


def test_direct_io_never_caches(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt, opts=['-o', 'direct_io,cache_timeout=1'] + NOKCACHE) as m:
        write(m.s('f'), b'A' * 2000)
        assert read(m.m('f')) == b'A' * 2000
        _change_keep_mtime(m.s('f'), b'B' * 2000)
        assert read(m.m('f')) == b'B' * 2000
        write(m.m('g'), b'x' * 2000)
        assert read(m.s('g')) == b'x' * 2000


def test_kernel_cache_keeps_pages(sshd, tmp_mnt):
    """cache=no would drop pages at every open; kernel_cache keeps them."""
    for opts, expect in ((['-o', 'cache=no'], b'B'), (['-o', 'cache=no,kernel_cache'], b'A')):
        with FsMount(sshd, tmp_mnt, opts=opts + NOKCACHE) as m:
            write(m.s('f'), b'A' * 3000)
            assert read(m.m('f')) == b'A' * 3000
            _change_keep_mtime(m.s('f'), b'B' * 3000)
            assert read(m.m('f')) == expect * 3000, opts


def test_auto_cache_accepted(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt, opts=['-o', 'auto_cache']) as m:
        write(m.m('f'), b'x')
        assert read(m.m('f')) == b'x'


# ------------------------------------------------------------ the mount itself

def test_ro(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt, opts=['-o', 'ro']) as m:
        write(m.s('f'), b'data')
        assert read(m.m('f')) == b'data'
        for fn in (lambda: write(m.m('g'), b''), lambda: os.mkdir(m.m('d')),
                   lambda: os.unlink(m.m('f')), lambda: os.chmod(m.m('f'), 0o600)):
            with pytest.raises(OSError) as e:
                fn()
            assert e.value.errno == errno.EROFS
        assert os.listdir(m.src) == ['f']


def test_max_conns(sshd, tmp_mnt):
    before = sshd.log().count('Accepted publickey for smtest')
    with FsMount(sshd, tmp_mnt, opts=['-o', 'max_conns=3']) as m:
        logins = sshd.log().count('Accepted publickey for smtest') - before
        assert logins == 3
        files = [open(m.m('f%d' % i), 'wb') for i in range(6)]
        for i, f in enumerate(files):
            f.write(bytes([i]) * 300000)
        for f in files:
            f.close()
        for i in range(6):
            assert read(m.s('f%d' % i)) == bytes([i]) * 300000
            assert read(m.m('f%d' % i)) == bytes([i]) * 300000


def test_max_conns_runs_the_same_server(sshd, tmp_mnt):
    """Extra connections start the server the way the checks did: with
    nice/ionice every sftp-server of every connection runs at nice 19."""
    before = sshd.log().count('Accepted publickey for smtest')
    with FsMount(sshd, tmp_mnt, opts=['-o', 'max_conns=2,nice,ionice']) as m:
        assert sshd.log().count('Accepted publickey for smtest') - before == 2
        write(m.m('f'), b'x')
        nices = []
        for pid in sshd.session_pids():
            try:
                cmd = open('/proc/%d/cmdline' % pid, 'rb').read()
                fields = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if cmd.startswith(util.SFTP_SERVER.encode()):
                nices.append(int(fields[16]))
        assert len(nices) >= 2 * 2 and all(n == 19 for n in nices), nices


def test_sftp_server_path(sshd, tmp_mnt):
    """sftp_server=PATH runs that command (here read-only: -R) through exec."""
    opts = ['-o', 'sftp_server=%s -R' % util.SFTP_SERVER]
    src = sshd.remote_dir('smtest')
    write(os.path.join(src, 'f'), b'x')
    m = FsMount(sshd, tmp_mnt, src=src, opts=opts + ['-o', 'ro'])
    with m:
        assert read(m.m('f')) == b'x'
    assert 'req exec' in sshd.log()


def test_nice_ionice(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt, opts=['-o', 'nice,ionice']) as m:
        write(m.m('f'), b'x')
        nices = []
        for pid in sshd.session_pids():
            try:
                cmd = open('/proc/%d/cmdline' % pid, 'rb').read()
                fields = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if cmd.startswith(util.SFTP_SERVER.encode()):
                nices.append(int(fields[16]))
                ion = util.run(['ionice', '-p', str(pid)], timeout=10).stdout
                assert 'best-effort: prio 7' in ion
        assert nices and all(n == 19 for n in nices)


def test_nocache_missing_is_reported(sshd, tmp_mnt):
    if os.path.exists('/usr/bin/nocache'):
        pytest.skip('nocache is installed here')
    m = FsMount(sshd, tmp_mnt, opts=['-o', 'nocache'], foreground=False)
    res = util.run(m.argv(), timeout=60, env=sshd.env())
    assert res.returncode == 32
    assert 'nocache' in res.stderr
    assert not os.path.ismount(tmp_mnt)


def test_ssh_command_real_ssh(sshd, tmp_mnt):
    """ssh_command=ssh: SFTP over OpenSSH's own client."""
    m = FsMount(sshd, tmp_mnt, opts=['-o', 'ssh_command=%s -F %s -o BatchMode=yes' % (
        util.SSH, sshd.client_config)])
    with m:
        write(m.m('f'), b'via ssh')
        assert read(m.s('f')) == b'via ssh'


def test_directport(sshd, tmp_mnt):
    """directport=: plain TCP to an sftp-server (no SSH at all)."""
    server = subprocess.Popen([sys.executable, '-c', DIRECT_SERVER, util.SFTP_SERVER],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        port = int(server.stdout.readline())
        src = sshd.remote_dir('root')
        argv = [util.bin_path('sshmountfs'), '127.0.0.1:' + src, tmp_mnt,
                '-o', 'directport=%d' % port]
        res = util.run(argv, timeout=60)
        assert res.returncode == 0, res.stderr
        try:
            write(os.path.join(tmp_mnt, 'f'), b'direct')
            assert read(os.path.join(src, 'f')) == b'direct'
        finally:
            util.umount(None, tmp_mnt)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)


DIRECT_SERVER = r'''
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    if os.fork() == 0:
        os.dup2(c.fileno(), 0)
        os.dup2(c.fileno(), 1)
        os.execv(sys.argv[1], [sys.argv[1]])
    c.close()
'''


def test_password_stdin(sshd, tmp_mnt):
    src = sshd.remote_dir('smtest')
    argv = [util.bin_path('sshmountfs'), sshd.spec('smtest', src), tmp_mnt,
            '-p', str(sshd.port), '-F', sshd.client_config,
            '-o', 'UserKnownHostsFile=' + sshd.known_hosts,
            '-o', 'PubkeyAuthentication=no', '-o', 'password_stdin']
    res = util.run(argv, timeout=60, env=sshd.env(), input=util.TEST_PASSWORD + '\n')
    try:
        assert res.returncode == 0, res.stderr
        write(os.path.join(tmp_mnt, 'f'), b'pw')
        assert read(os.path.join(src, 'f')) == b'pw'
    finally:
        if os.path.ismount(tmp_mnt):
            util.umount(None, tmp_mnt)
    res = util.run(argv, timeout=60, env=sshd.env(), input='wrong\n')
    assert res.returncode == 32
    assert not os.path.ismount(tmp_mnt)


def test_full_check(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt, opts=['-o', 'full_check']) as m:
        write(m.m('f'), b'x')
        assert os.listdir(m.src) == ['f']	# the checks cleaned up after themselves


# ------------------------------------------------------------ server variants

def test_server_without_statvfs(make_sshd, tmp_mnt):
    srv = make_sshd(sftp_args=['-P', 'statvfs@openssh.com,fstatvfs@openssh.com'])
    with FsMount(srv, tmp_mnt) as m:
        st = os.statvfs(m.mnt)
        assert st.f_blocks > 0 and st.f_bavail > 0 and st.f_namemax == 255
        assert st.f_blocks != os.statvfs(m.src).f_blocks


def test_server_without_hardlink(make_sshd, tmp_mnt):
    srv = make_sshd(sftp_args=['-P', 'hardlink@openssh.com'])
    with FsMount(srv, tmp_mnt) as m:
        write(m.m('a'), b'x')
        with pytest.raises(PermissionError):
            os.link(m.m('a'), m.m('b'))


def test_server_without_posix_rename(make_sshd, tmp_mnt):
    srv = make_sshd(sftp_args=['-P', 'posix-rename@openssh.com'])
    with FsMount(srv, tmp_mnt) as m:
        write(m.m('a'), b'new')
        write(m.m('b'), b'old')
        os.rename(m.m('a'), m.m('b'))
        assert read(m.s('b')) == b'new'
        assert not os.path.exists(m.s('a'))


def test_server_without_lsetstat(make_sshd, tmp_mnt):
    srv = make_sshd(sftp_args=['-P', 'lsetstat@openssh.com'])
    with FsMount(srv, tmp_mnt) as m:
        write(m.m('t'), b'')
        os.utime(m.m('t'), (1000000, 1000000))
        os.symlink('t', m.m('l'))
        with pytest.raises(OSError) as e:
            os.utime(m.m('l'), (2000000, 2000000), follow_symlinks=False)
        assert e.value.errno == errno.EOPNOTSUPP
        assert os.stat(m.s('t')).st_mtime == 1000000	# the target was not touched
        os.utime(m.m('t'), (3000000, 3000000))		# files still work
        assert os.stat(m.s('t')).st_mtime == 3000000


def test_server_without_fsync_and_copy_data(make_sshd, tmp_mnt):
    srv = make_sshd(sftp_args=['-P', 'fsync@openssh.com,copy-data'])
    with FsMount(srv, tmp_mnt) as m:
        with open(m.m('a'), 'wb') as f:
            f.write(b'abc' * 1000)
            f.flush()
            os.fsync(f.fileno())
        with open(m.m('a'), 'rb') as fi, open(m.m('b'), 'wb') as fo:
            n = os.copy_file_range(fi.fileno(), fo.fileno(), 3000)
            assert n == 3000
        assert read(m.s('b')) == b'abc' * 1000


def test_read_only_server(make_sshd, tmp_mnt):
    srv = make_sshd(sftp_args=['-R'])
    src = srv.remote_dir('smtest')
    write(os.path.join(src, 'f'), b'x')
    with FsMount(srv, tmp_mnt, src=src, opts=['-o', 'ro']) as m:
        assert read(m.m('f')) == b'x'
