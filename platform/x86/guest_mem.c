/**
 * Reading guest memory the way the guest's CPU saw it: a linear address
 * through the guest's own page tables (CR0, CR4, EFER and CR3, from the
 * VMCB), every table and the final page through the partition's nested
 * tables. The MMIO emulation (vapic.c) fetches a trapped instruction with
 * it: the nested page fault gives a guest-physical address but not the
 * instruction (no DecodeAssists under QEMU TCG). Plain C over the core's
 * stage-2 lookup, host-tested (tests/unit/test_guest_mem.c).
 *
 *   paging off           linear = guest-physical
 *   32-bit (CR4.PAE 0)   PDE (4 MiB with CR4.PSE) -> PTE              AMD APM vol 2 §5.3
 *   PAE (EFER.LMA 0)     PDPTE -> PDE (2 MiB) -> PTE                   §5.3.3
 *   long mode            PML4E -> PDPTE (1 GiB) -> PDE (2 MiB) -> PTE  §5.3.3
 *
 * Only presence is checked: the guest just executed from that address, so
 * its own permissions allowed it. Five-level paging (CR4.LA57) is refused.
 * The caller holds the kernel lock, so the nested tables cannot change
 * under the walk.
 */
#include <kernel/stage2.h>
#include <plat/memory.h>
#include <string.h>

#include <x86/guest_mem.h>

#define CR0_PG (UINT64_C(1) << 31)
#define CR4_PSE (UINT64_C(1) << 4)
#define CR4_PAE (UINT64_C(1) << 5)
#define CR4_LA57 (UINT64_C(1) << 12)
#define EFER_LMA (UINT64_C(1) << 10)
#define PTE_P (UINT64_C(1) << 0)
#define PTE_PS (UINT64_C(1) << 7)
#define PTE_ADDR UINT64_C(0x000ffffffffff000)
#define PAGE 4096u

/**
 * The host address of guest-physical gpa, if the partition's nested tables
 * map its page readable or executable; n bytes from there stay in the page.
 */
static const u8 *guest_phys(const struct stage2 *s2, u64 gpa, u32 n)
{
	paddr_t pa;
	u32 rights;
	if ((gpa & (PAGE - 1u)) + n > PAGE)
		return NULL;
	if (!stage2_lookup(s2, ipa_init(gpa), &pa, &rights))
		return NULL;
	if ((rights & (RIGHT_MEM_READ | RIGHT_MEM_EXEC)) == 0)
		return NULL;
	return plat_phys_to_virt(pa);
}

/** One page-table entry of `size` bytes (4 or 8) at guest-physical gpa. */
static bool read_entry(const struct stage2 *s2, u64 gpa, u32 size, u64 *entry)
{
	const u8 *p = guest_phys(s2, gpa, size);
	if (p == NULL)
		return false;
	if (size == 4) {
		u32 e;
		memcpy(&e, p, 4);
		*entry = e;
	} else {
		memcpy(entry, p, 8);
	}
	return (*entry & PTE_P) != 0;
}

/** The 4-level long-mode walk (PML4 bits 47:39 down to the PT). */
static bool walk_long(const struct stage2 *s2, u64 cr3, u64 lin, u64 *gpa)
{
	u64 table = cr3 & PTE_ADDR;
	for (u32 level = 4; level >= 1; level--) {
		u32 shift = 12u + 9u * (level - 1u);
		u64 e;
		if (!read_entry(s2, table + ((lin >> shift) & 511u) * 8u, 8, &e))
			return false;
		if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS))) {
			u64 mask = (UINT64_C(1) << shift) - 1u;
			*gpa = ((e & PTE_ADDR) & ~mask) | (lin & mask);
			return true;
		}
		table = e & PTE_ADDR;
	}
	return false;
}

/** PAE without long mode: four PDPTEs at CR3 (32-byte aligned), then 2 MiB or 4 KiB pages. */
static bool walk_pae(const struct stage2 *s2, u64 cr3, u64 lin, u64 *gpa)
{
	u64 e;
	if (!read_entry(s2, (cr3 & 0xffffffe0u) + ((lin >> 30) & 3u) * 8u, 8, &e))
		return false;
	if (!read_entry(s2, (e & PTE_ADDR) + ((lin >> 21) & 511u) * 8u, 8, &e))
		return false;
	if (e & PTE_PS) {
		*gpa = (e & PTE_ADDR & ~UINT64_C(0x1fffff)) | (lin & 0x1fffffu);
		return true;
	}
	if (!read_entry(s2, (e & PTE_ADDR) + ((lin >> 12) & 511u) * 8u, 8, &e))
		return false;
	*gpa = (e & PTE_ADDR) | (lin & 0xfffu);
	return true;
}

/** 32-bit paging: PDE, then a 4 MiB page (CR4.PSE; bits 39:32 of PSE-36 ignored) or a PTE. */
static bool walk_32(const struct stage2 *s2, u64 cr3, u64 cr4, u64 lin, u64 *gpa)
{
	u64 e;
	if (!read_entry(s2, (cr3 & 0xfffff000u) + ((lin >> 22) & 1023u) * 4u, 4, &e))
		return false;
	if ((e & PTE_PS) && (cr4 & CR4_PSE)) {
		*gpa = (e & 0xffc00000u) | (lin & 0x3fffffu);
		return true;
	}
	if (!read_entry(s2, (e & 0xfffff000u) + ((lin >> 12) & 1023u) * 4u, 4, &e))
		return false;
	*gpa = (e & 0xfffff000u) | (lin & 0xfffu);
	return true;
}

bool x86_guest_translate(const struct stage2 *s2, const struct x86_guest_paging *pg, u64 lin,
                         u64 *gpa)
{
	if (!(pg->cr0 & CR0_PG)) {
		*gpa = lin;
		return true;
	}
	if (pg->efer & EFER_LMA) {
		if (pg->cr4 & CR4_LA57)
			return false;
		return walk_long(s2, pg->cr3, lin, gpa);
	}
	if (pg->cr4 & CR4_PAE)
		return walk_pae(s2, pg->cr3, lin & 0xffffffffu, gpa);
	return walk_32(s2, pg->cr3, pg->cr4, lin & 0xffffffffu, gpa);
}

u32 x86_guest_read(const struct stage2 *s2, const struct x86_guest_paging *pg, u64 lin, u8 *bytes,
                   u32 max)
{
	u32 n = PAGE - (u32)(lin & (PAGE - 1u));
	if (n > max)
		n = max;
	u64 gpa;
	if (n == 0 || !x86_guest_translate(s2, pg, lin, &gpa))
		return 0;
	const u8 *p = guest_phys(s2, gpa, n);
	if (p == NULL)
		return 0;
	memcpy(bytes, p, n);
	return n;
}
