"""A bounded multi-threaded torture run against an exact in-memory model
(issue 10): threads create, pwrite at random offsets, append, truncate,
rename over files other descriptors hold, unlink held files, and read back
through held descriptors and fresh opens; at the end the server's copy of
every file (the sshd's directory on this machine) must equal the model.

The model is exact by construction, whatever the interleaving: each thread
owns its own names, so its operations and its model run in one order; the
names shared between threads are only touched under one lock that covers
the operation and its model update together. A file's contents live in a
File object: a name maps to one, and a held descriptor keeps its File after
the name is renamed over or unlinked, as the kernel keeps the inode.

The seed is printed with every failure; TORTURE_SEED=N reruns its
operations (TORTURE_THREADS=1 makes the order of all of them fixed), and
TORTURE_TRACE=FILE writes every operation to FILE.
"""

import os
import random
import threading
import time

import pytest

from conftest import fuse_test_marker
from fsmount import module_mount

pytestmark = fuse_test_marker()

THREADS = int(os.environ.get('TORTURE_THREADS', 16))
NAMES_PER_THREAD = 4
SHARED_NAMES = 4
MAX_HELD = 4
MAX_SIZE = 1 << 20
TRACE = open(os.environ['TORTURE_TRACE'], 'w') if os.environ.get('TORTURE_TRACE') else None
VARIANTS = {
    # name: (mount options, seconds of operations)
    'default': ([], 16),
    'nocache': (['-o', 'cache=no'], 8),
}


@pytest.fixture(scope='module', params=sorted(VARIANTS))
def m(request, sshd):
    for fm in module_mount(sshd, 'smtorture-', user='smtest', opts=VARIANTS[request.param][0]):
        fm.variant = request.param
        yield fm


class File:
    """The contents of one file (an inode), whatever names it had."""

    def __init__(self, data=b''):
        self.data = bytearray(data)

    def pwrite(self, off, buf):
        if off > len(self.data):
            self.data.extend(bytes(off - len(self.data)))
        self.data[off:off + len(buf)] = buf

    def truncate(self, n):
        if n < len(self.data):
            del self.data[n:]
        else:
            self.data.extend(bytes(n - len(self.data)))


class Run:
    def __init__(self, m, seed, seconds):
        self.m = m
        self.seed = seed
        self.deadline = time.monotonic() + seconds
        self.top = 'torture-%d' % seed
        os.mkdir(m.m(self.top))
        self.names = {}          # relative name -> File, for every existing name
        self.shared_lock = threading.Lock()
        self.fail_lock = threading.Lock()
        self.failures = []
        self.ops = 0

    def mp(self, name):
        return self.m.m(self.top, name)

    def sp(self, name):
        return self.m.s(self.top, name)

    def fail(self, what):
        with self.fail_lock:
            self.failures.append(what)


