"""The device tree of a Linux VM partition, generated from the manifest.

A partition with a `linux { ... }` node (docs/manifest.md, docs/guests.md)
gets a device tree built here with libfdt's read-write functions
(pylibfdt: Fdt.create_empty_tree, add_subnode, setprop). tools/pack adds it
to the boot package under the name the partition's `device-tree` property
gives; `tools/manifest dts` prints it as source.

What the guest is told, and where each value comes from:

  /memory@IPA          the load-image mapping's IPA and its region's size
  /cpus/cpu@N          one per vCPU, reg = N: the MPIDR Aff0 the vGIC and
                       PSCI use (platform/arm64/virq.c vm_mpidr)
  /psci                PSCI 1.0 / 0.2 over HVC (platform/arm64/smccc.c)
  /intc@GICD           the virtual GICv3: the distributor and one
                       redistributor region of 128 KiB per vCPU, at the
                       machine's addresses (the vGIC traps them there)
  /timer               the architected timer's PPIs 13, 14, 11, 10
                       (INTIDs 29, 30, 27, 26)
  /uart@IPA            arm,sbsa-uart at the emulated range `uart` names,
                       with its SPI `uart-interrupt`
  /intc@GICD/msi-controller@IPA
                       arm,gic-v3-its at the emulated range `its` names
                       (a vits service's GITS frame, 128 KiB; the partition
                       needs `lpis`)
  /pcie@IPA            pci-host-ecam-generic: bus 0 in the emulated range
                       `pci` names (1 MiB), a 32-bit memory window at the
                       emulated range `pci-mmio` names (the same addresses on
                       both sides), MSIs through the ITS (msi-map: requester
                       ID = DeviceID)
  /NAME@IPA            each device passed through to it (a sephyp,device region
                       it maps) whose manifest node says `guest-compatible`: that
                       compatible, reg = the mapping's IPA (the region's address
                       when the mapping gives none) and size, its interrupts as
                       SPIs; a PrimeCell (arm,primecell) also gets the apb_pclk
                       clock of a fixed-clock /apb-pclk node, as its binding wants
  /chosen              bootargs, stdout-path, linux,initrd-start/end
"""

import ctypes
import struct
import sys

try:
    import libfdt
except ImportError:  # Debian's python3-libfdt is for the system interpreter
    sys.path.append('/usr/lib/python3/dist-packages')
    import libfdt

# QEMU virt's GICv3 (platform/arm64/keep.c reads the same from the firmware DT).
MACHINES = {
    'qemu-virt': {'gicd': (0x08000000, 0x10000), 'gicr': 0x080a0000},
}
GICR_FRAME = 0x20000            # RD_base + SGI_base, IHI 0069 12.10
DTB_ROOM_BIG = 0x200000         # CFG_DTB_ROOM_BIG (kernel/include/kernel/config.h)
DTB_ROOM_SMALL = 0x10000        # CFG_DTB_ROOM_SMALL
PAGE = 0x1000
GIC_PHANDLE = 1
ITS_PHANDLE = 2
APB_PCLK_PHANDLE = 3
APB_PCLK_HZ = 24000000           # a fixed APB clock for PrimeCell peripherals (QEMU's is 24 MHz)
ECAM_BUS = 0x100000              # one bus of configuration space
IRQ_LEVEL_HIGH = 4              # the interrupt-cells' flags, as in Linux's irq.h binding
PPI, SPI = 1, 0
TIMER_PPIS = (13, 14, 11, 10)   # secure phys, non-secure phys, virtual, hypervisor
EMPTY_TREE_BYTES = 1 << 16


class GuestDtError(Exception):
    pass


def _cells(*values):
    """64-bit values as pairs of big-endian cells."""
    return b''.join(struct.pack('>II', v >> 32, v & 0xffffffff) for v in values)


def _u32s(*values):
    return b''.join(struct.pack('>I', v) for v in values)


def _subnodes(fdt, node):
    child = fdt.first_subnode(node, [libfdt.FDT_ERR_NOTFOUND])
    while child >= 0:
        yield child
        child = fdt.next_subnode(child, [libfdt.FDT_ERR_NOTFOUND])


