#!/usr/bin/env python3
"""Self-tests of the harness itself (the `tools` suite of tools/test); prints TAP.

The runner decides whether every other in-QEMU test passes, so its rules are
tested here on canned consoles, and once on a real QEMU boot of a tiny arm64
image assembled on the fly. The packer is checked against the layout of
kernel/include/kernel/package.h, and the static checks must find bugs planted
in freestanding arm64 code (which clang only sees when retargeted).
"""

import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)

from hyptools import console, qemu, trace  # noqa: E402

REPO = qemu.REPO
GOOD = """SeaBIOS (version 1.16)
[hyp] boot
[svc] 1..2
[svc] ok 1 - first
[svc] some output
[svc] ok 2 - second
[hyp] system off: status=0
"""


def evaluate(text, patterns=(), status=0, panic=False):
    expect = console.Expectations()
    for pattern in patterns:
        expect.add_pattern(pattern, 'test')
    expect.status, expect.panic = status, panic
    return console.evaluate(console.clean_lines(text), expect)


def failed(checks):
    return [c.name for c in checks if not c.ok]


class ConsoleRules(unittest.TestCase):
    def test_good_console_passes(self):
        self.assertEqual(failed(evaluate(GOOD, [r'\[svc\] some output'])), [])

    def test_not_ok_fails(self):
        self.assertTrue(failed(evaluate(GOOD.replace('ok 2', 'not ok 2'))))

    def test_todo_not_ok_passes(self):
        self.assertEqual(failed(evaluate(GOOD.replace('ok 2 - second', 'not ok 2 - x # TODO'))), [])

    def test_missing_plan_fails(self):
        self.assertTrue(failed(evaluate(GOOD.replace('[svc] 1..2\n', ''))))

    def test_fewer_results_than_planned_fails(self):
        self.assertTrue(failed(evaluate(GOOD.replace('1..2', '1..3'))))

    def test_bail_out_fails(self):
        self.assertTrue(failed(evaluate(GOOD.replace('[svc] some output', '[svc] Bail out! no'))))

    def test_panic_fails(self):
        self.assertTrue(failed(evaluate(GOOD + '[hyp] KERNEL PANIC at x.c:1\n')))

    def test_expected_panic_passes_without_status(self):
        text = '[hyp] boot\n[hyp] KERNEL PANIC at x.c:1\n'
        self.assertEqual(failed(evaluate(text, panic=True)), [])
        self.assertTrue(failed(evaluate('[hyp] boot\n', panic=True)))

    def test_missing_system_off_fails(self):
        self.assertTrue(failed(evaluate(GOOD.replace('[hyp] system off: status=0\n', ''))))

    def test_status_must_match(self):
        self.assertTrue(failed(evaluate(GOOD)) == [] and failed(evaluate(GOOD, status=3)))
        text = GOOD.replace('status=0', 'status=3')
        self.assertEqual(failed(evaluate(text, status=3)), [])

    def test_unprefixed_line_after_boot_fails(self):
        self.assertTrue(failed(evaluate(GOOD.replace('[svc] some output', 'some output'))))

    def test_unmatched_expect_fails(self):
        self.assertTrue(failed(evaluate(GOOD, [r'\[svc\] not printed'])))

    def test_no_kernel_line_fails(self):
        self.assertTrue(failed(evaluate('[svc] 1..1\n[svc] ok 1\n')))

    def test_control_characters_are_cleaned(self):
        self.assertEqual(console.clean_lines(b'\x1b[2J\x1bc[hyp] a\r\n'), ['[hyp] a'])

    def test_expect_file_parsing(self):
        with tempfile.NamedTemporaryFile('w', suffix='.dts', delete=False) as handle:
            handle.write('/*\n * expect: \\[a\\] b\n * expect-status: 3\n * expect: c */\n'
                         ' * expect-panic\n */\n')
        try:
            expect = console.Expectations()
            expect.load_file(handle.name)
        finally:
            os.unlink(handle.name)
        self.assertEqual([p for p, _ in expect.patterns], [r'\[a\] b', 'c'])
        self.assertEqual((expect.status, expect.panic), (3, True))

    def _counted(self, text, line):
        """Checks of a console whose [c] lines are text, against an expect file's line."""
        with tempfile.NamedTemporaryFile('w', suffix='.dts', delete=False) as handle:
            handle.write('/*\n * %s\n */\n' % line)
        try:
            expect = console.Expectations()
            expect.load_file(handle.name)
        finally:
            os.unlink(handle.name)
        lines = console.clean_lines(GOOD.replace('[svc] some output\n', text))
        return failed(console.evaluate(lines, expect)), expect

    def test_expect_counted(self):
        ok = ''.join('[c] n=%03d\n' % i for i in range(3))
        self.assertEqual(self._counted(ok, 'expect-counted: [c] n= 3')[0], [])
        self.assertTrue(self._counted(ok.replace('n=001', 'n=002'), 'expect-counted: [c] n= 3')[0])
        self.assertTrue(self._counted(ok + '[c] n=002\n', 'expect-counted: [c] n= 3')[0])
        self.assertTrue(self._counted(ok, 'expect-counted: [c] n= 4')[0])
        spaced = ''.join('[c] line %03d\n' % i for i in range(2))
        self.assertEqual(self._counted(spaced, 'expect-counted: [c] line 2')[0], [])

    def test_expect_count_and_input(self):
        text = '[c] x\n[c] x\n'
        self.assertEqual(self._counted(text, 'expect-count: 2 ^\\[c\\] x$')[0], [])
        self.assertTrue(self._counted(text, 'expect-count: 1 ^\\[c\\] x$')[0])
        _, expect = self._counted(text, 'input-after: ^\\[c\\] ready$ => ab\\x01\\n')
        self.assertEqual(len(expect.inputs), 1)
        self.assertTrue(expect.inputs[0][0].search('[c] ready'))
        self.assertEqual(expect.inputs[0][1], b'ab\x01\n')

    def test_expect_ratio(self):
        text = '[a] spun 2000\n[b] spun 1000\n'
        line = 'expect-ratio: 1.9 2.1 ^\\[a\\] spun (\\d+) / ^\\[b\\] spun (\\d+) */'
        self.assertEqual(self._counted(text, line)[0], [])
        self.assertTrue(self._counted(text.replace('2000', '2300'), line)[0])
        self.assertTrue(self._counted('[a] spun 2000\n', line)[0])
        with self.assertRaises(ValueError):
            self._counted(text, 'expect-ratio: 1 2 ^\\[a\\] spun \\d+ / b(\\d)')


