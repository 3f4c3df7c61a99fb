/**
 * libFuzzer target for the manifest parser and validator (the files of kernel/manifest/):
 * any byte string goes in as the manifest blob, against the arm64 QEMU virt
 * machine the host tool uses by default, with and without a boot package.
 * The code must never crash, read out of bounds or hit undefined behaviour
 * (ASan + UBSan), and every rejection must carry at least one error.
 * docs/manifest.md ("Fuzzing") has the commands and the recorded result.
 */
#include <stdlib.h>
#include <string.h>

#include <kernel/manifest.h>
#include <kernel/package.h>

static struct config fuzz_cfg;
static struct manifest_errors fuzz_errs;

/** A one-image boot package ("hello", 8 KiB) so the image rule runs too. */
static const void *fuzz_package(u64 *size)
{
	static _Alignas(8) unsigned char pkg[3 * PACKAGE_ALIGN];
	struct package_header *h = (struct package_header *)pkg;
	struct package_entry *e = (struct package_entry *)(h + 1);
	memcpy(h->magic, PACKAGE_MAGIC, sizeof(h->magic));
	h->entry_count = 1;
	h->total_size = sizeof(pkg);
	memcpy(e->name, "hello", 6);
	e->offset = PACKAGE_ALIGN;
	e->size = 2 * PACKAGE_ALIGN;
	*size = sizeof(pkg);
	return pkg;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	/* The kernel gets the blob 4 KiB aligned in the package; keep it aligned here. */
	void *blob = malloc(size != 0 ? size : 1);
	if (blob == NULL)
		return 0;
	memcpy(blob, data, size);

	struct boot_info bi = {
		.cpu_count = 4,
		.ram_count = 1,
		.ram = { { 0x40000000, 0x40000000 } },
		.reserved_count = 1,
		.reserved = { { 0x40000000, 16u << 20 } },
		/* Kept resources, so the kernel-owned rules run too. */
		.kept_mmio_count = 1,
		.kept_mmio = { { 0x08000000, 0x10000, "GIC distributor", true, 0x10000 } },
		.kept_irq_count = 2,
		.kept_irq = { { 26, 1, "hypervisor timer", false, 1 },
		              { 0, 32, "per-CPU SGI/PPI range", false, 32 } },
	};
	if ((size & 1u) != 0)
		bi.package = fuzz_package(&bi.package_size);

	bool ok = manifest_load(blob, size, &bi, &fuzz_cfg, &fuzz_errs);
	if (ok == (fuzz_errs.count != 0))
		abort(); /* an accepted manifest with errors, or a silent rejection */
	char line[512];
	for (u32 i = 0; i < fuzz_errs.count && i < MANIFEST_ERROR_MAX; i++)
		manifest_error_format(&fuzz_errs.errors[i], line, sizeof(line));
	free(blob);
	return 0;
}
