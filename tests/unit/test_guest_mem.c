/**
 * The guest page-table walk of the x86 MMIO emulation (platform/x86/guest_mem.c) over the core's
 * stage-2 tables on the fake platform: paging off, 32-bit (4 KiB and 4 MiB pages), PAE (4 KiB and
 * 2 MiB) and 4-level (4 KiB, 2 MiB, 1 GiB) translations, the checks a guest cannot get past
 * (absent or unreadable tables, a table outside its memory, 5-level paging) and reads that stop at
 * the page end.
 */
#include "tap.h"
#include <fake.h>
#include <kernel/stage2.h>
#include <string.h>
#include <x86/guest_mem.h>

/* Guest-physical layout: 16 pages of RAM at 0x100000, an execute-only page after them. */
#define RAM_GPA 0x100000u
#define RAM_PAGES 16u
#define XO_GPA (RAM_GPA + RAM_PAGES * 0x1000u)
#define P 1u
#define W 2u
#define PS 0x80u

static unsigned char ram[RAM_PAGES * 4096] __attribute__((aligned(4096)));
static unsigned char xo[4096] __attribute__((aligned(4096)));
static struct stage2 s2;

/** Where guest-physical gpa (inside the RAM) is in this process. */
static void *host(uint64_t gpa)
{
	return &ram[gpa - RAM_GPA];
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(host(gpa), &v, 8);
}

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(host(gpa), &v, 4);
}

static bool translate(const struct x86_guest_paging *pg, uint64_t lin, uint64_t *gpa)
{
	return x86_guest_translate(&s2, pg, lin, gpa);
}

static void setup(void)
{
	OK(stage2_init(&s2, 3), "stage-2 tables for the guest");
	OK(stage2_map(&s2, ipa_init(RAM_GPA), pa_init((uint64_t)(uintptr_t)ram), sizeof(ram),
	              RIGHT_MEM_READ | RIGHT_MEM_WRITE, false),
	   "its RAM is mapped");
	OK(stage2_map(&s2, ipa_init(XO_GPA), pa_init((uint64_t)(uintptr_t)xo), sizeof(xo),
	              RIGHT_MEM_EXEC, false),
	   "and one execute-only page");
	for (unsigned i = 0; i < sizeof(ram); i++)
		ram[i] = (unsigned char)(i * 7u);
	memset(xo, 0x90, sizeof(xo));
}

static void test_paging_off(void)
{
	const struct x86_guest_paging pg = { .cr0 = 0x11 };
	uint64_t gpa = 0;
	OK(translate(&pg, 0x101234, &gpa) && gpa == 0x101234, "paging off: linear is physical");
	unsigned char b[15];
	EQ(x86_guest_read(&s2, &pg, 0x101000, b, sizeof(b)), 15, "a read takes 15 bytes");
	OK(memcmp(b, host(0x101000), 15) == 0, "the bytes of that address");
	EQ(x86_guest_read(&s2, &pg, 0x101ff9, b, sizeof(b)), 7, "a read stops at the page end");
	EQ(x86_guest_read(&s2, &pg, 0x400000, b, sizeof(b)), 0, "unmapped memory reads nothing");
	EQ(x86_guest_read(&s2, &pg, XO_GPA + 0x10, b, sizeof(b)), 15,
	   "an execute-only page can be fetched from");
	EQ(b[0], 0x90, "with its bytes");
}

