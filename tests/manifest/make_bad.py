#!/usr/bin/env python3
"""Write tests/manifest/bad/NN-*.dts (and bad/meson.build, their list): each case is good/base.dts with one
small change and the exact errors the checker must print. The generated
files are committed; rerun this after editing CASES (or BASE) and review
the diff.
"""
import os, textwrap
BASE = '''/dts-v1/;
/ {
	compatible = "sephyp,manifest-v1";

	hypervisor {
		cpus = <2>;
		log-level = "info";
	};

	memory {
		a_ram: a-ram { compatible = "sephyp,ram"; size = <0x0 0x100000>; rights = "rwx"; };
		b_ram: b-ram { compatible = "sephyp,ram"; size = <0x0 0x100000>; rights = "rwx"; };
		shm: shm { compatible = "sephyp,shared"; size = <0x0 0x1000>; rights = "rw"; };
		uart1: uart1 {
			compatible = "sephyp,device";
			reg = <0x0 0x9040000 0x0 0x1000>;
			rights = "rw";
			interrupts = <40>;
		};
	};

	ipc {
		ep: ep { compatible = "sephyp,endpoint"; };
		ntf: ntf { compatible = "sephyp,notification"; };
	};

	partitions {
		a: a {
			compatible = "sephyp,partition";
			type = "vm";
			image = "a";
			mappings {
				ram { region = <&a_ram>; ipa = <0x0 0x100000>; rights = "rwx"; load-image; };
				shm { region = <&shm>; ipa = <0x0 0x200000>; rights = "rw"; };
				uart { region = <&uart1>; rights = "rw"; };
			};
			caps {
				#address-cells = <1>;
				#size-cells = <0>;
				cap@0 { reg = <0>; object = <&ep>; rights = "send"; badge = <0x0 0x1>; };
				cap@1 { reg = <1>; object = <&ntf>; rights = "signal"; badge = <0x0 0x2>; };
			};
		};

		b: b {
			compatible = "sephyp,partition";
			type = "service";
			image = "b";
			mappings {
				ram { region = <&b_ram>; ipa = <0x0 0x100000>; rights = "rwx"; load-image; };
				shm { region = <&shm>; ipa = <0x0 0x200000>; rights = "r"; };
			};
			caps {
				#address-cells = <1>;
				#size-cells = <0>;
				cap@0 { reg = <0>; object = <&ep>; rights = "recv"; };
				cap@1 { reg = <1>; object = <&ntf>; rights = "wait"; };
			};
		};
	};
};
'''
A_RAM = 'a_ram: a-ram { compatible = "sephyp,ram"; size = <0x0 0x100000>; rights = "rwx"; };'
B_RAM = 'b_ram: b-ram { compatible = "sephyp,ram"; size = <0x0 0x100000>; rights = "rwx"; };'
B_SHM = 'shm { region = <&shm>; ipa = <0x0 0x200000>; rights = "r"; };'
A_SHM = 'shm { region = <&shm>; ipa = <0x0 0x200000>; rights = "rw"; };'
A_CAP0 = 'cap@0 { reg = <0>; object = <&ep>; rights = "send"; badge = <0x0 0x1>; };'
B_CAP1 = 'cap@1 { reg = <1>; object = <&ntf>; rights = "wait"; };'
A_IMG = 'image = "a";\n'
B_IMG = 'image = "b";\n'
B_RAMMAP = 'ram { region = <&b_ram>; ipa = <0x0 0x100000>; rights = "rwx"; load-image; };'
UART_REG = 'reg = <0x0 0x9040000 0x0 0x1000>;'
UART_IRQ = 'interrupts = <40>;'
# Partition a is a VM (it owns uart1 and its interrupt); a scheduling policy must be a service.
A_VM = 'type = "vm";\n\t\t\timage = "a"'
A_SERVICE = 'type = "service";\n\t\t\timage = "a"'
UART_MAP = '\t\t\t\tuart { region = <&uart1>; rights = "rw"; };\n'
A_RAMMAP = 'ram { region = <&a_ram>; ipa = <0x0 0x100000>; rights = "rwx"; load-image; };'

# name: (what, [(old, new)], [expected error lines], extra header lines)
def emu_ports(range0, name1=None, range1=None, name2=None, range2=None, x86=True):
    """Emulated nodes for guest a served by b (which then holds the emulate right): com1 with
    range0 (its reg/ports properties), and optionally more nodes with their own. For x86 the
    device moves out of the machine's RAM, as in the other x86 cases."""
    nodes = [('com1', range0)]
    if name1:
        nodes.append((name1, range1))
    if name2:
        nodes.append((name2, range2))
    body = ''
    for n, r in nodes:
        body += ('\t\t%s {\n\t\t\tcompatible = "sephyp,emulated";\n\t\t\tguest = <&a>;\n'
                 '\t\t\tservice = <&b>;\n\t\t\tendpoint = <&ep>;\n' % n)
        if r:
            body += '\t\t\t%s\n' % r
        body += '\t\t};\n'
    reps = [(B_CAP1, B_CAP1 + '\n\t\t\t\tcap@2 { reg = <2>; object = <&a>; kind = "guest"; rights = "emulate"; };'),
            ('\t};\n};\n', '\t};\n\n\temulated {\n' + body + '\t};\n};\n')]
    if x86:
        reps.append((UART_REG, 'reg = <0x0 0xfeb00000 0x0 0x1000>;'))
    return reps