class Pack(unittest.TestCase):
    def test_layout(self):
        with tempfile.TemporaryDirectory() as tmp:
            kernel = os.path.join(tmp, 'kernel.bin')
            dtb = os.path.join(tmp, 'm.dtb')
            img = os.path.join(tmp, 'svc-a.bin')
            with open(kernel, 'wb') as handle:
                handle.write(b'K' * 5000)
            with open(dtb, 'wb') as handle:
                handle.write(b'\xd0\x0d\xfe\xed' + struct.pack('>I', 40) + bytes(32))
            with open(img, 'wb') as handle:
                handle.write(b'I' * 10)
            out = os.path.join(tmp, 'out.img')
            subprocess.run([os.path.join(REPO, 'tools', 'pack'), '-o', out, kernel, dtb, img],
                           check=True)
            data = open(out, 'rb').read()
        self.assertEqual(data[:5000], b'K' * 5000)
        self.assertEqual(data[5000:8192], bytes(8192 - 5000))
        pkg = data[8192:]
        magic, count, total = struct.unpack('<8sII', pkg[:16])
        self.assertEqual((magic, count, total, len(pkg)), (b'HYPPKG01', 2, 8192 + 10, 8192 + 10))
        entries = [struct.unpack('<32sII', pkg[16 + 40 * i:56 + 40 * i]) for i in range(count)]
        self.assertEqual([(n.rstrip(b'\0'), o, s) for n, o, s in entries],
                         [(b'manifest', 4096, 40), (b'svc-a', 8192, 10)])
        self.assertEqual(pkg[8192:], b'I' * 10)

    def test_rejects_non_dtb_manifest(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'x.bin')
            with open(path, 'wb') as handle:
                handle.write(b'not a dtb' * 10)
            proc = subprocess.run([os.path.join(REPO, 'tools', 'pack'), '-o',
                                   os.path.join(tmp, 'o'), path, path], capture_output=True)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b'not a flattened device tree', proc.stderr)


