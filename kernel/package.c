/** The boot package (see package.h): checked before anything in it is used. */
#include <kernel/package.h>
#include <string.h>

bool package_valid(const void *pkg, u64 size)
{
	const struct package_header *h = pkg;
	if (pkg == NULL || size < sizeof(*h) ||
	    memcmp(h->magic, PACKAGE_MAGIC, sizeof(h->magic)) != 0)
		return false;
	if (h->total_size > size || h->entry_count > PACKAGE_ENTRY_MAX)
		return false;
	u64 table_end = sizeof(*h) + (u64)h->entry_count * sizeof(struct package_entry);
	if (table_end > h->total_size)
		return false;
	const struct package_entry *e = (const struct package_entry *)(h + 1);
	for (u32 i = 0; i < h->entry_count; i++) {
		if (memchr(e[i].name, '\0', PACKAGE_NAME_MAX) == NULL)
			return false;
		if (e[i].offset < table_end || (u64)e[i].offset + e[i].size > h->total_size)
			return false;
	}
	return true;
}

bool package_find(const void *pkg, const char *name, const void **data, u64 *size)
{
	const struct package_header *h = pkg;
	const struct package_entry *e = (const struct package_entry *)(h + 1);
	for (u32 i = 0; i < h->entry_count; i++) {
		if (strncmp(e[i].name, name, PACKAGE_NAME_MAX) == 0) {
			*data = (const char *)pkg + e[i].offset;
			*size = e[i].size;
			return true;
		}
	}
	return false;
}
