"""Linux guests for the linux suite (tests/linux/run.py), tools/demo and tools/bench.

- fetch(): Debian's arm64 kernel Image and busybox-static, with apt-get download, into
  a cache outside the tree (~/.cache/sephyp/linux; $XDG_CACHE_HOME is honoured), once.
- initramfs(): a gzipped newc cpio with busybox, an /init that starts a shell named
  after the partition (the generated device tree's model, "sephyp VM <name>"), and
  the small commands the tests type (`timers`, `busy`).
- pack(): tools/pack with build/arm64's kernel, a manifest and the blobs it names.
- Session: QEMU with its serial port on a pipe, read line by line, for typing into
  the guests' shells through the vuart service's console and waiting for what they
  print. Ctrl-A is QEMU's -nographic escape: typed twice it reaches the guest, so
  the vuart's focus switch (Ctrl-A three times) is six bytes.
"""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

from . import console, qemu

REPO = qemu.REPO
BUILD = os.path.join(REPO, 'build', 'arm64')
KERNEL = os.path.join(BUILD, 'platform', 'arm64', 'sephyp-arm64.bin')
VUART = os.path.join(BUILD, 'services', 'vuart', 'vuart.bin')
VITS = os.path.join(BUILD, 'services', 'vits', 'vits.bin')
VPCI = os.path.join(BUILD, 'services', 'vpci', 'vpci.bin')
VPCI_CRASH = os.path.join(BUILD, 'services', 'vpci', 'vpci-crash.bin')
DMOP = os.path.join(BUILD, 'services', 'dmop', 'dmop.bin')
RT_GUEST = os.path.join(BUILD, 'tests', 'linux', 'rt-guest.bin')
RT_PRIO = os.path.join(BUILD, 'tests', 'linux', 'rt-prio.bin')
MANIFEST_ONE = os.path.join(REPO, 'tests', 'linux', 'linux.dts')
MANIFEST_TWO = os.path.join(REPO, 'tests', 'linux', 'linux-two.dts')
MANIFEST_SHARED = os.path.join(REPO, 'tests', 'linux', 'linux-shared.dts')
# pauth-impdef: QEMU's architected pointer-authentication algorithm is most of its time otherwise.
QEMU_EXTRA = ['-cpu', 'max,pauth-impdef=on']
FOCUS_KEYS = b'\x01\x01' * 3

# The kernel package's modules the initramfs carries, in load order (dependencies first):
# the virtio-pci transport and the virtio entropy driver, for the vpci device model; then the
# virtio block driver and ext4 (which also mounts ext2) with what it needs, for its disk.
MODULES = ['drivers/virtio/virtio_pci_legacy_dev.ko', 'drivers/virtio/virtio_pci_modern_dev.ko',
           'drivers/virtio/virtio_pci.ko', 'drivers/char/hw_random/virtio-rng.ko']
DISK_MODULES = ['lib/crc16.ko', 'fs/mbcache.ko', 'fs/jbd2/jbd2.ko', 'crypto/crc32c_generic.ko',
                'fs/ext4/ext4.ko', 'drivers/block/virtio_blk.ko']


def _insmod_script(modules):
    return '#!/bin/busybox sh\n' + ''.join(
        'insmod /modules/%s || exit 1\n' % os.path.basename(m) for m in modules)


# /bin/virtio-up loads the virtio-pci transport and the entropy driver; /bin/disk-up (after
# it) the block driver and the file system.
VIRTIO_UP = _insmod_script(MODULES)
DISK_UP = _insmod_script(DISK_MODULES)

INIT = r'''#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
model=$(cat /proc/device-tree/model 2>/dev/null)
name=${model##* }
hostname "$name"
echo "linux-test: init started on $name"
echo "linux-test: shell at $(counter)"
export PS1="$name# "
exec setsid cttyhack sh
'''

# timers: each CPU's arch_timer count in /proc/interrupts, one second apart.
TIMERS = r'''#!/bin/sh
a=$(awk '/arch_timer/ { print $2, $3 }' /proc/interrupts)
sleep 1
b=$(awk '/arch_timer/ { print $2, $3 }' /proc/interrupts)
set -- $a $b
if [ "$3" -gt "$1" ] && [ "$4" -gt "$2" ]; then r="counting on both cpus"; else r="NOT counting"; fi
echo "arch_timer: cpu0 $1 -> $3, cpu1 $2 -> $4: $r"
'''

# busy N: both CPUs busy (a fork per loop) and a console line every 250 ms for N seconds.
BUSY = r'''#!/bin/sh
n=${1:-5}
echo "busy: start, $n s on both cpus"
end=$(( $(date +%s) + n ))
spin() { while [ "$(date +%s)" -lt "$end" ]; do :; done; }
spin &
spin &
i=0
while [ "$(date +%s)" -lt "$end" ]; do i=$((i + 1)); echo "busy: line $i"; usleep 250000; done
wait
echo "busy: done after $i lines"
'''