CASES = [
 ('region-size-misaligned', 'a region size that is not a page multiple',
  [(A_RAM, A_RAM.replace('0x100000', '0x100800'))],
  ['/memory/a-ram: size: size 0x100800 is not a multiple of the page size']),
 ('region-size-zero', 'a zero-sized region', [(A_RAM, A_RAM.replace('0x100000', '0x0'))],
  ['/memory/a-ram: size: size is zero']),
 ('region-base-misaligned', 'a fixed region whose base is not page aligned',
  [(B_RAM, B_RAM.replace('size = <0x0 0x100000>', 'reg = <0x0 0x50000800 0x0 0x100000>'))],
  ['/memory/b-ram: reg: base 0x50000800 is not page aligned']),
 ('region-outside-ram', 'a fixed RAM region outside the machine\'s RAM',
  [(B_RAM, B_RAM.replace('size = <0x0 0x100000>', 'reg = <0x0 0x90000000 0x0 0x100000>'))],
  ['/memory/b-ram: reg: 0x90000000+0x100000 is outside RAM']),
 ('region-over-kernel', 'a fixed RAM region over the kernel image',
  [(B_RAM, B_RAM.replace('size = <0x0 0x100000>', 'reg = <0x0 0x40080000 0x0 0x100000>'))],
  ['/memory/b-ram: reg: overlaps the kernel or boot data at 0x40000000+0x1000000']),
 ('regions-overlap', 'two fixed regions that overlap',
  [(A_RAM, A_RAM.replace('size = <0x0 0x100000>', 'reg = <0x0 0x50000000 0x0 0x100000>')),
   (B_RAM, B_RAM.replace('size = <0x0 0x100000>', 'reg = <0x0 0x500ff000 0x0 0x100000>'))],
  ['/memory/b-ram: reg: overlaps region a-ram']),
 ('device-over-ram', 'a passthrough device range inside RAM',
  [('reg = <0x0 0x9040000 0x0 0x1000>', 'reg = <0x0 0x48000000 0x0 0x1000>')],
  ['/memory/uart1: reg: device range 0x48000000+0x1000 overlaps RAM']),
 ('region-unknown-type', 'an unknown region compatible',
  [(A_RAM, A_RAM.replace('sephyp,ram', 'sephyp,rom'))],
  ['/memory/a-ram: compatible: unknown region type "sephyp,rom" (sephyp,ram, sephyp,shared or sephyp,device)']),
 ('partition-unknown-type', 'an unknown partition type',
  [('type = "service";\n\t\t\timage = "b";', 'type = "domU";\n\t\t\timage = "b";')],
  ['/partitions/b: type: unknown partition type "domU" (service, vm or pvh)']),
 ('missing-image', 'a partition without its required image property',
  [(B_IMG, '')], ['/partitions/b: image: missing required property']),
 ('cpus-wrong-size', 'a one-cell property given two cells',
  [('cpus = <2>;', 'cpus = <0 2>;')], ['/hypervisor: cpus: expected 4 bytes (one cell), got 8']),
 ('ipa-wrong-size', 'a 64-bit property given one cell',
  [(B_SHM, B_SHM.replace('<0x0 0x200000>', '<0x200000>'))],
  ['/partitions/b/mappings/shm: ipa: expected 8 bytes (two cells), got 4']),
 ('dangling-phandle', 'a phandle that names no node',
  [(B_SHM, B_SHM.replace('<&shm>', '<0x99>'))],
  ['/partitions/b/mappings/shm: region: dangling phandle 0x99']),
 ('cap-unknown-object', 'a capability to a node that is no kernel object',
  [(A_RAMMAP, 'a_map: ' + A_RAMMAP), (B_CAP1, B_CAP1.replace('<&ntf>', '<&a_map>'))],
  ['/partitions/b/caps/cap@1: object: not an endpoint, notification, memory region or partition']),
 ('mapping-rights-exceed', 'a mapping with more rights than its region grants',
  [(B_SHM, B_SHM.replace('"r"', '"rwx"'))],
  ['/partitions/b/mappings/shm: rights: "rwx" exceeds what region shm grants ("rw-")']),
 ('cap-rights-exceed', 'a memory capability with more rights than its region grants',
  [(B_CAP1, B_CAP1 + '\n\t\t\t\tcap@2 { reg = <2>; object = <&shm>; rights = "read", "exec"; };')],
  ['/partitions/b/caps/cap@2: rights: exceed what region shm grants ("rw-")']),
 ('cap-bad-right-name', 'a right name that the object type does not have',
  [(A_CAP0, A_CAP0.replace('"send"', '"call"'))],
  ['/partitions/a/caps/cap@0: rights: "call" is not a right of this object (valid: send,recv,grant)']),
 ('mapping-bad-right-letter', 'a mapping right letter outside rwx',
  [(B_SHM, B_SHM.replace('"r"', '"rz"'))],
  ['/partitions/b/mappings/shm: rights: unknown right \'z\' (use letters of "rwx")']),
 ('cap-duplicate-slot', 'two capabilities in one slot',
  [(B_CAP1, B_CAP1 + '\n\t\t\t\tmore { reg = <1>; object = <&ep>; rights = "send"; };')],
  ['/partitions/b/caps/more: reg: slot 1 is already used by cap@1']),
 ('cap-slot-range', 'a capability slot beyond the table',
  [(B_CAP1, 'cap@28 { reg = <40>; object = <&ntf>; rights = "wait"; };')],
  ['/partitions/b/caps/cap@28: reg: slot 40 out of range 0..31']),
 ('cap-unit-address', 'a cap@N node whose reg is another slot',
  [(B_CAP1, B_CAP1.replace('reg = <1>', 'reg = <2>'))],
  ['/partitions/b/caps/cap@1: reg: slot 2 does not match the unit address 1']),
 ('null-policy-overcommit', 'more vCPUs than the null policy has CPUs for',
  [(A_IMG, A_IMG + '\t\t\tsched-policy = "null";\n\t\t\tsched-cpus = <1>;\n'), (A_VM, A_SERVICE), (UART_MAP, ''),
   (B_IMG, B_IMG + '\t\t\tvcpus = <2>;\n\t\t\tvcpu@0 { reg = <0>; affinity = <1>; };\n\t\t\tvcpu@1 { reg = <1>; affinity = <1>; };\n')],
  ['/partitions/a: sched-policy: null policy cannot place 2 vCPUs on 1 CPUs (mask 0x2)']),
 ('affinity-missing-cpu', 'a hard affinity naming a CPU the system does not have',
  [(B_IMG, B_IMG + '\t\t\tvcpu@0 { reg = <0>; affinity = <0 3>; };\n')],
  ['/partitions/b/vcpu@0: affinity: CPU 3 does not exist (the system has 2 CPUs)']),
 ('device-two-partitions', 'one device given to two partitions',
  [(B_SHM, B_SHM + '\n\t\t\t\tuart { region = <&uart1>; rights = "rw"; };')],
  ['/partitions/b/mappings/uart: region: device uart1 is already given to partition a']),
 ('private-two-partitions', 'a private RAM region mapped by two partitions',
  [(B_SHM, B_SHM + '\n\t\t\t\tpeek { region = <&a_ram>; ipa = <0x0 0x400000>; rights = "r"; };')],
  ['/partitions/b/mappings/peek: region: private region a-ram already belongs to partition a (use sephyp,shared)']),
 ('ipa-overlap', 'two mappings of one partition at overlapping IPAs',
  [(A_SHM, A_SHM.replace('0x200000', '0x180000'))],
  ['/partitions/a/mappings/shm: ipa: 0x180000+0x1000 overlaps mapping ram']),
 ('ipa-misaligned', 'a mapping IPA that is not page aligned',
  [(B_SHM, B_SHM.replace('0x200000', '0x200800'))],
  ['/partitions/b/mappings/shm: ipa: 0x200800 is not page aligned']),
 ('cpus-beyond-machine', 'a manifest that needs more CPUs than the machine has',
  [('cpus = <2>;', 'cpus = <8>;')], ['/hypervisor: cpus: the manifest needs 8 CPUs, the machine has 4']),
 ('not-a-manifest', 'a device tree whose root is not a manifest',
  [('compatible = "sephyp,manifest-v1";', 'compatible = "linux,dummy-virt";')],
  ['/: compatible: not a system manifest (expected "sephyp,manifest-v1")']),
 ('unknown-property', 'a misspelt property (and so a missing one)',
  [(B_SHM, B_SHM.replace('rights', 'rigths'))],
  ['/partitions/b/mappings/shm: rigths: unknown property',
   '/partitions/b/mappings/shm: rights: missing required property']),
 ('unknown-node', 'a misspelt node name',
  [('\t\t\tmappings {\n\t\t\t\t' + B_RAMMAP, '\t\t\tmapping {\n\t\t\t\t' + B_RAMMAP)],
  ['/partitions/b/mapping: unexpected node (mappings, caps, linux or vcpu@N)',
   '/partitions/b: image: no mapping has load-image']),
 ('log-level-unknown', 'an unknown log level',
  [('log-level = "info";', 'log-level = "verbose";')],
  ['/hypervisor: log-level: unknown level "verbose" (none, error, warning, info, debug, all)']),
 ('entry-not-executable', 'an entry point outside every executable mapping',
  [(B_IMG, B_IMG + '\t\t\tentry = <0x0 0x200000>;\n')],
  ['/partitions/b: entry: 0x200000 is not inside an executable mapping']),
 ('soft-affinity-disjoint', 'a soft affinity with no CPU of the hard affinity',
  [(B_IMG, B_IMG + '\t\t\tvcpu@0 { reg = <0>; affinity = <0>; soft-affinity = <1>; };\n')],
  ['/partitions/b/vcpu@0: soft-affinity: no CPU in common with the hard affinity']),
 ('cpu-two-policies', 'one CPU claimed by two scheduling policies',
  [(A_IMG, A_IMG + '\t\t\tsched-policy = "credit2";\n\t\t\tsched-cpus = <0 1>;\n'), (A_VM, A_SERVICE), (UART_MAP, ''),
   (B_IMG, B_IMG + '\t\t\tsched-policy = "null";\n\t\t\tsched-cpus = <1>;\n')],
  ['/partitions/b: sched-cpus: CPU 1 is already scheduled by a']),
 ('policy-not-service', 'a VM declared as a scheduling policy',
  [('type = "service";\n\t\t\timage = "b";', 'type = "vm";\n\t\t\timage = "b";\n\t\t\tsched-policy = "credit2";\n\t\t\tsched-cpus = <1>;')],
  ['/partitions/b: sched-policy: only a service partition can be a scheduling policy']),
 ('irq-two-devices', 'one interrupt given to two devices',
  [('\t};\n\n\tipc {', '\t\tgpio { compatible = "sephyp,device"; reg = <0x0 0x9030000 0x0 0x1000>; rights = "rw"; interrupts = <39 40>; };\n\t};\n\n\tipc {')],
  ['/memory/gpio: interrupts: interrupt 40 is already used by device uart1']),
 ('fault-handler-no-receiver', 'a fault handler endpoint nobody can receive on',
  [('ntf: ntf {', 'faults: faults { compatible = "sephyp,endpoint"; };\n\t\tntf: ntf {'),
   (B_IMG, B_IMG + '\t\t\tfault-handler = <&faults>;\n')],
  ['/partitions/b: fault-handler: no other partition holds a recv capability on endpoint faults']),
 ('guest-cap-self', 'a guest capability to the holder itself',
  [(B_CAP1, B_CAP1 + '\n\t\t\t\tcap@2 { reg = <2>; object = <&b>; kind = "guest"; rights = "monitor"; };')],
  ['/partitions/b/caps/cap@2: object: a partition cannot hold a guest capability to itself']),
 ('partition-cap-no-kind', 'a capability to a partition without its kind',
  [(B_CAP1, B_CAP1 + '\n\t\t\t\tcap@2 { reg = <2>; object = <&a>; rights = "monitor"; };')],
  ['/partitions/b/caps/cap@2: kind: required for a partition object (guest or vcpus)']),
 ('badge-on-memory-cap', 'a badge on a memory capability',
  [(B_CAP1, B_CAP1 + '\n\t\t\t\tcap@2 { reg = <2>; object = <&shm>; rights = "read"; badge = <0x0 0x1>; };')],
  ['/partitions/b/caps/cap@2: badge: only endpoint, notification and guest capabilities carry a badge']),
 ('load-image-twice', 'two mappings that both load the image',
  [(B_SHM, B_SHM.replace('rights = "r";', 'rights = "r"; load-image;'))],
  ['/partitions/b/mappings/shm: load-image: the image is already loaded by another mapping']),
 ('weight-range', 'a scheduling weight of zero and a cap above 100%',
  [(B_IMG, B_IMG + '\t\t\tweight = <0>;\n\t\t\tcap = <150>;\n')],
  ['/partitions/b: weight: 0 is out of range 1..65535', '/partitions/b: cap: 150% is out of range 0..100']),
 ('vcpus-range', 'more vCPUs than a partition may have',
  [(B_IMG, B_IMG + '\t\t\tvcpus = <9>;\n')], ['/partitions/b: vcpus: 9 is out of range 1..8']),
 ('ram-exhausted', 'regions that do not fit in free RAM',
  [(B_RAM, B_RAM + '\n\t\tbig { compatible = "sephyp,ram"; size = <0x0 0x3f000000>; rights = "rw"; };')],
  ['/memory/big: size: 0x3f000000 bytes do not fit in free RAM']),
 ('size-and-reg', 'a region with both size and reg',
  [(B_RAM, B_RAM.replace('size = <0x0 0x100000>;', 'size = <0x0 0x100000>; reg = <0x0 0x50000000 0x0 0x100000>;'))],
  ['/memory/b-ram: size: give either size or reg, not both']),
 ('emulated-no-emulate-right', 'an emulating service without the guest emulate right',
  [('\t};\n};\n', '\t};\n\n\temulated {\n\t\tuart0 {\n\t\t\tcompatible = "sephyp,emulated";\n\t\t\tguest = <&a>;\n\t\t\tservice = <&b>;\n\t\t\tendpoint = <&ep>;\n\t\t\treg = <0x0 0x9000000 0x0 0x1000>;\n\t\t};\n\t};\n};\n')],
  ['/emulated/uart0: service: b holds no guest capability with emulate over a']),
 ('emulated-over-mapping', 'an emulated range over memory the guest already maps',
  [(B_CAP1, B_CAP1 + '\n\t\t\t\tcap@2 { reg = <2>; object = <&a>; kind = "guest"; rights = "emulate"; };'),
   ('\t};\n};\n', '\t};\n\n\temulated {\n\t\tuart0 {\n\t\t\tcompatible = "sephyp,emulated";\n\t\t\tguest = <&a>;\n\t\t\tservice = <&b>;\n\t\t\tendpoint = <&ep>;\n\t\t\treg = <0x0 0x9040000 0x0 0x1000>;\n\t\t};\n\t};\n};\n')],
  ['/emulated/uart0: reg: overlaps mapping uart of guest a']),
 ('string-not-terminated', 'a string property that is raw bytes',
  [('type = "service";\n\t\t\timage = "b";', 'type = "service";\n\t\t\timage = [62 63];')],
  ['/partitions/b: image: expected one non-empty string']),
 ('image-too-large', 'an image larger than the mapping it loads into (host: --image)',
  [], ['/partitions/b: image: "b" is 0x100001 bytes, larger than mapping ram (0x100000 bytes)'],
  ['args: --image a=@4096@ --image b=@1048577@']),
 ('image-missing', 'an image that is not in the boot package (host: --image)',
  [], ['/partitions/b: image: "b" is not in the boot package'], ['args: --image a=@4096@']),
 ('duplicate-region-name', 'two regions with one name (a binary DTB; dtc refuses the source)',
  [(B_RAM, B_RAM.replace('b-ram', 'c-ram'))], ['/memory/a-ram: duplicate region name a-ram'],
  ['patch: c-ram=a-ram']),
 ('image-named-manifest', 'a partition whose image is the manifest blob itself',
  [(B_IMG, 'image = "manifest";\n')], ['/partitions/b: image: "manifest" names the manifest blob, not an image']),
 ('image-name-long', 'an image name longer than a package entry name',
  [(B_IMG, 'image = "an-image-name-of-more-than-31-chars";\n')],
  ['/partitions/b: image: name longer than 31 characters']),
 ('pvh-on-arm64', 'a PVH partition, which only x86 can run (checked as arm64)',
  [('type = "service";\n\t\t\timage = "b";', 'type = "pvh";\n\t\t\timage = "b";')],
  ['/partitions/b: type: partition type "pvh" is not supported on this platform']),
 # The kernel's own resources (issue 8 defect 4): boot_info's kept lists, the
 # host tool's from platform/<arch>/keep.c with QEMU virt's / q35's values.
 ('device-gicd', 'a device over the kernel\'s GIC distributor',
  [(UART_REG, 'reg = <0x0 0x8000000 0x0 0x10000>;')],
  ['/memory/uart1: reg: 0x8000000-0x800ffff is the kernel\'s GIC distributor']),
 ('device-gicr', 'a device over part of the kernel\'s GIC redistributors',
  [(UART_REG, 'reg = <0x0 0x80a0000 0x0 0x20000>;')],
  ['/memory/uart1: reg: 0x80a0000-0x80bffff is the kernel\'s GIC redistributors']),
 ('device-its', 'a device over the kernel\'s GIC ITS',
  [(UART_REG, 'reg = <0x0 0x8080000 0x0 0x1000>;')],
  ['/memory/uart1: reg: 0x8080000-0x8080fff is the kernel\'s GIC ITS']),
 ('device-kernel-uart', 'a device that is the kernel\'s console UART',
  [(UART_REG, 'reg = <0x0 0x9000000 0x0 0x1000>;')],
  ['/memory/uart1: reg: 0x9000000-0x9000fff is the kernel\'s UART']),
 ('device-lapic', 'a device over the local APIC (x86)',
  [(UART_REG, 'reg = <0x0 0xfee00000 0x0 0x1000>;'), (UART_IRQ, 'interrupts = <80>;')],
  ['/memory/uart1: reg: 0xfee00000-0xfee00fff is the kernel\'s local APIC'],
  ['args: --platform x86_64 --cpus 2']),
 ('device-ioapic', 'a device over the I/O APIC (x86)',
  [(UART_REG, 'reg = <0x0 0xfec00000 0x0 0x1000>;'), (UART_IRQ, 'interrupts = <80>;')],
  ['/memory/uart1: reg: 0xfec00000-0xfec00fff is the kernel\'s I/O APIC'],
  ['args: --platform x86_64 --cpus 2']),
 ('irq-hyp-timer', 'a device with the hypervisor timer\'s PPI 10 (INTID 26)',
  [(UART_IRQ, 'interrupts = <26>;')],
  ['/memory/uart1: interrupts: interrupt 26 is the kernel\'s hypervisor timer']),
 ('irq-gic-maint', 'a device with the GIC maintenance interrupt (PPI 9, INTID 25)',
  [(UART_IRQ, 'interrupts = <25>;')],
  ['/memory/uart1: interrupts: interrupt 25 is the kernel\'s GIC maintenance interrupt']),
 ('irq-kick-sgi', 'a device with the kick SGI 0',
  [(UART_IRQ, 'interrupts = <0>;')],
  ['/memory/uart1: interrupts: interrupt 0 is the kernel\'s kick SGI']),
 ('irq-kernel-uart', 'a device with the kernel UART\'s SPI 1 (INTID 33)',
  [(UART_IRQ, 'interrupts = <33>;')],
  ['/memory/uart1: interrupts: interrupt 33 is the kernel\'s UART interrupt']),
 ('irq-ppi', 'a device with a per-CPU interrupt (the PMU\'s PPI 7, INTID 23)',
  [(UART_IRQ, 'interrupts = <23>;')],
  ['/memory/uart1: interrupts: interrupt 23 is the kernel\'s per-CPU SGI/PPI range']),
 ('irq-x86-kick', 'a device with the kick IPI vector 0xf0 (x86)',
  [(UART_REG, 'reg = <0x0 0xfeb00000 0x0 0x1000>;'), (UART_IRQ, 'interrupts = <240>;')],
  ['/memory/uart1: interrupts: interrupt 240 is the kernel\'s kick IPI vector'],
  ['args: --platform x86_64 --cpus 2']),
 ('irq-x86-timer', 'a device with the local APIC timer vector 0x40 (x86)',
  [(UART_REG, 'reg = <0x0 0xfeb00000 0x0 0x1000>;'), (UART_IRQ, 'interrupts = <64>;')],
  ['/memory/uart1: interrupts: interrupt 64 is the kernel\'s local APIC timer vector'],
  ['args: --platform x86_64 --cpus 2']),
 ('name-hyp', 'a partition named like the kernel\'s console prefix',
  [('b: b {', 'b: hyp {')],
  ['/partitions/hyp: partition name hyp is reserved: its console lines would read as the '
   'kernel\'s [hyp] lines']),
 ('name-hyp-upper', 'a partition named HYP',
  [('b: b {', 'b: HYP {')],
  ['/partitions/HYP: partition name HYP is reserved: its console lines would read as the '
   'kernel\'s [hyp] lines']),
 ('name-bracket', 'a partition whose name holds "]" (a blob dtc would not write)',
  [('b: b {', 'b: hyq-x {')],
  ['/partitions/hyp]x: partition name has character 0x5d, which the console could show as '
   'part of a prefix'],
  ['patch: hyq-x=hyp]x']),
 ('load-image-shared', 'an image loaded into a shared region (another partition could rewrite it)',
  [(A_IMG, A_IMG + '\t\t\tentry = <0x0 0x100000>;\n'),
   (A_RAMMAP, A_RAMMAP.replace(' load-image;', '')),
   (A_SHM, A_SHM.replace('rights = "rw";', 'rights = "rw"; load-image;'))],
  ['/partitions/a/mappings/shm: load-image: an image cannot be loaded into shared region shm']),
 ('irq-to-service', 'a device with an interrupt given to a service, which has no virtual interrupt controller',
  [(A_VM, A_SERVICE)],
  ['/memory/uart1: interrupts: service a has no virtual interrupt controller to take them (only vm and pvh partitions do)']),
 ('device-tree-service', 'a device tree for a service',
  [(B_IMG, B_IMG + '\t\t\tdevice-tree = "dt";\n')],
  ['/partitions/b: device-tree: only a vm partition is given a device tree']),
 ('device-tree-ipa-alone', 'device-tree-ipa without device-tree',
  [(A_IMG, A_IMG + '\t\t\tdevice-tree-ipa = <0x0 0x1f0000>;\n')],
  ['/partitions/a: device-tree-ipa: given without device-tree']),
 ('device-tree-ipa-misaligned', 'a device tree at an address that is not 8-byte aligned',
  [(A_IMG, A_IMG + '\t\t\tdevice-tree = "dt";\n\t\t\tdevice-tree-ipa = <0x0 0x1f0004>;\n')],
  ['/partitions/a: device-tree-ipa: 0x1f0004 is not 8-byte aligned']),
 ('device-tree-ipa-outside', 'a device tree outside the partition\'s RAM (in its shared region)',
  [(A_IMG, A_IMG + '\t\t\tdevice-tree = "dt";\n\t\t\tdevice-tree-ipa = <0x0 0x200000>;\n')],
  ['/partitions/a: device-tree-ipa: 0x200000 is not inside a RAM mapping of the partition\'s own']),
 ('restartable-vm', 'a VM marked restartable (only services are restarted)',
  [(A_IMG, A_IMG + '\t\t\trestartable;\n')],
  ['/partitions/a: restartable: only a service partition is restarted']),
 # Emulated x86 I/O ports (`ports = <base count>` instead of `reg`).
 ('emulated-ports-arm64', 'an emulated port range on arm64, which has no I/O ports',
  emu_ports('ports = <0x3f8 8>;', x86=False),
  ['/emulated/com1: ports: this machine has no I/O ports (x86 only)']),
 ('emulated-ports-and-reg', 'an emulated node with both reg and ports (x86)',
  emu_ports('ports = <0x3f8 8>; reg = <0x0 0x9000000 0x0 0x1000>;'),
  ['/emulated/com1: ports: give reg (MMIO) or ports, not both'], ['args: --platform x86_64 --cpus 2']),
 ('emulated-neither', 'an emulated node with neither reg nor ports',
  emu_ports('', x86=False),
  ['/emulated/com1: needs reg (an MMIO range) or ports (x86 I/O ports)']),
 ('emulated-ports-past-ffff', 'emulated ports running past port 0xffff (x86)',
  emu_ports('ports = <0xfff8 9>;'),
  ['/emulated/com1: ports: ports 0xfff8+0x9 go past port 0xffff'], ['args: --platform x86_64 --cpus 2']),
 ('emulated-ports-none', 'an emulated port range of no port (x86)',
  emu_ports('ports = <0x3f8 0>;'),
  ['/emulated/com1: ports: covers no port (count 0)'], ['args: --platform x86_64 --cpus 2']),
 ('emulated-ports-one-cell', 'an emulated port range given as one cell (x86)',
  emu_ports('ports = <0x3f8>;'),
  ['/emulated/com1: ports: expected 8 bytes (two cells), got 4'], ['args: --platform x86_64 --cpus 2']),
 ('emulated-ports-overlap', 'two emulated port ranges of one guest that overlap (x86); an MMIO '
  'range at the same numbers does not',
  emu_ports('ports = <0x3f8 8>;', 'com1b', 'ports = <0x3ff 1>;', 'mmio', 'reg = <0x0 0x0 0x0 0x1000>;'),
  ['/emulated/com1b: ports: overlaps emulated port range com1'], ['args: --platform x86_64 --cpus 2']),
 ('emulated-over-vgic', 'an emulated range of a VM over the GIC distributor its virtual GIC '
  'answers at the same address (arm64)',
  emu_ports('reg = <0x0 0x8000000 0x0 0x1000>;', x86=False),
  ['/emulated/com1: reg: covers the kernel\'s model of the GIC distributor (0x8000000), which '
   'guest a sees there: its accesses would never reach b']),
 ('emulated-over-lapic', 'an emulated range of a VM over the local APIC page (x86)',
  emu_ports('reg = <0x0 0xfee00000 0x0 0x1000>;'),
  ['/emulated/com1: reg: covers the kernel\'s model of the local APIC (0xfee00000), which '
   'guest a sees there: its accesses would never reach b'], ['args: --platform x86_64 --cpus 2']),
 ('preserve-not-restartable', 'a preserved region of a service that is never restarted',
  [(B_RAM, B_RAM + '\n\t\tb_state: b-state { compatible = "sephyp,ram"; size = <0x0 0x1000>; rights = "rw"; preserve; };'),
   (B_RAMMAP, B_RAMMAP + '\n\t\t\t\tstate { region = <&b_state>; ipa = <0x0 0x400000>; rights = "rw"; };')],
  ['/memory/b-state: preserve: its owner b is not restartable: nothing would keep it']),
 ('preserve-image', 'a restartable service\'s image region marked preserve (a restart overwrites it)',
  [(B_RAM, B_RAM.replace('rights = "rwx"; };', 'rights = "rwx"; preserve; };')),
   (B_IMG, B_IMG + '\t\t\trestartable;\n')],
  ['/memory/b-ram: preserve: b loads its image into it: a restart overwrites it']),
 ('preserve-shared', 'preserve on a shared region (a restart never clears one)',
  [('rights = "rw"; };\n\t\tuart1', 'rights = "rw"; preserve; };\n\t\tuart1')],
  ['/memory/shm: preserve: only a sephyp,ram region is cleared by a restart (and so can be kept)']),
 ('console-two-holders', 'two partitions holding the console',
  [(A_CAP0, A_CAP0 + '\n\t\t\t\tcap@2 { reg = <2>; object = <&ntf>; kind = "console"; rights = "write"; };'),
   (B_CAP1, B_CAP1 + '\n\t\t\t\tcap@2 { reg = <2>; object = <&ntf>; kind = "console"; rights = "write", "read"; };')],
  ['/partitions/b/caps/cap@2: kind: the console is already held by a']),
 ('console-kind-endpoint', 'kind = "console" on an endpoint',
  [(A_CAP0, A_CAP0.replace('rights = "send";', 'kind = "console"; rights = "send";'))],
  ['/partitions/a/caps/cap@0: kind: only a capability to a partition or a notification has a kind']),
 ('linux-no-device-tree', 'a linux node without the name of its generated device tree',
  [(A_IMG, A_IMG + '\t\t\tlinux { };\n')],
  ['/partitions/a: device-tree: missing: a linux partition names its generated device tree']),
 ('linux-uart-alone', 'a linux node with uart-interrupt but no uart',
  [(A_IMG, A_IMG + '\t\t\tdevice-tree = "dt";\n\t\t\tlinux { uart-interrupt = <33>; };\n')],
  ['/partitions/a/linux: uart: uart and uart-interrupt go together']),
 ('linux-uart-wrong', 'a linux UART that is no emulated range, on a PPI',
  [(A_IMG, A_IMG + '\t\t\tdevice-tree = "dt";\n'
    '\t\t\tlinux { uart = <&ep>; uart-interrupt = <20>; };\n')],
  ['/partitions/a/linux: uart: names no node of /emulated',
   '/partitions/a/linux: uart-interrupt: 20 is not an SPI (32..1019)']),
 ('linux-not-image', 'a linux partition whose image has no arm64 Image header (host: --image)',
  [(A_IMG, A_IMG + '\t\t\tdevice-tree = "dt";\n\t\t\tlinux { };\n')],
  ['/partitions/a: image: "a" is not an arm64 Linux Image (no "ARM\\x64" at 0x38)',
   '/partitions/a: device-tree: "dt" is not in the boot package'],
  ['args: --image a=@4096@ --image b=@4096@']),
 ('lpis-wrong', 'LPIs: none asked for on a VM, and some on a service',
  [(A_IMG, A_IMG + '\t\t\tlpis = <0>;\n'), (B_IMG, B_IMG + '\t\t\tlpis = <64>;\n')],
  ["/partitions/a: lpis: 0: a VM's LPIs are 1..512 (a virtual ITS's targets)",
   "/partitions/b: lpis: 64: a VM's LPIs are 1..512 (a virtual ITS's targets)"]),
 ('linux-its-wrong', 'a linux ITS that is no emulated range, on a VM without LPIs',
  [(A_IMG, A_IMG + '\t\t\tdevice-tree = "dt";\n\t\t\tlinux { its = <&ep>; };\n')],
  ['/partitions/a/linux: its: names no node of /emulated']),
 ('linux-pci-wrong', 'a linux PCI host bridge without its memory window, without an ITS',
  [(A_IMG, A_IMG + '\t\t\tdevice-tree = "dt";\n\t\t\tlinux { pci = <&ntf>; };\n')],
  ['/partitions/a/linux: pci: names no node of /emulated',
   '/partitions/a/linux: pci-mmio: pci (the ECAM window) and pci-mmio (the memory window) go together']),
 ('contents-device', 'region contents on a device region',
  [(UART_IRQ, UART_IRQ + '\n\t\t\tcontents = "a";')],
  ["/memory/uart1: contents: a device region's contents are the device's"]),
 ('contents-package', 'region contents: a blob not in the package, one larger than its region',
  [('rights = "rw"; };\n\t\tuart1', 'rights = "rw"; contents = "big"; };\n\t\tuart1'),
   (B_RAM, B_RAM.replace('rights = "rwx"; };', 'rights = "rwx"; contents = "nothere"; };'))],
  ['/memory/b-ram: contents: "nothere" is not in the boot package',
   '/memory/shm: contents: "big" is 0x2000 bytes, larger than the region (0x1000 bytes)'],
  ['args: --image a=@4096@ --image b=@4096@ --image big=@8192@']),
 ('routed-wrong', 'a routed window (device models route ranges in it at run time) naming a service and an endpoint',
  emu_ports('routed;\n\t\t\treg = <0x0 0x20000000 0x0 0x1000>;', x86=False),
  ['/emulated/com1: service: a routed window names no service: device models route ranges in it at run time',
   '/emulated/com1: endpoint: a routed window names no endpoint: device models route ranges in it at run time']),
]

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, 'bad')
for i, case in enumerate(CASES):
    name, what, reps, errs = case[:4]
    extra = case[4] if len(case) > 4 else []
    s = BASE
    for old, new in reps:
        assert s.count(old) >= 1, (name, old)
        s = s.replace(old, new, 1)
    head = '/*\n * Malformed: %s.\n' % what
    for e in errs:
        head += ' * error: %s\n' % e
    for x in extra:
        head += ' * %s\n' % x
    head += ' */\n'
    open(os.path.join(out, '%02d-%s.dts' % (i + 1, name)), 'w').write(head + s)
with open(os.path.join(out, 'meson.build'), 'w') as f:
    f.write('# Written by tests/manifest/make_bad.py: the malformed manifests.\n')
    f.write('manifest_bad_cases = [\n')
    for i, case in enumerate(CASES):
        f.write("  '%02d-%s',\n" % (i + 1, case[0]))
    f.write(']\n')
open(os.path.join(here, 'good', 'base.dts'), 'w').write('/*\n * The valid manifest every bad/ case is a variation of.\n */\n' + BASE)
print('%d cases written to %s' % (len(CASES), out))