# A bare arm64 Image (Linux Image header, ARM's booting.txt) that prints a
# console transcript on the PL011 at 0x09000000 and powers off through PSCI
# SYSTEM_OFF (0x84000008, DEN 0022) over SMC. Secondary CPUs park.
ARM64_IMAGE = r'''
	.globl _start
_start:	b 1f
	.long 0
	.quad 0x80000, 0x10000, 0, 0, 0, 0
	.ascii "ARM\x64"
	.long 0
1:	mrs x5, mpidr_el1
	and x5, x5, #0xff
	cbnz x5, 4f
	adr x1, msg
	ldr x2, =0x09000000
2:	ldrb w3, [x1], #1
	cbz w3, 3f
	strb w3, [x2]
	b 2b
3:	%s
	ldr x0, =0x84000008
	smc #0
4:	wfe
	b 4b
msg:	.asciz "%s"
'''


@unittest.skipUnless(all(map(lambda t: subprocess.call(['which', t], stdout=subprocess.DEVNULL) == 0,
                             ['aarch64-linux-gnu-gcc', 'qemu-system-aarch64'])),
                     'needs aarch64-linux-gnu-gcc and qemu-system-aarch64')
class RealBoot(unittest.TestCase):
    def image(self, tmp, text, hang=False):
        src = os.path.join(tmp, 't.S')
        with open(src, 'w') as handle:
            handle.write(ARM64_IMAGE % ('b 4f' if hang else 'nop', text.replace('\n', '\\n')))
        elf, out = os.path.join(tmp, 't.elf'), os.path.join(tmp, 't.bin')
        subprocess.run(['aarch64-linux-gnu-gcc', '-nostdlib', '-static', '-Wl,-Ttext=0x0',
                        '-o', elf, src], check=True)
        subprocess.run(['aarch64-linux-gnu-objcopy', '-O', 'binary', elf, out], check=True)
        return out

    def run_qemu(self, image, *extra):
        return subprocess.run([os.path.join(REPO, 'tools', 'run-qemu'), '--platform', 'arm64',
                               '--icount'] + list(extra) + [image], capture_output=True, text=True)

    def test_boot_passes_and_qemu_exits(self):
        with tempfile.TemporaryDirectory() as tmp:
            proc = self.run_qemu(self.image(tmp, GOOD.split('\n', 1)[1]), '--expect', 'some out')
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertTrue(proc.stdout.startswith('1..'), proc.stdout)
        self.assertNotIn('stopped by the runner', proc.stdout)

    def test_hang_times_out(self):
        with tempfile.TemporaryDirectory() as tmp:
            proc = self.run_qemu(self.image(tmp, '[hyp] boot\n', hang=True), '--timeout', '2')
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertIn('not ok 1 - qemu finished within 2.0 s', proc.stdout)
        self.assertIn('# | [hyp] boot', proc.stdout)


PLANTED = """#include <stdint.h>
static inline uint64_t el(void)
{
	uint64_t v;
	__asm__ volatile("mrs %0, CurrentEL" : "=r"(v));
	return v;
}
int planted(int i)
{
	int a[4];
	int x;
	if (el() > UINT64_C(4))
		x = 1;
	a[i] = 0;
	return x + a[4];
}
"""


def have(*tools):
    return all(subprocess.call(['which', t], stdout=subprocess.DEVNULL) == 0 for t in tools)


@unittest.skipUnless(have('aarch64-linux-gnu-gcc', 'cppcheck', 'analyze-build-14'),
                     'needs the cross gcc, cppcheck and clang-tools-14')
