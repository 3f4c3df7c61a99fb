/**
 * Property readers for the manifest. The blob is untrusted: every length
 * is checked before a byte is read, every string must be NUL-terminated
 * inside its property, every phandle must resolve. Each reader records
 * its own error, naming the node path and the property, so the callers
 * stay short.
 *
 * Property encodings follow the Devicetree Specification v0.4, section
 * 2.2.4: cells are big-endian 32-bit, 64-bit values are two cells (high
 * first), strings and string lists are NUL-terminated.
 */
#include <libfdt.h>
#include <string.h>

#include <kernel/print.h>

#include "manifest_internal.h"

/** Properties any node may carry: device-tree bookkeeping, not schema. */
static const char *const mf_generic_props[] = {
	"phandle", "linux,phandle", "#address-cells", "#size-cells", NULL,
};

bool mf_streq(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

void mf_error(struct manifest_ctx *c, int node, const char *prop, const char *fmt, ...)
{
	struct manifest_errors *errs = c->errs;
	u32 n = errs->count;

	if (errs->count < UINT32_MAX)
		errs->count++;
	if (n >= MANIFEST_ERROR_MAX)
		return;

	struct manifest_error *e = &errs->errors[n];
	if (node < 0 || fdt_get_path(c->fdt, node, e->path, (int)sizeof(e->path)) != 0)
		ksnprintf(e->path, sizeof(e->path), "%s", node < 0 ? "/" : "(path too long)");
	ksnprintf(e->property, sizeof(e->property), "%s", prop != NULL ? prop : "");

	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

static bool mf_in_list(const char *name, const char *const *list)
{
	for (; *list != NULL; list++) {
		if (mf_streq(name, *list))
			return true;
	}
	return false;
}

void mf_check_props(struct manifest_ctx *c, int node, const char *const *allowed)
{
	int off;

	fdt_for_each_property_offset (off, c->fdt, node) {
		const char *name = NULL;
		if (fdt_getprop_by_offset(c->fdt, off, &name, NULL) == NULL || name == NULL) {
			mf_error(c, node, NULL, "unreadable property");
			continue;
		}
		if (!mf_in_list(name, allowed) && !mf_in_list(name, mf_generic_props))
			mf_error(c, node, name, "unknown property");
	}
}

bool mf_node_name(struct manifest_ctx *c, int node, char out[CFG_NAME_MAX])
{
	int len = 0;
	const char *name = fdt_get_name(c->fdt, node, &len);

	out[0] = '\0';
	if (name == NULL || len <= 0) {
		mf_error(c, node, NULL, "node has no name");
		return false;
	}
	if ((u32)len >= CFG_NAME_MAX) {
		mf_error(c, node, NULL, "name longer than %u characters", CFG_NAME_MAX - 1u);
		return false;
	}
	memcpy(out, name, (size_t)len);
	out[len] = '\0';
	return true;
}

bool mf_unit_address(struct manifest_ctx *c, int node, u32 *out)
{
	const char *name = fdt_get_name(c->fdt, node, NULL);
	if (name == NULL)
		return false;
	while (*name != '\0' && *name != '@')
		name++;
	if (*name != '@' || name[1] == '\0')
		return false;
	u64 v = 0;
	for (name++; *name != '\0'; name++) {
		u32 d;
		if (*name >= '0' && *name <= '9')
			d = (u32)(*name - '0');
		else if (*name >= 'a' && *name <= 'f')
			d = (u32)(*name - 'a') + 10u;
		else
			return false;
		v = v * 16u + d;
		if (v > UINT32_MAX)
			return false;
	}
	*out = (u32)v;
	return true;
}

/** Look the property up; on a size other than want (0: any) record an error. */
static const u8 *mf_raw(struct manifest_ctx *c, int node, const char *prop, bool required, int want,
                        int *len, enum mf_read *res)
{
	const u8 *p = fdt_getprop(c->fdt, node, prop, len);

	if (p == NULL) {
		*res = MF_ABSENT;
		if (required)
			mf_error(c, node, prop, "missing required property");
		return NULL;
	}
	if (want != 0 && *len != want) {
		*res = MF_BAD;
		mf_error(c, node, prop, "expected %d bytes (%s), got %d", want,
		         want == 4 ? "one cell" :
		         want == 8 ? "two cells" :
		                     "four cells",
		         *len);
		return NULL;
	}
	*res = MF_OK;
	return p;
}

static u32 mf_be32(const u8 *p)
{
	return ((u32)p[0] << 24) | ((u32)p[1] << 16) | ((u32)p[2] << 8) | (u32)p[3];
}

enum mf_read mf_u32(struct manifest_ctx *c, int node, const char *prop, bool required, u32 *out)
{
	enum mf_read res;
	int len;
	const u8 *p = mf_raw(c, node, prop, required, 4, &len, &res);
	if (p != NULL)
		*out = mf_be32(p);
	return res;
}

enum mf_read mf_u64(struct manifest_ctx *c, int node, const char *prop, bool required, u64 *out)
{
	enum mf_read res;
	int len;
	const u8 *p = mf_raw(c, node, prop, required, 8, &len, &res);
	if (p != NULL)
		*out = ((u64)mf_be32(p) << 32) | mf_be32(p + 4);
	return res;
}

enum mf_read mf_flag(struct manifest_ctx *c, int node, const char *prop)
{
	enum mf_read res;
	int len;
	const u8 *p = mf_raw(c, node, prop, false, 0, &len, &res);
	if (p != NULL && len != 0) {
		mf_error(c, node, prop, "a flag takes no value");
		return MF_BAD;
	}
	return res;
}

/** A well-formed string list: non-empty, NUL-terminated, no empty strings. */
static bool mf_stringlist_ok(const u8 *p, int len)
{
	if (len <= 0 || p[len - 1] != '\0' || p[0] == '\0')
		return false;
	for (int i = 1; i < len; i++) {
		if (p[i] == '\0' && p[i - 1] == '\0')
			return false;
	}
	return true;
}

enum mf_read mf_string(struct manifest_ctx *c, int node, const char *prop, bool required,
                       const char **out)
{
	enum mf_read res;
	int len;
	const u8 *p = mf_raw(c, node, prop, required, 0, &len, &res);
	if (p == NULL)
		return res;
	if (!mf_stringlist_ok(p, len) ||
	    strnlen((const char *)p, (size_t)len) != (size_t)len - 1u) {
		mf_error(c, node, prop, "expected one non-empty string");
		return MF_BAD;
	}
	*out = (const char *)p;
	return MF_OK;
}

enum mf_read mf_phandle(struct manifest_ctx *c, int node, const char *prop, bool required, int *out)
{
	u32 ph = 0;
	enum mf_read res = mf_u32(c, node, prop, required, &ph);
	if (res != MF_OK)
		return res;
	if (ph == 0 || ph == UINT32_MAX) {
		mf_error(c, node, prop, "invalid phandle 0x%x", ph);
		return MF_BAD;
	}
	int target = fdt_node_offset_by_phandle(c->fdt, ph);
	if (target < 0) {
		mf_error(c, node, prop, "dangling phandle 0x%x", ph);
		return MF_BAD;
	}
	*out = target;
	return MF_OK;
}

enum mf_read mf_reg(struct manifest_ctx *c, int node, bool required, u64 *base, u64 *size)
{
	enum mf_read res;
	int len;
	const u8 *p = mf_raw(c, node, "reg", required, 16, &len, &res);
	if (p != NULL) {
		*base = ((u64)mf_be32(p) << 32) | mf_be32(p + 4);
		*size = ((u64)mf_be32(p + 8) << 32) | mf_be32(p + 12);
	}
	return res;
}

enum mf_read mf_cpu_list(struct manifest_ctx *c, int node, const char *prop, u64 *mask)
{
	enum mf_read res;
	int len;
	const u8 *p = mf_raw(c, node, prop, false, 0, &len, &res);
	if (p == NULL)
		return res;
	if (len == 0 || len % 4 != 0) {
		mf_error(c, node, prop, "expected a non-empty list of CPU numbers, got %d bytes",
		         len);
		return MF_BAD;
	}
	u64 m = 0;
	for (int i = 0; i < len; i += 4) {
		u32 cpu = mf_be32(p + i);
		if (cpu >= c->cfg->cpu_count) {
			mf_error(c, node, prop, "CPU %u does not exist (the system has %u CPUs)",
			         cpu, c->cfg->cpu_count);
			return MF_BAD;
		}
		if ((m & (UINT64_C(1) << cpu)) != 0) {
			mf_error(c, node, prop, "CPU %u listed twice", cpu);
			return MF_BAD;
		}
		m |= UINT64_C(1) << cpu;
	}
	*mask = m;
	return MF_OK;
}

enum mf_read mf_mem_letters(struct manifest_ctx *c, int node, const char *prop, bool required,
                            u32 *out)
{
	const char *s = NULL;
	enum mf_read res = mf_string(c, node, prop, required, &s);
	if (res != MF_OK)
		return res;
	u32 r = 0;
	for (; *s != '\0'; s++) {
		u32 bit = *s == 'r' ? RIGHT_MEM_READ :
		          *s == 'w' ? RIGHT_MEM_WRITE :
		          *s == 'x' ? RIGHT_MEM_EXEC :
		                      0;
		if (bit == 0) {
			mf_error(c, node, prop, "unknown right '%c' (use letters of \"rwx\")", *s);
			return MF_BAD;
		}
		if ((r & bit) != 0) {
			mf_error(c, node, prop, "right '%c' given twice", *s);
			return MF_BAD;
		}
		r |= bit;
	}
	*out = r;
	return MF_OK;
}

/** Right names per capability type, bit i named names[i]. */
static const char *const mf_names_ep[] = { "send", "recv", "grant", NULL };
static const char *const mf_names_ntf[] = { "signal", "wait", NULL };
static const char *const mf_names_mem[] = { "read", "write", "exec", "map", NULL };
static const char *const mf_names_vcpus[] = { "schedule", NULL };
static const char *const mf_names_guest[] = { "monitor", "emulate", "inject", "dm", NULL };
static const char *const mf_names_console[] = { "write", "read", NULL };

static const char *const *mf_right_names(enum cap_type type)
{
	switch (type) {
	case CAP_ENDPOINT:
		return mf_names_ep;
	case CAP_NOTIFICATION:
		return mf_names_ntf;
	case CAP_MEMORY:
		return mf_names_mem;
	case CAP_VCPUS:
		return mf_names_vcpus;
	case CAP_GUEST:
		return mf_names_guest;
	case CAP_CONSOLE:
		return mf_names_console;
	default:
		return NULL;
	}
}

enum mf_read mf_cap_rights(struct manifest_ctx *c, int node, enum cap_type type, u32 *out)
{
	enum mf_read res;
	int len;
	const u8 *p = mf_raw(c, node, "rights", true, 0, &len, &res);
	const char *const *names = mf_right_names(type);
	if (p == NULL || names == NULL)
		return res;
	if (!mf_stringlist_ok(p, len)) {
		mf_error(c, node, "rights", "expected a list of right names");
		return MF_BAD;
	}
	u32 r = 0;
	for (int i = 0; i < len;) {
		const char *s = (const char *)p + i;
		size_t n = strnlen(s, (size_t)(len - i));
		u32 bit = 0;
		for (u32 k = 0; names[k] != NULL; k++) {
			if (mf_streq(s, names[k]))
				bit = 1u << k;
		}
		if (bit == 0) {
			char valid[64];
			mf_rights_string(type, UINT32_MAX, valid, sizeof(valid));
			mf_error(c, node, "rights",
			         "\"%s\" is not a right of this object (valid: %s)", s, valid);
			return MF_BAD;
		}
		if ((r & bit) != 0) {
			mf_error(c, node, "rights", "\"%s\" given twice", s);
			return MF_BAD;
		}
		r |= bit;
		i += (int)n + 1;
	}
	*out = r;
	return MF_OK;
}

void mf_rights_string(enum cap_type type, u32 rights, char *buf, size_t size)
{
	const char *const *names = mf_right_names(type);
	size_t used = 0;

	buf[0] = '\0';
	if (names == NULL)
		return;
	for (u32 k = 0; names[k] != NULL; k++) {
		if ((rights & (1u << k)) == 0)
			continue;
		used += ksnprintf(buf + used, size - used, "%s%s", used != 0 ? "," : "", names[k]);
		if (used + 1u >= size)
			return;
	}
}

void mf_mem_string(u32 rights, char buf[4])
{
	buf[0] = (rights & RIGHT_MEM_READ) != 0 ? 'r' : '-';
	buf[1] = (rights & RIGHT_MEM_WRITE) != 0 ? 'w' : '-';
	buf[2] = (rights & RIGHT_MEM_EXEC) != 0 ? 'x' : '-';
	buf[3] = '\0';
}
