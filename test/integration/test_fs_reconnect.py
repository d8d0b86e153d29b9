"""Reconnection (issue 12) on real mounts, through test/tools/delayproxy.py.

The link is cut (RST), stalled (no FIN, no RST) or taken down (new
connections refused) while idle, during a listing, a 100 MiB write and a
read; sshd is restarted on its port; the login is refused or the host key
changed during the outage; reconnect_timeout runs out; the mount is
unmounted during an outage. What programs saw is checked against the
server's own copy of the files, and the number of reconnections against
`sshmountfs-tool status`.

Where it makes sense sshfs -o reconnect runs the same scenario in the same
test; what it does is printed (pytest -s) and written up in the README's
"Reconnection" section, never asserted: it is the reference, not the
subject.
"""

import errno
import hashlib
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

import util
from conftest import fuse_test_marker
from fsmount import FsMount, ProxiedSshd, ids, wait_until

pytestmark = fuse_test_marker()

# Keepalive 1 s x 2: a stalled link is found dead within about 3 s.
KEEPALIVE = ['-o', 'ServerAliveInterval=1', '-o', 'ServerAliveCountMax=2']
SSHFS = '/usr/bin/sshfs'
MIB = 1 << 20


# ------------------------------------------------------------------ helpers

def status(m, timeout=10):
    """The mount's status (dict) and the tool's exit status."""
    res = util.run([util.bin_path('sshmountfs-tool'), 'status', '--json', m.mnt],
                   timeout=timeout)
    assert res.returncode in (0, 3), (res.returncode, res.stderr)
    return json.loads(res.stdout), res.returncode


def wait_state(m, want, timeout):
    """Polls status until its state is in 'want'; returns the last status."""
    deadline = time.monotonic() + timeout
    while True:
        st, _ = status(m)
        if st['state'] in want or time.monotonic() > deadline:
            return st
        time.sleep(0.2)


def proxied_mount(sshd, mnt, proxy, opts=(), **kw):
    sshd.add_known_port(proxy.port)
    m = FsMount(sshd, mnt, opts=KEEPALIVE + list(opts), **kw)
    m.sshd = ProxiedSshd(sshd, proxy.port)
    return m


def timed(fn, timeout):
    """Runs fn in a thread: (result or None, errno or None, seconds);
    seconds is None when it did not return within timeout."""
    t0 = time.monotonic()
    t, box = background(fn)
    t.join(timeout)
    took = None if t.is_alive() else time.monotonic() - t0
    return box.get('r'), box.get('e'), took


def background(fn):
    """Starts fn in a daemon thread: (thread, box); box gets 'r' (its
    result) or 'e' (the errno it failed with)."""
    box = {}

    def run():
        try:
            box['r'] = fn()
        except OSError as e:
            box['e'] = e.errno
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def sha(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        while True:
            b = f.read(MIB)
            if not b:
                return h.hexdigest()
            h.update(b)


def own(m, path):
    os.chown(path, *ids(m.user))


class SshfsRef:
    """sshfs -o reconnect through the same proxy, the reference."""

    def __init__(self, sshd, proxy, src, mnt):
        """proxy: a DelayProxy, or anything with the port to use."""
        self.mnt = mnt
        self.argv = [SSHFS, sshd.spec('smtest', src), mnt, '-f', '-o',
                     'reconnect,ServerAliveInterval=1,ServerAliveCountMax=2,cache=no,'
                     'port=%d,IdentityFile=%s,UserKnownHostsFile=%s,BatchMode=yes'
                     % (proxy.port, sshd.key, sshd.known_hosts)]
        self.env = sshd.env()
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env=self.env, start_new_session=True)
        util.wait_for_mount(self.proc, self.mnt)
        return self

    def __exit__(self, *exc):
        util.cleanup(self.proc, self.mnt)


def sshfs_ref(sshd, proxy, src):
    if not os.path.exists(SSHFS):
        return None
    import tempfile
    return SshfsRef(sshd, proxy, src, tempfile.mkdtemp(prefix='smref-', dir='/tmp'))