# Debian 12's pylibfdt drops references to None (getprop() of a missing property, quiet,
# drops one each time, and other calls some): enough of them and the interpreter aborts at
# exit ("none_dealloc"). _none_guard puts back, for good (Py_IncRef: a list holding them
# would give them up again at exit), what a generation lost; more is harmless.
def _none_guard(fn):
    def guarded(*args, **kwargs):
        before = sys.getrefcount(None)
        try:
            return fn(*args, **kwargs)
        finally:
            for _ in range(max(0, before - sys.getrefcount(None))):
                ctypes.pythonapi.Py_IncRef(ctypes.py_object(None))
    guarded.__doc__ = fn.__doc__
    return guarded


def _prop(fdt, node, name):
    prop = fdt.getprop(node, name, [libfdt.FDT_ERR_NOTFOUND])
    return None if isinstance(prop, int) else bytes(prop)


def _u64(raw):
    if raw is None or len(raw) != 8:
        return None
    hi, lo = struct.unpack('>II', raw)
    return hi << 32 | lo


def _string(raw):
    if raw is None or not raw.endswith(b'\0'):
        return None
    return raw[:-1].decode('utf-8')


class Manifest:
    """The few facts of a manifest DTB that a guest's device tree needs."""

    def __init__(self, dtb):
        try:
            self.fdt = libfdt.Fdt(bytearray(dtb))
        except libfdt.FdtException as err:
            raise GuestDtError('the manifest is not a device tree: %s' % err) from None

    def node_by_phandle(self, raw, what):
        if raw is None or len(raw) != 4:
            raise GuestDtError('%s: expected one phandle' % what)
        node = self.fdt.node_offset_by_phandle(struct.unpack('>I', raw)[0],
                                               [libfdt.FDT_ERR_NOTFOUND])
        if node < 0:
            raise GuestDtError('%s: dangling phandle' % what)
        return node

    def linux_partitions(self):
        """(name, partition node, linux node) for every partition with a linux node."""
        parts = self.fdt.path_offset('/partitions', [libfdt.FDT_ERR_NOTFOUND])
        if parts < 0:
            return
        for node in _subnodes(self.fdt, parts):
            linux = self.fdt.subnode_offset(node, 'linux', [libfdt.FDT_ERR_NOTFOUND])
            if linux >= 0:
                yield self.fdt.get_name(node), node, linux


def ram_of(man, name, part):
    """(IPA, size) of a partition's load-image mapping."""
    mappings = man.fdt.subnode_offset(part, 'mappings', [libfdt.FDT_ERR_NOTFOUND])
    for m in _subnodes(man.fdt, mappings) if mappings >= 0 else ():
        if _prop(man.fdt, m, 'load-image') is None:
            continue
        region = man.node_by_phandle(_prop(man.fdt, m, 'region'), name + ': region')
        size = _u64(_prop(man.fdt, region, 'size'))
        if size is None:
            reg = _prop(man.fdt, region, 'reg')
            size = _u64(reg[8:16]) if reg is not None and len(reg) == 16 else None
        ipa = _u64(_prop(man.fdt, m, 'ipa'))
        if ipa is None or size is None:
            raise GuestDtError('%s: its load-image mapping has no ipa or size' % name)
        return ipa, size
    raise GuestDtError('%s: no mapping has load-image' % name)


def dtb_ipa(man, name, part, ram):
    """Where the kernel puts the device tree (the rule of kernel/manifest/manifest_check.c)."""
    explicit = _u64(_prop(man.fdt, part, 'device-tree-ipa'))
    if explicit is not None:
        return explicit
    base, size = ram
    room = DTB_ROOM_BIG if size >= 2 * DTB_ROOM_BIG else DTB_ROOM_SMALL
    if size <= room:
        raise GuestDtError('%s: its RAM has no room for a device tree' % name)
    return base + size - room


def initrd_ipa(dtb_at, initrd_size):
    """The initramfs ends below the device tree, 4 KiB aligned (kernel/linux_image.c)."""
    return (dtb_at - initrd_size) & ~(PAGE - 1)


