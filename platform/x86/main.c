/**
 * The x86_64 platform's C entry (from boot.S, in long mode on the boot
 * stack): bring the boot CPU up, print the banner, describe memory and the
 * boot package to the core, and run what kernel_boot() returns.
 */
#include <kernel/kernel.h>
#include <kernel/package.h>
#include <kernel/print.h>
#include <kernel/trap.h>
#include <string.h>

#include <x86/x86.h>

#define MB1_BOOT_MAGIC 0x2badb002u
#define MB2_BOOT_MAGIC 0x36d76289u
#define MB1_INFO_MMAP (1u << 6)
#define MMAP_AVAILABLE 1u
/** The kernel's identity map ends here (boot.S). */
#define X86_IDENTITY_LIMIT (UINT64_C(4) << 30)

/** Linker symbols (linker.ld): the loaded image and the BSS below it. */
extern const u8 __image_start[], __image_end[], __bss_start[];

void x86_save_boot_info(u32 magic, u32 info);
_Noreturn void x86_main(u32 magic);

/** Size of the saved loader information: more is cut off (tags, entries). */
#define MBI_COPY_SIZE 16384u
/** Multiboot1 information structure, up to its framebuffer fields. */
#define MB1_INFO_SIZE 128u

/**
 * The loader's information, copied into the image (.data) before the BSS
 * is zeroed: the loader may have put it where the BSS lies.
 */
static u8 mbi_copy[MBI_COPY_SIZE] __attribute__((section(".data"), aligned(8)));

static struct boot_info boot_info;

/**
 * Adds a RAM range, clipped to what boot.S identity maps (the low 4 GiB):
 * the core writes to partition RAM through plat_phys_to_virt().
 */
static void add_ram(u64 base, u64 size)
{
	if (base >= X86_IDENTITY_LIMIT)
		return;
	if (size > X86_IDENTITY_LIMIT - base)
		size = X86_IDENTITY_LIMIT - base;
	if (size == 0)
		return;
	if (boot_info.ram_count == BOOT_RANGE_MAX) {
		kprintf("[hyp] memory: more than %u RAM ranges, ignoring 0x%llx+0x%llx\n",
		        BOOT_RANGE_MAX, (unsigned long long)base, (unsigned long long)size);
		return;
	}
	boot_info.ram[boot_info.ram_count++] = (struct boot_mem_range){ base, size };
}

/**
 * Multiboot1 memory map (Multiboot Specification 0.6.96 §3.3): entries of
 * {u32 size; u64 base; u64 length; u32 type}, each followed by `size`
 * bytes after its size field.
 */
static void parse_mb1(const u8 *mbi)
{
	u32 flags, length, addr;
	memcpy(&flags, mbi, 4);
	if (!(flags & MB1_INFO_MMAP))
		return;
	memcpy(&length, mbi + 44, 4);
	memcpy(&addr, mbi + 48, 4);
	const u8 *p = (const u8 *)(uintptr_t)addr;
	const u8 *end = p + length;
	while (p + 24 <= end) {
		u32 size, type;
		u64 base, len;
		memcpy(&size, p, 4);
		memcpy(&base, p + 4, 8);
		memcpy(&len, p + 12, 8);
		memcpy(&type, p + 20, 4);
		if (type == MMAP_AVAILABLE)
			add_ram(base, len);
		p += (u64)size + 4;
	}
}

/**
 * Multiboot2 information (Multiboot2 Specification §3.6): 8-byte aligned
 * tags after an 8-byte header; the memory map is tag type 6 with entries of
 * {u64 base; u64 length; u32 type; u32 reserved}.
 */
static void parse_mb2(const u8 *mbi)
{
	u32 total;
	memcpy(&total, mbi, 4);
	const u8 *p = mbi + 8;
	const u8 *end = mbi + total;
	while (p + 8 <= end) {
		u32 type, size;
		memcpy(&type, p, 4);
		memcpy(&size, p + 4, 4);
		if (type == 0 || size < 8)
			break;
		if (type == 6 && size >= 16) {
			u32 entry_size;
			memcpy(&entry_size, p + 8, 4);
			for (const u8 *e = p + 16; entry_size >= 24 && e + entry_size <= p + size;
			     e += entry_size) {
				u64 base, len;
				u32 etype;
				memcpy(&base, e, 8);
				memcpy(&len, e + 8, 8);
				memcpy(&etype, e + 16, 4);
				if (etype == MMAP_AVAILABLE)
					add_ram(base, len);
			}
		}
		p += (size + 7u) & ~7u;
	}
}