def drop_ref(ref):
    if ref is not None:
        try:
            os.rmdir(ref.mnt)
        except OSError:
            pass


def restart_sshd(srv, new_host_key=False):
    """Stops the sshd and every session (the client sees its link drop),
    then starts it again on the same port, with a new host key if asked."""
    sessions = srv.session_pids()  # found through the listener: before it stops
    srv._stop_proc()
    for pid in sessions:
        util._kill_quiet(pid, signal.SIGKILL)
    assert util.wait_pids_gone(sessions, 10)
    if new_host_key:
        for p in (srv.host_key, srv.host_key + '.pub'):
            os.unlink(p)
        util.run([util.SSH_KEYGEN, '-q', '-t', 'ed25519', '-N', '', '-C', 'new-host',
                  '-f', srv.host_key], timeout=30, check=True)
    assert srv._launch(), 'sshd did not start again on port %d' % srv.port


# ------------------------------------------------------------------ idle

@pytest.mark.parametrize('how', ['cut', 'down'])
def test_outage_while_idle_heals(sshd, tmp_mnt, delay_proxy, how):
    """Nothing runs while the link is reset (cut) or the host goes away
    (down: the link is reset and new connections are refused for a while):
    the mount reconnects by itself and afterwards everything works again,
    the server's copy included, after exactly one reconnection."""
    proxy = delay_proxy(sshd.port, 0)
    m = proxied_mount(sshd, tmp_mnt, proxy, ['-o', 'cache=no'])
    with m:
        m.src_write('before', b'b' * 1000)
        assert os.listdir(m.mnt) == ['before']
        t0 = time.monotonic()
        getattr(proxy, how)()
        if how == 'down':
            st = wait_state(m, ('reconnecting',), 10)
            assert st['state'] == 'reconnecting' and st['last_error'], st
            time.sleep(2)
            proxy.up()
        st = wait_state(m, ('connected',), 20)
        assert st['state'] == 'connected' and st['reconnects'] == 1, st
        print('%s while idle: reconnected %.1f s after the outage began'
              % (how, time.monotonic() - t0))
        names, err, took = timed(lambda: sorted(os.listdir(m.mnt)), 30)
        assert err is None and took is not None, (err, took)
        assert names == ['before']
        with open(m.m('after'), 'wb') as f:
            f.write(b'a' * 5000)
        assert open(m.s('after'), 'rb').read() == b'a' * 5000
        st, rc = status(m)
        assert rc == 0 and st['state'] == 'connected'
        assert st['reconnects'] == 1 and st['generation'] == 2, st
    ref = sshfs_ref(sshd, proxy, m.src)
    if ref is not None:
        try:
            with ref:
                os.listdir(ref.mnt)
                getattr(proxy, how)()
                t0 = time.monotonic()
                if how == 'down':
                    time.sleep(2)
                    proxy.up()
                tries = []
                while time.monotonic() - t0 < 30:
                    names, err, took = timed(lambda: os.listdir(ref.mnt), 30)
                    tries.append(err)
                    if err is None:
                        break
                    time.sleep(0.2)
                print('sshfs -o reconnect, %s while idle: %s after %.1f s (errors first: %s)'
                      % (how, 'works' if err is None else 'still failing',
                         time.monotonic() - t0, [e for e in tries if e]))
        finally:
            drop_ref(ref)