GITS_FRAME = 0x20000            # the ITS's two 64 KiB frames (IHI 0069 12.19)


def _its(man, name, part, linux):
    raw = _prop(man.fdt, linux, 'its')
    if raw is None:
        return None
    node = man.node_by_phandle(raw, name + ': linux: its')
    reg = _prop(man.fdt, node, 'reg')
    if reg is None or len(reg) != 16 or _u64(reg[8:]) != GITS_FRAME:
        raise GuestDtError('%s: linux: its names a node whose reg is not one 128 KiB GITS frame'
                           % name)
    if _prop(man.fdt, part, 'lpis') is None:
        raise GuestDtError('%s: linux: its needs the partition\'s lpis (its LPIs)' % name)
    return _u64(reg[:8])


def _range(man, name, linux, prop):
    raw = _prop(man.fdt, linux, prop)
    if raw is None:
        return None
    node = man.node_by_phandle(raw, '%s: linux: %s' % (name, prop))
    reg = _prop(man.fdt, node, 'reg')
    if reg is None or len(reg) != 16:
        raise GuestDtError('%s: linux: %s names a node without a reg' % (name, prop))
    return _u64(reg[:8]), _u64(reg[8:])


def _pci(man, name, linux, its):
    ecam, window = _range(man, name, linux, 'pci'), _range(man, name, linux, 'pci-mmio')
    if ecam is None and window is None:
        return None
    if ecam is None or window is None:
        raise GuestDtError('%s: linux: pci and pci-mmio go together' % name)
    if its is None:
        raise GuestDtError('%s: linux: pci needs its (MSIs go through the virtual ITS)' % name)
    if ecam[1] != ECAM_BUS:
        raise GuestDtError('%s: linux: pci names a range that is not one bus of ECAM (1 MiB)'
                           % name)
    if window[0] + window[1] > 1 << 32:
        raise GuestDtError('%s: linux: pci-mmio must lie below 4 GiB (a 32-bit window)' % name)
    return ecam[0], window


def _uart(man, name, linux):
    raw = _prop(man.fdt, linux, 'uart')
    if raw is None:
        return None
    node = man.node_by_phandle(raw, name + ': linux: uart')
    reg = _prop(man.fdt, node, 'reg')
    irq = _prop(man.fdt, linux, 'uart-interrupt')
    if reg is None or len(reg) != 16:
        raise GuestDtError('%s: linux: uart names a node without a reg' % name)
    if irq is None or len(irq) != 4:
        raise GuestDtError('%s: linux: uart needs uart-interrupt (its SPI)' % name)
    intid = struct.unpack('>I', irq)[0]
    if not 32 <= intid < 1020:
        raise GuestDtError('%s: linux: uart-interrupt %d is not an SPI (32..1019)' % (name, intid))
    return _u64(reg[:8]), _u64(reg[8:]), intid


class _Tree:
    """A thin layer over pylibfdt's read-write calls (fdt_add_subnode, fdt_setprop).

    Adding a node moves every node that follows it in the blob, so an offset
    is used only until the next add_subnode.
    """

    def __init__(self):
        self.fdt = libfdt.Fdt.create_empty_tree(EMPTY_TREE_BYTES)

    def node(self, parent, name):
        return self.fdt.add_subnode(parent, name)

    def prop(self, node, name, value):
        if isinstance(value, str):
            value = value.encode('utf-8') + b'\0'
        elif isinstance(value, int):
            value = _u32s(value)
        self.fdt.setprop(node, name, value)

    def blob(self):
        self.fdt.pack()
        return bytes(self.fdt.as_bytearray())