class Worker:
    def __init__(self, run, i):
        self.run = run
        self.i = i
        self.rng = random.Random(run.seed * 1000 + i)
        self.own = ['t%02d-%d' % (i, k) for k in range(NAMES_PER_THREAD)]
        self.held = []           # (fd, File, append)
        self.log = []            # the last operations, for the failure report
        self.ops = 0

    # -- helpers
    def note(self, s):
        if TRACE:
            TRACE.write('%d %s\n' % (self.i, s))
        self.log.append(s)
        del self.log[:-20]

    def check(self, ok, what):
        if not ok:
            self.run.fail('thread %d: %s (after: %s)' % (self.i, what, '; '.join(self.log)))
        return ok

    def data(self, n):
        # Cheap and recognisable: a running counter per op, repeated.
        tag = b'<%d.%d>' % (self.i, self.ops)
        return (tag * (n // len(tag) + 1))[:n]

    def size(self):
        r = self.rng.random()
        if r < 0.5:
            return self.rng.randint(1, 4096)
        if r < 0.9:
            return self.rng.randint(4096, 256 << 10)
        return self.rng.randint(1 << 20, 3 << 20)     # past the striping threshold

    def read_all(self, fd, want_len):
        out = bytearray()
        while True:
            b = os.pread(fd, max(want_len - len(out), 0) + 65536, len(out))
            if not b:
                return bytes(out)
            out += b

    def hold(self, fd, f, append=False):
        if len(self.held) >= MAX_HELD:
            self.close_one()
        self.held.append((fd, f, append))

    def close_one(self):
        fd, _, _ = self.held.pop(self.rng.randrange(len(self.held)))
        os.close(fd)

    def names(self):
        return self.run.names

    # -- operations on this thread's own names
    def op_create(self, name):
        # O_TRUNC of an existing name empties that same file: descriptors
        # held on it see the new contents.
        f = self.names().get(name) or File()
        buf = self.data(self.size())
        fd = os.open(self.run.mp(name), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        f.truncate(0)
        os.write(fd, buf)
        f.pwrite(0, buf)
        self.names()[name] = f
        keep = self.rng.random() < 0.7
        self.note('create %s %d%s' % (name, len(f.data), ' held fd %d' % fd if keep else ''))
        if keep:
            self.hold(fd, f)
        else:
            os.close(fd)

    def op_pwrite(self, name):
        f = self.names().get(name)
        if f is None:
            return self.op_create(name)
        off = self.rng.randint(0, len(f.data) + 4096)
        buf = self.data(self.size() // 4 + 1)
        held = [h for h in self.held if h[1] is f and not h[2]]
        if held and self.rng.random() < 0.6:
            fd = self.rng.choice(held)[0]
            os.pwrite(fd, buf, off)
            self.note('pwrite fd %d (%s) @%d +%d' % (fd, name, off, len(buf)))
        else:
            fd = os.open(self.run.mp(name), os.O_WRONLY)
            os.pwrite(fd, buf, off)
            os.close(fd)
            self.note('pwrite %s @%d +%d' % (name, off, len(buf)))
        f.pwrite(off, buf)

    def op_append(self, name):
        f = self.names().get(name)
        if f is None:
            return self.op_create(name)
        fd = os.open(self.run.mp(name), os.O_WRONLY | os.O_APPEND)
        buf = self.data(self.rng.randint(1, 9000))
        os.write(fd, buf)
        f.pwrite(len(f.data), buf)
        keep = self.rng.random() < 0.5
        self.note('append %s +%d%s' % (name, len(buf), ' held fd %d' % fd if keep else ''))
        if keep:
            self.hold(fd, f, append=True)
        else:
            os.close(fd)

    def op_truncate(self, name):
        f = self.names().get(name)
        if f is None:
            return
        n = self.rng.randint(0, len(f.data) + 5000)
        held = [h for h in self.held if h[1] is f and not h[2]]
        if held and self.rng.random() < 0.5:
            fd = self.rng.choice(held)[0]
            os.ftruncate(fd, n)
            self.note('ftruncate fd %d (%s) %d' % (fd, name, n))
        else:
            os.truncate(self.run.mp(name), n)
            self.note('truncate %s %d' % (name, n))
        f.truncate(n)

    def op_rename(self, a, b):
        fa = self.names().get(a)
        if fa is None or a == b:
            return
        os.rename(self.run.mp(a), self.run.mp(b))
        del self.names()[a]
        self.names()[b] = fa
        self.note('rename %s -> %s' % (a, b))

    def op_unlink(self, name):
        if name not in self.names():
            return
        os.unlink(self.run.mp(name))
        del self.names()[name]
        self.note('unlink %s' % name)

    def check_name(self, name):
        f = self.names().get(name)
        p = self.run.mp(name)
        if f is None:
            self.check(not os.path.exists(p), '%s exists, model: no such file' % name)
            return
        want = bytes(f.data)
        st = os.stat(p)
        if not self.check(st.st_size == len(want), 'stat %s: size %d, model %d (%s)' %
                          (name, st.st_size, len(want), self.where(f))):
            time.sleep(1.5)
            self.check(False, 'stat %s again after 1.5 s: size %d' % (name, os.stat(p).st_size))
        with open(p, 'rb') as fh:
            got = fh.read()
        self.check(got == want, 'read %s: %s' % (name, differ(got, want)))

    def where(self, f):
        """Where the file is now, for a failure report."""
        names = [n for n, g in list(self.run.names.items()) if g is f]
        out = []
        for n in names:
            try:
                out.append('%s: server %d bytes' % (n, os.path.getsize(self.run.sp(n))))
            except OSError as e:
                out.append('%s: server %s' % (n, e.strerror))
        return ', '.join(out) or 'no name'

    def check_fd(self, fd, f, append):
        want = bytes(f.data)
        st = os.fstat(fd)
        if not self.check(st.st_size == len(want), 'fstat fd %d: size %d, model %d (%s)' %
                          (fd, st.st_size, len(want), self.where(f))):
            time.sleep(1.5)
            self.check(False, 'fstat fd %d again after 1.5 s: size %d' % (fd, os.fstat(fd).st_size))
        if append:
            return              # write-only
        got = self.read_all(fd, len(want))
        self.check(got == want, 'pread fd %d: %s' % (fd, differ(got, want)))

    def check_held(self):
        if not self.held:
            return
        self.check_fd(*self.rng.choice(self.held))
        fd, f, append = self.rng.choice(self.held)
        if self.rng.random() < 0.3 and not append:
            buf = self.data(self.rng.randint(1, 20000))
            off = self.rng.randint(0, len(f.data))
            os.pwrite(fd, buf, off)
            f.pwrite(off, buf)
            self.note('pwrite held fd %d @%d +%d' % (fd, off, len(buf)))

    # -- shared names: the operation and the model under one lock
    def op_shared(self):
        run = self.run
        s = 's%d' % self.rng.randrange(SHARED_NAMES)
        mine = self.rng.choice(self.own)
        with run.shared_lock:
            r = self.rng.random()
            if r < 0.45 and mine in self.names():
                # Other threads may reach the file by its shared name from
                # now on: this thread lets go of its descriptors of it, so
                # every change of the file happens under the lock.
                f = self.names()[mine]
                for h in [h for h in self.held if h[1] is f]:
                    self.held.remove(h)
                    os.close(h[0])
                self.op_rename(mine, s)
            elif r < 0.8 and s in self.names() and mine not in self.names():
                self.op_rename(s, mine)          # now this thread owns the file
            else:
                self.check_name(s)

    # -- the loop
    def step(self):
        rng = self.rng
        name = rng.choice(self.own)
        r = rng.random()
        if r < 0.14:
            self.op_create(name)
        elif r < 0.34:
            self.op_pwrite(name)
        elif r < 0.40:
            self.op_append(name)
        elif r < 0.48:
            self.op_truncate(name)
        elif r < 0.60:
            self.op_rename(name, rng.choice(self.own))
        elif r < 0.66:
            self.op_unlink(name)
        elif r < 0.76:
            self.check_name(name)
        elif r < 0.90:
            self.check_held()
        elif r < 0.97:
            self.op_shared()
        elif self.held:
            self.close_one()
        self.ops += 1

    def main(self):
        try:
            while time.monotonic() < self.run.deadline and len(self.run.failures) < 20:
                self.step()
            for h in self.held:
                self.check_fd(*h)
        except Exception as e:      # noqa: BLE001 - any error fails the run
            self.run.fail('thread %d: %r (after: %s)' % (self.i, e, '; '.join(self.log)))
        finally:
            for fd, _, _ in self.held:
                os.close(fd)
            self.held = []
            with self.run.fail_lock:
                self.run.ops += self.ops


def differ(got, want):
    """How two contents differ, with the op tags found there."""
    if got == want:
        return 'same'
    if len(got) != len(want):
        return '%d bytes, model %d' % (len(got), len(want))
    i = next(k for k in range(len(got)) if got[k] != want[k])
    return 'first difference at %d: %r, model %r' % (i, got[i:i + 24], want[i:i + 24])


def server_listing(run):
    out = {}
    for n in os.listdir(run.sp('')):
        with open(run.sp(n), 'rb') as f:
            out[n] = f.read()
    return out


def test_torture(m):
    seed = int(os.environ.get('TORTURE_SEED', random.SystemRandom().randrange(1 << 30)))
    seconds = VARIANTS[m.variant][1]
    run = Run(m, seed, seconds)
    workers = [Worker(run, i) for i in range(THREADS)]
    threads = [threading.Thread(target=w.main) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    assert not any(t.is_alive() for t in threads), 'seed %d: threads hung' % seed
    assert not run.failures, 'seed %d (%d ops): %d failures:\n%s' % (
        seed, run.ops, len(run.failures), '\n'.join(run.failures[:10]))
    # Everything is closed: the server must hold exactly the model.
    want = {n: bytes(f.data) for n, f in run.names.items()}
    got = server_listing(run)
    assert sorted(got) == sorted(want), 'seed %d: names on the server differ' % seed
    bad = ['%s: server %d bytes, model %d' % (n, len(got[n]), len(want[n]))
           for n in sorted(want) if got[n] != want[n]]
    assert not bad, 'seed %d: server copies differ: %s' % (seed, bad)
    # And the mount agrees after everything was closed.
    for n in sorted(want):
        with open(run.mp(n), 'rb') as f:
            assert f.read() == want[n], 'seed %d: %s through the mount' % (seed, n)
    print('seed %d: %d operations, %d files' % (seed, run.ops, len(want)))
