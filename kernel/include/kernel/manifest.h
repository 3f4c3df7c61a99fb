/**
 * The system manifest: a flattened device tree (see docs/manifest.md),
 * parsed with libfdt into a struct config and validated against the
 * machine. Used by the kernel at boot and by tools/manifest on the host,
 * with the same code and the same messages.
 */
#ifndef KERNEL_MANIFEST_H
#define KERNEL_MANIFEST_H

#include <kernel/config.h>
#include <kernel/trap.h>

#define MANIFEST_ERROR_MAX 16u
#define MANIFEST_PATH_MAX 128u
#define MANIFEST_MESSAGE_MAX 160u

/** One error: the node path, the property (may be empty) and what is wrong. */
struct manifest_error {
	char path[MANIFEST_PATH_MAX];
	char property[CFG_NAME_MAX];
	char message[MANIFEST_MESSAGE_MAX];
};

struct manifest_errors {
	u32 count; /**< may exceed MANIFEST_ERROR_MAX; only that many are kept */
	struct manifest_error errors[MANIFEST_ERROR_MAX];
};

/**
 * Parse fdt (size bytes, untrusted) into cfg and validate it against the
 * machine described by bi (RAM, reserved ranges, CPU count). Returns true
 * when cfg is complete and valid; otherwise errs says why.
 *
 * It also places every RAM and shared region without a fixed reg in free
 * RAM (cfg->regions[].pa), and, when bi->package is not NULL, checks that
 * every partition's image is in the package and fits the mapping it loads
 * into. It runs at boot only and keeps its scratch state in static storage
 * (not reentrant).
 */
bool manifest_load(const void *fdt, u64 size, const struct boot_info *bi, struct config *cfg,
                   struct manifest_errors *errs);

/**
 * Format one error the way both the kernel and tools/manifest print it:
 * "manifest error: <path>: <property>: <message>", or
 * "manifest error: <path>: <message>" for an error about a whole node.
 * The kernel prefixes "[hyp] ". Returns the length (buf is always
 * NUL-terminated).
 */
size_t manifest_error_format(const struct manifest_error *e, char *buf, size_t size);

#endif /* KERNEL_MANIFEST_H */
