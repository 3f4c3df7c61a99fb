"""Build QEMU command lines and boot an image with a timeout, capturing the console.

The command for each platform lives in tools/qemu/<platform>.args (one
argument per line, `@IMAGE@` replaced by the image path), written by the
platform engineers; the defaults below are used while a file is missing.
"""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

from . import console

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

PLATFORMS = ('arm64', 'x86_64')

DEFAULT_ARGS = {
    'arm64': ['qemu-system-aarch64', '-M', 'virt,virtualization=on,gic-version=3,its=on',
              '-cpu', 'max', '-smp', '4', '-m', '1G', '-nographic', '-no-reboot',
              '-kernel', '@IMAGE@'],
    'x86_64': ['qemu-system-x86_64', '-cpu', 'max', '-m', '1G', '-nographic', '-no-reboot',
               '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', '@IMAGE@'],
}

# Deterministic instruction counting (docs/benchmarks.md): one instruction per
# virtual nanosecond, and no sleeping in WFI/HLT so idle time is not counted as wall time.
ICOUNT_ARGS = ['-icount', 'shift=0,sleep=off']
GDB_ARGS = ['-s', '-S']

# After the kernel's last line, how long QEMU may take to exit by itself.
EXIT_GRACE_S = 5.0
# After a panic report starts, how long to keep reading before stopping QEMU.
PANIC_GRACE_S = 2.0


def args_file(platform):
    return os.path.join(REPO, 'tools', 'qemu', platform + '.args')


def command(platform, image, icount=False, gdb=False, extra=()):
    """The full QEMU argv for booting `image` on `platform`."""
    if platform not in PLATFORMS:
        raise ValueError('unknown platform %r (expected one of %s)' % (platform, ', '.join(PLATFORMS)))
    path = args_file(platform)
    if os.path.exists(path):
        with open(path, encoding='utf-8') as handle:
            template = [line.rstrip('\n') for line in handle]
        template = [arg for arg in template if arg.strip() and not arg.lstrip().startswith('#')]
        if not template:
            raise ValueError('%s has no arguments' % path)
    else:
        template = list(DEFAULT_ARGS[platform])
    if not any('@IMAGE@' in arg for arg in template):
        raise ValueError('%s: no @IMAGE@ argument' % (path if os.path.exists(path) else 'default'))
    argv = [arg.replace('@IMAGE@', image) for arg in template]
    if icount:
        argv += ICOUNT_ARGS
    if gdb:
        argv += GDB_ARGS
    argv += list(extra)
    if shutil.which(argv[0]) is None:
        raise ValueError('%s not found (tools/setup installs QEMU)' % argv[0])
    return argv


class BootResult:
    """The console (QEMU's stdout) and QEMU's own messages (stderr), kept apart."""

    def __init__(self, lines, timed_out, returncode, seconds, qemu_messages=()):
        self.lines = lines
        self.qemu_messages = list(qemu_messages)
        self.timed_out = timed_out
        self.returncode = returncode
        self.seconds = seconds
        self.stopped = False    # QEMU lingered after the last kernel line and was stopped


def _kill_group(proc):
    """Stop QEMU and anything it started: it runs in its own process group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=2)
            return
        except subprocess.TimeoutExpired:
            continue


def _type(proc, data):
    """Keyboard input for the guest: a byte at a time, as a person types."""
    try:
        for byte in data:
            proc.stdin.write(bytes([byte]))
            proc.stdin.flush()
            time.sleep(0.01)
    except (BrokenPipeError, OSError):
        pass


def boot(argv, timeout, echo=False, inputs=()):
    """Run QEMU, capture the console, stop it on timeout.

    inputs: (compiled regex, bytes) pairs: once a console line (or the
    unfinished last line: a prompt) matches, the bytes are written to QEMU's
    stdin (its serial port under -nographic), each pair once, in order.
    Without inputs stdin is closed.

    Returns a BootResult. QEMU normally exits by itself after the kernel's
    "system off" line (PSCI SYSTEM_OFF / isa-debug-exit); if it does not,
    it is stopped after a short grace period, which is not a failure.
    """
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if inputs else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    pending = list(inputs)
    chunks = []
    errors = []
    state = {'stop_at': None}
    lock = threading.Lock()

    def reader():
        partial = b''
        while True:
            data = os.read(proc.stdout.fileno(), 4096)
            if not data:
                break
            if echo:
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
            with lock:
                chunks.append(data)
            partial = (partial + data)[-65536:]
            # Decide early stops on complete lines only.
            text = partial.decode('utf-8', errors='replace')
            if '\n' in text:
                done, _, rest = text.rpartition('\n')
                partial = rest.encode('utf-8')
                for line in console.clean_lines(done):
                    if pending and pending[0][0].search(line):
                        _type(proc, pending.pop(0)[1])
                    now = time.monotonic()
                    grace = None
                    if console.STATUS_RE.match(line):
                        grace = EXIT_GRACE_S
                    elif console.PANIC_MARK in line:
                        grace = PANIC_GRACE_S
                    if grace is not None:
                        with lock:
                            if state['stop_at'] is None:
                                state['stop_at'] = now + grace
            # A prompt: the unfinished last line, waiting for the input.
            prompt = console.clean_lines(partial.decode('utf-8', errors='replace'))
            if pending and prompt and pending[0][0].search(prompt[0]):
                _type(proc, pending.pop(0)[1])

    def error_reader():
        for data in iter(lambda: os.read(proc.stderr.fileno(), 4096), b''):
            errors.append(data)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    error_thread = threading.Thread(target=error_reader, daemon=True)
    error_thread.start()
    deadline = start + timeout if timeout else None
    timed_out = False
    stopped = False
    try:
        while proc.poll() is None:
            now = time.monotonic()
            with lock:
                stop_at = state['stop_at']
            if stop_at is not None and now >= stop_at:
                stopped = True
                break
            if deadline is not None and now >= deadline:
                timed_out = True
                break
            time.sleep(0.02)
    finally:
        # Also on Ctrl-C or SIGTERM (meson's own timeout): never leave QEMU behind.
        if proc.poll() is None:
            _kill_group(proc)
    thread.join(timeout=5)
    error_thread.join(timeout=5)
    seconds = time.monotonic() - start
    with lock:
        data = b''.join(chunks)
    result = BootResult(console.clean_lines(data), timed_out, proc.returncode, seconds,
                        console.clean_lines(b''.join(errors)))
    result.stopped = stopped
    return result


def interactive(argv):
    """Hand the terminal to QEMU (-nographic: Ctrl-A X quits); returns its exit code."""
    try:
        return subprocess.call(argv)
    except KeyboardInterrupt:
        return 130
