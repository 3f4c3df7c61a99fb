#!/usr/bin/env python3
"""Boot the x86-late-ap image and ask QEMU where each parked AP's stack is (TAP output).

  late_ap.py --elf KERNEL.elf --layout layout.h [--nm NM] --expect-from MANIFEST.dts IMAGE

The kernel of this test gives up on every AP before its Startup IPI
(platform/x86/smp.c, X86_TEST_AP_LATE), so every AP arrives late and must
park on a stack of its own (ap_boot.S claims one per AP). The console reads
the same whether or not two APs share a stack, so this test also looks from
outside the kernel: QEMU runs with tools/run-qemu's command plus a QMP
socket, and without the isa-debug-exit device, so the machine stays up
after the kernel's "system off" line with every CPU halted. Once QEMU
reports every CPU halted with interrupts off inside the kernel image (the
parked APs, and the boot CPU in x86_halt_forever), this takes that
`info registers -a` and quits QEMU.

Checks, one TAP line each:
  - everything tools/run-qemu checks, with the `expect:` lines of MANIFEST;
  - `x86_stacks` (address and size from `nm -S` on KERNEL.elf) is
    X86_CPU_MAX stacks of X86_STACK_SIZE bytes (both read from layout.h);
  - QEMU reported that final state;
  - each AP's RSP lies in x86_stacks, in a slot other than the boot CPU's
    (slot 0);
  - no two APs are in the same slot.
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, 'tools', 'lib'))

from hyptools import console, qemu  # noqa: E402

POLL_S = 0.05
TAIL_LINES = 60
CPU_RE = re.compile(r'^CPU#(\d+)')
# A CPU outside long mode shows EIP, ESP and EFL instead.
REG_RE = re.compile(r'\b([RE]IP|[RE]SP|[RE]FL|HLT)=([0-9a-fA-F]+)')
RFLAGS_IF = 1 << 9


def layout_value(text, name):
    match = re.search(r'^#define\s+%s\s+(0x[0-9a-fA-F]+|\d+)\b' % name, text, re.M)
    if not match:
        raise ValueError('no #define %s' % name)
    return int(match.group(1), 0)


def read_symbols(nm, elf):
    """{name: (address, size)} and the sorted text symbols, from `nm -S`."""
    out = subprocess.run([nm, '-S', elf], stdout=subprocess.PIPE, check=True).stdout
    symbols = {}
    text = []
    for line in out.decode().splitlines():
        fields = line.split()
        if len(fields) == 4:
            addr, size, kind, name = int(fields[0], 16), int(fields[1], 16), fields[2], fields[3]
        elif len(fields) == 3:
            addr, size, kind, name = int(fields[0], 16), 0, fields[1], fields[2]
        else:
            continue
        symbols[name] = (addr, size)
        if kind in 'Tt':
            text.append((addr, name))
    return symbols, sorted(text)


def symbolize(text, addr):
    best = None
    for sym_addr, name in text:
        if sym_addr > addr:
            break
        best = (sym_addr, name)
    return '%s+0x%x' % (best[1], addr - best[0]) if best else '?'


def parse_registers(dump):
    """`info registers -a` -> {cpu: {'RIP': int, 'RSP': int, 'RFL': int, 'HLT': int}}."""
    cpus = {}
    current = None
    for line in dump.splitlines():
        match = CPU_RE.match(line)
        if match:
            current = cpus.setdefault(int(match.group(1)), {})
            continue
        if current is not None:
            for name, value in REG_RE.findall(line):
                current['R' + name[1:] if name != 'HLT' else name] = int(value, 16)
    return cpus


def is_final(cpus, image):
    """Every CPU halted with interrupts off, in the kernel: nothing will move again."""
    return bool(cpus) and all(
        regs.get('HLT') == 1 and not regs.get('RFL', RFLAGS_IF) & RFLAGS_IF and
        image[0] <= regs.get('RIP', -1) < image[1] for regs in cpus.values())


class Qmp:
    """The few QMP commands this test needs, over QEMU's unix socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.stream = self.sock.makefile('rw', encoding='utf-8')
        self._reply()  # the greeting
        self.execute('qmp_capabilities')

    def _reply(self):
        while True:
            line = self.stream.readline()
            if not line:
                raise ConnectionError('QMP connection closed')
            reply = json.loads(line)
            if 'event' not in reply:
                return reply

    def execute(self, command, **arguments):
        message = {'execute': command}
        if arguments:
            message['arguments'] = arguments
        self.stream.write(json.dumps(message) + '\n')
        self.stream.flush()
        reply = self._reply()
        if 'error' in reply:
            raise RuntimeError('QMP %s: %s' % (command, reply['error'].get('desc')))
        return reply.get('return')

    def close(self):
        self.sock.close()


class Watcher:
    """Polls QEMU's registers until the machine is in its final state, then quits QEMU."""

    def __init__(self, path, image):
        self.path = path
        self.image = image
        self.done = threading.Event()
        self.final = None   # the registers in the final state
        self.last = None    # the last registers read, for diagnostics
        self.error = None

    def run(self):
        qmp = None
        try:
            while not os.path.exists(self.path):
                if self.done.wait(0.01):
                    return
            qmp = Qmp(self.path)
            while not self.done.is_set():
                dump = qmp.execute('human-monitor-command', **{'command-line': 'info registers -a'})
                self.last = parse_registers(dump)
                if is_final(self.last, self.image):
                    self.final = self.last
                    qmp.execute('quit')
                    return
                self.done.wait(POLL_S)
        except (OSError, ValueError, RuntimeError) as err:
            # QEMU exited on its own (a crash, or the runner stopped it).
            self.error = str(err)
        finally:
            if qmp is not None:
                qmp.close()


