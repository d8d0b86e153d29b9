"""Reconnection on real mounts, the session side (issue 12): a link cut
through the delay proxy heals by itself, once; a server whose host key
changed meanwhile is refused; a login refused meanwhile stops after a few
attempts. Every refusal ends in EIO within a bound, never a hang. (The
big reconnection tests are in test_fs_reconnect.py.)
"""

import errno
import os
import re
import signal
import threading
import time

import util
from conftest import fuse_test_marker
from fsmount import FsMount, ProxiedSshd, listing_in_background, wait_until

pytestmark = fuse_test_marker()

KEEPALIVE = ['-o', 'ServerAliveInterval=1', '-o', 'ServerAliveCountMax=2', '-o', 'cache=no']
BACK = 'SFTP connection re-established'


def timed(fn, limit):
    """Runs fn in a thread: (result or None, errno or None, seconds). Fails
    when fn has not returned within limit (a hang)."""
    box = {}

    def run():
        t0 = time.monotonic()
        try:
            box['res'] = fn()
        except OSError as e:
            box['err'] = e.errno
        box['t'] = time.monotonic() - t0
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(limit)
    assert not t.is_alive(), 'operation hung for more than %ss' % limit
    return box.get('res'), box.get('err'), box['t']


def connections_since(srv, mark):
    """sshd's 'Connection from' lines after the first mark characters of its log."""
    return len(re.findall(r'Connection from 127\.0\.0\.1', srv.log()[mark:]))


def test_cut_link_heals(sshd, tmp_mnt, delay_proxy, output_checker):
    """RST on an idle mount: ls, stat and cat work again within a few
    seconds, through one reconnection, logged once; writes after it reach
    the server."""
    proxy = delay_proxy(sshd.port, 0)
    sshd.add_known_port(proxy.port)
    output_checker.register(BACK, 1)
    m = FsMount(sshd, tmp_mnt, opts=KEEPALIVE, output=output_checker)
    m.sshd = ProxiedSshd(sshd, proxy.port)
    with m:
        m.src_write('f', b'before the cut')
        assert os.listdir(m.m()) == ['f']
        mark = len(sshd.log())
        proxy.cut()
        names, err, took = timed(lambda: os.listdir(m.m()), 20)
        assert err is None and names == ['f'] and took < 5, (names, err, took)
        st, err, _ = timed(lambda: os.stat(m.m('f')), 10)
        assert err is None and st.st_size == len(b'before the cut')
        data, err, _ = timed(lambda: open(m.m('f'), 'rb').read(), 10)
        assert err is None and data == b'before the cut'
        with open(m.m('g'), 'wb') as f:
            f.write(b'after the cut')
        assert open(m.s('g'), 'rb').read() == b'after the cut'
        assert connections_since(sshd, mark) == 1
        assert output_checker.text().count(BACK) == 1
    assert 'lost: ' in output_checker.text()


def _restart_with_new_host_key(srv):
    """The same sshd (port, users, keys) with a new host key, as after a
    reinstall of the server."""
    sessions = srv.session_pids()
    srv._stop_proc()  # first: a redial must not find the old server
    for p in sessions:
        util._kill_quiet(p, signal.SIGKILL)
    util.wait_pids_gone(sessions, 10)
    os.unlink(srv.host_key)
    os.unlink(srv.host_key + '.pub')
    util.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'other-host', '-f',
              srv.host_key], timeout=30, check=True)
    assert srv._launch(), 'sshd did not come back'


def _fingerprint(pubfile):
    out = util.run(['ssh-keygen', '-l', '-f', pubfile], timeout=30, check=True).stdout
    return out.split()[1]


def test_host_key_changed_is_refused(make_sshd, tmp_mnt, output_checker):
    """The server comes back with another host key: not one login is tried
    with it; operations fail with EIO, promptly; the log names both keys."""
    srv = make_sshd()
    old = _fingerprint(srv.host_key + '.pub')
    output_checker.register(r'host key is not the one verified at mount time', 1)
    with FsMount(srv, tmp_mnt, opts=KEEPALIVE, output=output_checker) as m:
        m.src_write('f', b'x')
        assert os.listdir(m.m()) == ['f']
        _restart_with_new_host_key(srv)
        new = _fingerprint(srv.host_key + '.pub')
        mark = len(srv.log())
        # the mount must notice the dead link, find the new key and give up
        _, err, took = timed(lambda: os.listdir(m.m()), 30)
        assert err == errno.EIO, err
        _, err, took = timed(lambda: os.stat(m.m('f')), 5)
        assert err == errno.EIO and took < 2
        # no authentication against the other key
        assert 'Accepted publickey' not in srv.log()[mark:]
        assert 'Failed publickey' not in srv.log()[mark:]
    text = output_checker.text()
    assert old in text and new in text, text


