"""sshmountfs-tool status: the state of a live mount, read through the
daemon's status socket (core/statsock.h) without touching the mount.

What is checked on real mounts: a fresh mount says "connected" (as text and
as JSON), for root and for the unprivileged user who mounted it; another
user is refused; counters grow with traffic; open files and the cache are
counted; a mount that is not ours, or not a mount, is exit status 2; and
status answers at once while the link is stalled, when a stat() of the
mount point would wait."""

import json
import os
import pwd
import subprocess
import threading
import time

import pytest

import util
from conftest import fuse_test_marker
from fsmount import FsMount, ProxiedSshd, ids

pytestmark = fuse_test_marker()

KEEPALIVE = ['-o', 'ServerAliveInterval=1', '-o', 'ServerAliveCountMax=2']


def tool_argv(*args):
    return [util.bin_path('sshmountfs-tool')] + list(args)


def as_uid(uid, gid, argv):
    return ['setpriv', '--reuid=%d' % uid, '--regid=%d' % gid, '--clear-groups', '--'] + argv


def status(mnt, *extra, user=None, timeout=30):
    argv = tool_argv('status', *extra, mnt)
    if user is not None:
        pw = pwd.getpwnam(user)
        argv = as_uid(pw.pw_uid, pw.pw_gid, argv)
    return util.run(argv, timeout=timeout)


def status_json(mnt, user=None):
    res = status(mnt, '--json', user=user)
    assert res.returncode in (0, 3), (res.returncode, res.stderr)
    return json.loads(res.stdout), res.returncode


class UserMount(FsMount):
    """sshmountfs run by the local user smtest, with the copy of the key
    that smtest can read. /dev/fuse is 0600 on the test machine (normally
    0666), which also stops fusermount3 (it opens the device as the real
    user), so the process keeps the two capabilities it takes to open the
    device and mount: the mount is smtest's (user_id=smtest in the mount
    table) and its daemon runs as smtest, as after fusermount3 on a desktop."""

    def argv(self, extra=()):
        uid, gid = ids('smtest')
        argv = super().argv(extra)
        argv = [('IdentityFile=' + self.sshd.key_user) if a == 'IdentityFile=' + self.sshd.key
                else a for a in argv]
        return ['setpriv', '--reuid=%d' % uid, '--regid=%d' % gid, '--clear-groups',
                '--inh-caps=+dac_override,+sys_admin',
                '--ambient-caps=+dac_override,+sys_admin', '--'] + argv

    def start(self):
        # Root cannot stat() a mount of smtest's without allow_other (what
        # util.wait_for_mount does): the mount table says when it is there.
        self.proc = subprocess.Popen(self.argv(['-f']), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env=self.sshd.env(), start_new_session=True)
        deadline = time.monotonic() + 30
        while not util.is_mounted(self.mnt, resolve=False):
            assert self.proc.poll() is None, 'sshmountfs exited with %d' % self.proc.returncode
            assert time.monotonic() < deadline, 'the mount did not appear'
            time.sleep(0.1)
        return self


def test_status_of_a_fresh_mount(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt) as m:
        res = status(m.mnt)
        assert res.returncode == 0, res.stderr
        assert 'state:       connected' in res.stdout
        assert 'remote:      smtest@127.0.0.1:%s' % m.src in res.stdout
        st, rc = status_json(m.mnt)
        assert rc == 0
        assert st['state'] == 'connected'
        assert st['remote'] == 'smtest@127.0.0.1:%s' % m.src
        assert st['open_files'] == 0 and st['queued_write_bytes'] == 0
        assert len(st['engines']) >= 1 and st['engines'][0]['state'] == 'connected'
        assert 0 <= st['uptime_s'] < 120
        assert st['options'] == {'reconnect': True, 'reconnect_timeout': 60,
                                 'exclusive': False, 'cache': True}
        assert st['reconnects'] == 0 and st['generation'] == 1
        assert st['rtt_us'] > 0
        # a relative path and a trailing slash name the same mount
        res = util.run(tool_argv('status', os.path.basename(m.mnt) + '/'),
                       cwd=os.path.dirname(m.mnt), timeout=30)
        assert res.returncode == 0, res.stderr


