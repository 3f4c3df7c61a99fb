#!/usr/bin/env python3
"""Run a libFuzzer target for a fixed time, seeded with every manifest in the tree.

  run_fuzz.py FUZZER SOURCE_ROOT SECONDS [EXTRA libFuzzer OPTIONS...]

Seeds: configs/*.dts, tests/manifest/{good,bad}/*.dts and tests/hyp/*.dts,
compiled with dtc. Exit status is the fuzzer's: 0 when it found nothing, 1 (never
77, which Meson reads as a skipped test) when it found something.
A crashing or hanging input is kept next to the fuzzer binary, in
<fuzzer>-artifacts/ (the corpus itself is temporary).
"""

import glob
import os
import subprocess
import sys
import tempfile


def main():
    fuzzer, root, seconds = sys.argv[1], sys.argv[2], sys.argv[3]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, 'corpus')
        os.mkdir(corpus)
        sources = []
        for pattern in ('configs/*.dts', 'tests/manifest/good/*.dts', 'tests/manifest/bad/*.dts',
                        'tests/hyp/*.dts'):
            sources += sorted(glob.glob(os.path.join(root, pattern)))
        for i, src in enumerate(sources):
            out = os.path.join(corpus, 'seed%03d.dtb' % i)
            subprocess.run(['dtc', '-q', '-I', 'dts', '-O', 'dtb', '-o', out, src],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        artifacts = os.path.abspath(fuzzer) + '-artifacts'
        os.makedirs(artifacts, exist_ok=True)
        # libFuzzer's default error status, 77, is Meson's "skipped": a finding must fail.
        argv = [fuzzer, '-max_total_time=' + seconds, '-timeout=10', '-rss_limit_mb=2048',
                '-error_exitcode=1', '-timeout_exitcode=1',
                '-print_final_stats=1', '-artifact_prefix=' + artifacts + '/'] + sys.argv[4:] + [corpus]
        print(' '.join(argv), flush=True)
        proc = subprocess.run(argv, check=False, stderr=subprocess.STDOUT, stdout=subprocess.PIPE)
        out = proc.stdout.decode('utf-8', errors='replace')
        lines = out.splitlines()
        keep = [l for l in lines if 'INITED' in l or 'DONE' in l or l.startswith('stat::')
                or 'ERROR' in l or 'SUMMARY' in l]
        print('\n'.join(keep if proc.returncode == 0 else lines[-60:]))
        return 1 if proc.returncode == 77 else proc.returncode


if __name__ == '__main__':
    sys.exit(main())
