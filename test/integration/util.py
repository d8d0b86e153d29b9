"""Helpers for the sshmountfs integration tests.

Everything here is bounded in time: no helper waits forever, because a
hung FUSE daemon or sshd must turn into a failed test, not a stuck run.

Import from tests as `from util import ...` (pytest puts this folder on
sys.path through conftest.py).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

SSHD = '/usr/sbin/sshd'
SFTP_SERVER = '/usr/lib/openssh/sftp-server'
SSH_KEYGEN = '/usr/bin/ssh-keygen'
SSH = '/usr/bin/ssh'
SFTP = '/usr/bin/sftp'
FUSERMOUNT = '/usr/bin/fusermount3'
TEST_USER = 'smtest'
# Fixed, not random: several test sessions may run at once on one machine and
# each sets the account's password; they must all agree.
TEST_PASSWORD = 'smtest-Pw-7f3a9c'
# the checkout's build/ (test/run-all's), wherever the checkout is
DEFAULT_BUILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'build')

# Per-test budget for daemons that must come up or go away.
MOUNT_TIMEOUT = 30


# --------------------------------------------------------------------------
# Running commands without hanging

def run(cmd, timeout=60, check=False, input=None, env=None, **kw):
    """subprocess.run with a mandatory timeout and captured text output.

    On timeout the whole process group is killed (start_new_session) so a
    child that forked cannot keep the pipes open and wedge the test.
    Returns a CompletedProcess; raises AssertionError when check=True and
    the exit status is not 0 (with the output in the message).
    """
    kw.setdefault('stdout', subprocess.PIPE)
    kw.setdefault('stderr', subprocess.PIPE)
    if input is None:
        kw.setdefault('stdin', subprocess.DEVNULL)
    proc = subprocess.Popen(cmd, text=True, env=env, start_new_session=True,
                            stdin=kw.pop('stdin', subprocess.PIPE), **kw)
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _killpg(proc.pid)
        out, err = proc.communicate(timeout=10)
        raise AssertionError('command timed out after %ss: %s\nstdout: %s\nstderr: %s'
                             % (timeout, _fmt(cmd), out, err))
    res = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    if check and res.returncode != 0:
        raise AssertionError('command failed (exit %d): %s\nstdout: %s\nstderr: %s'
                             % (res.returncode, _fmt(cmd), out, err))
    return res


def _fmt(cmd):
    return ' '.join(cmd) if isinstance(cmd, (list, tuple)) else str(cmd)


def _killpg(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --------------------------------------------------------------------------
# Mounts

def mountinfo():
    """List of (mountpoint, fstype, source) from /proc/self/mountinfo."""
    res = []
    with open('/proc/self/mountinfo') as f:
        for line in f:
            left, right = line.split(' - ', 1)
            mnt = _unescape(left.split()[4])
            r = right.split()
            res.append((mnt, r[0], _unescape(r[1]) if len(r) > 1 else ''))
    return res


def _unescape(s):
    return re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), s)


def mount_entry(mnt, resolve=True):
    """(fstype, source) of the topmost mount at mnt, or None. resolve=False
    skips realpath(): a path under an autofs mount must not be looked up,
    since a lookup is what makes automount mount it."""
    mnt = os.path.realpath(mnt) if resolve else mnt
    found = None
    for m, fstype, src in mountinfo():
        if m == mnt:
            found = (fstype, src)
    return found


def is_mounted(mnt, resolve=True):
    """Whether mnt is a mount point, from mountinfo (resolve: as mount_entry)."""
    return mount_entry(mnt, resolve) is not None


def wait_for_mount(proc, mnt, timeout=MOUNT_TIMEOUT):
    """Wait until mnt is a mount point.

    proc is the Popen of a foreground daemon (fail early when it dies) or
    None for a daemonizing command that has already returned.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.ismount(mnt):
            return
        if proc is not None and proc.poll() is not None:
            out = _drain(proc)
            pytest.fail('file system process terminated prematurely (exit %s)%s'
                        % (proc.returncode, ('\noutput:\n' + out) if out else ''))
        time.sleep(0.1)
    pytest.fail('mount did not appear at %s within %ss' % (mnt, timeout))