def test_login_refused_stops(make_sshd, tmp_mnt, output_checker):
    """authorized_keys emptied while the link is down: three refused logins
    in a row (no lockout), then EIO at once, and no more attempts."""
    srv = make_sshd()
    output_checker.register(r'SFTP connection lost for good', 1)
    with FsMount(srv, tmp_mnt, opts=KEEPALIVE, output=output_checker) as m:
        m.src_write('f', b'x')
        assert os.listdir(m.m()) == ['f']
        ak = os.path.join(srv.tmp, 'authorized_keys', 'smtest')
        keep = open(ak).read()
        open(ak, 'w').close()
        mark = len(srv.log())
        srv.kill_sessions()
        _, err, took = timed(lambda: os.listdir(m.m()), 30)
        assert err == errno.EIO and took < 15, (err, took)
        n = connections_since(srv, mark)
        assert n == 3, srv.log()[mark:]
        with open(ak, 'w') as f:
            f.write(keep)
        time.sleep(3)
        _, err, took = timed(lambda: os.stat(m.m('f')), 5)
        assert err == errno.EIO and took < 2
        assert connections_since(srv, mark) == 3
    assert 'refused logins' in output_checker.text()


def test_ssh_command_reruns(sshd, tmp_mnt, output_checker):
    """ssh_command=: the server's side of the session dies; the command is
    run again and the mount carries on, once."""
    output_checker.register(BACK, 1)
    m = FsMount(sshd, tmp_mnt, output=output_checker, opts=KEEPALIVE + [
        '-o', 'ssh_command=%s -F %s -o BatchMode=yes' % (util.SSH, sshd.client_config)])
    with m:
        m.src_write('f', b'one')
        assert os.listdir(m.m()) == ['f']
        sshd.kill_sessions()
        names, err, took = timed(lambda: os.listdir(m.m()), 20)
        assert err is None and names == ['f'] and took < 10, (names, err, took)
        with open(m.m('g'), 'wb') as f:
            f.write(b'two')
        assert open(m.s('g'), 'rb').read() == b'two'
        assert output_checker.text().count(BACK) == 1


def test_password_stdin_kept(sshd, tmp_mnt):
    """password_stdin: the password read once at mount time logs in again
    after the link died (kept in locked memory), with max_conns=2 too."""
    src = sshd.remote_dir('smtest')
    argv = [util.bin_path('sshmountfs'), sshd.spec('smtest', src), tmp_mnt,
            '-p', str(sshd.port), '-F', sshd.client_config,
            '-o', 'UserKnownHostsFile=' + sshd.known_hosts, '-o', 'max_conns=2',
            '-o', 'PubkeyAuthentication=no', '-o', 'password_stdin'] + KEEPALIVE
    res = util.run(argv, timeout=60, env=sshd.env(), input=util.TEST_PASSWORD + '\n')
    assert res.returncode == 0, res.stderr
    try:
        with open(os.path.join(src, 'f'), 'wb') as f:
            f.write(b'kept')
        mark = len(sshd.log())
        sshd.kill_sessions()
        names, err, took = timed(lambda: os.listdir(tmp_mnt), 20)
        assert err is None and names == ['f'] and took < 10, (names, err, took)
        data, err, _ = timed(lambda: open(os.path.join(tmp_mnt, 'f'), 'rb').read(), 10)
        assert err is None and data == b'kept'
        assert 'Accepted password for smtest' in sshd.log()[mark:]
    finally:
        util.umount(None, tmp_mnt)


def test_passphrase_fd_kept(make_sshd, tmp_mnt, tmp_path):
    """passphrase_fd: the pipe is read once at mount time; the passphrase
    is kept and unlocks the key again for the login after the link died."""
    srv = make_sshd()
    key = str(tmp_path / 'locked')
    util.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', 'a passphrase', '-f', key],
             timeout=30, check=True)
    with open(os.path.join(srv.tmp, 'authorized_keys', 'smtest'), 'w') as f:
        f.write(open(key + '.pub').read())	# only the locked key logs in
    src = srv.remote_dir('smtest')
    r, w = os.pipe()
    os.write(w, b'a passphrase\n')
    os.close(w)
    argv = [util.bin_path('sshmountfs'), srv.spec('smtest', src), tmp_mnt,
            '-p', str(srv.port), '-F', srv.client_config, '-o', 'IdentityFile=' + key,
            '-o', 'UserKnownHostsFile=' + srv.known_hosts,
            '-o', 'passphrase_fd=%d' % r] + KEEPALIVE
    try:
        res = util.run(argv, timeout=60, env=srv.env(), pass_fds=(r,))
    finally:
        os.close(r)
    assert res.returncode == 0, res.stderr
    try:
        with open(os.path.join(src, 'f'), 'wb') as f:
            f.write(b'locked')
        mark = len(srv.log())
        srv.kill_sessions()
        names, err, took = timed(lambda: os.listdir(tmp_mnt), 20)
        assert err is None and names == ['f'] and took < 10, (names, err, took)
        assert 'Accepted publickey for smtest' in srv.log()[mark:]
    finally:
        util.umount(None, tmp_mnt)


