/**
 * Host-only parts of tools/manifest: reading a manifest (running dtc on a
 * .dts), building an in-memory boot package from --image options so the
 * kernel's image rule runs, and drawing a validated config.
 */
#ifndef MANIFEST_TOOL_H
#define MANIFEST_TOOL_H

#include <stddef.h>

#include <kernel/config.h>
#include <kernel/package.h>

#define TOOL_IMAGE_MAX 32

struct tool_images {
	int count;
	char names[TOOL_IMAGE_MAX][PACKAGE_NAME_MAX];
	const char *files[TOOL_IMAGE_MAX];
};

/** Read FILE as a DTB, compiling it with dtc first when it is device-tree source. */
void *tool_read_manifest(const char *file, size_t *size);

/** Remember one NAME=FILE option. */
bool tool_image_add(struct tool_images *imgs, const char *arg);

/** A boot package (kernel/include/kernel/package.h) holding the named images. */
void *tool_images_package(const struct tool_images *imgs, u64 *size);

/** Write the system as Graphviz DOT, rendered to SVG by dot unless out ends in .dot. */
bool tool_draw(const struct config *cfg, const char *out);

/** `check --print`: the parsed config as stable text. */
void tool_dump(const struct config *cfg);

#endif /* MANIFEST_TOOL_H */
