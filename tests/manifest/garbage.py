#!/usr/bin/env python3
"""Garbage in, clear error out: the manifest checker on blobs that are not
manifests at all. Each case must exit 1 with the exact error (or, for the
mutated blobs, exit 0 or 1 with at least one `manifest error:` line on 1),
and the sanitizers the host build uses must stay silent.

  garbage.py TOOL BASE.dts CASE

CASE: empty | random | truncated | not-manifest | bad-totalsize | prop-length-wrap |
      old-version | mutations

prop-length-wrap is the libfdt 1.6.1 hang the fuzzer found: a property
length of 0xfffffff4 sends fdt_next_tag() back to the same token, so
fdt_check_full() never returns; kernel/manifest/manifest.c walks the tokens first.
"""

import os
import random
import subprocess
import sys
import tempfile

NOT_A_MANIFEST = b'''/dts-v1/;
/ {
	compatible = "linux,dummy-virt";
	#address-cells = <2>;
	#size-cells = <2>;
	memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x40000000>; };
	pl011@9000000 { compatible = "arm,pl011", "arm,primecell"; reg = <0x0 0x9000000 0x0 0x1000>; };
};
'''

EXPECT = {
    'empty': 'manifest error: /: manifest blob missing or shorter than a device-tree header',
    'random': 'manifest error: /: not a valid device-tree blob: FDT_ERR_BADMAGIC',
    'truncated': 'manifest error: /: not a valid device-tree blob: FDT_ERR_TRUNCATED',
    'not-manifest': 'manifest error: /: compatible: not a system manifest (expected "sephyp,manifest-v1")',
    'bad-totalsize': 'manifest error: /: not a valid device-tree blob: FDT_ERR_TRUNCATED',
    'prop-length-wrap': 'manifest error: /: not a valid device-tree blob: property length 0xfffffff4 runs past the structure block',
    'old-version': 'manifest error: /: device-tree version 16 is too old (17 needed)',
}


def dtc(src_path, out_path):
    subprocess.run(['dtc', '-q', '-I', 'dts', '-O', 'dtb', '-o', out_path, src_path], check=True)
    return open(out_path, 'rb').read()


def check(tool, path):
    try:
        proc = subprocess.run([tool, 'check', path], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False, timeout=20)
    except subprocess.TimeoutExpired:
        return 124, 'the checker hung (20 s)'
    err = proc.stderr.decode('utf-8', errors='replace')
    return proc.returncode, err


def main():
    tool, base, case = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        blob_path = os.path.join(tmp, 'case.dtb')
        good = dtc(base, os.path.join(tmp, 'base.dtb'))
        if case == 'mutations':
            rng = random.Random(20261124)
            for i in range(300):
                blob = bytearray(good)
                for _ in range(rng.randint(1, 8)):
                    blob[rng.randrange(len(blob))] = rng.randrange(256)
                open(blob_path, 'wb').write(blob)
                rc, err = check(tool, blob_path)
                lines = [l for l in err.splitlines() if l.startswith('manifest error: ')]
                if rc not in (0, 1) or 'Sanitizer' in err or 'runtime error' in err or \
                        (rc == 1 and not lines):
                    print('mutation %d: exit %d\n%s' % (i, rc, err))
                    return 1
            print('300 mutated blobs: no crash, every rejection explained')
            return 0
        if case == 'empty':
            blob = b''
        elif case == 'random':
            blob = bytes(random.Random(7).randrange(256) for _ in range(4096))
        elif case == 'truncated':
            blob = good[:len(good) // 2]
        elif case == 'prop-length-wrap':
            blob = bytearray(good)
            pos = int.from_bytes(good[8:12], 'big')  # off_dt_struct
            while int.from_bytes(blob[pos:pos + 4], 'big') != 3:  # to the first FDT_PROP
                if int.from_bytes(blob[pos:pos + 4], 'big') == 1:  # FDT_BEGIN_NODE + name
                    pos = (blob.index(0, pos + 4) + 1 + 3) & ~3
                else:
                    pos += 4
            blob[pos + 4:pos + 8] = (0xfffffff4).to_bytes(4, 'big')
            blob = bytes(blob)
        elif case == 'old-version':
            blob = good[:20] + (16).to_bytes(4, 'big') + (16).to_bytes(4, 'big') + good[28:]
        elif case == 'bad-totalsize':
            blob = good[:4] + (len(good) * 2).to_bytes(4, 'big') + good[8:]
        else:
            src = os.path.join(tmp, 'other.dts')
            open(src, 'wb').write(NOT_A_MANIFEST)
            blob = dtc(src, os.path.join(tmp, 'other.dtb'))
        open(blob_path, 'wb').write(blob)
        rc, err = check(tool, blob_path)
    lines = [l for l in err.splitlines() if l.startswith('manifest error: ')]
    if rc != 1 or lines != [EXPECT[case]] or 'Sanitizer' in err:
        print('exit %d, expected 1; expected %r, got:\n%s' % (rc, EXPECT[case], err))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
