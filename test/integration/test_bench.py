"""test/bench/fs-bench at a tiny size (--quick): every workload runs on
sshfs and on sshmountfs in both modes, at loopback and through the delay
proxy, and the bench's own checks of the server's copy (contents, and for
untar ownership, modes and mtimes) pass. A benchmark is not a test of speed:
no figure is asserted, only that the bench runs and its results are right."""

import os
import re
import sys

import pytest

import util

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bench', 'fs-bench')


def bench(*args, timeout=900):
    return util.run([sys.executable, BENCH, '--build', util.build_dir()] + list(args),
                    timeout=timeout)


@pytest.mark.skipif(not os.path.exists('/usr/bin/sshfs'), reason='no sshfs to compare with')
def test_fs_bench_quick():
    util.bin_path('sshmountfs')		# fails the test on a missing build
    res = bench('--quick')
    assert res.returncode == 0, res.stdout + res.stderr
    rows = [ln for ln in res.stdout.splitlines() if ln.startswith('| ') and
            re.search(r'\d+\.\d+x \|$', ln)]
    seen = {}
    for ln in rows:
        cells = [c.strip() for c in ln.strip('|').split('|')]
        # link, workload, sshfs, default, exclusive, two ratios
        assert len(cells) == 7, ln
        seen.setdefault(cells[0], set()).add(cells[1])
    works = {'mount', 'read', 'write', 'small-read', 'find', 'ls-lR', 'grep-r', 'cp-r',
             'untar', 'rm-rf'}
    assert seen == {'loopback': works, '2 ms': works}, res.stdout


def test_fs_bench_refuses_unknown_names():
    res = bench('--quick', '--only', 'dance')
    assert res.returncode != 0 and 'unknown workload dance' in res.stderr
    res = bench('--quick', '--modes', 'reckless')
    assert res.returncode != 0 and 'unknown mode reckless' in res.stderr
