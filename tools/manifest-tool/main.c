/**
 * tools/manifest: check a system manifest on the host with the kernel's own
 * parser and validator (the files of kernel/manifest/), or draw it.
 *
 *   manifest-tool check [MACHINE] [--image NAME=FILE]... [--print] FILE.dts|FILE.dtb
 *   manifest-tool draw  [MACHINE] FILE OUT.svg|OUT.dot
 *
 *   MACHINE: --platform arm64|x86_64   QEMU virt / pc defaults (below)
 *            --cpus N  --ram BASE:SIZE  --reserve BASE:SIZE  (override)
 *
 * Errors print exactly as the kernel prints them at boot, without its
 * "[hyp] " prefix. Exit status: 0 valid, 1 invalid, 2 usage or I/O error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kernel/manifest.h>
#include <kernel/package.h>

#include <arm64/keep.h>
#include <x86/keep.h>

#include "tool.h"

/** The machine a manifest is checked against when the user names none. */
static void machine_defaults(struct boot_info *bi, const char *platform)
{
	memset(bi, 0, sizeof(*bi));
	bi->ram_count = 1;
	bi->reserved_count = 1;
	if (strcmp(platform, "x86_64") == 0) {
		/* QEMU pc, -m 1G: the e820 RAM above 1 MiB (up to the ACPI tables); kernel and package at 1 MiB. */
		bi->cpu_count = 1;
		bi->ram[0] = (struct boot_mem_range){ 0x100000, 0x3ffe0000 - 0x100000 };
		bi->reserved[0] = (struct boot_mem_range){ 0x100000, 16u << 20 };
		x86_keep(bi);
	} else {
		/*
		 * QEMU virt, -m 1G -smp 4: the kernel and its package from 0x40080000
		 * (16 MiB allowed for them), QEMU's DTB at RAM + 128 MiB (1 MiB).
		 */
		bi->cpu_count = 4;
		bi->ram[0] = (struct boot_mem_range){ 0x40000000, 0x40000000 };
		bi->reserved[0] = (struct boot_mem_range){ 0x40000000, 16u << 20 };
		bi->reserved[1] = (struct boot_mem_range){ 0x48000000, 1u << 20 };
		bi->reserved_count = 2;
		bi->unsupported_types = 1u << PARTITION_PVH;
		/* What QEMU virt's DTB says (gic-version=3,its=on): the platform's own rules. */
		const struct arm64_keep_hw virt = {
			.gicd = 0x08000000,
			.gicd_size = 0x10000,
			.gicr = 0x080a0000,
			.gicr_size = 0xf60000,
			.gits = 0x08080000,
			.uart = 0x09000000,
			.uart_intid = 33,
			.maint_intid = 25,
			.timer_ppi = { 13, 14, 11, 10 },
		};
		arm64_keep(bi, &virt);
	}
}

static int usage(void)
{
	fprintf(stderr,
	        "usage: manifest check [MACHINE] [--image NAME=FILE]... [--print] FILE.dts|FILE.dtb\n"
	        "       manifest draw [MACHINE] FILE OUT.svg|OUT.dot\n"
	        "MACHINE: --platform arm64|x86_64 (default arm64) --cpus N\n"
	        "         --ram BASE:SIZE --reserve BASE:SIZE (replace the platform's ranges)\n");
	return 2;
}

static bool parse_range(const char *s, struct boot_mem_range *r)
{
	char *end;
	r->base = strtoull(s, &end, 0);
	if (*end != ':')
		return false;
	r->size = strtoull(end + 1, &end, 0);
	return *end == '\0' && r->size != 0;
}

/** The options shared by check and draw; returns the first operand index or -1. */
static int parse_options(int argc, char **argv, struct boot_info *bi, struct tool_images *imgs,
                         bool *print)
{
	bool ram_given = false, reserve_given = false;
	machine_defaults(bi, "arm64");
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] != '-')
			return i;
		if (strcmp(a, "--print") == 0 && imgs != NULL) {
			*print = true;
			continue;
		}
		if (i + 1 >= argc)
			return -1;
		const char *v = argv[++i];
		if (strcmp(a, "--platform") == 0) {
			if (strcmp(v, "arm64") != 0 && strcmp(v, "x86_64") != 0)
				return -1;
			machine_defaults(bi, v);
			ram_given = reserve_given = false;
		} else if (strcmp(a, "--cpus") == 0) {
			bi->cpu_count = (u32)strtoul(v, NULL, 0);
		} else if (strcmp(a, "--ram") == 0 || strcmp(a, "--reserve") == 0) {
			bool ram = a[2] == 'r' && a[3] == 'a';
			bool *given = ram ? &ram_given : &reserve_given;
			u32 *count = ram ? &bi->ram_count : &bi->reserved_count;
			struct boot_mem_range *list = ram ? bi->ram : bi->reserved;
			if (!*given)
				*count = 0;
			*given = true;
			if (*count == BOOT_RANGE_MAX || !parse_range(v, &list[*count]))
				return -1;
			(*count)++;
		} else if (strcmp(a, "--image") == 0 && imgs != NULL) {
			if (!tool_image_add(imgs, v))
				return -1;
		} else {
			return -1;
		}
	}
	return argc;
}

/** Print every error as the kernel does; returns the exit status. */
static int report(const struct manifest_errors *errs)
{
	char line[MANIFEST_PATH_MAX + CFG_NAME_MAX + MANIFEST_MESSAGE_MAX + 32];
	u32 shown = errs->count < MANIFEST_ERROR_MAX ? errs->count : MANIFEST_ERROR_MAX;
	for (u32 i = 0; i < shown; i++) {
		manifest_error_format(&errs->errors[i], line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
	if (errs->count > shown)
		fprintf(stderr, "manifest error: ... and %u more\n", errs->count - shown);
	return errs->count != 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct config cfg;
	static struct manifest_errors errs;
	struct boot_info bi;
	struct tool_images imgs = { 0 };

	if (argc < 3)
		return usage();
	bool draw = strcmp(argv[1], "draw") == 0;
	if (!draw && strcmp(argv[1], "check") != 0)
		return usage();
	bool print = false;
	int first = parse_options(argc, argv, &bi, draw ? NULL : &imgs, &print);
	if (first < 0 || argc - first != (draw ? 2 : 1))
		return usage();

	const char *file = argv[first];
	size_t size;
	void *blob = tool_read_manifest(file, &size);
	if (blob == NULL)
		return 2;
	if (imgs.count != 0) {
		bi.package = tool_images_package(&imgs, &bi.package_size);
		if (bi.package == NULL)
			return 2;
	}
	bool ok = manifest_load(blob, size, &bi, &cfg, &errs);
	int status = report(&errs);
	if (ok && draw)
		status = tool_draw(&cfg, argv[first + 1]) ? 0 : 2;
	else if (ok && print)
		tool_dump(&cfg);
	else if (ok)
		printf("%s: ok: %u partitions, %u regions, %u endpoints, %u notifications, %u emulated ranges\n",
		       file, cfg.partition_count, cfg.region_count, cfg.endpoint_count,
		       cfg.notification_count, cfg.emulated_count);
	free(blob);
	free((void *)bi.package);
	return ok ? status : 1;
}