class StaticChecks(unittest.TestCase):
    """The static suite must find planted bugs in freestanding arm64 code."""

    def setUp(self):
        from hyptools import static
        self.static = static
        self.tmp = tempfile.TemporaryDirectory()
        root = self.tmp.name
        os.makedirs(os.path.join(root, 'kernel'))
        os.makedirs(os.path.join(root, 'build', 'arm64'))
        with open(os.path.join(root, 'kernel', 'planted.c'), 'w') as handle:
            handle.write(PLANTED)
        gcc_include = subprocess.check_output(['aarch64-linux-gnu-gcc',
                                               '-print-file-name=include'], text=True).strip()
        # The same shape as a Meson cross entry, with a flag only gcc knows.
        command = ('aarch64-linux-gnu-gcc -I../../kernel -ffreestanding -nostdinc -I%s '
                   '-fno-tree-loop-distribute-patterns -mgeneral-regs-only -march=armv8-a -std=c11 -O2 '
                   '-o planted.o -c ../../kernel/planted.c' % gcc_include)
        with open(os.path.join(root, 'build', 'arm64', 'compile_commands.json'), 'w') as handle:
            json.dump([{'directory': os.path.join(root, 'build', 'arm64'),
                        'command': command, 'file': '../../kernel/planted.c'}], handle)
        self.saved = static.REPO
        static.REPO = root

    def tearDown(self):
        self.static.REPO = self.saved
        self.tmp.cleanup()

    def test_analyzer_finds_planted_bug_in_cross_code(self):
        ok, summary, detail = self.static.analyze_build('build/arm64')
        self.assertFalse(ok, summary)
        self.assertTrue(any('garbage' in d or 'uninitialized' in d for d in detail), detail)
        self.assertFalse(any('could not analyse' in d for d in detail), detail)

    def test_cppcheck_finds_planted_bug(self):
        ok, summary, detail = self.static.cppcheck(['build/arm64'])
        self.assertFalse(ok, summary)
        self.assertTrue(any('arrayIndexOutOfBounds' in d for d in detail), detail)


class Trace(unittest.TestCase):
    """tools/trace's parser on a recorded log (testdata/sched-trace.log: a real run of
    sched-credit2-trace, weights 1024:512:256 on one CPU, arm64 under -icount)."""

    def lines(self):
        with open(os.path.join(HERE, 'testdata', 'sched-trace.log'), encoding='utf-8') as f:
            return f.readlines()

    def test_recorded_log(self):
        t = trace.parse(self.lines())
        self.assertEqual(t.source, 'sched')
        self.assertEqual(sorted(t.vcpus), [0, 1, 2])
        self.assertEqual([t.vcpus[i]['weight'] for i in range(3)], [1024, 512, 256])
        self.assertEqual(len(t.records), t.end)
        self.assertEqual(t.records[0], (0, 'run', 0, 0))
        times = [r[0] for r in t.records]
        self.assertEqual(times, sorted(times), 'time never goes back')
        ran = trace.shares(t)
        # 4:2:1 within 5 %, as the guests' own counts say.
        self.assertAlmostEqual(ran[0] / ran[1], 2.0, delta=0.1)
        self.assertAlmostEqual(ran[1] / ran[2], 2.0, delta=0.1)
        ivs, end = trace.intervals(t)
        spans = sorted(iv[:2] for lane in ivs.values() for iv in lane)
        for (a0, b0), (a1, _) in zip(spans, spans[1:]):
            self.assertLessEqual(b0, a1, 'one CPU runs one vCPU at a time')
        self.assertEqual(sum(ran.values()), end, 'the CPU was never idle')
        picture = trace.svg(t, {1: 'spin-a'})
        self.assertIn('spin-a vCPU 0, weight 1024', picture)
        self.assertTrue(picture.startswith('<svg') and picture.rstrip().endswith('</svg>'))

    def test_decoding(self):
        t = trace.parse(['[p] trace vcpu 0 4 0 weight 256 cap 50\n',
                         '[p] trace vcpu 1 5 1 weight 512 cap 0\n',
                         '[other] trace T r0.0+10\n',
                         '[p] trace T r0.0+a r1.1+0 r0.1+5 b1.1+1 i0.0+2\n',
                         '[p] trace end 5\n'])
        self.assertEqual(t.records, [(10000, 'run', 0, 0), (10000, 'run', 1, 1),
                                     (15000, 'run', 0, 1), (16000, 'blocked', 1, 1),
                                     (18000, 'idle', 0, 0)])
        ivs, end = trace.intervals(t)
        self.assertEqual(ivs[0], [(10000, 15000, 0)])
        self.assertEqual(ivs[1], [(10000, 15000, 1), (15000, 16000, 0)], 'a move, then blocked')
        self.assertEqual(end, 18000)

    def test_refused(self):
        good = ['[p] trace vcpu 0 1 0 weight 256 cap 0\n', '[p] trace T r0.0+1 r0.0+1\n']
        for bad, why in ((good + ['[p] trace end 3\n'], 'a dropped line'),
                         (good, 'no end'),
                         (good[:1] + ['[p] trace T r0.7+1\n', '[p] trace end 1\n'],
                          'an unknown vCPU'),
                         (good[:1] + ['[p] trace T x0.0+1\n', '[p] trace end 1\n'],
                          'an unknown kind'),
                         (good[:1] + ['[p] trace T r0.0-1\n', '[p] trace end 1\n'],
                          'a malformed record'),
                         (['[hyp] boot\n'], 'no trace at all')):
            with self.assertRaises(trace.TraceError, msg=why):
                trace.parse(bad)