/* 4-level: PML4 at page 1, PDPT at page 2, PD at page 3, PT at page 4. */
static void test_long_mode(void)
{
	const uint64_t pml4 = RAM_GPA + 0x1000, pdpt = RAM_GPA + 0x2000, pd = RAM_GPA + 0x3000,
	               pt = RAM_GPA + 0x4000;
	memset(host(pml4), 0, 4 * 4096);
	put64(pml4 + 0 * 8, pdpt | P | W);
	put64(pdpt + 0 * 8, pd | P | W);
	put64(pdpt + 1 * 8, 0x40000000u | P | PS); /* 1 GiB page at 1 GiB */
	put64(pd + 2 * 8, pt | P | W);             /* 0x400000: 4 KiB pages */
	put64(pd + 3 * 8, 0x200000u | P | PS);     /* 0x600000: a 2 MiB page at 2 MiB */
	put64(pd + 4 * 8, (RAM_GPA + 0xf000) | W); /* 0x800000: a table that is not present */
	put64(pd + 5 * 8, 0x7fff000u | P); /* 0xa00000: a table outside the guest's memory */
	put64(pt + 5 * 8, (RAM_GPA + 0x6000) | P); /* 0x405000 -> 0x106000 */
	struct x86_guest_paging pg = { .cr0 = 0x80000011u, .cr3 = pml4, .cr4 = 0x20, .efer = 0x500 };
	uint64_t gpa = 0;
	OK(translate(&pg, 0x405123, &gpa) && gpa == RAM_GPA + 0x6123, "4-level, 4 KiB page");
	OK(translate(&pg, 0x6abcde, &gpa) && gpa == 0x2abcde, "4-level, 2 MiB page");
	OK(translate(&pg, 0x40001234, &gpa) && gpa == 0x40001234, "4-level, 1 GiB page");
	OK(!translate(&pg, 0x406000, &gpa), "a PTE that is not present");
	OK(!translate(&pg, 0x800000, &gpa), "a PDE that is not present");
	OK(!translate(&pg, 0xa00000, &gpa), "a table outside the guest's memory");
	OK(!translate(&pg, UINT64_C(0x8000000000), &gpa), "a PML4E that is not present");
	unsigned char b[15];
	EQ(x86_guest_read(&s2, &pg, 0x405ff0, b, sizeof(b)), 15, "a read through the walk");
	OK(memcmp(b, host(RAM_GPA + 0x6ff0), 15) == 0, "gives the bytes of the page it maps");
	EQ(x86_guest_read(&s2, &pg, 0x406000, b, sizeof(b)), 0, "nothing from an absent page");
	pg.cr4 |= 0x1000;
	OK(!translate(&pg, 0x405123, &gpa), "5-level paging is refused");
	pg.cr4 &= ~UINT64_C(0x1000);
	pg.cr3 = 0x7000000;
	OK(!translate(&pg, 0x405123, &gpa), "CR3 outside the guest's memory");
}

/* PAE: the PDPT at page 5 offset 0x20 (32-byte aligned), PD at page 6, PT at page 7. */
static void test_pae(void)
{
	const uint64_t pdpt = RAM_GPA + 0x5020, pd = RAM_GPA + 0x7000, pt = RAM_GPA + 0x8000;
	memset(host(RAM_GPA + 0x5000), 0, 4096);
	memset(host(pd), 0, 2 * 4096);
	put64(pdpt + 1 * 8, pd | P);               /* 1 GiB..2 GiB */
	put64(pd + 1 * 8, pt | P | W);             /* 0x40200000: 4 KiB pages */
	put64(pd + 2 * 8, 0x600000u | P | PS);     /* 0x40400000: 2 MiB page */
	put64(pt + 3 * 8, (RAM_GPA + 0x9000) | P); /* 0x40203000 -> 0x109000 */
	const struct x86_guest_paging pg = { .cr0 = 0x80000011u, .cr3 = pdpt, .cr4 = 0x20 };
	uint64_t gpa = 0;
	OK(translate(&pg, 0x40203456, &gpa) && gpa == RAM_GPA + 0x9456, "PAE, 4 KiB page");
	OK(translate(&pg, 0x40412345, &gpa) && gpa == 0x612345, "PAE, 2 MiB page");
	OK(!translate(&pg, 0x00001000, &gpa), "PAE, a PDPTE that is not present");
	OK(translate(&pg, UINT64_C(0x140203456), &gpa) && gpa == RAM_GPA + 0x9456,
	   "PAE without long mode uses the low 32 bits");
}

/* 32-bit: PD at page 10, PT at page 11. */
static void test_32bit(void)
{
	const uint64_t pd = RAM_GPA + 0xa000, pt = RAM_GPA + 0xb000;
	memset(host(pd), 0, 2 * 4096);
	put32(pd + 1 * 4, (uint32_t)pt | P | W);             /* 0x400000: 4 KiB pages */
	put32(pd + 2 * 4, 0x00c00000u | P | PS);             /* 0x800000: 4 MiB with PSE */
	put32(pt + 7 * 4, (uint32_t)(RAM_GPA + 0xc000) | P); /* 0x407000 -> 0x10c000 */
	struct x86_guest_paging pg = { .cr0 = 0x80000011u, .cr3 = pd, .cr4 = 0x10 };
	uint64_t gpa = 0;
	OK(translate(&pg, 0x407abc, &gpa) && gpa == RAM_GPA + 0xcabc, "32-bit, 4 KiB page");
	OK(translate(&pg, 0x923456, &gpa) && gpa == 0xd23456, "32-bit, 4 MiB page with CR4.PSE");
	pg.cr4 = 0;
	OK(!translate(&pg, 0x923456, &gpa),
	   "without CR4.PSE the PS bit is ignored: the entry is a table outside the guest's memory");
	OK(!translate(&pg, 0x1000000, &gpa), "32-bit, a PDE that is not present");
}

int main(void)
{
	setup();
	test_paging_off();
	test_long_mode();
	test_pae();
	test_32bit();
	return tap_finish();
}
