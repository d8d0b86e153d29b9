"""mount.sshmountfs: how it translates mount(8)'s command line.

The helper runs the sshmountfs binary that sits next to it. Here a copy of
the built helper sits next to a stand-in `sshmountfs` that records its
command line, so what the helper passes on is checked exactly. The real
mounts through mount(8) are in test_fstab.py and test_autofs.py.
"""

import os
import shutil
import subprocess

import pytest

import util
from util import run

FAKE_FS = '''#!/bin/sh
d=$(dirname "$0")
for a in "$@"; do printf '%s\\n' "$a"; done > "$d/argv.out"
exit ${FAKE_EXIT:-0}
'''


class Helper:
    def __init__(self, built, tmp):
        self.dir = str(tmp)
        self.path = os.path.join(self.dir, 'mount.sshmountfs')
        shutil.copy2(built, self.path)
        self.fs = os.path.join(self.dir, 'sshmountfs')
        with open(self.fs, 'w') as f:
            f.write(FAKE_FS)
        os.chmod(self.fs, 0o755)
        self.out = os.path.join(self.dir, 'argv.out')

    def __call__(self, *args, exit_code=0, argv0=None):
        if os.path.exists(self.out):
            os.unlink(self.out)
        env = dict(os.environ, FAKE_EXIT=str(exit_code))
        # mount(8) runs helpers with a bare environment under systemd/autofs
        env.pop('PATH', None)
        res = run([argv0 or self.path] + list(args), timeout=30, env=env)
        res.argv = open(self.out).read().splitlines() if os.path.exists(self.out) else None
        return res


@pytest.fixture
def helper(bin_path, tmp_path):
    return Helper(bin_path('mount.sshmountfs'), tmp_path)


@pytest.fixture
def mnt(tmp_path):
    d = tmp_path / 'mnt'
    d.mkdir()
    return str(d)


def test_passes_spec_dir_and_options(helper, mnt):
    res = helper('alice@host:/srv/data', mnt, '-o', 'IdentityFile=/k,port=2222,reconnect')
    assert res.returncode == 0, res.stderr
    assert res.argv == ['alice@host:/srv/data', mnt, '-o', 'IdentityFile=/k,port=2222,reconnect']
    assert res.stderr == ''


def test_strips_mount_noise(helper, mnt):
    noise = ('_netdev,nofail,noauto,auto,user,user=bob,users,nouser,nousers,owner,group,'
             'defaults,comment=systemd.automount,x-systemd.automount,x-systemd.mount-timeout=30,'
             'X-mount.mkdir')
    res = helper('h:/p', mnt, '-o', noise + ',ro,IdentityFile=/k', '-o', 'nodev,nosuid')
    assert res.returncode == 0, res.stderr
    assert res.argv == ['h:/p', mnt, '-o', 'ro,IdentityFile=/k,nodev,nosuid']


def test_only_noise_means_no_o(helper, mnt):
    res = helper('h:', mnt, '-o', '_netdev,defaults')
    assert res.returncode == 0, res.stderr
    assert res.argv == ['h:', mnt]


def test_mount_flags_are_not_passed_on(helper, mnt):
    # -s -f -n -v are mount(8)'s (sloppy, fake, no mtab, verbose), never FUSE's
    res = helper('h:/p', mnt, '-n', '-o', 'ro')
    assert res.returncode == 0, res.stderr
    assert res.argv == ['h:/p', mnt, '-o', 'ro']


def test_fake_mounts_nothing(helper, mnt):
    res = helper('h:/p', mnt, '-f', '-o', 'ro')
    assert res.returncode == 0, res.stderr
    assert res.argv is None  # sshmountfs was not even started


def test_fake_still_checks_the_options(helper, mnt):
    res = helper('h:/p', mnt, '-f', '-o', 'no_such_option')
    assert res.returncode == 1
    assert "unknown option 'no_such_option'" in res.stderr


def test_verbose_shows_the_command(helper, mnt):
    res = helper('h:/p', mnt, '-fv', '-o', 'ro')
    assert res.returncode == 0
    assert res.stderr.strip() == 'mount.sshmountfs: running %s h:/p %s -o ro' % (helper.fs, mnt)


def test_unknown_option_fails_with_usage_status(helper, mnt):
    res = helper('h:/p', mnt, '-o', 'ro,bogus=1')
    assert res.returncode == 1
    assert "unknown option 'bogus'" in res.stderr
    assert res.argv is None


def test_sloppy_drops_unknown_options(helper, mnt):
    res = helper('h:/p', mnt, '-sn', '-o', 'ro,bogus=1,IdentityFile=/k,alsobogus')
    assert res.returncode == 0, res.stderr
    assert res.argv == ['h:/p', mnt, '-o', 'ro,IdentityFile=/k']
    assert "ignoring unknown option 'bogus'" in res.stderr
    assert "ignoring unknown option 'alsobogus'" in res.stderr