/**
 * Runs before the BSS is zeroed, on the early stack (boot.S): it may use
 * nothing but its arguments and .data. Multiboot2: the whole tag list
 * (its first word is its size). Multiboot1: the structure and the memory
 * map it points to, with mmap_addr redirected to the copy.
 */
void x86_save_boot_info(u32 magic, u32 info)
{
	const u8 *src = (const u8 *)(uintptr_t)info;
	if (magic == MB2_BOOT_MAGIC) {
		u32 total;
		memcpy(&total, src, 4);
		if (total > MBI_COPY_SIZE)
			total = MBI_COPY_SIZE;
		memcpy(mbi_copy, src, total);
		memcpy(mbi_copy, &total, 4);
	} else if (magic == MB1_BOOT_MAGIC) {
		u32 flags, length, addr;
		memcpy(mbi_copy, src, MB1_INFO_SIZE);
		memcpy(&flags, src, 4);
		if (flags & MB1_INFO_MMAP) {
			memcpy(&length, src + 44, 4);
			memcpy(&addr, src + 48, 4);
			if (length > MBI_COPY_SIZE - MB1_INFO_SIZE)
				length = MBI_COPY_SIZE - MB1_INFO_SIZE;
			memcpy(mbi_copy + MB1_INFO_SIZE, (const void *)(uintptr_t)addr, length);
			addr = (u32)(uintptr_t)(mbi_copy + MB1_INFO_SIZE);
			memcpy(mbi_copy + 44, &length, 4);
			memcpy(mbi_copy + 48, &addr, 4);
		}
	}
}

/**
 * The package starts at the image end (4 KiB aligned: tools/pack pads the
 * kernel file to it). Its size comes from its own header; the core checks
 * everything else (package_valid) before trusting it.
 */
static void find_package(void)
{
	const struct package_header *h = (const struct package_header *)__image_end;
	boot_info.package = h;
	boot_info.package_size =
	        memcmp(h->magic, PACKAGE_MAGIC, sizeof(h->magic)) == 0 ? h->total_size : 0;
}

_Noreturn void x86_main(u32 magic)
{
	x86_console_init();
	x86_idt_init();
	x86_idt_load();
	x86_cpu_init(0);
	x86_cpu_register(0);
	kprintf("[hyp] sephyp %s x86_64\n", KERNEL_VERSION);
	x86_report_cpu();

	if (magic == MB1_BOOT_MAGIC)
		parse_mb1(mbi_copy);
	else if (magic == MB2_BOOT_MAGIC)
		parse_mb2(mbi_copy);
	else
		kprintf("[hyp] not started by a multiboot loader (magic 0x%x)\n", magic);
	u64 total = 0;
	for (u32 i = 0; i < boot_info.ram_count; i++)
		total += boot_info.ram[i].size;
	find_package();
	u64 used_end =
	        (u64)(uintptr_t)__image_end + ((boot_info.package_size + PAGE_MASK) & ~PAGE_MASK);
	/* Low 1 MiB: BIOS data, real-mode IVT, option ROMs. Then BSS, image, package. */
	boot_info.reserved[0] = (struct boot_mem_range){ 0, (u64)(uintptr_t)__bss_start };
	boot_info.reserved[1] = (struct boot_mem_range){ (u64)(uintptr_t)__bss_start,
		                                         used_end - (u64)(uintptr_t)__bss_start };
	boot_info.reserved_count = 2;
	x86_keep(&boot_info);
	kprintf("[hyp] memory: %llu MiB RAM in %u ranges; kernel 0x%llx-0x%llx, package %llu KiB\n",
	        (unsigned long long)(total >> 20), boot_info.ram_count,
	        (unsigned long long)(uintptr_t)__bss_start,
	        (unsigned long long)(uintptr_t)__image_end,
	        (unsigned long long)(boot_info.package_size >> 10));

	x86_timer_init();
	x86_svm_init(0);
	boot_info.cpu_count = x86_smp_start();
	struct vcpu *first = kernel_boot(&boot_info);
	x86_smp_release();
	x86_run(first);
}