class NullTrace(unittest.TestCase):
    """tools/trace on the null policy's own records (testdata/sched-null-trace.log: a real run
    of sched-null-trace, tests/hyp/sched-null-trace.dts, arm64 under -icount; its [sched] lines
    and the stops)."""

    def lines(self):
        with open(os.path.join(HERE, 'testdata', 'sched-null-trace.log'), encoding='utf-8') as f:
            return f.readlines()

    def test_recorded_log(self):
        t = trace.parse(self.lines())
        self.assertEqual(len(t.nulls), t.nulls_end)
        self.assertEqual(len(t.nulls), 14)
        out = trace.null_decode(t)
        # spin-c (partition 1) by soft affinity on CPU 2, spin-a (2) on CPU 1, spin-b (3) waits.
        self.assertEqual(out[0], '0x00022a01  CPU2  0 (+       0)  null:pick_cpu      '
                                 '[ dom:vcpu = 0x00010000, new_cpu = 2 ]')
        self.assertEqual(out[1], '0x00022a02  CPU2  0 (+       0)  null:assign        '
                                 '[ dom:vcpu = 0x00010000, cpu = 2 ]')
        self.assertEqual(out[2], '0x00022a05  CPU2  0 (+       0)  null:schedule      '
                                 '[ cpu[16]:tasklet[16] = 00020000, dom:vcpu = 0x00010000 ]')
        self.assertIn('null:assign        [ dom:vcpu = 0x00020000, cpu = 1 ]', out[4])
        self.assertIn('null:pick_cpu      [ dom:vcpu = 0x00030000, new_cpu = 255 ]', out[6])
        self.assertTrue(out[6].startswith('0x00022a01  CPU-  '), 'no CPU for a waiter')
        # spin-a stops: deassign from CPU 1, and the waiter gets it at the same instant.
        names = [w for line in out for w in line.split() if w.startswith('null:')]
        i = out.index([line for line in out if 'deassign' in line and '0x00020000' in line][0])
        self.assertEqual(names[i:i + 3], ['null:deassign', 'null:assign', 'null:schedule'])
        self.assertIn('[ dom:vcpu = 0x00030000, cpu = 1 ]', out[i + 1])
        self.assertIn('(+       0)', out[i + 1])
        # A freed CPU with nobody left runs the idle vCPU (Xen's idle domain 0x7fff).
        self.assertTrue(out[-1].endswith('dom:vcpu = 0x7fff0001 ]'), out[-1])
        held = trace.waits(t)
        self.assertEqual(held[0], [])
        self.assertEqual(len(held[2]), 1)
        start, end = held[2][0]
        self.assertEqual(start, 0)
        self.assertEqual(end, t.nulls[i + 1][0], 'spin-b waited until its assign')
        picture = trace.svg(t, {3: 'spin-b'}, 'Null timeline')
        self.assertIn('waiting (null)', picture)
        self.assertIn('spin-b vCPU 0', picture)

    def test_every_kind(self):
        # Hand-written: migrate and tasklet do not occur in the recorded run (no affinity
        # change; tasklets are reserved).
        t = trace.parse(['[p] trace vcpu 0 4 1 weight 256 cap 0\n',
                         '[p] trace N 1.3.40001.3+5 2.3.40001.3+0 5.3.30000.40001+0\n',
                         '[p] trace N 4.2.40001.20003+2 3.3.40001.3+0 2.2.40001.2+0\n',
                         '[p] trace N 4.ff.40001.ffff00ff+0 6.0.0.0+1 5.3.30000.7fff0003+0\n',
                         '[p] trace nulls 9\n', '[p] trace end 0\n'])
        out = trace.null_decode(t)
        self.assertEqual([w for line in out for w in line.split() if w.startswith('null:')],
                         ['null:pick_cpu', 'null:assign', 'null:schedule', 'null:migrate',
                          'null:deassign', 'null:assign', 'null:migrate',
                          'null:sched_tasklet', 'null:schedule'])
        self.assertEqual(out[3], '0x00022a04  CPU2  7000 (+    2000)  null:migrate       '
                                 '[ dom:vcpu = 0x00040001, new_cpu:cpu = 0x00020003 ]')
        self.assertEqual(out[7], '0x00022a06  CPU0  8000 (+    1000)  null:sched_tasklet')
        self.assertEqual(t.nulls[4], (7000, 0x22A03, 3, 0x40001, 3))

    def test_refused(self):
        head = ['[p] trace vcpu 0 4 1 weight 256 cap 0\n']
        tail = ['[p] trace nulls 1\n', '[p] trace end 0\n']
        for record, why in (('2.3.40001.3+0', None),
                            ('2.3.40001.3-0', 'a malformed record'),
                            ('2.3.40001+0', 'a field missing'),
                            ('7.3.40001.3+0', 'an unknown event'),
                            ('0.3.40001.3+0', 'an unknown event (0)'),
                            ('2.3.50001.3+0', 'an unknown dom:vcpu'),
                            ('2.3.7fff0003.3+0', 'the idle vCPU assigned'),
                            ('2.3.40001.2+0', 'assign to another CPU than its own'),
                            ('3.ff.40001.ff+0', 'deassign from no CPU'),
                            ('1.2.40001.3+0', 'pick_cpu on another CPU'),
                            ('4.5.40001.20003+0', 'migrate on neither CPU'),
                            ('5.3.20000.40001+0', 'schedule: another CPU in cpu[16]'),
                            ('5.3.30001.40001+0', 'schedule: a tasklet'),
                            ('5.3.30000.7fff0002+0', "schedule: another CPU's idle vCPU"),
                            ('5.3.30000.123456789+0', 'a payload wider than 32 bits')):
            log = head + ['[p] trace N %s\n' % record] + tail
            if why is None:
                self.assertEqual(len(trace.parse(log).nulls), 1)
                continue
            with self.assertRaises(trace.TraceError, msg=why):
                trace.parse(log)
        good = head + ['[p] trace N 2.3.40001.3+0\n']
        for bad, why in ((good + ['[p] trace nulls 2\n', '[p] trace end 0\n'], 'a dropped line'),
                         (good + ['[p] trace end 0\n'], 'no nulls count'),
                         (good + ['[p] trace null lost 3\n'] + tail, 'records lost')):
            with self.assertRaises(trace.TraceError, msg=why):
                trace.parse(bad)


class Tap(unittest.TestResult):
    """Prints one TAP line per test as it finishes."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def _line(self, test, ok, note=''):
        self.count += 1
        name = test.id().split('.', 1)[-1]
        print('%s %d - %s%s' % ('ok' if ok else 'not ok', self.count, name, note))
        sys.stdout.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(test, True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(test, False)
        for line in self._exc_info_to_string(err, test).splitlines()[-15:]:
            print('#   ' + line)

    addError = addFailure

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(test, True, ' # SKIP ' + reason)


def main():
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    print('1..%d' % suite.countTestCases())
    result = Tap()
    suite.run(result)
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