def without_debug_exit(argv):
    out = []
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
        elif arg == '-device' and i + 1 < len(argv) and argv[i + 1].startswith('isa-debug-exit'):
            skip = True
        else:
            out.append(arg)
    return out


def stack_checks(cpus, base, slot_size, total, text):
    """One check per AP (its RSP in x86_stacks, not slot 0), and one that no slot is shared."""
    checks = []
    owners = {}
    for cpu in sorted(cpus):
        if cpu == 0:
            continue
        regs = cpus[cpu]
        rsp, rip = regs.get('RSP', 0), regs.get('RIP', 0)
        where = 'RIP 0x%x (%s), RSP 0x%x' % (rip, symbolize(text, rip), rsp)
        if base < rsp <= base + total:
            slot = (rsp - base - 1) // slot_size
            owners.setdefault(slot, []).append(cpu)
            checks.append(console.Check(slot != 0, 'CPU %d rests on x86_stacks slot %d, not the '
                                        "boot CPU's (%s)" % (cpu, slot, where)))
        else:
            checks.append(console.Check(False, 'CPU %d rests on a kernel stack (%s is outside '
                                        'x86_stacks 0x%x-0x%x)' % (cpu, where, base, base + total)))
    shared = ['slot %d: CPUs %s' % (slot, ', '.join(map(str, who)))
              for slot, who in sorted(owners.items()) if len(who) > 1]
    aps = max(len(cpus) - 1, 0)
    placed = sum(len(who) for who in owners.values())
    checks.append(console.Check(aps > 0 and placed == aps and not shared,
                                'every AP on a stack of its own (%d APs, %d on kernel stacks, %d slots)'
                                % (aps, placed, len(owners)), shared))
    return checks


def main():
    # SIGTERM (meson's test timeout) unwinds like Ctrl-C, so qemu.boot stops QEMU.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--elf', required=True, help='the kernel ELF the image was made from')
    parser.add_argument('--layout', required=True, help='platform/x86/include/x86/layout.h')
    parser.add_argument('--nm', default='nm')
    parser.add_argument('--expect-from', action='append', default=[], metavar='FILE')
    parser.add_argument('--timeout', type=float, default=60.0)
    parser.add_argument('image')
    args = parser.parse_args()

    expect = console.Expectations()
    try:
        for path in args.expect_from:
            expect.load_file(path)
        with open(args.layout, encoding='utf-8') as handle:
            layout = handle.read()
        cpu_max = layout_value(layout, 'X86_CPU_MAX')
        slot_size = layout_value(layout, 'X86_STACK_SIZE')
        symbols, text = read_symbols(args.nm, args.elf)
        base, total = symbols['x86_stacks']
        image = (symbols['__image_start'][0], symbols['__image_end'][0])
        argv = qemu.command('x86_64', os.path.abspath(args.image))
    except (OSError, ValueError, KeyError, subprocess.CalledProcessError) as err:
        print('late_ap.py: %s' % err, file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix='late-ap-') as tmp:
        qmp_path = os.path.join(tmp, 'qmp.sock')
        argv = without_debug_exit(argv) + ['-qmp', 'unix:%s,server=on,wait=off' % qmp_path]
        watcher = Watcher(qmp_path, image)
        thread = threading.Thread(target=watcher.run, daemon=True)
        thread.start()
        try:
            result = qemu.boot(argv, args.timeout)
        finally:
            watcher.done.set()
            thread.join(timeout=15)

    checks = console.evaluate(result.lines, expect, result.timed_out, args.timeout)
    checks.append(console.Check(total == cpu_max * slot_size,
                                'x86_stacks (0x%x, %d bytes) is %d stacks of %d bytes'
                                % (base, total, cpu_max, slot_size)))
    cpus = watcher.final or watcher.last or {}
    detail = ['qemu saw %d CPUs; last look: %s' % (len(cpus), ', '.join(
        'CPU %d RIP 0x%x RSP 0x%x RFLAGS 0x%x HLT=%d' % (cpu, r.get('RIP', 0), r.get('RSP', 0),
                                                       r.get('RFL', 0), r.get('HLT', 0))
        for cpu, r in sorted(cpus.items())))]
    if watcher.error:
        detail.append('QMP: %s' % watcher.error)
    checks.append(console.Check(watcher.final is not None,
                                'QEMU shows every CPU halted with interrupts off in the kernel',
                                [] if watcher.final else detail))
    checks += stack_checks(cpus, base, slot_size, total, text)

    passed = all(check.ok for check in checks)
    for line in console.format_tap(checks, result.lines[-TAIL_LINES:]):
        print(line)
    if not passed:
        for line in result.qemu_messages[-20:]:
            print('# qemu: ' + line)
    print('# qemu exit code %s after %.1f s' % (result.returncode, result.seconds))
    sys.stdout.flush()
    return 0 if passed else 1


if __name__ == '__main__':
    sys.exit(main())