@_none_guard
def _passthrough(man, name, part):
    """[(compatible strings, IPA, size, INTIDs)] of the devices passed through with a
    guest-compatible."""
    out = []
    mappings = man.fdt.subnode_offset(part, 'mappings', [libfdt.FDT_ERR_NOTFOUND])
    for m in _subnodes(man.fdt, mappings) if mappings >= 0 else ():
        region = man.node_by_phandle(_prop(man.fdt, m, 'region'), name + ': region')
        compat = _prop(man.fdt, region, 'guest-compatible')
        if compat is None or _string(_prop(man.fdt, region, 'compatible')) != 'sephyp,device':
            continue
        reg = _prop(man.fdt, region, 'reg')
        if reg is None or len(reg) != 16:
            raise GuestDtError('%s: device %s has no reg' % (name, man.fdt.get_name(region)))
        ipa = _u64(_prop(man.fdt, m, 'ipa'))
        base = ipa if ipa is not None else _u64(reg[:8])
        raw = _prop(man.fdt, region, 'interrupts') or b''
        irqs = [struct.unpack('>I', raw[i:i + 4])[0] for i in range(0, len(raw), 4)]
        if any(i < 32 for i in irqs):
            raise GuestDtError('%s: device %s: only SPIs (INTID 32..1019) can be passed through'
                               % (name, man.fdt.get_name(region)))
        strings = [s.decode('utf-8') for s in bytes(compat).split(b'\0') if s]
        out.append((strings, base, _u64(reg[8:]), irqs))
    return out