def test_status_counters_grow(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt, opts=['-o', 'exclusive']) as m:
        before, _ = status_json(m.mnt)
        data = os.urandom(1 << 20)
        with open(m.m('f'), 'wb') as f:
            f.write(data)
        for _ in range(5):
            os.stat(m.m('f'))
            os.listdir(m.mnt)
        with open(m.m('f'), 'rb') as f:
            assert f.read() == data
            during, _ = status_json(m.mnt)
        after, _ = status_json(m.mnt)
        assert open(m.s('f'), 'rb').read() == data
        assert after['bytes_out'] - before['bytes_out'] >= len(data)
        assert after['bytes_in'] - before['bytes_in'] >= len(data)
        assert after['requests'] > before['requests'] + 10
        assert after['engines'][0]['bytes_out'] - before['engines'][0]['bytes_out'] > 0
        assert during['open_files'] == 1 and after['open_files'] == 0
        assert after['cache']['attr_hits'] > before['cache']['attr_hits']
        assert (after['cache']['dir_hits'] + after['cache']['dir_misses'] >
                before['cache']['dir_hits'] + before['cache']['dir_misses'])
        assert after['options']['exclusive'] is True


def test_status_options(sshd, tmp_mnt):
    with FsMount(sshd, tmp_mnt, opts=['-o', 'noreconnect,cache=no']) as m:
        st, rc = status_json(m.mnt)
        assert rc == 0
        assert st['options']['reconnect'] is False and st['options']['cache'] is False
        text = status(m.mnt).stdout
        assert 'options:     noreconnect, cache=no' in text and 'cache:       off' in text
    with FsMount(sshd, tmp_mnt, opts=['-o', 'reconnect_timeout=7']) as m:
        st, _ = status_json(m.mnt)
        assert st['options']['reconnect'] is True and st['options']['reconnect_timeout'] == 7
        assert 'options:     reconnect, reconnect_timeout=7, cache=yes' in status(m.mnt).stdout


def test_status_owner_root_and_others(sshd, tmp_mnt):
    """The unprivileged user who mounted it and root may read the status;
    anyone else is refused (and learns nothing: no counters in stdout)."""
    uid, gid = ids('smtest')
    os.chown(tmp_mnt, uid, gid)
    with UserMount(sshd, tmp_mnt) as m:
        st, rc = status_json(m.mnt, user='smtest')
        assert rc == 0 and st['state'] == 'connected'
        st, rc = status_json(m.mnt)
        assert rc == 0 and st['state'] == 'connected'
        res = status(m.mnt, '--json', user='nobody')
        assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
        assert res.stdout == '' and 'refused' in res.stderr


def test_status_of_what_is_not_ours(tmp_mnt):
    res = util.run(tool_argv('status', tmp_mnt), timeout=30)
    assert res.returncode == 2 and 'not a mount point' in res.stderr, res.stderr
    res = util.run(tool_argv('status', '/proc'), timeout=30)
    assert res.returncode == 2 and 'not an sshmountfs mount (type proc)' in res.stderr
    res = util.run(tool_argv('status'), timeout=30)
    assert res.returncode == 1
    res = util.run(tool_argv('status', '--bogus', tmp_mnt), timeout=30)
    assert res.returncode == 1


def test_status_of_an_sshfs_mount(sshd, tmp_mnt):
    if not os.path.exists('/usr/bin/sshfs'):
        pytest.skip('no sshfs')
    src = sshd.remote_dir('smtest')
    res = util.run(['/usr/bin/sshfs', sshd.spec('smtest', src), tmp_mnt, '-o',
                    sshd.mount_opts()], timeout=60, env=sshd.env())
    assert res.returncode == 0, res.stderr
    try:
        res = util.run(tool_argv('status', tmp_mnt), timeout=30)
        assert res.returncode == 2 and 'not an sshmountfs mount' in res.stderr, res.stderr
    finally:
        util.umount(None, tmp_mnt)


