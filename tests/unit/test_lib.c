/** The kernel's formatter and the boot package reader. */
#include "tap.h"
#include <kernel/package.h>
#include <kernel/print.h>
#include <string.h>

static void test_print(void)
{
	char buf[64];
	ksnprintf(buf, sizeof(buf), "%s=%d %u 0x%x %llx %lu", "a", -42, 7u, 0xbeefu,
	          0x123456789abULL, 99ul);
	OK(strcmp(buf, "a=-42 7 0xbeef 123456789ab 99") == 0, "print: conversions");
	ksnprintf(buf, sizeof(buf), "[%08x] %5s|%c%%", 0x1fu, "ab", 'z');
	OK(strcmp(buf, "[0000001f]    ab|z%") == 0, "print: widths, pad, char, percent");
	size_t n = ksnprintf(buf, 8, "%s", "0123456789");
	OK(n == 7 && strcmp(buf, "0123456") == 0, "print: truncates and terminates");
	ksnprintf(buf, sizeof(buf), "%lld", (long long)INT64_MIN);
	OK(strcmp(buf, "-9223372036854775808") == 0, "print: most negative number");
	const char *volatile none = NULL;
	ksnprintf(buf, sizeof(buf), "%s", none);
	OK(strcmp(buf, "(null)") == 0, "print: NULL string");
}

static unsigned char pkg[3 * 4096] __attribute__((aligned(8)));

static void build_package(void)
{
	memset(pkg, 0, sizeof(pkg));
	struct package_header *h = (struct package_header *)pkg;
	memcpy(h->magic, PACKAGE_MAGIC, 8);
	h->entry_count = 2;
	h->total_size = sizeof(pkg);
	struct package_entry *e = (struct package_entry *)(h + 1);
	strcpy(e[0].name, "manifest");
	e[0].offset = 4096;
	e[0].size = 100;
	strcpy(e[1].name, "hello");
	e[1].offset = 8192;
	e[1].size = 4096;
}

static void test_package(void)
{
	build_package();
	OK(package_valid(pkg, sizeof(pkg)), "package: valid");
	const void *d;
	u64 size;
	OK(package_find(pkg, "hello", &d, &size) && d == pkg + 8192 && size == 4096,
	   "package: find an image");
	OK(!package_find(pkg, "nope", &d, &size), "package: missing name");
	OK(!package_valid(pkg, sizeof(pkg) - 1), "package: total_size beyond the buffer");
	OK(!package_valid(pkg, 8), "package: truncated header");
	OK(!package_valid(NULL, 100), "package: absent");
	struct package_header *h = (struct package_header *)pkg;
	struct package_entry *e = (struct package_entry *)(h + 1);
	e[1].size = 4097;
	OK(!package_valid(pkg, sizeof(pkg)), "package: blob past the end");
	build_package();
	e[1].offset = 0xfffff000u;
	e[1].size = 0x2000;
	OK(!package_valid(pkg, sizeof(pkg)), "package: offset+size overflow");
	build_package();
	e[0].offset = 8;
	OK(!package_valid(pkg, sizeof(pkg)), "package: blob over the entry table");
	build_package();
	memset(e[0].name, 'a', PACKAGE_NAME_MAX);
	OK(!package_valid(pkg, sizeof(pkg)), "package: unterminated name");
	build_package();
	h->entry_count = 1000;
	OK(!package_valid(pkg, sizeof(pkg)), "package: absurd entry count");
	build_package();
	h->magic[0] = 'X';
	OK(!package_valid(pkg, sizeof(pkg)), "package: bad magic");
}

int main(void)
{
	test_print();
	test_package();
	return tap_finish();
}