def sigterm_ends_wait(m, t, box, bound):
    """SIGTERM to the daemon while thread t (a listing_in_background) waits
    in the mount: the daemon exits cleanly within 'bound' seconds and the
    waiting program gets an error."""
    t0 = time.monotonic()
    os.kill(m.proc.pid, signal.SIGTERM)
    code = m.proc.wait(timeout=40)
    took = time.monotonic() - t0
    assert took < bound, 'the daemon took %.1f s to exit' % took
    assert code == 0
    t.join(10)
    assert not t.is_alive() and 'err' in box, box


def test_sigterm_during_outage_is_prompt(make_sshd, tmp_mnt, output_checker):
    """SIGTERM while the server is gone and a program waits in the mount:
    the daemon stops waiting for the link and exits at once (before, it
    took until reconnect_timeout, here 30 s), the program gets an error."""
    srv = make_sshd()
    output_checker.register(r'SFTP connection lost for good', 0)
    m = FsMount(srv, tmp_mnt, opts=KEEPALIVE + ['-o', 'reconnect_timeout=30'],
                output=output_checker)
    m.start()
    try:
        m.src_write('f', b'x')
        assert os.listdir(m.m()) == ['f']
        sessions = srv.session_pids()
        srv._stop_proc()  # redials are refused from now on
        for p in sessions:
            util._kill_quiet(p, signal.SIGKILL)
        util.wait_pids_gone(sessions, 10)
        t, box = listing_in_background(m.m())
        time.sleep(1.5)
        assert t.is_alive(), 'the listing did not wait for the link: %r' % box
        sigterm_ends_wait(m, t, box, 5)
    finally:
        m.cleanup()


def test_sigterm_while_redial_hangs(sshd, tmp_mnt, delay_proxy, output_checker):
    """The link stalls (no FIN, no RST), keepalive gives it up, and the
    redial hangs in the stalled network waiting for sshd's banner: SIGTERM
    still ends the daemon within a few seconds, cleanly (fxc_free abandons
    the redial after about 2 s), and the waiting program gets an error."""
    proxy = delay_proxy(sshd.port, 0)
    sshd.add_known_port(proxy.port)
    output_checker.register(r'reconnection attempt is still under way', 0)
    output_checker.register(r'SFTP connection lost for good', 0)
    m = FsMount(sshd, tmp_mnt, opts=KEEPALIVE + ['-o', 'ConnectTimeout=20'],
                output=output_checker)
    m.sshd = ProxiedSshd(sshd, proxy.port)
    m.start()
    try:
        m.src_write('f', b'x')
        assert os.listdir(m.m()) == ['f']
        proxy.stall()
        t, box = listing_in_background(m.m())
        # keepalive (1 s x 2) gives the link up; the redial then waits
        assert wait_until(lambda: proxy.stats()['connections'] >= 2, timeout=10)
        time.sleep(0.5)
        assert t.is_alive(), box
        sigterm_ends_wait(m, t, box, 6)
    finally:
        proxy.resume()
        m.cleanup()


def test_ssh_command_stall_heals(sshd, tmp_mnt, delay_proxy, output_checker):
    """ssh_command= through a link that stalls while idle: keepalive (SFTP
    probes: there is no sshd to ask) gives the link up, the command runs
    again once the network is back, and the mount works, after one
    reconnection. (The probe lost with the link is covered in test_fxc.c.)"""
    proxy = delay_proxy(sshd.port, 0)
    sshd.add_known_port(proxy.port)
    output_checker.register(BACK, 1)
    m = FsMount(sshd, tmp_mnt, output=output_checker, opts=KEEPALIVE + [
        '-o', 'ssh_command=%s -F %s -o BatchMode=yes' % (util.SSH, sshd.client_config)])
    m.sshd = ProxiedSshd(sshd, proxy.port)
    with m:
        m.src_write('f', b'one')
        assert os.listdir(m.m()) == ['f']
        proxy.stall()
        # idle: a probe goes out, stays unanswered, and the link is given
        # up with only that probe outstanding
        time.sleep(4)
        proxy.cut()
        proxy.resume()
        names, err, took = timed(lambda: os.listdir(m.m()), 20)
        assert err is None and names == ['f'], (names, err, took)
        assert output_checker.text().count(BACK) == 1
