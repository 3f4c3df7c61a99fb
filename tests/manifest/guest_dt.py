#!/usr/bin/env python3
"""The generated device tree of a Linux VM (tools/lib/hyptools/guestdt.py).

  guest_dt.py MANIFEST.dts

Generates the tree for tests/linux/linux.dts with a 1 MiB + 5 bytes
initramfs, decompiles it with dtc and checks each node's properties against
the values the manifest and the platform imply; then feeds manifests with
one mistake each and expects the generator's error. TAP on stdout.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), '..', '..',
                                'tools', 'lib'))
from hyptools import guestdt  # noqa: E402

INITRD = 0x100005
RAM = (0x40000000, 0x10000000)
DTB = RAM[0] + RAM[1] - 0x200000          # the default place: the last 2 MiB
INITRD_START = (DTB - INITRD) & ~0xfff


def dtb_of(source):
    return subprocess.run(['dtc', '-q', '-I', 'dts', '-O', 'dtb', '-o', '-', '-'],
                          input=source.encode(), stdout=subprocess.PIPE, check=True).stdout


def node_body(dts, path):
    """The text of one node of a decompiled tree (path like /cpus/cpu@1), without subnodes."""
    want = [p for p in path.split('/') if p]
    body, inside, stack = [], False, []
    for line in dts.splitlines():
        s = line.strip()
        if s.endswith('{'):
            name = s[:-1].strip()
            stack.append(name)
            inside = stack[1:] == want
            continue
        if s.startswith('};'):
            stack.pop()
            inside = stack[1:] == want
            continue
        if inside:
            body.append(s)
    return '\n'.join(body)


def cells(*values):
    out = []
    for v in values:
        out += ['0x%02x' % (v >> 32) if v >> 32 < 0x10 else '0x%x' % (v >> 32),
                '0x%x' % (v & 0xffffffff) if v & 0xffffffff >= 0x10 else '0x%02x' % (v & 0xffffffff)]
    return ' '.join(out)


def main():
    source = open(sys.argv[1], encoding='utf-8').read()
    blobs = guestdt.generate_all(dtb_of(source), {'initramfs': INITRD})
    dts = subprocess.run(['dtc', '-q', '-I', 'dtb', '-O', 'dts', '-'], input=blobs['lx1-dt'],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    checks = [
        ('/', r'#address-cells = <0x02>;', 'root: 2 address cells'),
        ('/', r'interrupt-parent = <0x01>;', 'root: interrupts go to the GIC (phandle 1)'),
        ('/memory@40000000', r'reg = <%s>;' % cells(*RAM), 'memory: the RAM mapping'),
        ('/memory@40000000', r'device_type = "memory";', 'memory: device_type'),
        ('/cpus/cpu@0', r'reg = <0x00>;', 'cpu@0: MPIDR Aff0 0'),
        ('/cpus/cpu@1', r'reg = <0x01>;', 'cpu@1: MPIDR Aff0 1'),
        ('/cpus/cpu@1', r'enable-method = "psci";', 'cpu@1: started by PSCI'),
        ('/psci', r'method = "hvc";', 'psci: the HVC conduit'),
        ('/psci', r'compatible = "arm,psci-1.0\0arm,psci-0.2";', 'psci: 1.0 and 0.2 ids'),
        ('/intc@8000000', r'compatible = "arm,gic-v3";', 'gic: GICv3'),
        ('/intc@8000000', r'reg = <0x00 0x8000000 0x00 0x10000 0x00 0x80a0000 0x00 0x40000>;',
         'gic: distributor 64 KiB, 2 redistributors of 128 KiB'),
        ('/intc@8000000', r'#interrupt-cells = <0x03>;', 'gic: 3 interrupt cells'),
        ('/timer', r'interrupts = <0x01 0x0d 0x04 0x01 0x0e 0x04 0x01 0x0b 0x04 0x01 0x0a 0x04>;',
         'timer: PPIs 13, 14, 11, 10, level high'),
        ('/uart@9000000', r'compatible = "arm,sbsa-uart";', 'uart: SBSA UART'),
        ('/uart@9000000', r'reg = <0x00 0x9000000 0x00 0x1000>;', 'uart: the emulated range'),
        ('/uart@9000000', r'interrupts = <0x00 0x01 0x04>;', 'uart: SPI 1 (INTID 33)'),
        ('/intc@8000000/msi-controller@8080000', r'compatible = "arm,gic-v3-its";',
         'its: a GICv3 ITS under the GIC'),
        ('/intc@8000000/msi-controller@8080000', r'reg = <0x00 0x8080000 0x00 0x20000>;',
         'its: the emulated GITS frame, 128 KiB'),
        ('/intc@8000000/msi-controller@8080000', r'msi-controller;', 'its: an MSI controller'),
        ('/intc@8000000/msi-controller@8080000', r'#msi-cells = <0x01>;',
         'its: one MSI cell (the DeviceID)'),
        ('/intc@8000000', r'ranges;', 'gic: ranges, for the ITS child'),
        ('/pl031@9010000', r'compatible = "arm,pl031\0arm,primecell";',
         'passed through: the guest-compatible strings'),
        ('/pl031@9010000', r'reg = <0x00 0x9010000 0x00 0x1000>;',
         'passed through: at the device\'s own address (the mapping gives no ipa)'),
        ('/pl031@9010000', r'interrupts = <0x00 0x02 0x04>;',
         'passed through: its interrupt INTID 34 as SPI 2'),
        ('/pl031@9010000', r'clocks = <0x03>;', 'passed through: a PrimeCell gets apb_pclk'),
        ('/pl031@9010000', r'clock-names = "apb_pclk";', 'passed through: named apb_pclk'),
        ('/apb-pclk', r'compatible = "fixed-clock";', 'apb-pclk: a fixed clock'),
        ('/apb-pclk', r'phandle = <0x03>;', 'apb-pclk: phandle 3'),
        ('/chosen', r'stdout-path = "/uart@9000000";', 'chosen: stdout-path'),
        ('/chosen', r'bootargs = "console=ttyAMA0 ', 'chosen: bootargs'),
        ('/chosen', r'linux,initrd-start = <%s>;' % cells(INITRD_START), 'chosen: initrd start'),
        ('/chosen', r'linux,initrd-end = <%s>;' % cells(INITRD_START + INITRD),
         'chosen: initrd end'),
    ]
    bad = [
        ('device-tree = "lx1-dt";', '', 'a linux partition needs device-tree'),
        ('uart-interrupt = <33>;', '', 'uart needs uart-interrupt'),
        ('uart-interrupt = <33>;', 'uart-interrupt = <17>;', 'is not an SPI'),
        ('uart = <&lx1_uart>;', 'uart = <0x4242>;', 'dangling phandle'),
        ('interrupts = <34>;', 'interrupts = <27>;', 'only SPIs (INTID 32..1019)'),
        ('lpis = <256>;', '', 'its needs the partition\'s lpis'),
        ('reg = <0x0 0x8080000 0x0 0x20000>;', 'reg = <0x0 0x8080000 0x0 0x10000>;',
         'not one 128 KiB GITS frame'),
    ]
    print('1..%d' % (len(checks) + len(bad)))
    n = 0
    failed = 0
    for path, pattern, what in checks:
        n += 1
        ok = re.search(re.escape(pattern), node_body(dts, path)) is not None
        failed += not ok
        print('%sok %d - %s' % ('' if ok else 'not ', n, what))
        if not ok:
            print('# %s:\n# %s' % (path, node_body(dts, path).replace('\n', '\n# ')))
    for old, new, message in bad:
        n += 1
        try:
            guestdt.generate_all(dtb_of(source.replace(old, new, 1)))
            ok, got = False, 'no error'
        except guestdt.GuestDtError as err:
            got = str(err)
            ok = message in got
        failed += not ok
        print('%sok %d - refused: %s%s' % ('' if ok else 'not ', n, message,
                                          '' if ok else ' (got: %s)' % got))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
