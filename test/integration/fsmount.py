"""Mounting sshmountfs for the test_fs_*.py files.

FsMount runs the built sshmountfs against the fixture's sshd: in the
foreground (-f, so the exit status after unmount is observable) or
daemonized (the way users and mount(8) run it). The remote side ("src") is
a fresh directory owned by the remote user on this same machine, so tests
check what arrived on the server by looking at src directly.

Everything is bounded in time (util.run / util.wait_for_mount / util.umount).
"""

import os
import pwd
import subprocess
import threading
import time

import util


def ids(user):
    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid


class FsMount:
    def __init__(self, sshd, mnt, user='smtest', opts=(), src=None, foreground=True,
                 output=None, remote_path=None):
        self.sshd = sshd
        self.mnt = mnt
        self.user = user
        self.src = src or sshd.remote_dir(user)
        self.remote_path = self.src if remote_path is None else remote_path
        self.opts = list(opts)
        self.foreground = foreground
        self.output = output
        self.proc = None
        self.uid, self.gid = ids(user)

    # -- command line
    def argv(self, extra=()):
        return ([util.bin_path('sshmountfs'), self.sshd.spec(self.user, self.remote_path),
                 self.mnt] + self.sshd.ssh_opts() + self.opts + list(extra))

    # -- lifecycle
    def start(self):
        if self.foreground:
            out = self.output.file() if self.output else subprocess.DEVNULL
            self.proc = subprocess.Popen(self.argv(['-f']), stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=out, env=self.sshd.env(),
                                         start_new_session=True)
            util.wait_for_mount(self.proc, self.mnt)
        else:
            res = util.run(self.argv(), timeout=60, env=self.sshd.env())
            assert res.returncode == 0, 'mount failed (%d): %s' % (res.returncode, res.stderr)
            assert res.stdout == '' and res.stderr == '', (res.stdout, res.stderr)
            assert os.path.ismount(self.mnt)
        return self

    def stop(self):
        util.umount(self.proc if self.foreground else None, self.mnt)
        self.proc = None

    def cleanup(self):
        if os.path.ismount(self.mnt) or (self.proc and self.proc.poll() is None):
            util.cleanup(self.proc if self.foreground else None, self.mnt)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, typ, val, tb):
        if typ is None:
            try:
                self.stop()
            except BaseException:
                self.cleanup()
                raise
        else:
            self.cleanup()

    # -- paths and the remote side
    def m(self, *parts):
        return os.path.join(self.mnt, *parts)

    def s(self, *parts):
        return os.path.join(self.src, *parts)

    def own(self, path):
        """Give a path made on the remote side to the remote user."""
        os.lchown(path, self.uid, self.gid)

    def src_write(self, name, data=b'', mode=0o644):
        p = self.s(name)
        with open(p, 'wb') as f:
            f.write(data)
        os.chmod(p, mode)
        self.own(p)
        return p

    def src_mkdir(self, name, mode=0o755):
        p = self.s(name)
        os.mkdir(p, mode)
        os.chmod(p, mode)
        self.own(p)
        return p


class ProxiedSshd:
    """The fixture's sshd as seen through a proxy port (a DelayProxy's):
    assign to FsMount.sshd so that the mount goes through the proxy."""

    def __init__(self, sshd, port):
        self._s = sshd
        self.port = port

    def __getattr__(self, name):
        return getattr(self._s, name)

    def ssh_opts(self):
        o = self._s.ssh_opts()
        o[1] = str(self.port)
        return o


def module_mount(sshd, prefix, **kw):
    """A generator for module-scoped fixtures: a started FsMount (kw as
    FsMount's) on a mount point of its own, stopped and removed after."""
    import tempfile
    mnt = tempfile.mkdtemp(prefix=prefix, dir='/tmp')
    fm = FsMount(sshd, mnt, **kw)
    try:
        fm.start()
    except BaseException:
        fm.cleanup()
        os.rmdir(mnt)
        raise
    yield fm
    try:
        fm.stop()
    finally:
        fm.cleanup()
        os.rmdir(mnt)


def listing_in_background(path):
    """Starts os.listdir(path) in a daemon thread (an operation that may
    wait on the link); returns (thread, box), box gets 'names' or 'err'
    (the errno)."""
    box = {}

    def listing():
        try:
            box['names'] = os.listdir(path)
        except OSError as e:
            box['err'] = e.errno
    t = threading.Thread(target=listing, daemon=True)
    t.start()
    return t, box


def wait_until(pred, timeout=10, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def name_gen():
    name_gen.n += 1
    return 'f%d-%d' % (os.getpid(), name_gen.n)


name_gen.n = 0

TEST_DATA = bytes(range(256)) * 64 + b'tail of the test data\n'