def test_status_answers_while_the_link_is_stalled(sshd, tmp_mnt, delay_proxy):
    """The link stops (no FIN, no RST) with a listing waiting on it: status
    still answers at once, says "reconnecting" (exit status 3) with the
    cause once keepalive has found the link dead, and "connected" again
    after the network is back and the listing completed."""
    proxy = delay_proxy(sshd.port, 0)
    sshd.add_known_port(proxy.port)
    m = FsMount(sshd, tmp_mnt, opts=KEEPALIVE + ['-o', 'cache=no'])
    m.sshd = ProxiedSshd(sshd, proxy.port)
    with m:
        os.listdir(m.mnt)
        proxy.stall()
        box = {}

        def listing():
            try:
                box['names'] = os.listdir(m.mnt)
            except OSError as e:
                box['err'] = e.errno
        t = threading.Thread(target=listing, daemon=True)
        t.start()
        try:
            time.sleep(0.5)
            states = []
            for _ in range(8):
                t0 = time.monotonic()
                res = status(m.mnt, '--json', timeout=10)
                took = time.monotonic() - t0
                assert took < 2.0, 'status took %.1f s during a stall' % took
                assert res.returncode in (0, 3), res.stderr
                st = json.loads(res.stdout)
                assert (res.returncode == 0) == (st['state'] == 'connected')
                states.append(st['state'])
                time.sleep(0.5)
            # keepalive (1 s x 2) has declared the link lost by now
            assert states[-1] == 'reconnecting', states
            assert st['last_error'] and st['since'] >= int(time.time()) - 10, st
            res = status(m.mnt)
            assert res.returncode == 3 and 'state:       reconnecting since' in res.stdout
            assert 'last error: ' in res.stdout
        finally:
            proxy.resume()
            t.join(30)
        assert box == {'names': []}, box
        deadline = time.monotonic() + 20
        while status_json(m.mnt)[0]['state'] != 'connected' and time.monotonic() < deadline:
            time.sleep(0.2)
        st, rc = status_json(m.mnt)
        assert rc == 0 and st['reconnects'] == 1 and st['generation'] == 2, st


# The writer of test_status_counts_writes_waiting_for_the_link, in a process
# of its own: a descriptor of the mount held by the test itself would be
# inherited by every program the test starts, and its close-on-exec (a FUSE
# FLUSH, which waits for the writes) would hold up their exec until the link
# is back.
WRITER = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b'x')
os.fsync(fd)
print('ready', flush=True)
sys.stdin.readline()
data = open(sys.argv[2], 'rb').read()
print('wrote', os.write(fd, data), flush=True)
sys.stdin.readline()
try:
    os.close(fd)
    print('closed', flush=True)
except OSError as e:
    print('close failed', e.errno, flush=True)
"""


def test_status_counts_writes_waiting_for_the_link(sshd, tmp_mnt, delay_proxy, tmp_path):
    """Writes a program was told succeeded are in flight when the link
    stalls: status counts them (and the open file) while the mount is
    "reconnecting"; once the network is back they reach the server (replayed
    on the new link) and the count drops to 0."""
    proxy = delay_proxy(sshd.port, 0)
    sshd.add_known_port(proxy.port)
    m = FsMount(sshd, tmp_mnt, opts=KEEPALIVE)
    m.sshd = ProxiedSshd(sshd, proxy.port)
    data = os.urandom(1 << 20)
    (tmp_path / 'data').write_bytes(data)
    with m:
        w = subprocess.Popen(['/usr/bin/python3', '-c', WRITER, m.m('w'), str(tmp_path / 'data')],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert w.stdout.readline() == 'ready\n'
            proxy.stall()
            t0 = time.monotonic()
            w.stdin.write('go\n')
            w.stdin.flush()
            assert w.stdout.readline() == 'wrote %d\n' % len(data)  # write-behind
            assert time.monotonic() - t0 < 2, 'the write waited for the link'
            deadline = time.monotonic() + 15
            while status_json(m.mnt)[0]['state'] != 'reconnecting':
                assert time.monotonic() < deadline, 'never reconnecting'
                time.sleep(0.1)
            st, rc = status_json(m.mnt)
            assert rc == 3 and st['open_files'] == 1, st
            assert st['queued_write_bytes'] >= len(data), st
            res = status(m.mnt)
            assert 'open files:  1, 1.0 MiB of writes not yet acknowledged' in res.stdout
        finally:
            proxy.resume()
            w.stdin.write('close\n')
            w.stdin.flush()
            last = w.stdout.readline()
            w.wait(30)
        assert last == 'closed\n'
        assert open(m.s('w'), 'rb').read() == b'x' + data
        st, rc = status_json(m.mnt)
        assert rc == 0 and st['open_files'] == 0 and st['queued_write_bytes'] == 0, st
        assert st['reconnects'] == 1


def test_status_of_a_daemonized_mount(sshd, tmp_mnt):
    """The way users and mount(8) run it: the daemon child serves status."""
    with FsMount(sshd, tmp_mnt, foreground=False) as m:
        st, rc = status_json(m.mnt)
        assert rc == 0 and st['state'] == 'connected'
