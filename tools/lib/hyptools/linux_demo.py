"""tools/demo's default: two Linux guests and a real-time partition (tests/linux/linux-two.dts).

  python3 -m hyptools.linux_demo [--cache DIR]     (tools/demo runs it)

With a terminal on stdin, QEMU owns it after the explanation below is printed; its
escape key is Ctrl-T (-echr 20), so that Ctrl-A reaches the vuart service's focus
switch. Without a terminal (CI, pipes) the console is printed while the demo runs
itself: both guests to their shell prompts, a command typed into each through the
focus switch, then QEMU is stopped and the exit status says whether all that happened.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from . import linux, qemu

TIMEOUT_S = 300
ECHR = ['-echr', '20']  # Ctrl-T: QEMU's escape key, so Ctrl-A goes to the guests

EXPLAIN = '''\
sephyp demo: two unmodified Linux guests and a real-time partition on QEMU virt (arm64)
  lx1, lx2  Debian's arm64 kernel and a busybox shell; 2 vCPUs each on CPUs 0 and 1,
            256 MiB each, an SBSA UART each (emulated by the vuart service)
  rt        a bare-metal periodic task (1 ms) alone on CPU 3; every second it prints
            "[rt] rt: window N: ... worst jitter W insns ..." (how late its timer
            interrupt arrived, worst of the last 1000 periods)
  vuart     the service (on CPU 2) that owns the console: every line starts with the
            name of the partition that wrote it
Keyboard: it goes to one guest at a time; "[vuart] input goes to lx1" says which.
  Ctrl-A three times   move the keyboard to the next guest
  busy 10              (in a guest) load both its CPUs for 10 s, and watch [rt]
  echo c > /proc/sysrq-trigger   crash that guest: the other one and rt go on
  poweroff -f          stop that guest only
'''

INTERACTIVE_KEYS = '  Ctrl-T x              quit QEMU\n'


def prepare(cache, work):
    """The packed image (fetching the kernel and busybox first if needed), or None."""
    missing = linux.missing_builds(two=True)
    if missing:
        print('demo: not built: %s (ninja -C build/arm64)' % ', '.join(missing), file=sys.stderr)
        return None
    try:
        image, busybox = linux.fetch(cache)
    except (RuntimeError, subprocess.CalledProcessError, OSError) as err:
        print('demo: fetching the kernel and busybox failed: %s' % err, file=sys.stderr)
        return None
    rd = linux.initramfs(busybox, work)
    img = os.path.join(work, 'demo-linux.img')
    code, out = linux.pack(img, linux.MANIFEST_TWO, [image, linux.VUART, linux.RT_GUEST, rd])
    if code != 0:
        print('demo: pack failed:\n' + out, file=sys.stderr)
        return None
    return img


def run_unattended(img):
    """Both guests to their prompts, a command typed into each; True if all of it happened."""
    s = linux.Session(img, echo=True)
    try:
        if s.wait([r'^\[lx1\] linux-test: init started on lx1$',
                   r'^\[lx2\] linux-test: init started on lx2$',
                   r'^\[rt\] rt: window \d+: '], TIMEOUT_S) is None:
            return False
        for name in ('lx2', 'lx1'):
            if not s.focus(name):
                return False
            since = s.mark()
            s.type('echo "hello from $(hostname), $(nproc) CPUs"\n')
            if s.wait(r'^\[%s\] hello from %s, 2 CPUs$' % (name, name), 60, since) is None:
                return False
        return True
    finally:
        s.close()
        sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--cache', default=linux.default_cache())
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='sephyp-demo-')
    try:
        img = prepare(args.cache, work)
        if img is None:
            return 1
        interactive = sys.stdin.isatty()
        print(EXPLAIN + (INTERACTIVE_KEYS if interactive else ''))
        sys.stdout.flush()
        if interactive:
            argv = qemu.command('arm64', img, extra=linux.QEMU_EXTRA + ECHR)
            qemu.interactive(argv)
            return 0
        ok = run_unattended(img)
        print('\ndemo: %s' % ('both guests answered at their shell prompts' if ok else
                              'FAILED: the guests did not answer (see the console above)'))
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
