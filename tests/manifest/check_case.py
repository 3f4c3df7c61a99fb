#!/usr/bin/env python3
"""Run tools/manifest's checker on one test manifest and compare its errors.

  check_case.py TOOL CASE.dts [--golden FILE] [OPTION...]
                 (options go to `check`, e.g. --platform)

The case's comment header says what to expect:
  error: <path>: <property>: <message>   one line per expected error, in order;
                                         none means the manifest must be valid
  args: <options>                        extra options for `check`; @N@ becomes
                                         a temporary file of N bytes (--image)
  patch: OLD=NEW                         compile with dtc, then replace the bytes
                                         OLD by NEW (same length) in the DTB, to
                                         build blobs that dtc itself refuses
The tool must print exactly the expected `manifest error:` lines and exit 1
(or print none and exit 0), and sanitizers must report nothing. With
--golden, a valid manifest's `check --print` output (the parsed config:
placement, owners, masks, defaults) must equal FILE.
"""

import os
import re
import subprocess
import sys
import tempfile


def header(path):
    errors, args, patches = [], [], []
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.startswith('/dts-v1/'):
                break
            m = re.match(r'\s*\*\s*(error|args|patch):\s?(.*?)\s*$', line)
            if not m:
                continue
            if m.group(1) == 'error':
                errors.append('manifest error: ' + m.group(2))
            elif m.group(1) == 'args':
                args += m.group(2).split()
            else:
                old, new = m.group(2).split('=', 1)
                patches.append((old.encode(), new.encode()))
    return errors, args, patches


def main():
    tool, case = sys.argv[1], sys.argv[2]
    errors, args, patches = header(case)
    extra = sys.argv[3:]
    golden = None
    if extra[:1] == ['--golden']:
        golden, extra = extra[1], extra[2:]
        extra.append('--print')
    args = extra + args
    with tempfile.TemporaryDirectory() as tmp:
        target = case
        if patches:
            target = os.path.join(tmp, 'case.dtb')
            subprocess.run(['dtc', '-q', '-I', 'dts', '-O', 'dtb', '-o', target, case], check=True)
            blob = open(target, 'rb').read()
            for old, new in patches:
                assert len(old) == len(new) and old in blob, (old, new)
                blob = blob.replace(old, new)
            open(target, 'wb').write(blob)
        argv = []
        for a in args:
            m = re.search(r'@(\d+)@', a)
            if m:
                blob_path = os.path.join(tmp, 'blob%d' % len(argv))
                with open(blob_path, 'wb') as f:
                    f.write(b'\x1f' * int(m.group(1)))
                a = a.replace(m.group(0), blob_path)
            argv.append(a)
        proc = subprocess.run([tool, 'check'] + argv + [target], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
    out = proc.stderr.decode('utf-8', errors='replace')
    got = [l for l in out.splitlines() if l.startswith('manifest error: ')]
    ok = True
    if 'runtime error' in out or 'Sanitizer' in out:
        print('sanitizer report:\n' + out)
        ok = False
    want_rc = 1 if errors else 0
    if proc.returncode != want_rc:
        print('exit status %d, expected %d' % (proc.returncode, want_rc))
        ok = False
    if got != errors:
        print('expected:\n  ' + '\n  '.join(errors or ['(no errors)']))
        print('got:\n  ' + '\n  '.join(got or ['(no errors)']))
        ok = False
    if golden is not None:
        want = open(golden, encoding='utf-8').read()
        got_text = proc.stdout.decode('utf-8', errors='replace')
        if got_text != want:
            import difflib
            print('--print differs from %s:' % golden)
            sys.stdout.writelines(difflib.unified_diff(want.splitlines(True), got_text.splitlines(True),
                                                       'expected', 'got'))
            ok = False
    if not ok:
        sys.stdout.write(out)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
