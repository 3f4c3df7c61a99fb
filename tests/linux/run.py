#!/usr/bin/env python3
"""Suite linux: Debian's arm64 kernel in a VM partition (issue 12).

  tests/linux/run.py [--cache DIR] [--keep]

1. Fetch Debian's arm64 kernel and busybox-static with apt-get download into
   a cache outside the tree (default ~/.cache/sephyp/linux; $XDG_CACHE_HOME
   is honoured), once: the Image (vmlinuz, a raw arm64 Image with an EFI
   stub) and /bin/busybox are kept there.
2. Build a busybox initramfs with cpio and gzip; its /init checks the
   guest from inside and prints `linux-test: ...` lines.
3. Pack build/arm64's kernel, tests/linux/linux.dts, the Image, the SBSA UART
   stand-in (platform/arm64/tests/sbsa_stub.c) and the initramfs, boot it
   with tools/run-qemu and check the console; then the same system with
   32 MiB of guest RAM, where the Image does not fit: a clear boot error
   and status 1. TAP on stdout.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(REPO, 'build', 'arm64')
KERNEL = os.path.join(BUILD, 'platform', 'arm64', 'sephyp-arm64.bin')
STUB = os.path.join(BUILD, 'platform', 'arm64', 'tests', 'sbsa-stub.bin')
MANIFEST = os.path.join(HERE, 'linux.dts')
# pauth-impdef: QEMU's architected pointer-authentication algorithm is most of its time otherwise.
QEMU_ARGS = ['--qemu-arg=-cpu', '--qemu-arg=max,pauth-impdef=on']
TIMEOUT_S = 240

# What the guest's /init checks; each line it prints is matched below.
INIT = r'''#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
echo "linux-test: init started"
echo "linux-test: cpus online $(cat /sys/devices/system/cpu/online)"
sleep 1
awk '/arch_timer/ { if ($2 > 0 && $3 > 0) print "linux-test: timer interrupts on both cpus" }' /proc/interrupts
dmesg | grep -q "GICv3: CPU1: found redistributor 1 " && echo "linux-test: dmesg: GICv3 redistributor of cpu1"
dmesg | grep -q "ttyAMA0 at MMIO 0x9000000 .* is a SBSA" && echo "linux-test: dmesg: SBSA UART"
echo "linux-test: done"
poweroff -f
'''

EXPECT = [
    r'\[uart\] .*Booting Linux on physical CPU 0x0',
    r'linux-test: init started',
    r'linux-test: cpus online 0-1$',
    r'linux-test: timer interrupts on both cpus',
    r'linux-test: dmesg: GICv3 redistributor of cpu1',
    r'linux-test: dmesg: SBSA UART',
    r'linux-test: done',
    r"\[hyp\] partition 'linux' stopped: system off requested",
]


def log(msg):
    print('# ' + msg)
    sys.stdout.flush()


def run(argv, cwd=None):
    proc = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          check=False)
    return proc.returncode, proc.stdout.decode('utf-8', 'replace')


def arm64_enabled():
    code, out = run(['dpkg', '--print-foreign-architectures'])
    return code == 0 and 'arm64' in out.split()


def kernel_package():
    """The versioned package behind Debian's linux-image-arm64 meta-package."""
    code, out = run(['apt-cache', 'depends', 'linux-image-arm64:arm64'])
    for line in out.splitlines():
        line = line.strip()
        if line.startswith('Depends: linux-image-') and line.endswith('-arm64:arm64'):
            return line.split()[1]
    return None


def fetch(cache):
    """Image and busybox in the cache, fetched with apt-get download if missing."""
    image = os.path.join(cache, 'Image')
    busybox = os.path.join(cache, 'busybox')
    if os.path.exists(image) and os.path.exists(busybox):
        return image, busybox
    os.makedirs(cache, exist_ok=True)
    added = False
    if not arm64_enabled():
        subprocess.check_call(['dpkg', '--add-architecture', 'arm64'])
        added = True
    try:
        code, out = run(['apt-get', 'update', '-qq'])
        pkg = kernel_package()
        if pkg is None:
            raise RuntimeError('no linux-image-*-arm64 package found:\n' + out)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            code, out = run(['apt-get', 'download', '-qq', pkg, 'busybox-static:arm64'], cwd=tmp)
            if code != 0:
                raise RuntimeError('apt-get download failed:\n' + out)
            root = os.path.join(tmp, 'x')
            for deb in glob.glob(os.path.join(tmp, '*.deb')):
                subprocess.check_call(['dpkg-deb', '-x', deb, root])
            vmlinuz = glob.glob(os.path.join(root, 'boot', 'vmlinuz-*'))
            if len(vmlinuz) != 1:
                raise RuntimeError('expected one vmlinuz in %s' % pkg)
            shutil.copyfile(os.path.join(root, 'bin', 'busybox'), busybox + '.tmp')
            shutil.copyfile(vmlinuz[0], image + '.tmp')
            os.replace(busybox + '.tmp', busybox)
            os.replace(image + '.tmp', image)
            with open(os.path.join(cache, 'VERSION'), 'w', encoding='utf-8') as handle:
                handle.write(os.path.basename(vmlinuz[0]) + '\n')
    finally:
        if added:
            run(['dpkg', '--remove-architecture', 'arm64'])
            run(['apt-get', 'update', '-qq'])
    return image, busybox