def test_sloppy_keeps_bad_values_fatal(helper, mnt):
    res = helper('h:/p', mnt, '-s', '-o', 'port=notanumber')
    assert res.returncode == 1
    assert res.argv is None


def test_escaped_commas_survive(helper, mnt):
    res = helper('h:/p', mnt, '-o', r'IdentityFile=/a\,b,ro')
    assert res.returncode == 0, res.stderr
    assert res.argv == ['h:/p', mnt, '-o', r'IdentityFile=/a\,b,ro']


@pytest.mark.parametrize('spec,plain', [
    ('sshmountfs#alice@host:/p', 'alice@host:/p'),
    ('sshfs#host:/p', 'host:/p'),
    ('alice@[::1]:/p', 'alice@[::1]:/p'),
    ('host:', 'host:'),
    ('host:rel/dir', 'host:rel/dir'),
])
def test_spec_forms(helper, mnt, spec, plain):
    res = helper(spec, mnt)
    assert res.returncode == 0, res.stderr
    assert res.argv == [plain, mnt]


def test_other_type_in_legacy_spec_is_refused(helper, mnt):
    res = helper('nfs#host:/p', mnt)
    assert res.returncode == 1
    assert res.argv is None


@pytest.mark.parametrize('fstype,ok', [('sshmountfs', True), ('fuse.sshmountfs', True),
                                       ('fuse.sshfs', False), ('nfs', False)])
def test_type_option(helper, mnt, fstype, ok):
    res = helper('h:/p', mnt, '-t', fstype)
    assert (res.returncode == 0) == ok, res.stderr
    assert (res.argv is not None) == ok


def test_relative_mountpoint_is_made_absolute(helper, tmp_path):
    (tmp_path / 'rel').mkdir()
    res = run([helper.path, 'h:/p', 'rel'], timeout=30, cwd=str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert open(helper.out).read().splitlines() == ['h:/p', str(tmp_path / 'rel')]


@pytest.mark.parametrize('code', [0, 1, 32])
def test_exit_status_of_the_file_system_is_returned(helper, mnt, code):
    res = helper('h:/p', mnt, exit_code=code)
    assert res.returncode == code


def test_usage_errors(helper, mnt):
    for args in ([], ['h:/p'], ['h:/p', mnt, '-x'], ['h:/p', mnt, '-o'], ['-oro', 'h:/p']):
        res = helper(*args)
        assert res.returncode == 1, args
        assert res.stderr.startswith('mount.sshmountfs: '), args
        assert res.argv is None


def test_help_and_version(helper):
    for arg in ('-h', '--help'):
        res = helper(arg)
        assert res.returncode == 0
        assert res.stdout.startswith('usage: mount.sshmountfs ')
    res = helper('-V')
    assert res.returncode == 0
    assert res.stdout.startswith('mount.sshmountfs 0.')
    assert res.argv is None


def test_missing_file_system_binary(helper, mnt):
    os.unlink(helper.fs)
    res = helper('h:/p', mnt)
    assert res.returncode == 32
    assert 'cannot find the sshmountfs program' in res.stderr


def test_never_found_through_path(helper, mnt, tmp_path):
    os.unlink(helper.fs)
    other = tmp_path / 'elsewhere'
    other.mkdir()
    shutil.copy2(helper.path, str(other / 'x'))  # not next to the helper
    fake = other / 'sshmountfs'
    fake.write_text(FAKE_FS)
    fake.chmod(0o755)
    res = run([helper.path, 'h:/p', mnt], timeout=30,
              env=dict(os.environ, PATH=str(other) + ':' + os.environ.get('PATH', '')))
    assert res.returncode == 32
    assert not (other / 'argv.out').exists()


def test_called_as_mount_fuse_sshmountfs(helper, mnt):
    alias = os.path.join(helper.dir, 'mount.fuse.sshmountfs')
    os.symlink('mount.sshmountfs', alias)
    res = helper('u@h:/p', mnt, '-o', 'rw,_netdev', argv0=alias)
    assert res.returncode == 0, res.stderr
    assert res.argv == ['u@h:/p', mnt, '-o', 'rw']


@pytest.mark.require_root
@util.mount_namespace_marker()
def test_namespace(helper, mnt, tmp_path):
    # -N PID: the file system runs in that process's mount namespace. The
    # stand-in is an ELF here (a script cannot be exec'd from a
    # close-on-exec descriptor), a copy of /usr/bin/true.
    os.unlink(helper.fs)
    shutil.copy2('/usr/bin/true', helper.fs)
    ns = subprocess.Popen(['unshare', '--mount', '--propagation', 'private', 'sleep', '60'])
    try:
        res = helper('h:/p', mnt, '-N', str(ns.pid))
        assert res.returncode == 0, res.stderr
        res = helper('h:/p', mnt, '-N', '/nonexistent/ns')
        assert res.returncode == 32
        assert 'cannot enter mount namespace /nonexistent/ns' in res.stderr
    finally:
        ns.kill()
        ns.wait(10)