def test_stall_while_idle(sshd, tmp_mnt, delay_proxy):
    """The link stops (no FIN, no RST) while nothing runs. An idle link is
    not probed to death (keepalive counts only with requests waiting), so
    the first operation during the stall finds it: keepalive declares it
    lost, redials wait behind the stall too, and once the network is back
    the operation completes on a new link, without an error."""
    proxy = delay_proxy(sshd.port, 0)
    m = proxied_mount(sshd, tmp_mnt, proxy, ['-o', 'cache=no'])
    with m:
        m.src_write('before', b'b' * 1000)
        assert os.listdir(m.mnt) == ['before']
        proxy.stall()
        time.sleep(3)
        t, box = background(lambda: os.listdir(m.mnt))
        st = wait_state(m, ('reconnecting',), 15)
        assert st['state'] == 'reconnecting' and st['last_error'], st
        assert t.is_alive(), box
        t0 = time.monotonic()
        proxy.resume()
        t.join(30)
        assert not t.is_alive(), 'the listing hangs after the network is back'
        assert box == {'r': ['before']}
        print('stall while idle: the waiting listing completed %.1f s after resume'
              % (time.monotonic() - t0))
        st = wait_state(m, ('connected',), 20)
        assert st['state'] == 'connected' and st['reconnects'] == 1, st
        with open(m.m('after'), 'wb') as f:
            f.write(b'a' * 5000)
        assert open(m.s('after'), 'rb').read() == b'a' * 5000


# ------------------------------------------------------------------ busy

def test_cut_during_listing(sshd, tmp_mnt, delay_proxy):
    """A listing of 3000 names in flight when the link is reset is retried
    on the new link: the program gets the whole listing, no error."""
    proxy = delay_proxy(sshd.port, 5)
    src = sshd.remote_dir('smtest')
    names = ['n%05d-%s' % (i, 'x' * 60) for i in range(3000)]
    for n in names:
        open(os.path.join(src, n), 'w').close()
    m = proxied_mount(sshd, tmp_mnt, proxy, ['-o', 'cache=no'], src=src)
    with m:
        t, box = background(lambda: sorted(os.listdir(m.mnt)))
        time.sleep(0.05)
        proxy.cut()
        t.join(30)
        assert not t.is_alive(), 'the listing hangs'
        assert box == {'r': names}, box.get('e')
        assert status(m)[0]['reconnects'] >= 1


@pytest.mark.parametrize('how', ['cut', 'stall'])
def test_outage_during_100mib_write(sshd, tmp_mnt, delay_proxy, how):
    """A 100 MiB copy loses the link at 30 MiB: every write the program was
    told succeeded reaches the server, in order; close() succeeds; the
    server's file is exactly what was written."""
    proxy = delay_proxy(sshd.port, 0)
    m = proxied_mount(sshd, tmp_mnt, proxy)
    chunk = os.urandom(MIB)

    def copy(path):
        """Writes 100 MiB, losing the link at 30 MiB: (hash of what the
        program was told was written, its length, the errors it got)."""
        h, told, errors = hashlib.sha256(), 0, []
        resume = threading.Timer(8, proxy.resume)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            for i in range(100):
                block = chunk[i:] + chunk[:i]  # every MiB differs
                try:
                    n = os.write(fd, block)
                except OSError as e:
                    errors.append(('write', e.errno))
                    break
                assert n == MIB
                h.update(block)
                told += n
                if i == 30:
                    proxy.cut() if how == 'cut' else proxy.stall()
                if how == 'stall' and i == 31:
                    # long enough past the keepalive's 2 s for a loaded
                    # machine to declare the link dead before it is back
                    resume.start()
        finally:
            try:
                os.close(fd)
            except OSError as e:
                errors.append(('close', e.errno))
            resume.cancel()
        return h.hexdigest(), told, errors

    with m:
        digest, told, errors = copy(m.m('big'))
        assert errors == [] and told == 100 * MIB
        assert os.path.getsize(m.s('big')) == 100 * MIB
        assert sha(m.s('big')) == digest
        assert status(m)[0]['reconnects'] >= 1
    ref = sshfs_ref(sshd, proxy, m.src)
    if ref is not None:
        try:
            with ref:
                box = {}
                t = threading.Thread(target=lambda: box.update(r=copy(os.path.join(ref.mnt, 'big'))),
                                     daemon=True)
                t.start()
                t.join(180)
                time.sleep(1)
                if 'r' in box:
                    digest, told, errors = box['r']
                    size = os.path.getsize(m.s('big'))
                    print('sshfs -o reconnect, %s during a 100 MiB write: told %d MiB written, '
                          'errors %s, server has %.1f MiB, %s' % (
                              how, told >> 20, errors, size / MIB,
                              'identical' if sha(m.s('big')) == digest else 'different'))
                else:
                    print('sshfs -o reconnect, %s during a 100 MiB write: hangs' % how)
        finally:
            proxy.resume()
            drop_ref(ref)


