/*
 * Shared pieces of the test manifests (run through the C preprocessor with
 * ARCH_ARM64 or ARCH_X86 defined, then dtc).
 */
#ifndef TESTS_HYP_COMMON_H
#define TESTS_HYP_COMMON_H

#ifdef ARCH_ARM64
#define KERNEL_PA 0x40080000   /* where QEMU loads the kernel image */
#define UNASSIGNED_MMIO 0x08000000 /* the GICv3 distributor */
#define VICTIM_PA 0x50000000
#else
#define KERNEL_PA 0x01000000
#define UNASSIGNED_MMIO 0xfee00000 /* the local APIC */
#define VICTIM_PA 0x04000000
#endif

/* 64 KiB of private RAM, read-write-execute. */
#define RAM(label, name) \
	label: name { compatible = "sephyp,ram"; size = <0x0 0x10000>; rights = "rwx"; };

/* Map that RAM at 0x100000 (where partitions are linked) and load the image there. */
#define MAP_RAM(label) \
	mappings { ram { region = <&label>; ipa = <0x0 0x100000>; rights = "rwx"; load-image; }; };

#define SERVICE(image_name) \
	compatible = "sephyp,partition"; type = "service"; image = image_name; vcpus = <1>;

#endif