def initramfs(busybox, out_dir):
    """A gzipped newc cpio with /bin/busybox and /init (named initramfs.gz: blob initramfs)."""
    root = os.path.join(out_dir, 'root')
    for d in ('bin', 'proc', 'sys', 'dev'):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copyfile(busybox, os.path.join(root, 'bin', 'busybox'))
    os.chmod(os.path.join(root, 'bin', 'busybox'), 0o755)
    with open(os.path.join(root, 'init'), 'w', encoding='utf-8') as handle:
        handle.write(INIT)
    os.chmod(os.path.join(root, 'init'), 0o755)
    names = subprocess.check_output(['find', '.'], cwd=root)
    cpio = subprocess.run(['cpio', '-o', '-H', 'newc', '--quiet', '-R', '0:0'], cwd=root,
                          input=names, stdout=subprocess.PIPE, check=True).stdout
    path = os.path.join(out_dir, 'initramfs.gz')
    gz = subprocess.run(['gzip', '-9', '-n'], input=cpio, stdout=subprocess.PIPE, check=True)
    with open(path, 'wb') as handle:
        handle.write(gz.stdout)
    return path


def too_small(image, rd, work):
    """The same system with 32 MiB of guest RAM: the Image does not fit, a clear boot error."""
    with open(MANIFEST, encoding='utf-8') as handle:
        source = handle.read()
    big = 'size = <0x0 0x10000000>;'
    if big not in source:
        return 1, ['not ok 1 - linux: the 32 MiB variant: %s has no %s' % (MANIFEST, big)]
    dts = os.path.join(work, 'small.dts')
    with open(dts, 'w', encoding='utf-8') as handle:
        handle.write(source.replace(big, 'size = <0x0 0x2000000>;', 1))
    img = os.path.join(work, 'small.img')
    code, out = run([sys.executable, os.path.join(REPO, 'tools', 'pack'), '-o', img,
                     KERNEL, dts, image, STUB, rd])
    if code != 0:
        return 1, ['not ok 1 - linux: the 32 MiB variant: pack failed'] + ['# ' + l for l in
                                                                        out.splitlines()]
    expect = os.path.join(work, 'small.expect')
    with open(expect, 'w', encoding='utf-8') as handle:
        handle.write('expect: manifest error: /partitions/linux: image: "Image" '
                     r'\(text_offset 0x0, 0x[0-9a-f]+ bytes\) does not fit in mapping ram '
                     r'\(0x2000000 bytes\)' '\n'
                     'expect-status: 1\n')
    argv = [sys.executable, os.path.join(REPO, 'tools', 'run-qemu'), '--platform', 'arm64',
            '--timeout', '60', '--expect-from', expect, img]
    code, lines = tap_of(argv)
    return code, [re.sub(r'^((not )?ok \d+ - )', r'\1too small: ', l) for l in lines]


def tap_of(argv):
    """Run a TAP producer; (exit status, its result lines without the plan)."""
    proc = subprocess.run(argv, stdout=subprocess.PIPE, check=False)
    lines = proc.stdout.decode('utf-8', 'replace').splitlines()
    return proc.returncode, [l for l in lines if not re.match(r'^1\.\.\d+$', l)]


def print_tap(lines):
    """One plan for both boots, results numbered again."""
    results = [l for l in lines if re.match(r'^(not )?ok\b', l)]
    print('1..%d' % len(results))
    n = 0
    for line in lines:
        m = re.match(r'^(not )?ok \d+ (.*)$', line)
        if m:
            n += 1
            line = '%sok %d %s' % (m.group(1) or '', n, m.group(2))
        print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    parser.add_argument('--cache', default=os.path.join(base, 'sephyp', 'linux'))
    parser.add_argument('--keep', action='store_true', help='keep the packed image and console')
    args = parser.parse_args()
    for path in (KERNEL, STUB):
        if not os.path.exists(path):
            print('1..1\nnot ok 1 - linux: %s is not built (ninja -C build/arm64)' % path)
            return 1
    try:
        image, busybox = fetch(args.cache)
    except (RuntimeError, subprocess.CalledProcessError, OSError) as err:
        print('1..1\nnot ok 1 - linux: fetching the kernel and busybox failed: %s' % err)
        return 1
    work = tempfile.mkdtemp(prefix='sephyp-linux-')
    try:
        rd = initramfs(busybox, work)
        img = os.path.join(work, 'linux.img')
        code, out = run([sys.executable, os.path.join(REPO, 'tools', 'pack'), '-o', img,
                         KERNEL, MANIFEST, image, STUB, rd])
        if code != 0:
            print('1..1\nnot ok 1 - linux: pack failed\n' + '\n'.join('# ' + l for l in
                                                                   out.splitlines()))
            return 1
        argv = [sys.executable, os.path.join(REPO, 'tools', 'run-qemu'), '--platform', 'arm64',
                '--timeout', str(TIMEOUT_S), '--console-out', os.path.join(work, 'console.txt')]
        argv += QEMU_ARGS + ['--expect=' + e for e in EXPECT] + [img]
        code, lines = tap_of(argv)
        small, more = too_small(image, rd, work)
        print_tap(lines + more)
        if args.keep:
            log('kept %s' % work)
        return 1 if code or small else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
