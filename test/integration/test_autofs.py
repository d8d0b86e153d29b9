"""On-demand mounts by a real automount daemon (Debian's autofs).

automount runs in its own session with a temporary master map (nothing of
/etc/auto.master); the kernel sends it this test's lookups. Map entries in
each form a user may write:
  -fstype=sshmountfs,...        :user@host\\:/path     (mount.sshmountfs)
  -fstype=fuse.sshmountfs,...   :user@host\\:/path     (mount.fuse.sshmountfs)
  -fstype=fuse,...              :sshmountfs\\#user@host\\:/path  (mount.fuse3 -> sshmountfs
                                                        in the shell's default PATH)
First access mounts, expiry unmounts and the daemon exits; a failing entry
fails promptly and automount keeps serving.

Only one automount can run on a machine ("program is already running"), so
the tests hold a machine-wide lock, and refuse to run beside a system one.
"""

import os
import signal
import subprocess
import tempfile
import time

import pytest

import util
from conftest import fuse_test_marker, stop_all

pytestmark = [fuse_test_marker(), pytest.mark.require_root]
if os.geteuid() == 0:
    # probed, never configured: the tests run wherever the kernel has autofs
    _no_autofs = util.autofs_available()
    pytestmark.append(pytest.mark.skipif(_no_autofs is not None, reason=_no_autofs or ''))

AUTOMOUNT = '/usr/sbin/automount'
EXPIRE = 3  # seconds of idleness before automount unmounts

FORMS = {
    'type': '-fstype=sshmountfs,{opts} :{user}@127.0.0.1\\:{path}',
    'subtype': '-fstype=fuse.sshmountfs,{opts} :{user}@127.0.0.1\\:{path}',
    'legacy': '-fstype=fuse,{opts} :sshmountfs\\#{user}@127.0.0.1\\:{path}',
}


def automount_pids():
    pids = []
    for pid in util._all_pids():
        try:
            if open('/proc/%d/comm' % pid).read().strip() == 'automount' and util.pid_alive(pid):
                pids.append(pid)
        except OSError:
            pass
    return pids


class Automount:
    def __init__(self, entries):
        self.lock = util.MachineLock('automount')
        self.proc = None
        self.base = tempfile.mkdtemp(prefix='smauto-', dir='/tmp')
        self.top = os.path.join(self.base, 'mnt')
        try:
            self._start(entries)
        except BaseException:
            self.stop()
            raise

    def _start(self, entries):
        others = automount_pids()
        if others:
            raise AssertionError('another automount (pid %s) is running on this machine; '
                                 'stop it to run these tests' % others)
        mapfile = os.path.join(self.base, 'auto.sm')
        with open(mapfile, 'w') as f:
            for key, line in entries.items():
                f.write('%s %s\n' % (key, line))
        master = os.path.join(self.base, 'auto.master')
        with open(master, 'w') as f:
            f.write('%s %s --timeout=%d\n' % (self.top, mapfile, EXPIRE))
        self.logfile = os.path.join(self.base, 'automount.log')
        # as under systemd: no HOME (mount(8) drops PATH for its helpers anyway)
        env = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin'}
        self.proc = subprocess.Popen(
            [AUTOMOUNT, '-f', '-d', '-t', str(EXPIRE), '-p', os.path.join(self.base, 'pid'),
             master], env=env, stdin=subprocess.DEVNULL,
            stdout=open(self.logfile, 'w'), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if util.mount_entry(self.top) and util.mount_entry(self.top)[0] == 'autofs':
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError('automount did not start:\n' + self.log())

    def path(self, key):
        return os.path.join(self.top, key)

    def log(self):
        try:
            return open(self.logfile, errors='replace').read()
        except (OSError, AttributeError):
            return ''

    def stop(self):
        problems = []
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                problems.append('automount ignored SIGTERM for 30 s')
                self.proc.kill()
                self.proc.wait(10)
        problems += util.leftover_mounts([self.base])
        import shutil
        shutil.rmtree(self.base, ignore_errors=True)
        self.lock.release()
        return problems


@pytest.fixture
def automount(installed_helper):
    started = []

    def start(entries):
        started.append(Automount(entries))
        return started[-1]
    yield start
    stop_all(started, 'automount')


def entry(form, sshd, path, known_hosts=None):
    return FORMS[form].format(opts=sshd.mount_opts(known_hosts), user='smtest', path=path)


def remote_with_file(sshd):
    return sshd.remote_dir('smtest', files={'hello': 'hello\n'})


# Under an autofs mount, looking a name up (stat, realpath, ismount) is what
# triggers a mount: after the first access, these tests only read mountinfo.

def mounted(path):
    return util.mount_entry(path, resolve=False)


def daemons(path):
    return util.fuse_daemon_pids(path, resolve=False)


def wait_unmounted(path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mounted(path) is None:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize('form', sorted(FORMS))
def test_access_mounts_and_expiry_unmounts(sshd, automount, installed_helper, form):
    d = remote_with_file(sshd)
    am = automount({'e': entry(form, sshd, d)})
    t = time.monotonic()
    assert os.listdir(am.path('e')) == ['hello'], am.log()
    assert time.monotonic() - t < 20
    fstype, src = mounted(am.path('e'))
    assert fstype == 'fuse.' + installed_helper.fs_name
    assert src == 'smtest@127.0.0.1:' + d
    assert open(os.path.join(am.path('e'), 'hello')).read() == 'hello\n'
    pids = daemons(am.path('e'))
    assert len(pids) == 1, pids
    # idle: automount unmounts it, and the file system process is gone
    assert wait_unmounted(am.path('e'), EXPIRE * 10), am.log()
    assert util.wait_pids_gone(pids, 15), 'daemon outlived the expiry'
    # automount logs the expiry after its umount child returns: the unmount
    # can be seen before the line is written, so wait for it (bounded)
    deadline = time.monotonic() + 10
    while 'expired %s' % am.path('e') not in am.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert 'expired %s' % am.path('e') in am.log()


def test_failing_entry_fails_promptly(sshd, automount, tmp_path):
    d = remote_with_file(sshd)
    empty = tmp_path / 'known_hosts'
    empty.write_text('')
    am = automount({'bad': entry('type', sshd, d, str(empty)),
                    'good': entry('type', sshd, d)})
    t = time.monotonic()
    with pytest.raises(OSError):
        os.listdir(am.path('bad'))
    assert time.monotonic() - t < 20, 'the failing mount held automount for long'
    assert mounted(am.path('bad')) is None
    assert daemons(am.path('bad')) == []
    # automount is not stuck: the next lookup is served
    assert os.listdir(am.path('good')) == ['hello'], am.log()
    assert wait_unmounted(am.path('good'), EXPIRE * 10), am.log()


def test_two_entries_two_daemons(sshd, automount):
    d1, d2 = remote_with_file(sshd), remote_with_file(sshd)
    am = automount({'one': entry('type', sshd, d1), 'two': entry('legacy', sshd, d2)})
    assert os.listdir(am.path('one')) == ['hello']
    assert os.listdir(am.path('two')) == ['hello']
    p1, p2 = daemons(am.path('one')), daemons(am.path('two'))
    assert len(p1) == 1 and len(p2) == 1 and p1 != p2
    assert wait_unmounted(am.path('one'), EXPIRE * 10), am.log()
    assert wait_unmounted(am.path('two'), EXPIRE * 10), am.log()
    assert util.wait_pids_gone(p1 + p2, 15)