def _run(argv, cwd=None):
    proc = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          check=False)
    return proc.returncode, proc.stdout.decode('utf-8', 'replace')


def default_cache():
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'sephyp', 'linux')


def _arm64_enabled():
    code, out = _run(['dpkg', '--print-foreign-architectures'])
    return code == 0 and 'arm64' in out.split()


def _kernel_package():
    """The versioned package behind Debian's linux-image-arm64 meta-package."""
    _, out = _run(['apt-cache', 'depends', 'linux-image-arm64:arm64'])
    for line in out.splitlines():
        line = line.strip()
        if line.startswith('Depends: linux-image-') and line.endswith('-arm64:arm64'):
            return line.split()[1]
    return None


def module_paths(cache):
    return [os.path.join(cache, 'modules', os.path.basename(m)) for m in MODULES + DISK_MODULES]


def fetch(cache):
    """(Image, busybox) in the cache, fetched with apt-get download if missing (with MODULES)."""
    image = os.path.join(cache, 'Image')
    busybox = os.path.join(cache, 'busybox')
    if all(os.path.exists(p) for p in [image, busybox] + module_paths(cache)):
        return image, busybox
    os.makedirs(cache, exist_ok=True)
    added = False
    if not _arm64_enabled():
        subprocess.check_call(['dpkg', '--add-architecture', 'arm64'])
        added = True
    try:
        _, out = _run(['apt-get', 'update', '-qq'])
        pkg = _kernel_package()
        if pkg is None:
            raise RuntimeError('no linux-image-*-arm64 package found:\n' + out)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            code, out = _run(['apt-get', 'download', '-qq', pkg, 'busybox-static:arm64'], cwd=tmp)
            if code != 0:
                raise RuntimeError('apt-get download failed:\n' + out)
            root = os.path.join(tmp, 'x')
            for deb in glob.glob(os.path.join(tmp, '*.deb')):
                subprocess.check_call(['dpkg-deb', '-x', deb, root])
            vmlinuz = glob.glob(os.path.join(root, 'boot', 'vmlinuz-*'))
            if len(vmlinuz) != 1:
                raise RuntimeError('expected one vmlinuz in %s' % pkg)
            os.makedirs(os.path.join(cache, 'modules'), exist_ok=True)
            for module, path in zip(MODULES + DISK_MODULES, module_paths(cache)):
                found = glob.glob(os.path.join(root, 'lib', 'modules', '*', 'kernel', module))
                if len(found) != 1:
                    raise RuntimeError('expected one %s in %s' % (module, pkg))
                shutil.copyfile(found[0], path)
            shutil.copyfile(os.path.join(root, 'bin', 'busybox'), busybox + '.tmp')
            shutil.copyfile(vmlinuz[0], image + '.tmp')
            os.replace(busybox + '.tmp', busybox)
            os.replace(image + '.tmp', image)
            with open(os.path.join(cache, 'VERSION'), 'w', encoding='utf-8') as handle:
                handle.write(os.path.basename(vmlinuz[0]) + '\n')
    finally:
        if added:
            _run(['dpkg', '--remove-architecture', 'arm64'])
            _run(['apt-get', 'update', '-qq'])
    return image, busybox


COUNTER_C = os.path.join(REPO, 'tests', 'linux', 'counter.c')
CROSS_CC = 'aarch64-linux-gnu-gcc'


def initramfs(busybox, out_dir):
    """out_dir/initramfs.gz (blob name "initramfs"): busybox, /init, timers, busy, counter,
    and the MODULES (in /modules, loaded by /bin/virtio-up) from the cache beside busybox."""
    root = os.path.join(out_dir, 'root')
    for d in ('bin', 'proc', 'sys', 'dev', 'modules', 'mnt'):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for path in module_paths(os.path.dirname(busybox)):
        if os.path.exists(path):
            shutil.copyfile(path, os.path.join(root, 'modules', os.path.basename(path)))
    # counter (tests/linux/counter.c): the virtual counter at the shell's start, for the
    # linux_boot_to_shell figure; built with the cross compiler of the arm64 build.
    subprocess.check_call([CROSS_CC, '-O2', '-static', '-nostdlib', '-ffreestanding',
                           '-fno-stack-protector', '-o', os.path.join(root, 'bin', 'counter'),
                           COUNTER_C])
    files = {'bin/busybox': None, 'init': INIT, 'bin/timers': TIMERS, 'bin/busy': BUSY,
             'bin/virtio-up': VIRTIO_UP, 'bin/disk-up': DISK_UP}
    for name, text in files.items():
        path = os.path.join(root, name)
        if text is None:
            shutil.copyfile(busybox, path)
        else:
            with open(path, 'w', encoding='utf-8') as handle:
                handle.write(text)
        os.chmod(path, 0o755)
    names = subprocess.check_output(['find', '.'], cwd=root)
    cpio = subprocess.run(['cpio', '-o', '-H', 'newc', '--quiet', '-R', '0:0'], cwd=root,
                          input=names, stdout=subprocess.PIPE, check=True).stdout
    path = os.path.join(out_dir, 'initramfs.gz')
    gz = subprocess.run(['gzip', '-9', '-n'], input=cpio, stdout=subprocess.PIPE, check=True)
    with open(path, 'wb') as handle:
        handle.write(gz.stdout)
    return path


