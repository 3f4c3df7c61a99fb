/**
 * Reading manifests and images for tools/manifest. Host code: plain libc
 * and POSIX, nothing here runs in the kernel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kernel/package.h>

#include "tool.h"

/** The whole file, or NULL with a message. */
static void *read_file(const char *file, size_t *size)
{
	FILE *f = fopen(file, "rb");
	if (f == NULL) {
		perror(file);
		return NULL;
	}
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	while (buf != NULL) {
		len += fread(buf + len, 1, cap - len, f);
		if (len < cap)
			break;
		cap *= 2;
		char *bigger = realloc(buf, cap);
		if (bigger == NULL)
			free(buf);
		buf = bigger;
	}
	if (buf == NULL || ferror(f)) {
		fprintf(stderr, "%s: read error\n", file);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = len;
	return buf;
}

/** dtc FILE to a temporary DTB; dtc prints its own syntax errors. */
static void *compile_dts(const char *file, size_t *size)
{
	char tmp[] = "/tmp/manifest-XXXXXX";
	int fd = mkstemp(tmp);
	if (fd < 0) {
		perror("mkstemp");
		return NULL;
	}
	close(fd);
	pid_t pid = fork();
	if (pid == 0) {
		execlp("dtc", "dtc", "-q", "-I", "dts", "-O", "dtb", "-o", tmp, file, (char *)NULL);
		perror("dtc");
		_exit(127);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "manifest error: %s: dtc could not compile it\n", file);
		unlink(tmp);
		exit(1); /* a source that does not compile is an invalid manifest */
	}
	void *blob = read_file(tmp, size);
	unlink(tmp);
	return blob;
}

void *tool_read_manifest(const char *file, size_t *size)
{
	static const unsigned char fdt_magic[4] = { 0xd0, 0x0d, 0xfe, 0xed };
	size_t n = strlen(file);
	void *blob = read_file(file, size);
	if (blob == NULL)
		return NULL;
	if (*size >= 4 && memcmp(blob, fdt_magic, 4) == 0)
		return blob;
	if (n > 4 && strcmp(file + n - 4, ".dts") == 0) {
		free(blob);
		return compile_dts(file, size);
	}
	return blob; /* not a DTB: manifest_load says so */
}

bool tool_image_add(struct tool_images *imgs, const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg || imgs->count == TOOL_IMAGE_MAX ||
	    (size_t)(eq - arg) >= PACKAGE_NAME_MAX)
		return false;
	memcpy(imgs->names[imgs->count], arg, (size_t)(eq - arg));
	imgs->names[imgs->count][eq - arg] = '\0';
	imgs->files[imgs->count] = eq + 1;
	imgs->count++;
	return true;
}

static u64 align_up(u64 v)
{
	return (v + PACKAGE_ALIGN - 1u) & ~(u64)(PACKAGE_ALIGN - 1u);
}

void *tool_images_package(const struct tool_images *imgs, u64 *size)
{
	void *data[TOOL_IMAGE_MAX];
	size_t sizes[TOOL_IMAGE_MAX];
	u64 total = align_up(sizeof(struct package_header) +
	                     (u64)imgs->count * sizeof(struct package_entry));
	for (int i = 0; i < imgs->count; i++) {
		data[i] = read_file(imgs->files[i], &sizes[i]);
		if (data[i] == NULL)
			return NULL;
		total = align_up(total + sizes[i]);
	}
	if (total > UINT32_MAX) {
		fprintf(stderr, "images: the package would exceed 4 GiB\n");
		return NULL;
	}
	char *pkg = calloc(1, total);
	if (pkg == NULL)
		return NULL;
	struct package_header *h = (struct package_header *)pkg;
	struct package_entry *e = (struct package_entry *)(h + 1);
	memcpy(h->magic, PACKAGE_MAGIC, sizeof(h->magic));
	h->entry_count = (u32)imgs->count;
	h->total_size = (u32)total;
	u64 at = align_up(sizeof(*h) + (u64)imgs->count * sizeof(*e));
	for (int i = 0; i < imgs->count; i++) {
		strncpy(e[i].name, imgs->names[i], PACKAGE_NAME_MAX - 1u);
		e[i].offset = (u32)at;
		e[i].size = (u32)sizes[i];
		memcpy(pkg + at, data[i], sizes[i]);
		free(data[i]);
		at = align_up(at + sizes[i]);
	}
	*size = total;
	return pkg;
}