def test_cut_during_read(sshd, tmp_mnt, delay_proxy):
    """A sequential read of 100 MiB loses the link at 20 MiB: the reader
    goes on (the file is reopened by path) and gets every byte right."""
    proxy = delay_proxy(sshd.port, 0)
    src = sshd.remote_dir('smtest')
    data = os.urandom(MIB) * 100
    with open(os.path.join(src, 'big'), 'wb') as f:
        f.write(data)
    os.chown(os.path.join(src, 'big'), *ids('smtest'))
    m = proxied_mount(sshd, tmp_mnt, proxy, src=src)
    with m:
        got = bytearray()
        with open(m.m('big'), 'rb', buffering=0) as f:
            while True:
                b = f.read(MIB)
                if not b:
                    break
                got += b
                if len(got) == 20 * MIB:
                    proxy.cut()
        assert len(got) == len(data)
        assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
        assert status(m)[0]['reconnects'] >= 1


# ------------------------------------------------------------------ sshd restarted

def test_sshd_restarted_on_the_same_port(make_sshd, tmp_mnt):
    """sshd stops (its sessions die with it) and starts again on its port:
    the mount heals by itself and an open file keeps working."""
    srv = make_sshd()
    with FsMount(srv, tmp_mnt, opts=KEEPALIVE) as m:
        with open(m.m('f'), 'wb') as f:
            f.write(b'1' * 1000)
            f.flush()
            restart_sshd(srv)
            f.write(b'2' * 1000)
        assert open(m.s('f'), 'rb').read() == b'1' * 1000 + b'2' * 1000
        names, err, took = timed(lambda: os.listdir(m.mnt), 30)
        assert err is None and names == ['f']
        st, rc = status(m)
        assert rc == 0 and st['reconnects'] == 1, st
    ref = sshfs_ref(srv, srv, m.src)
    if ref is not None:
        try:
            with ref:
                errors = []
                try:
                    with open(os.path.join(ref.mnt, 'g'), 'wb') as f:
                        f.write(b'1' * 1000)
                        f.flush()
                        restart_sshd(srv)
                        f.write(b'2' * 1000)
                except OSError as e:
                    errors.append(e.errno)
                _, err, took = timed(lambda: os.listdir(ref.mnt), 30)
                print('sshfs -o reconnect, sshd restarted with a file open: errors %s, server '
                      'has %d of 2000 bytes, listing afterwards: %s' % (
                          errors, os.path.getsize(m.s('g')) if os.path.exists(m.s('g')) else 0,
                          'ok' if err is None else os.strerror(err)))
        finally:
            drop_ref(ref)


# ------------------------------------------------------------------ programs keep going