def pack(out, manifest, blobs):
    """tools/pack: (status, its output)."""
    return _run([os.path.join(REPO, 'tools', 'pack'), '-o', out, KERNEL, manifest] + list(blobs))


def missing_builds(two=False):
    """The build outputs a boot needs that are not there."""
    need = [KERNEL, VUART, VITS, VPCI, VPCI_CRASH, DMOP] + ([RT_GUEST, RT_PRIO] if two else [])
    return [p for p in need if not os.path.exists(p)]


def native_command(image, rd, bootargs):
    """
    QEMU running Linux directly (no hypervisor), under -icount, for the native side of
    linux_boot_to_shell: QEMU virt with the same GICv3 and CPU as the hypervisor's
    machine, 2 CPUs and 256 MiB like the guest, QEMU's own device tree and PL011.
    """
    return ['qemu-system-aarch64', '-M', 'virt,gic-version=3', '-cpu', 'max,pauth-impdef=on',
            '-smp', '2', '-m', '256M', '-nographic', '-no-reboot', '-kernel', image,
            '-initrd', rd, '-append', bootargs] + qemu.ICOUNT_ARGS


class Session:
    """QEMU running an image, its console read as lines while the test types into it."""

    def __init__(self, image, icount=False, echo=False, log=None, argv=None):
        if argv is None:
            argv = qemu.command('arm64', image, icount=icount, extra=QEMU_EXTRA)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self.echo = echo
        self.log = open(log, 'wb') if log else None
        self.lines = []
        self.partial = ''
        self.errors = []
        self.start = time.monotonic()
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self._read, daemon=True),
                        threading.Thread(target=self._read_errors, daemon=True)]
        for t in self.threads:
            t.start()

    def _read(self):
        raw = b''
        while True:
            data = os.read(self.proc.stdout.fileno(), 4096)
            if not data:
                break
            if self.echo:
                os.write(1, data)
            if self.log:
                self.log.write(data)
                self.log.flush()
            raw += data
            done, sep, rest = raw.rpartition(b'\n')
            with self.cond:
                if sep:
                    self.lines += console.clean_lines(done + b'\n')
                    raw = rest
                part = console.clean_lines(raw)
                self.partial = part[0] if part else ''
                self.cond.notify_all()
        with self.cond:
            if raw:
                self.lines += console.clean_lines(raw)
                self.partial = ''
            self.cond.notify_all()

    def _read_errors(self):
        for data in iter(lambda: os.read(self.proc.stderr.fileno(), 4096), b''):
            self.errors.append(data)

    def alive(self):
        return self.proc.poll() is None

    def mark(self):
        """The index the next line will have (to wait only for what comes after)."""
        with self.cond:
            return len(self.lines)

    def wait(self, patterns, timeout, since=0, partial=False):
        """
        Wait until every regex in patterns matched a line at or after `since` (and,
        with `partial`, the unfinished last line: a prompt). Returns {pattern: index}
        (the unfinished line's index is len(lines)), or None at timeout or QEMU's exit.
        """
        if isinstance(patterns, str):
            patterns = [patterns]
        found = {}
        checked = since
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(checked, len(self.lines)):
                    for p in patterns:
                        if p not in found and re.search(p, self.lines[i]):
                            found[p] = i
                checked = max(checked, len(self.lines))
                if partial:
                    for p in patterns:
                        if p not in found and self.partial and re.search(p, self.partial):
                            found[p] = len(self.lines)
                if len(found) == len(patterns):
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.threads[0].is_alive()):
                    return None
                self.cond.wait(min(left, 0.2))

    def type(self, text):
        """Bytes to the serial port, one at a time as a person types."""
        data = text.encode('utf-8') if isinstance(text, str) else text
        try:
            for byte in data:
                self.proc.stdin.write(bytes([byte]))
                self.proc.stdin.flush()
                time.sleep(0.01)
        except (BrokenPipeError, OSError):
            pass

    def focus(self, name, timeout=30):
        """Ctrl-A three times until the vuart says the keyboard goes to `name`."""
        for _ in range(4):
            since = self.mark()
            self.type(FOCUS_KEYS)
            got = self.wait(r'^\[vuart\] input goes to (\S+)', timeout, since)
            if got is None:
                return False
            line = self.lines[list(got.values())[0]]
            if re.match(r'^\[vuart\] input goes to %s\b' % re.escape(name), line):
                return True
        return False

    def seconds(self):
        return time.monotonic() - self.start

    def close(self):
        """Stop QEMU (and anything it started) if it still runs."""
        if self.proc.poll() is None:
            # pylint: disable=protected-access
            qemu._kill_group(self.proc)
        for t in self.threads:
            t.join(timeout=5)
        if self.log:
            self.log.close()