def generate(man, name, part, linux, initrd_size=None, machine='qemu-virt'):
    """The DTB of partition `name`; initrd_size places /chosen's initrd range."""
    hw = MACHINES[machine]
    fdt = man.fdt
    vcpus = _u64(b'\0\0\0\0' + (_prop(fdt, part, 'vcpus') or _u32s(1)))
    ram = ram_of(man, name, part)
    uart = _uart(man, name, linux)
    its = _its(man, name, part, linux)
    pci = _pci(man, name, linux, its)
    bootargs = _string(_prop(fdt, linux, 'bootargs'))

    t = _Tree()
    root = 0
    t.prop(root, 'compatible', 'sephyp,vm')
    t.prop(root, 'model', 'sephyp VM %s' % name)
    t.prop(root, '#address-cells', 2)
    t.prop(root, '#size-cells', 2)
    t.prop(root, 'interrupt-parent', GIC_PHANDLE)

    chosen = t.node(root, 'chosen')
    if bootargs is not None:
        t.prop(chosen, 'bootargs', bootargs)
    if initrd_size:
        start = initrd_ipa(dtb_ipa(man, name, part, ram), initrd_size)
        t.fdt.setprop(chosen, 'linux,initrd-start', _cells(start))
        t.fdt.setprop(chosen, 'linux,initrd-end', _cells(start + initrd_size))

    memory = t.node(root, 'memory@%x' % ram[0])
    t.prop(memory, 'device_type', 'memory')
    t.fdt.setprop(memory, 'reg', _cells(*ram))

    cpus = t.node(root, 'cpus')
    t.prop(cpus, '#address-cells', 1)
    t.prop(cpus, '#size-cells', 0)
    for i in reversed(range(vcpus)):  # add_subnode puts each new node first
        cpu = t.node(cpus, 'cpu@%x' % i)
        t.prop(cpu, 'device_type', 'cpu')
        t.prop(cpu, 'compatible', 'arm,armv8')
        t.prop(cpu, 'reg', i)
        t.prop(cpu, 'enable-method', 'psci')

    psci = t.node(root, 'psci')
    t.fdt.setprop(psci, 'compatible', b'arm,psci-1.0\0arm,psci-0.2\0')
    t.prop(psci, 'method', 'hvc')

    gicd_base, gicd_size = hw['gicd']
    gic = t.node(root, 'intc@%x' % gicd_base)
    t.prop(gic, 'compatible', 'arm,gic-v3')
    t.prop(gic, '#interrupt-cells', 3)
    t.fdt.setprop(gic, 'interrupt-controller', b'')
    t.prop(gic, '#redistributor-regions', 1)
    t.fdt.setprop(gic, 'reg', _cells(gicd_base, gicd_size, hw['gicr'], GICR_FRAME * vcpus))
    t.prop(gic, 'phandle', GIC_PHANDLE)
    if its is not None:
        t.prop(gic, '#address-cells', 2)
        t.prop(gic, '#size-cells', 2)
        t.fdt.setprop(gic, 'ranges', b'')
        node = t.node(gic, 'msi-controller@%x' % its)
        t.prop(node, 'compatible', 'arm,gic-v3-its')
        t.fdt.setprop(node, 'msi-controller', b'')
        t.prop(node, '#msi-cells', 1)
        t.fdt.setprop(node, 'reg', _cells(its, GITS_FRAME))
        t.prop(node, 'phandle', ITS_PHANDLE)

    if pci is not None:
        ecam, (wbase, wsize) = pci
        node = t.node(root, 'pcie@%x' % ecam)
        t.prop(node, 'compatible', 'pci-host-ecam-generic')
        t.prop(node, 'device_type', 'pci')
        t.fdt.setprop(node, 'reg', _cells(ecam, ECAM_BUS))
        t.fdt.setprop(node, 'bus-range', _u32s(0, 0))
        t.prop(node, '#address-cells', 3)
        t.prop(node, '#size-cells', 2)
        # 32-bit non-prefetchable memory: PCI address = CPU address.
        t.fdt.setprop(node, 'ranges', _u32s(0x02000000, wbase >> 32, wbase & 0xffffffff) +
                      _cells(wbase, wsize))
        t.fdt.setprop(node, 'msi-map', _u32s(0, ITS_PHANDLE, 0, 0x10000))
        t.fdt.setprop(node, 'dma-coherent', b'')

    timer = t.node(root, 'timer')
    t.prop(timer, 'compatible', 'arm,armv8-timer')
    t.fdt.setprop(timer, 'interrupts',
                  b''.join(_u32s(PPI, ppi, IRQ_LEVEL_HIGH) for ppi in TIMER_PPIS))

    devices = _passthrough(man, name, part)
    if any('arm,primecell' in d[0] for d in devices):
        clk = t.node(root, 'apb-pclk')
        t.prop(clk, 'compatible', 'fixed-clock')
        t.prop(clk, '#clock-cells', 0)
        t.prop(clk, 'clock-frequency', APB_PCLK_HZ)
        t.prop(clk, 'clock-output-names', 'clk24mhz')
        t.prop(clk, 'phandle', APB_PCLK_PHANDLE)
    for strings, base, size, irqs in devices:
        short = strings[0].split(',')[-1]
        node = t.node(root, '%s@%x' % (short, base))
        t.fdt.setprop(node, 'compatible', b''.join(s.encode() + b'\0' for s in strings))
        t.fdt.setprop(node, 'reg', _cells(base, size))
        if irqs:
            t.fdt.setprop(node, 'interrupts',
                          b''.join(_u32s(SPI, i - 32, IRQ_LEVEL_HIGH) for i in irqs))
        if 'arm,primecell' in strings:
            t.prop(node, 'clocks', APB_PCLK_PHANDLE)
            t.prop(node, 'clock-names', 'apb_pclk')

    if uart is not None:
        base, size, intid = uart
        node_name = 'uart@%x' % base
        node = t.node(root, node_name)
        t.prop(node, 'compatible', 'arm,sbsa-uart')
        t.fdt.setprop(node, 'reg', _cells(base, size))
        t.fdt.setprop(node, 'interrupts', _u32s(SPI, intid - 32, IRQ_LEVEL_HIGH))
        t.prop(node, 'current-speed', 115200)
        # add_subnode moves the nodes after the new one: find /chosen again.
        t.prop(t.fdt.path_offset('/chosen'), 'stdout-path', '/' + node_name)
    return t.blob()


@_none_guard
def generate_all(dtb, initrd_sizes=None, only=None):
    """{device-tree blob name: DTB bytes} for every Linux partition (or only that one)."""
    try:
        man = Manifest(dtb)
    except GuestDtError:
        # Not pack's to judge: the kernel's validator reports a broken manifest, by name.
        return {}
    out = {}
    for name, part, linux in man.linux_partitions():
        if only is not None and name != only:
            continue
        blob = _string(_prop(man.fdt, part, 'device-tree'))
        if blob is None:
            raise GuestDtError('%s: a linux partition needs device-tree = "NAME" '
                               '(the generated blob\'s name)' % name)
        initrd = _string(_prop(man.fdt, linux, 'initrd'))
        size = (initrd_sizes or {}).get(initrd) if initrd is not None else None
        out[blob] = generate(man, name, part, linux, size)
    return out
