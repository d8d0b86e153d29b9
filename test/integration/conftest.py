"""pytest fixtures for the sshmountfs integration tests.

Fixtures:
  sshd          module scope: a private OpenSSH sshd on 127.0.0.1 (see util.SshServer)
  make_sshd     factory for variants: make_sshd(sftp_args=['-P', 'hardlink'], config_extra='...')
  bin_path      bin_path(name) -> absolute path of a built binary
  tmp_mnt       an empty mount point; fails the test if still mounted at teardown
  output_checker  util.OutputChecker for a daemon's output, checked after the test
  delay_proxy   factory: delay_proxy(target_port, delay_ms) -> DelayProxy (test/tools/delayproxy.py)
  fs_impl       parametrized: the file system behind the mount helper, as (name, binary):
                our sshmountfs, and sshfs as the reference that proves the plumbing
  installed_helper  util.InstalledHelper: mount.sshmountfs in /sbin running fs_impl

Markers:
  pytestmark = fuse_test_marker()   skip where FUSE mounts cannot work
  @pytest.mark.require_root         skip unless running as root
"""

import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import util  # noqa: E402
from util import SshServer, fuse_available, leftover_mounts  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DELAYPROXY = os.path.join(HERE, '..', 'tools', 'delayproxy.py')

# Make sanitizer findings in our binaries fail the test instead of scrolling by.
os.environ.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1:halt_on_error=1')
os.environ.setdefault('ASAN_OPTIONS', 'detect_leaks=1:abort_on_error=0')
for _k in ('SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'SSH_ASKPASS', 'DISPLAY'):
    os.environ.pop(_k, None)


def pytest_configure(config):
    config.addinivalue_line('markers', 'require_root: the test needs uid 0')
    config.addinivalue_line('markers', 'slow: takes more than a few seconds')


def pytest_runtest_setup(item):
    if item.get_closest_marker('require_root') and os.geteuid() != 0:
        pytest.skip('needs root')


def fuse_test_marker():
    """Use as `pytestmark = fuse_test_marker()` in files that mount."""
    why = fuse_available()
    return pytest.mark.skipif(why is not None, reason=why or '')


# libfuse's suite sleeps after a failed test so late daemon output lands in
# the captured log before teardown reads it.
@pytest.hookimpl(hookwrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    outcome = yield
    if outcome.excinfo is not None:
        time.sleep(1)


def _start(**kw):
    srv = SshServer(**kw)
    try:
        srv.start()
    except BaseException:
        srv.stop()
        raise
    return srv


def stop_all(things, what):
    """Stop each (its stop() returns a list of problems); fail if any."""
    problems = []
    for t in things:
        problems += t.stop()
    if problems:
        pytest.fail('%s teardown: %s' % (what, '; '.join(problems)), pytrace=False)


@pytest.fixture(scope='module')
def sshd():
    srv = _start()
    yield srv
    stop_all([srv], 'sshd')


@pytest.fixture
def make_sshd():
    started = []

    def make(sftp_args=(), config_extra='', password=None):
        srv = _start(sftp_args=sftp_args, config_extra=config_extra, password=password)
        started.append(srv)
        return srv
    yield make
    stop_all(started, 'sshd')


@pytest.fixture(scope='session')
def bin_path():
    return util.bin_path


@pytest.fixture
def tmp_mnt():
    """An empty directory to mount on, in a short path of its own."""
    d = tempfile.mkdtemp(prefix='smmnt-', dir='/tmp')
    yield d
    problems = leftover_mounts([d])
    try:
        os.rmdir(d)
    except OSError as e:
        problems.append('cannot remove mount point %s: %s' % (d, e))
    if problems:
        pytest.fail('tmp_mnt teardown: ' + '; '.join(problems), pytrace=False)


@pytest.fixture
def output_checker(tmp_path):
    chk = util.OutputChecker(str(tmp_path))
    yield chk
    try:
        chk.check()
    finally:
        chk.close()


class DelayProxy:
    """A running test/tools/delayproxy.py; see that file for the model.

    port: where clients connect (127.0.0.1). stall() holds all traffic
    (no FIN, no RST: a dead link); resume() delivers what was held;
    cut() resets every connection; down() cuts and refuses new connections
    until up(); set_delay(ms) changes the one-way delay.
    """

    def __init__(self, target_port, delay_ms, target_host='127.0.0.1'):
        self.proc = subprocess.Popen(
            [sys.executable, DELAYPROXY, '--target', '%s:%d' % (target_host, target_port),
             '--delay-ms', str(delay_ms), '--listen', '127.0.0.1:0', '--control', 'stdin'],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True)
        line = self._readline(10)
        if not line.startswith('listening '):
            self.close()
            raise RuntimeError('delayproxy did not start: %r %s' % (line, self.proc.stderr.read()))
        self.port = int(line.split()[1].rsplit(':', 1)[1])
        self.host = '127.0.0.1'

    def _readline(self, timeout):
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            if not sel.select(timeout):
                raise RuntimeError('delayproxy did not answer within %ss' % timeout)
        finally:
            sel.close()
        return self.proc.stdout.readline().strip()

    def command(self, cmd):
        self.proc.stdin.write(cmd + '\n')
        self.proc.stdin.flush()
        ans = self._readline(10)
        if not ans.startswith('ok'):
            raise RuntimeError('delayproxy %s: %s' % (cmd, ans))
        return ans

    def stall(self):
        self.command('stall')

    def resume(self):
        self.command('resume')

    def cut(self):
        self.command('cut')

    def down(self):
        """cut, and refuse new connections (ECONNREFUSED) until up()."""
        self.command('down')

    def up(self):
        self.command('up')

    def set_delay(self, ms):
        self.command('delay %s' % ms)

    def stats(self):
        """dict with connections, bytes_up, bytes_down."""
        ans = self.command('stats')
        return dict((k, int(v)) for k, v in (kv.split('=') for kv in ans.split()[1:]))

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass


@pytest.fixture
def delay_proxy():
    proxies = []

    def make(target_port, delay_ms=10, target_host='127.0.0.1'):
        p = DelayProxy(target_port, delay_ms, target_host)
        proxies.append(p)
        return p
    yield make
    for p in proxies:
        p.close()


# sshfs is the reference: a mount(8)/autofs test that fails with it too is a
# test or plumbing problem, not a file system one.
FS_IMPLS = ['sshmountfs', 'sshfs']


@pytest.fixture(params=FS_IMPLS)
def fs_impl(request):
    if request.param == 'sshfs':
        if not os.path.exists('/usr/bin/sshfs'):
            pytest.skip('no sshfs')
        return 'sshfs', '/usr/bin/sshfs'
    return 'sshmountfs', util.bin_path('sshmountfs')


@pytest.fixture
def installed_helper(fs_impl):
    inst = util.InstalledHelper(util.bin_path('mount.sshmountfs'), fs_impl[1])
    inst.fs_name = fs_impl[0]
    yield inst
    inst.remove()


MESON_SKIP = 77  # the exit status meson counts as SKIP


def pytest_sessionfinish(session, exitstatus):
    # pytest exit status 5 means "no tests collected": a file whose tests are
    # all placeholders must not fail the meson test that runs it.
    if exitstatus == 5:
        session.exitstatus = 0
    # A file that this machine cannot run at all (every case skipped, with
    # the reason -rs prints) is a SKIP for meson, so test/run-all counts it
    # instead of passing it off as tested.
    reporter = session.config.pluginmanager.get_plugin('terminalreporter')
    stats = reporter.stats if reporter else {}
    if session.exitstatus == 0 and stats.get('skipped') and not stats.get('passed'):
        session.exitstatus = MESON_SKIP

