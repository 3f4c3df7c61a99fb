/**
 * The boot description of a whole system: what the manifest says, in plain
 * C structs. kernel/manifest/manifest.c fills it from the device-tree manifest (with
 * libfdt) and validates it; kernel/boot.c builds every kernel object from it.
 * The host tool tools/manifest uses the very same parser and validator.
 *
 * Everything is fixed-size: limits below are the kernel's object counts.
 * Cross references are indexes into the arrays of struct config.
 *
 *   config
 *    +- regions[]        memory: private RAM, shared RAM, device MMIO
 *    +- endpoints[]      IPC endpoints (names only; objects are built at boot)
 *    +- notifications[]
 *    +- devices[]        passthrough devices: a device region + interrupts
 *    +- partitions[]
 *         +- mappings[]  region -> IPA with rights (stage-2 / NPT entries)
 *         +- vcpus[]     hard/soft affinity
 *         +- caps[]      slot -> object + rights + badge
 */
#ifndef KERNEL_CONFIG_H
#define KERNEL_CONFIG_H

#include <ipc/abi.h>
#include <kernel/types.h>

#define CFG_NAME_MAX 32u
#define CFG_PARTITION_MAX 16u
#define CFG_REGION_MAX 64u
/** LPIs a VM may ask for (manifest `lpis`): the arm64 vGIC's VGIC_LPI_MAX. */
#define CFG_LPI_MAX 512u
#define CFG_MAPPING_MAX 16u
#define CFG_ENDPOINT_MAX 32u
#define CFG_NOTIFICATION_MAX 32u
#define CFG_VCPU_MAX 8u /**< per partition */
/** Room left for a guest's device tree at the end of its image mapping, by default (docs/manifest.md). */
#define CFG_DTB_ROOM_BIG 0x200000u  /**< 2 MiB, for mappings of 4 MiB or more */
#define CFG_DTB_ROOM_SMALL 0x10000u /**< 64 KiB, for smaller ones */
/** A Linux Image's base alignment (arm64 booting protocol): its load-image mapping's IPA. */
#define CFG_LINUX_ALIGN 0x200000u
#define CFG_CPU_MAX 8u
#define CFG_DEVICE_MAX 16u
#define CFG_DEVICE_IRQ_MAX 4u
#define CFG_EMULATED_MAX 16u
#define CFG_NONE 0xffffffffu /**< "no index" */
/** vCPUs of the whole system (the kernel's vCPU array, KERNEL_VCPU_MAX). */
#define CFG_VCPU_TOTAL_MAX 64u
/** Guest-physical addresses must lie below this (40-bit IPA space). */
#define CFG_IPA_LIMIT (UINT64_C(1) << 40)

/** Boot-time log level, manifest property hypervisor/log-level. */
enum cfg_log_level {
	CFG_LOG_NONE = 0,
	CFG_LOG_ERROR = 1,
	CFG_LOG_WARNING = 2,
	CFG_LOG_INFO = 3,
	CFG_LOG_DEBUG = 4,
	CFG_LOG_ALL = 5,
};

/** What a policy partition does with the CPUs it schedules (sched-policy). */
enum cfg_sched_kind {
	CFG_SCHED_NONE = 0,   /**< not a scheduling policy partition */
	CFG_SCHED_SHARED = 1, /**< time-shares its CPUs (credit2-like): any vCPU count */
	CFG_SCHED_STATIC = 2, /**< one vCPU per CPU (null scheduler): placement checked */
};

enum region_kind {
	REGION_RAM = 0,    /**< private RAM of one partition, allocated at boot */
	REGION_SHARED = 1, /**< RAM mapped into every partition the manifest names */
	REGION_DEVICE = 2, /**< fixed physical MMIO range passed through to one owner */
};

/** A memory region. pa is fixed for devices and assigned at boot for RAM. */
struct cfg_region {
	char name[CFG_NAME_MAX];
	enum region_kind kind;
	u64 size; /**< bytes, a multiple of PAGE_SIZE */
	u64 pa;   /**< physical base: the manifest's reg (pa_fixed), else placed by manifest_load */
	u32 rights;    /**< the most any mapping of it may have (RIGHT_MEM_*) */
	u32 owner;     /**< RAM/DEVICE: owning partition index; SHARED: CFG_NONE */
	bool pa_fixed; /**< the manifest gave reg: pa is that; else manifest_load placed it */
	/**
	 * RAM a restart of its (restartable) owner does not clear: the state a
	 * service keeps across its own restarts (`preserve;`, docs/manifest.md).
	 */
	bool preserve;
	/**
	 * A blob of the boot package copied into the region at boot, and again whenever a
	 * restart clears it ("" = none): a disk image a device model serves, say.
	 */
	char contents[CFG_NAME_MAX];
};

/** One stage-2 mapping of a region into a partition at an IPA. */
struct cfg_mapping {
	u32 region;
	u64 ipa;
	u32 rights; /**< RIGHT_MEM_*; must be a subset of the region's rights */
};

struct cfg_vcpu {
	u64 hard_affinity; /**< CPU bit mask; the vCPU may only run there */
	u64 soft_affinity; /**< preferred CPUs; defaults to hard_affinity */
};

/** A capability as the manifest grants it. */
struct cfg_cap {
	u32 slot;
	enum cap_type type;
	u32 object; /**< index into endpoints/notifications/regions/partitions */
	u32 rights;
	u64 badge;
};

