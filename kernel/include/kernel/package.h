/**
 * The boot package: the manifest and every partition image, appended to the
 * kernel image by tools/pack so that QEMU boots one file.
 *
 *   +----------------------+  offset 0 (4 KiB aligned, right after the kernel)
 *   | package_header       |  magic "HYPPKG01", entry_count, total_size
 *   | package_entry[count] |  name, offset, size  (offsets from offset 0)
 *   +----------------------+
 *   | "manifest" (DTB)     |  each blob 4 KiB aligned
 *   | image blobs ...      |
 *   +----------------------+
 *
 * All integers are little-endian. The kernel checks every offset and size
 * against total_size before it trusts them.
 */
#ifndef KERNEL_PACKAGE_H
#define KERNEL_PACKAGE_H

#include <kernel/types.h>

#define PACKAGE_MAGIC "HYPPKG01"
#define PACKAGE_NAME_MAX 32u
#define PACKAGE_ENTRY_MAX 64u
#define PACKAGE_ALIGN 4096u

struct package_header {
	char magic[8];
	u32 entry_count;
	u32 total_size;
};

struct package_entry {
	char name[PACKAGE_NAME_MAX]; /**< NUL-terminated */
	u32 offset;
	u32 size;
};

/** Check the package's header and every entry's bounds. */
bool package_valid(const void *pkg, u64 size);

/** Find a blob by name; false if absent (the package must be valid). */
bool package_find(const void *pkg, const char *name, const void **data, u64 *size);

#endif /* KERNEL_PACKAGE_H */