def test_writer_and_reader_continue_across_cut(sshd, tmp_mnt, delay_proxy):
    """A writer appends a counter every 100 ms and a reader holds another
    file open, reading it, while the link is cut twice: neither sees an
    error, and the server's file holds exactly every line the writer was
    told was written. sshfs -o reconnect runs the same and is reported."""
    proxy = delay_proxy(sshd.port, 2)
    src = sshd.remote_dir('smtest')
    ref_data = os.urandom(4 * MIB)
    with open(os.path.join(src, 'ref'), 'wb') as f:
        f.write(ref_data)
    os.chown(os.path.join(src, 'ref'), *ids('smtest'))

    def scenario(mnt):
        written, errors, stop = [], [], threading.Event()

        def writer():
            try:
                fd = os.open(os.path.join(mnt, 'log'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            except OSError as e:
                errors.append(('open log', e.errno))
                return
            try:
                i = 0
                while not stop.is_set():
                    line = b'%08d\n' % i
                    try:
                        if os.write(fd, line) == len(line):
                            written.append(line)
                    except OSError as e:
                        errors.append(('write', e.errno))
                        return
                    i += 1
                    time.sleep(0.1)
            finally:
                try:
                    os.close(fd)
                except OSError as e:
                    errors.append(('close', e.errno))

        def reader():
            try:
                read_all(open(os.path.join(mnt, 'ref'), 'rb', buffering=0))
            except OSError as e:
                errors.append(('open/close ref', e.errno))

        def read_all(f):
            with f:
                off = 0
                while not stop.is_set():
                    try:
                        f.seek(off)
                        b = f.read(65536)
                    except OSError as e:
                        errors.append(('read', e.errno))
                        return
                    if b != ref_data[off:off + 65536]:
                        errors.append(('read', 'wrong data at %d' % off))
                        return
                    off = (off + 65536 * 7) % len(ref_data)
                    time.sleep(0.1)

        threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
        for t in threads:
            t.start()
        time.sleep(2)
        proxy.cut()
        time.sleep(3)
        proxy.cut()
        time.sleep(3)
        stop.set()
        for t in threads:
            t.join(60)
        return written, errors

    m = proxied_mount(sshd, tmp_mnt, proxy, src=src)
    with m:
        written, errors = scenario(m.mnt)
        assert errors == []
        assert len(written) >= 50
        assert open(m.s('log'), 'rb').read() == b''.join(written)
        assert status(m)[0]['reconnects'] == 2
    ref = sshfs_ref(sshd, proxy, src)
    if ref is not None:
        try:
            with ref:
                written, errors = scenario(ref.mnt)
                server = open(os.path.join(src, 'log'), 'rb').read()
                print('sshfs -o reconnect: %d lines written, errors %s, server has %d of %d '
                      'bytes the writer was told were written'
                      % (len(written), errors, len(server), len(b''.join(written))))
        finally:
            drop_ref(ref)


def test_16_threads_blocked_then_one_reconnect(sshd, tmp_mnt, delay_proxy, output_checker):
    """16 threads stat 16 files while the host is down: they wait (no error,
    no hang), all complete once it is back, after exactly one reconnection,
    logged once with its cause and downtime."""
    proxy = delay_proxy(sshd.port, 0)
    output_checker.register(r'SFTP connection re-established after', 1)  # the cause may say "error"
    m = proxied_mount(sshd, tmp_mnt, proxy, ['-o', 'cache=no'], output=output_checker)
    with m:
        for i in range(16):
            m.src_write('f%d' % i, b'x' * i)
        os.listdir(m.mnt)
        proxy.down()
        wait_state(m, ('reconnecting',), 10)
        results = [None] * 16

        def stat(i):
            try:
                results[i] = os.stat(m.m('f%d' % i)).st_size
            except OSError as e:
                results[i] = ('err', e.errno)
        threads = [threading.Thread(target=stat, args=(i,), daemon=True) for i in range(16)]
        for t in threads:
            t.start()
        time.sleep(2)
        assert all(t.is_alive() for t in threads), results
        st, rc = status(m)
        assert rc == 3 and st['state'] == 'reconnecting' and st['reconnects'] == 0, st
        proxy.up()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads)
        assert results == list(range(16))
        st, rc = status(m)
        assert rc == 0 and st['reconnects'] == 1, st
        lines = [ln for ln in output_checker.text().splitlines() if 're-established' in ln]
        assert len(lines) == 1, lines
        assert re.search(r'after \d+\.\d s \(lost: .+\)', lines[0]), lines


# ------------------------------------------------------------------ refused

def _auth_attempts(srv):
    return srv.log().count('Connection closed by authenticating user smtest') + \
        srv.log().count('Failed publickey for smtest')


def test_login_refused_during_outage(make_sshd, tmp_mnt, delay_proxy):
    """The key is removed from authorized_keys during the outage: a bounded
    number of logins is tried (no lockout), then operations fail with EIO
    at once; nothing hangs; status says failed."""
    srv = make_sshd()
    proxy = delay_proxy(srv.port, 0)
    m = proxied_mount(srv, tmp_mnt, proxy, ['-o', 'cache=no'])
    with m:
        m.src_write('f', b'x')
        assert os.listdir(m.mnt) == ['f']
        proxy.down()
        ak = os.path.join(srv.tmp, 'authorized_keys', 'smtest')
        open(ak, 'w').close()
        before = _auth_attempts(srv)
        proxy.up()
        _, err, took = timed(lambda: os.stat(m.m('f')), 60)
        assert took is not None, 'stat hangs after the login was refused'
        assert err == errno.EIO
        st = wait_state(m, ('failed',), 30)
        assert st['state'] == 'failed', st
        attempts = _auth_attempts(srv) - before
        print('login refused: %d login attempts, then EIO' % attempts)
        time.sleep(3)
        assert _auth_attempts(srv) - before == attempts, 'it goes on trying to log in'
        assert 1 <= attempts <= 3, attempts
        _, err, took = timed(lambda: os.listdir(m.mnt), 10)
        assert err == errno.EIO and took < 5


def test_host_key_changed_during_outage(make_sshd, tmp_mnt, output_checker):
    """The server comes back with another host key: no reconnection, the
    mount fails with EIO, and the log names both keys."""
    srv = make_sshd()
    output_checker.register(r'host key')
    output_checker.register(r'SHA256:')
    with FsMount(srv, tmp_mnt, opts=KEEPALIVE + ['-o', 'cache=no'],
                 output=output_checker) as m:
        m.src_write('f', b'x')
        assert os.listdir(m.mnt) == ['f']
        old = util.run([util.SSH_KEYGEN, '-l', '-f', srv.host_key + '.pub'],
                       timeout=30).stdout.split()[1]
        restart_sshd(srv, new_host_key=True)
        new = util.run([util.SSH_KEYGEN, '-l', '-f', srv.host_key + '.pub'],
                       timeout=30).stdout.split()[1]
        _, err, took = timed(lambda: os.stat(m.m('f')), 60)
        assert took is not None and err == errno.EIO, (err, took)
        st = wait_state(m, ('failed',), 30)
        assert st['state'] == 'failed', st
        text = output_checker.text()
        assert old in text and new in text, text


def test_reconnect_timeout_expiry(sshd, tmp_mnt, delay_proxy):
    """reconnect_timeout=3: operations wait about 3 s for the link, then
    fail with EIO (and later ones at once); reconnection goes on behind,
    and the mount works again once the host is back."""
    proxy = delay_proxy(sshd.port, 0)
    m = proxied_mount(sshd, tmp_mnt, proxy, ['-o', 'cache=no,reconnect_timeout=3'])
    with m:
        m.src_write('f', b'x')
        os.listdir(m.mnt)
        t0 = time.monotonic()
        proxy.down()
        _, err, took = timed(lambda: os.stat(m.m('f')), 30)
        assert err == errno.EIO and took is not None, (err, took)
        assert time.monotonic() - t0 < 3 + 5, 'EIO came after %.1f s' % (time.monotonic() - t0)
        assert time.monotonic() - t0 >= 2.5, 'EIO came before the timeout'
        print('reconnect_timeout=3: EIO after %.1f s' % (time.monotonic() - t0))
        st, rc = status(m)
        assert rc == 3 and st['state'] == 'down', st
        _, err, took = timed(lambda: os.listdir(m.mnt), 10)
        assert err == errno.EIO and took < 1
        proxy.up()
        names, err, took = timed(lambda: os.listdir(m.mnt), 30)
        deadline = time.monotonic() + 20
        while err is not None and time.monotonic() < deadline:
            time.sleep(0.5)
            names, err, took = timed(lambda: os.listdir(m.mnt), 30)
        assert err is None and names == ['f']
        assert wait_state(m, ('connected',), 5)['state'] == 'connected'


def test_reconnect_timeout_zero_fails_at_once(sshd, tmp_mnt, delay_proxy, output_checker):
    """reconnect_timeout=0: nothing waits for a lost link (EIO at once, as
    without reconnection), but reconnection still goes on behind and the
    mount works again once the host is back."""
    proxy = delay_proxy(sshd.port, 0)
    output_checker.register(r'SFTP connection re-established', 0)
    m = proxied_mount(sshd, tmp_mnt, proxy, ['-o', 'cache=no,reconnect_timeout=0'],
                      output=output_checker)
    with m:
        m.src_write('f', b'x')
        os.listdir(m.mnt)
        # the daemon's own probe of the new mount (and its status socket,
        # started after it) must be done before the link goes: with
        # reconnect_timeout=0 a probe that meets the outage fails the mount
        tool = [util.bin_path('sshmountfs-tool'), 'status', m.mnt]
        assert wait_until(lambda: util.run(tool, timeout=10).returncode == 0, timeout=10)
        proxy.down()
        _, err, took = timed(lambda: os.stat(m.m('f')), 30)
        assert err == errno.EIO and took is not None and took < 2, (err, took)
        _, err, took = timed(lambda: os.listdir(m.mnt), 10)
        assert err == errno.EIO and took is not None and took < 1, (err, took)
        assert status(m)[1] == 3
        proxy.up()
        deadline = time.monotonic() + 30
        names, err, _ = timed(lambda: os.listdir(m.mnt), 30)
        while err is not None and time.monotonic() < deadline:
            time.sleep(0.5)
            names, err, _ = timed(lambda: os.listdir(m.mnt), 30)
        assert err is None and names == ['f']
        assert status(m)[0]['reconnects'] >= 1


# ------------------------------------------------------------------ unmount

@pytest.mark.parametrize('outage', ['down', 'stall'])
@pytest.mark.parametrize('how', ['fusermount', 'sigterm', 'sigterm-busy'])
def test_unmount_during_outage(sshd, tmp_mnt, delay_proxy, outage, how):
    """During an outage fusermount3 -u and SIGTERM both end the mount
    promptly and the daemon exits 0; SIGTERM also while a program waits in
    the mount for the link (sigterm-busy: the waiting operation fails).
    (fusermount3 -u with a program inside the mount is EBUSY on any file
    system.)"""
    proxy = delay_proxy(sshd.port, 0)
    # With fusermount3 the listing that finds a stall must end first (a short
    # reconnect_timeout); SIGTERM runs with the default 60 s, which it must
    # not wait for.
    m = proxied_mount(sshd, tmp_mnt, proxy, ['-o', 'cache=no'] + (
        ['-o', 'reconnect_timeout=5'] if how == 'fusermount' else []))
    m.start()
    try:
        os.listdir(m.mnt)
        getattr(proxy, outage)()
        box = {}
        waiter = None
        if how == 'sigterm-busy' or outage == 'stall':
            # a stalled link is only found dead with a request waiting
            waiter = threading.Thread(
                target=lambda: box.update(r=timed(lambda: os.listdir(m.mnt), 60)),
                daemon=True)
            waiter.start()
        wait_state(m, ('reconnecting',), 15)
        if how == 'fusermount' and waiter is not None:
            waiter.join(30)
            assert not waiter.is_alive()
            assert box['r'][1] == errno.EIO, box
        t0 = time.monotonic()
        if how == 'fusermount':
            res = util.run([util.FUSERMOUNT, '-u', m.mnt], timeout=30)
            assert res.returncode == 0, res.stderr
        else:
            m.proc.send_signal(signal.SIGTERM)
        code = m.proc.wait(15)
        took = time.monotonic() - t0
        assert code == 0
        assert took < 5, 'the daemon took %.1f s to exit' % took
        assert not util.is_mounted(m.mnt)
        if waiter is not None:
            waiter.join(10)
            assert not waiter.is_alive()
            assert box['r'][1] is not None, box
    finally:
        m.cleanup()
        if outage == 'stall':
            proxy.resume()