struct cfg_partition {
	char name[CFG_NAME_MAX];
	enum partition_type type;
	char image[CFG_NAME_MAX]; /**< image name in the boot package; "" = none */
	u32 image_mapping;        /**< mapping whose IPA the image is loaded at */
	u64 entry;                /**< IPA of the first instruction */
	/**
	 * A device tree for the guest: image name in the boot package ("" =
	 * none), loaded at dtb_ipa; a VM's vCPU 0 starts with x0 = dtb_ipa.
	 */
	char dtb[CFG_NAME_MAX];
	u64 dtb_ipa;
	/**
	 * linux { } in the manifest: the image is an arm64 Linux Image, placed
	 * at image_offset (its header's text_offset) into the load-image
	 * mapping; initrd ("" = none) goes at initrd_ipa, below the device tree.
	 */
	bool linux_image;
	char initrd[CFG_NAME_MAX];
	u64 image_offset;
	u64 initrd_ipa;
	u32 lpi_count; /**< LPIs of its virtual GIC (manifest `lpis`; 0: none) */
	/**
	 * Stage-2 tables reserved at boot for its introspection views and block splits
	 * (manifest `stage2-tables`); CFG_NONE: the default (kernel/vmi.h).
	 */
	u32 stage2_tables;
	u32 weight;      /**< scheduling weight, 1..65535 (default 256) */
	u32 cap_percent; /**< scheduling cap, 0 = none */
	u32 vcpu_count;
	struct cfg_vcpu vcpus[CFG_VCPU_MAX];
	u32 mapping_count;
	struct cfg_mapping mappings[CFG_MAPPING_MAX];
	u32 cap_count;
	struct cfg_cap caps[CAP_SLOT_COUNT];
	u32 fault_endpoint; /**< endpoint that receives this partition's faults, or CFG_NONE */
	u64 fault_badge;    /**< badge the handler sees on those messages */
	u32 sched_kind;     /**< enum cfg_sched_kind: is this a scheduling policy partition */
	bool restartable;   /**< a service the kernel restarts from its image when it stops */
	u64 sched_cpus;     /**< CPU mask it schedules (also in config.sched_policy[]) */
};

/** A device passed through: its MMIO region and its interrupts. */
struct cfg_device {
	char name[CFG_NAME_MAX];
	u32 region; /**< a REGION_DEVICE region */
	u32 owner;  /**< partition index */
	u32 irq_count;
	u32 irqs[CFG_DEVICE_IRQ_MAX];
};

/**
 * What an emulated range covers: guest-physical addresses (`reg`) or x86 I/O ports (`ports`);
 * or a window of guest-physical addresses (`reg` and `routed;`) that no service is named for:
 * the kernel delivers nothing there itself, and device models route ranges in it at run time
 * (HC_GUEST_ROUTE, through the dmop service). The manifest names it so that the guest's
 * device tree can describe it (a PCI host bridge's ECAM and memory window). On x86 a routed
 * window of ports (`ports` and `routed;`) is the same for I/O ports (an RTC at 0x70).
 */
enum cfg_emulated_kind {
	CFG_EMULATED_MMIO,
	CFG_EMULATED_PORTS,
	CFG_EMULATED_ROUTED,
	/** A window of x86 I/O ports (`ports` and `routed;`) for run-time port routes. */
	CFG_EMULATED_ROUTED_PORTS,
};

/** A guest MMIO or port range emulated by a service (kernel/emulate.c). */
struct cfg_emulated {
	char name[CFG_NAME_MAX];
	u32 guest;    /**< partition whose accesses trap */
	u32 kind;     /**< enum cfg_emulated_kind */
	u64 ipa;      /**< MMIO: first address; ports: first port */
	u64 size;     /**< MMIO: bytes; ports: how many ports */
	u32 service;  /**< emulating partition (CFG_NONE for a routed window) */
	u32 endpoint; /**< where the kernel delivers the trapped accesses (CFG_NONE: routed) */
	/**
	 * A routed window that is a PCI host bridge's ECAM (`pci-ecam;`): 1 MiB of configuration
	 * space per bus from bus 0, segment 0. Routes in it may be given by SBDF
	 * (IPC_ROUTE_PCI), and an access no route covers is an absent function's: reads give
	 * all ones, writes are dropped (as PCI does).
	 */
	bool ecam;
};

struct config {
	u32 cpu_count;                 /**< CPUs the system uses */
	u32 log_level;                 /**< boot-time runtime parameter */
	u32 sched_policy[CFG_CPU_MAX]; /**< policy partition per CPU, or CFG_NONE */
	u32 partition_count;
	struct cfg_partition partitions[CFG_PARTITION_MAX];
	u32 region_count;
	struct cfg_region regions[CFG_REGION_MAX];
	u32 endpoint_count;
	char endpoint_names[CFG_ENDPOINT_MAX][CFG_NAME_MAX];
	u32 notification_count;
	char notification_names[CFG_NOTIFICATION_MAX][CFG_NAME_MAX];
	u32 device_count;
	struct cfg_device devices[CFG_DEVICE_MAX];
	u32 emulated_count;
	struct cfg_emulated emulated[CFG_EMULATED_MAX];
};

#endif /* KERNEL_CONFIG_H */