def _drain(proc):
    """Output of a dead Popen whose stdout/stderr were pipes ('' otherwise)."""
    try:
        out, err = proc.communicate(timeout=5)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        return ''
    text = ''
    for part in (out, err):
        if isinstance(part, bytes):
            part = part.decode(errors='replace')
        text += part or ''
    return text


def fuse_daemon_pids(mnt, resolve=True):
    """PIDs of processes that have /dev/fuse open and whose command line
    mentions the mount point (how a daemonized mount is found; resolve: as
    mount_entry)."""
    real = os.path.realpath(mnt) if resolve else mnt
    pids = []
    for pid in _all_pids():
        try:
            cmd = open('/proc/%d/cmdline' % pid, 'rb').read().split(b'\0')
            if not any(os.fsencode(x) in cmd for x in (mnt, real)):
                continue
            fds = os.listdir('/proc/%d/fd' % pid)
            if any(os.readlink('/proc/%d/fd/%s' % (pid, fd)) == '/dev/fuse' for fd in fds):
                pids.append(pid)
        except OSError:
            continue
    return pids


def _all_pids():
    return [int(p) for p in os.listdir('/proc') if p.isdigit()]


def pid_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
        return state not in ('Z', 'X')
    except OSError:
        return False


def wait_pids_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(pid_alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def fusermount_u(mnt, timeout=MOUNT_TIMEOUT):
    """fusermount3 -u, retried while the mount is busy: on a shared machine
    another process (a file indexer, a `find /`) can hold the mount point
    for a moment; anything longer than the timeout is a real failure."""
    deadline = time.monotonic() + timeout
    while True:
        res = run([FUSERMOUNT, '-u', mnt], timeout=timeout)
        if res.returncode == 0:
            return
        busy = 'Device or resource busy' in res.stderr
        if not busy or time.monotonic() > deadline:
            raise AssertionError('command failed (exit %d): %s -u %s\nstderr: %s'
                                 % (res.returncode, FUSERMOUNT, mnt, res.stderr))
        time.sleep(0.2)


def umount(proc, mnt, timeout=MOUNT_TIMEOUT):
    """Unmount with fusermount3 -u and require a clean daemon exit.

    proc: the Popen of the daemon (must exit 0 within timeout), or None for
    a daemonized mount, whose process is found through /dev/fuse and must
    disappear within timeout.
    """
    pids = fuse_daemon_pids(mnt) if proc is None else []
    fusermount_u(mnt, timeout)
    assert not os.path.ismount(mnt), '%s still mounted after fusermount3 -u' % mnt
    if proc is not None:
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail('file system process still running %ss after umount' % timeout)
        if code != 0:
            out = _drain(proc)
            pytest.fail('file system process exited with status %d%s'
                        % (code, ('\noutput:\n' + out) if out else ''))
        return
    assert wait_pids_gone(pids, timeout), \
        'daemon %s still running %ss after umount' % (pids, timeout)


def cleanup(proc, mnt):
    """Best effort after a failure: lazy unmount, then stop the daemon."""
    pids = fuse_daemon_pids(mnt) if proc is None else []
    subprocess.run([FUSERMOUNT, '-z', '-u', mnt], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=30)
    if os.path.ismount(mnt):
        subprocess.run(['umount', '-l', mnt], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)
    if proc is not None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(1)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    for pid in pids:
        _kill_quiet(pid, signal.SIGTERM)
    if pids and not wait_pids_gone(pids, 1):
        for pid in pids:
            _kill_quiet(pid, signal.SIGKILL)


def _kill_quiet(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


# --------------------------------------------------------------------------
# Output hygiene (libfuse's output_checker)

_BAD_OUTPUT = re.compile(r'\b(exception|error|warning|fatal|traceback|fault|'
                         r'crash(?:ed)?|abort(?:ed)?|uninitiali[zs]ed|'
                         r'leak(?:ed|s)?|sanitizer|runtime error)\b', re.IGNORECASE)


class OutputChecker:
    """Collects a daemon's output and fails on error-looking lines.

    Use a file from .file() (or .path) as the daemon's stdout/stderr, register
    expected lines with register(pattern, count=0) (count=0: any number;
    n: exactly-at-most n times), then check() once the daemon has exited.
    """

    def __init__(self, dirpath):
        self.path = os.path.join(dirpath, 'daemon-output.log')
        self._fh = open(self.path, 'w+b')
        self._patterns = []

    def file(self):
        return self._fh

    def register(self, pattern, count=0):
        self._patterns.append([re.compile(pattern, re.IGNORECASE), count])

    def text(self):
        self._fh.flush()
        with open(self.path, 'rb') as f:
            return f.read().decode(errors='replace')

    def bad_lines(self):
        bad = []
        budgets = [[p, c] for p, c in self._patterns]
        for line in self.text().splitlines():
            if not _BAD_OUTPUT.search(line):
                continue
            if _whitelisted(line, budgets):
                continue
            bad.append(line)
        return bad

    def check(self):
        bad = self.bad_lines()
        if bad:
            pytest.fail('suspicious daemon output:\n' + '\n'.join(bad))

    def close(self):
        self._fh.close()


def _whitelisted(line, budgets):
    for entry in budgets:
        pat, count = entry
        if not pat.search(line):
            continue
        if count == 0:
            return True
        if count > 0:
            entry[1] = count - 1 if count > 1 else -1
            return True
    return False


# --------------------------------------------------------------------------
# Built binaries

def build_dir():
    return os.environ.get('SSHMOUNTFS_BUILD', DEFAULT_BUILD)


def bin_path(name):
    """Absolute path of a binary built by meson in SSHMOUNTFS_BUILD.

    Looks the target up in the build's introspection data: a name the build
    does not define skips the test (the feature is not in the tree yet); a
    defined target whose file is missing fails it (run ninja).
    """
    bdir = build_dir()
    intro = os.path.join(bdir, 'meson-info', 'intro-targets.json')
    if not os.path.exists(intro):
        pytest.fail('no meson build at %s (set SSHMOUNTFS_BUILD)' % bdir)
    with open(intro) as f:
        targets = json.load(f)
    for t in targets:
        for fn in t.get('filename', []):
            if os.path.basename(fn) == name and t.get('type') == 'executable':
                if not os.access(fn, os.X_OK):
                    pytest.fail('%s is a target of %s but is not built' % (name, bdir))
                return fn
    pytest.skip('%s is not a target of the build in %s' % (name, bdir))


# --------------------------------------------------------------------------
# Processes, ports, users

def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def read_banner(host, port, timeout=5.0):
    """The first line the server sends, or '' if none arrived in time."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            data = b''
            while b'\n' not in data and len(data) < 256:
                chunk = s.recv(256)
                if not chunk:
                    break
                data += chunk
            return data.split(b'\n', 1)[0].decode(errors='replace').strip()
    except OSError:
        return ''


def ensure_user(name=TEST_USER):
    """Create the unprivileged test account if missing; return (uid, gid, home)."""
    import pwd
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        res = run(['useradd', '-m', '-s', '/bin/sh', name], timeout=60)
        try:
            pw = pwd.getpwnam(name)  # a concurrent session may have won the race
        except KeyError:
            raise AssertionError('useradd %s failed: %s' % (name, res.stderr))
    return pw.pw_uid, pw.pw_gid, pw.pw_dir


def _shadow_hash(name):
    with open('/etc/shadow') as f:
        for line in f:
            fields = line.split(':')
            if fields[0] == name:
                return fields[1]
    return None


def password_matches(name, password):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        import crypt
    h = _shadow_hash(name)
    return bool(h) and crypt.crypt(password, h) == h


def set_password(name, password):
    """Give name this password unless it already has it (chpasswd locks
    /etc/shadow; concurrent sessions retry instead of failing)."""
    for attempt in range(20):
        if password_matches(name, password):
            return
        res = run(['chpasswd'], input='%s:%s\n' % (name, password), timeout=30)
        if res.returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError('chpasswd failed: ' + res.stderr)


def descendants(pids):
    """All live descendants of the given pids (not the pids themselves)."""
    children = {}
    for pid in _all_pids():
        try:
            with open('/proc/%d/stat' % pid) as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(pid)
    out, todo = [], list(pids)
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def pids_with_env(tag):
    """PIDs whose environment contains the exact entry tag (NAME=value)."""
    want = os.fsencode(tag)
    found = []
    for pid in _all_pids():
        try:
            with open('/proc/%d/environ' % pid, 'rb') as f:
                if want in f.read().split(b'\0'):
                    found.append(pid)
        except OSError:
            continue
    return found


# --------------------------------------------------------------------------
# The private sshd

class SshServer:
    """A private OpenSSH sshd on 127.0.0.1 with its own keys and config.

    Every process it starts carries SMTEST_SSHD=<tmpdir> in its environment
    (sshd's own processes) or descends from one (sessions), which is how
    kill_sessions() and stop() find them without touching other sshds.
    """

    host = '127.0.0.1'
    user_root = 'root'
    user = TEST_USER

    def __init__(self, sftp_args=(), config_extra='', password=None):
        self.sftp_args = _normalize_sftp_args(list(sftp_args))
        self.config_extra = config_extra
        self.password = password or TEST_PASSWORD
        self.proc = None
        self.tmp = tempfile.mkdtemp(prefix='smsshd-', dir='/tmp')
        os.chmod(self.tmp, 0o755)  # the users read their authorized_keys here
        self.remote_base = tempfile.mkdtemp(prefix='smtest-remote-', dir='/tmp')
        os.chmod(self.remote_base, 0o755)
        self.tag = 'SMTEST_SSHD=' + self.tmp
        self.port = None
        self.key = self._p('id_ed25519')
        # a copy of key owned by the unprivileged user, for clients run as smtest
        self.key_user = self._p('id_ed25519.smtest')
        self.host_key = self._p('ssh_host_ed25519_key')
        self.known_hosts = self._p('known_hosts')
        self.client_config = self._p('ssh_config')
        self.config = self._p('sshd_config')
        self.logfile = self._p('sshd.log')

    def _p(self, name):
        return os.path.join(self.tmp, name)

    def start(self):
        uid, gid, _ = ensure_user(TEST_USER)
        set_password(TEST_USER, self.password)
        os.makedirs('/run/sshd', mode=0o755, exist_ok=True)
        self._make_keys(uid, gid)
        self._write_client_files()
        for attempt in range(5):
            self.port = free_port()
            self._write_config()
            if self._launch():
                return self
        raise RuntimeError('sshd did not start; log:\n' + self.log())

    def _make_keys(self, uid, gid):
        for path, comment in ((self.host_key, 'smtest-host'), (self.key, 'smtest-user')):
            run([SSH_KEYGEN, '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path],
                timeout=30, check=True)
        shutil.copyfile(self.key, self.key_user)
        os.chmod(self.key_user, 0o600)
        os.chown(self.key_user, uid, gid)
        shutil.copyfile(self.key + '.pub', self.key_user + '.pub')
        akdir = self._p('authorized_keys')
        os.mkdir(akdir, 0o755)
        pub = open(self.key + '.pub').read()
        for user in (self.user_root, self.user):
            with open(os.path.join(akdir, user), 'w') as f:
                f.write(pub)
            os.chmod(os.path.join(akdir, user), 0o644)

    def _write_client_files(self):
        with open(self.client_config, 'w') as f:
            f.write('# client config of the private test sshd (intentionally minimal)\n')
        os.chmod(self.client_config, 0o644)

    def _write_known_hosts(self):
        open(self.known_hosts, 'w').close()
        os.chmod(self.known_hosts, 0o644)
        self.add_known_port(self.port)

    def add_known_port(self, port):
        """Also trust the host key as [127.0.0.1]:port (e.g. a delay proxy's
        port), by appending to known_hosts."""
        hk = open(self.host_key + '.pub').read().split()
        with open(self.known_hosts, 'a') as f:
            f.write('[%s]:%d %s %s\n' % (self.host, port, hk[0], hk[1]))

    def _write_config(self):
        extra, matches = _split_match_blocks(self.config_extra)
        lines = [extra,
                 'Port %d' % self.port,
                 'ListenAddress %s' % self.host,
                 'AddressFamily inet',
                 'HostKey %s' % self.host_key,
                 'PidFile %s' % self._p('sshd.pid'),
                 'AuthorizedKeysFile %s/authorized_keys/%%u' % self.tmp,
                 'UsePAM no',
                 'StrictModes no',
                 'PermitRootLogin yes',
                 'PubkeyAuthentication yes',
                 'PasswordAuthentication yes',
                 'KbdInteractiveAuthentication yes',
                 'UseDNS no',
                 'LogLevel DEBUG1',
                 'MaxSessions 20',
                 'MaxStartups 100:30:200',
                 'MaxAuthTries 20',
                 'LoginGraceTime 60',
                 'PrintMotd no',
                 'Banner none',
                 'X11Forwarding no',
                 'AllowTcpForwarding yes']
        if not re.search(r'^\s*Subsystem\s+sftp\b', extra, re.M | re.I):
            lines.append('Subsystem sftp %s' % ' '.join([SFTP_SERVER] + self.sftp_args))
        lines.append(matches)
        with open(self.config, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        self._write_known_hosts()

    def _launch(self):
        env = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'SMTEST_SSHD': self.tmp}
        res = run([SSHD, '-t', '-f', self.config], timeout=30, env=env)
        if res.returncode != 0:
            raise RuntimeError('sshd -t rejects the config: ' + res.stderr)
        self.proc = subprocess.Popen([SSHD, '-D', '-f', self.config, '-E', self.logfile],
                                     env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False  # most likely the port was taken meanwhile
            if read_banner(self.host, self.port, timeout=2).startswith('SSH-2.0-'):
                return True
            time.sleep(0.05)
        self._stop_proc()
        return False

    # the interface of the fixture
    def remote_dir(self, user=TEST_USER, files=None):
        """A fresh directory owned by user (the 'remote' side), empty or
        holding files ({name: text}, owned by user too)."""
        import pwd
        pw = pwd.getpwnam(user)
        d = tempfile.mkdtemp(prefix=user + '-', dir=self.remote_base)
        for name, text in (files or {}).items():
            path = os.path.join(d, name)
            with open(path, 'w') as f:
                f.write(text)
            os.chown(path, pw.pw_uid, pw.pw_gid)
        os.chown(d, pw.pw_uid, pw.pw_gid)
        os.chmod(d, 0o755)
        return d

    def mount_opts(self, known_hosts=None):
        """The -o list that points a mount (sshmountfs, or sshfs) at this
        server non-interactively: port, key, known_hosts, BatchMode."""
        return 'port=%d,IdentityFile=%s,UserKnownHostsFile=%s,BatchMode=yes' % (
            self.port, self.key, known_hosts or self.known_hosts)

    def env(self):
        env = dict(os.environ)
        for k in ('SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'SSH_ASKPASS', 'SSH_ASKPASS_REQUIRE',
                  'DISPLAY', 'WAYLAND_DISPLAY', 'SSHPASS'):
            env.pop(k, None)
        return env

    def ssh_opts(self):
        return ['-p', str(self.port), '-F', self.client_config,
                '-o', 'IdentityFile=' + self.key,
                '-o', 'UserKnownHostsFile=' + self.known_hosts]

    def openssh_opts(self):
        """ssh_opts() plus what OpenSSH's own clients need to stay non-interactive."""
        return self.ssh_opts() + ['-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes',
                                  '-o', 'StrictHostKeyChecking=yes',
                                  '-o', 'GlobalKnownHostsFile=/dev/null']

    def spec(self, user=TEST_USER, path=''):
        return '%s@%s:%s' % (user, self.host, path)

    def server_pids(self):
        """All processes of this sshd: the listener, connections, sessions."""
        own = set(pids_with_env(self.tag))
        if self.proc is not None and pid_alive(self.proc.pid):
            own.add(self.proc.pid)
        return sorted(own | set(descendants(list(own))))

    def session_pids(self):
        """Every process except the listener: per-connection sshds and their children."""
        lst = self.proc.pid if self.proc else -1
        return [p for p in self.server_pids() if p != lst and pid_alive(p)]

    def kill_sessions(self, sig=signal.SIGKILL):
        """Kill every connection (SIGKILL: the client sees the TCP link drop)."""
        pids = self.session_pids()
        for p in pids:
            _kill_quiet(p, sig)
        wait_pids_gone(pids, 10)
        return pids

    def log(self):
        try:
            with open(self.logfile, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def _stop_proc(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def stop(self):
        """Stop everything; return a list of problems found (empty when clean)."""
        problems = leftover_mounts([self.tmp, self.remote_base], self.remote_base)
        self._stop_proc()
        rest = self.server_pids()
        for p in rest:
            _kill_quiet(p, signal.SIGKILL)
        if rest and not wait_pids_gone(rest, 10):
            problems.append('sshd processes survive SIGKILL: %s' % rest)
        for d in (self.tmp, self.remote_base):
            shutil.rmtree(d, ignore_errors=True)
            if os.path.exists(d):
                problems.append('cannot remove %s' % d)
        return problems


def _split_match_blocks(text):
    """(global part, Match blocks): Match must come after all global keywords."""
    m = re.search(r'^\s*Match\s', text or '', re.M | re.I)
    if not m:
        return text or '', ''
    return text[:m.start()], text[m.start():]


_request_names = None


def sftp_request_names():
    """Request names sftp-server -P/-p accept (`sftp-server -Q requests`)."""
    global _request_names
    if _request_names is None:
        res = run([SFTP_SERVER, '-Q', 'requests'], timeout=10, check=True)
        _request_names = res.stdout.split()
    return list(_request_names)


def _normalize_sftp_args(args):
    """Map extension names (hardlink@openssh.com) to sftp-server's request
    names (hardlink) after -P/-p, and refuse names it does not know: an
    unknown name would silently deny nothing."""
    out = list(args)
    known = None
    for i, a in enumerate(out):
        if a in ('-P', '-p') and i + 1 < len(out):
            known = known or sftp_request_names()
            names = []
            for n in out[i + 1].split(','):
                short = n.split('@', 1)[0] if '@' in n else n
                if short not in known:
                    raise ValueError('sftp-server knows no request %r (known: %s)'
                                     % (n, ' '.join(known)))
                names.append(short)
            out[i + 1] = ','.join(names)
    return out


def leftover_mounts(dirs, source_hint=None):
    """Lazily unmount anything mounted under dirs (or whose source names
    source_hint) and return one problem line per mount found."""
    problems = []
    dirs = [os.path.realpath(d) for d in dirs]
    for mnt, fstype, src in reversed(mountinfo()):
        under = any(mnt == d or mnt.startswith(d + '/') for d in dirs)
        ours = source_hint and source_hint in src and fstype.startswith('fuse')
        if under or ours:
            problems.append('mount left behind: %s (%s, %s)' % (mnt, fstype, src))
            subprocess.run([FUSERMOUNT, '-z', '-u', mnt], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
            if is_mounted(mnt):
                subprocess.run(['umount', '-l', mnt], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=30)
    return problems


def fuse_available():
    """None when FUSE mounts can work here, else the reason they cannot."""
    if not os.path.exists('/dev/fuse'):
        return 'no /dev/fuse'
    if not os.path.exists(FUSERMOUNT):
        return 'no fusermount3'
    if os.geteuid() != 0 and not os.stat(FUSERMOUNT).st_mode & 0o4000:
        return 'fusermount3 is not setuid'
    if os.geteuid() == 0:
        # present is not usable: a container may list the node but deny it
        try:
            os.close(os.open('/dev/fuse', os.O_RDWR | os.O_CLOEXEC))
        except OSError as e:
            return 'cannot open /dev/fuse: %s' % e.strerror
    return None


def mount_namespace_available():
    """None when `unshare --mount` can make a private mount namespace here,
    else why not (a container without CAP_SYS_ADMIN in its user namespace)."""
    res = run(['unshare', '--mount', '--propagation', 'private', 'true'], timeout=30)
    if res.returncode != 0:
        return 'cannot make a mount namespace: unshare --mount: %s' % (
            res.stderr.strip() or 'exit status %d' % res.returncode)
    return None


def mount_namespace_marker():
    """A skipif marker for tests that need mount namespaces (probed as root)."""
    why = mount_namespace_available() if os.geteuid() == 0 else None
    return pytest.mark.skipif(why is not None, reason=why or '')


def _kernel_has_fs(name):
    try:
        with open('/proc/filesystems') as f:
            return any(line.split()[-1:] == [name] for line in f)
    except OSError:
        return False


def autofs_available():
    """None when this kernel can serve automount, else the reason it cannot.

    Decided by probing the kernel (as automount itself needs it): autofs in
    /proc/filesystems, or loaded now by modprobe autofs4."""
    if _kernel_has_fs('autofs'):
        return None
    modprobe = shutil.which('modprobe') or '/sbin/modprobe'
    if not os.path.exists(modprobe):
        tried = 'modprobe is not installed (package kmod)'
    else:
        r = subprocess.run([modprobe, 'autofs4'], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=60)
        if r.returncode == 0 and _kernel_has_fs('autofs'):
            return None
        tried = 'modprobe autofs4 failed: %s' % (r.stdout.strip() or 'exit status %d' % r.returncode)
    return 'this kernel has no autofs (no autofs in /proc/filesystems) and ' + tried


# --------------------------------------------------------------------------
# mount(8) helpers in /sbin, for tests that go through mount(8) or autofs

SBIN = '/usr/sbin'
HELPER_NAMES = ('mount.sshmountfs', 'mount.fuse.sshmountfs')
HELPER_STAGING_PREFIX = '/tmp/smhelper-'
FS_ON_PATH = '/usr/local/bin/sshmountfs'


class MachineLock:
    """An exclusive flock shared by every test session on this machine, for
    resources there is only one of (/sbin/mount.sshmountfs, automount)."""

    def __init__(self, name, timeout=600):
        import fcntl
        os.makedirs('/run/lock', exist_ok=True)
        self.fd = os.open('/run/lock/sshmountfs-test-%s.lock' % name,
                          os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    raise AssertionError('another test session holds the %s lock' % name)
                time.sleep(0.2)

    def release(self):
        os.close(self.fd)


def _ours_or_absent(path):
    """True when path is missing or one of our staging symlinks."""
    if not os.path.lexists(path):
        return True
    return os.path.islink(path) and os.readlink(path).startswith(HELPER_STAGING_PREFIX)


class InstalledHelper:
    """mount.sshmountfs and mount.fuse.sshmountfs in /usr/sbin (= /sbin),
    where mount(8) looks, running `fs` as the file system.

    /usr/sbin/mount.* are symlinks to a copy of the built helper in a
    staging directory, next to a symlink `sshmountfs` -> fs: the helper runs
    the binary next to itself. /usr/local/bin/sshmountfs links there too:
    type `fuse` with sshmountfs#SPEC goes through mount.fuse3, which runs
    `sshmountfs` through /bin/sh, and mount(8) unsets PATH, so only the
    shell's default path is searched. An installed sshmountfs is never
    replaced: the tests fail and say so.
    """

    def __init__(self, helper, fs):
        self.lock = MachineLock('helper')
        self.links = []
        try:
            self.dir = tempfile.mkdtemp(prefix=HELPER_STAGING_PREFIX.rsplit('/', 1)[1], dir='/tmp')
            os.chmod(self.dir, 0o755)
            self.helper = os.path.join(self.dir, 'mount.sshmountfs')
            shutil.copy2(helper, self.helper)
            self.fs = os.path.join(self.dir, 'sshmountfs')
            os.symlink(fs, self.fs)
            for name in HELPER_NAMES:
                self._link(os.path.join(SBIN, name), self.helper)
            self._link(FS_ON_PATH, self.fs)
        except BaseException:
            self.remove()
            raise

    def _link(self, path, target):
        if not _ours_or_absent(path):
            raise AssertionError('%s exists and is not a test link: an installed '
                                 'sshmountfs would be shadowed; remove it to run '
                                 'these tests' % path)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)
        self.links.append((path, target))

    def remove(self):
        for path, target in self.links:
            if os.path.islink(path) and os.readlink(path) == target:
                os.unlink(path)
        self.links = []
        if getattr(self, 'dir', None):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.lock.release()
