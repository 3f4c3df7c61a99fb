/**
 * Private to the manifest code (kernel/manifest*.c): the parse context and
 * the property readers shared by the parser (manifest.c), the readers
 * (manifest_prop.c) and the validator (manifest_check.c).
 *
 * The context remembers the device-tree node of every object it made, so
 * that a rule checked later on struct config can still name the node path
 * in its error.
 */
#ifndef KERNEL_MANIFEST_INTERNAL_H
#define KERNEL_MANIFEST_INTERNAL_H

#include <kernel/config.h>
#include <kernel/manifest.h>
#include <kernel/trap.h>

/** The manifest's root compatible string (docs/manifest.md). */
#define MANIFEST_COMPATIBLE "sephyp,manifest-v1"

struct manifest_ctx {
	const void *fdt;
	const struct boot_info *bi;
	struct config *cfg;
	struct manifest_errors *errs;
	int hypervisor_node;
	int region_node[CFG_REGION_MAX];
	int endpoint_node[CFG_ENDPOINT_MAX];
	int notification_node[CFG_NOTIFICATION_MAX];
	int partition_node[CFG_PARTITION_MAX];
	int mapping_node[CFG_PARTITION_MAX][CFG_MAPPING_MAX];
	int cap_node[CFG_PARTITION_MAX][CAP_SLOT_COUNT]; /**< by index in caps[] */
	int vcpu_node[CFG_PARTITION_MAX][CFG_VCPU_MAX];  /**< -1: defaults */
	int emulated_node[CFG_EMULATED_MAX];
};

/** Result of a property read: absent, present and well formed, malformed. */
enum mf_read {
	MF_ABSENT = 0,
	MF_OK = 1,
	MF_BAD = 2,
};

/** What a phandle may point at (mf_lookup). */
enum mf_obj { MF_OBJ_NONE, MF_OBJ_REGION, MF_OBJ_ENDPOINT, MF_OBJ_NOTIFICATION, MF_OBJ_PARTITION };

/** For container nodes that carry no schema property. */
extern const char *const mf_no_props[];

/** Which object node is, with its index in its config array. */
enum mf_obj mf_lookup(const struct manifest_ctx *c, int node, u32 *index);
/** Resolve a phandle property that must name an object of kind want. */
bool mf_ref(struct manifest_ctx *c, int node, const char *prop, enum mf_obj want, bool required,
            u32 *index);
/** Error on every child node: leaf nodes of the schema have none. */
void mf_no_children(struct manifest_ctx *c, int node);
/** True when compatible is exactly want; records an error otherwise. */
bool mf_compatible(struct manifest_ctx *c, int node, const char *want);
/** /partitions (manifest_partition.c). */
void mf_parse_partitions(struct manifest_ctx *c, int root);

/** Record an error at node (or "/" when node < 0); prop may be NULL. */
void mf_error(struct manifest_ctx *c, int node, const char *prop, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/** Error for every property of node that is not in allowed (NULL-terminated). */
void mf_check_props(struct manifest_ctx *c, int node, const char *const *allowed);

/** Copy the node's name (with unit address) into out; error if too long or empty. */
bool mf_node_name(struct manifest_ctx *c, int node, char out[CFG_NAME_MAX]);

/** The unit address after '@' in the node name, if any, as a number. */
bool mf_unit_address(struct manifest_ctx *c, int node, u32 *out);

enum mf_read mf_u32(struct manifest_ctx *c, int node, const char *prop, bool required, u32 *out);
enum mf_read mf_u64(struct manifest_ctx *c, int node, const char *prop, bool required, u64 *out);
enum mf_read mf_flag(struct manifest_ctx *c, int node, const char *prop);
enum mf_read mf_string(struct manifest_ctx *c, int node, const char *prop, bool required,
                       const char **out);
/** A phandle property: out = the node it names; errors when dangling. */
enum mf_read mf_phandle(struct manifest_ctx *c, int node, const char *prop, bool required,
                        int *out);
/** reg = <base-hi base-lo size-hi size-lo>. */
enum mf_read mf_reg(struct manifest_ctx *c, int node, bool required, u64 *base, u64 *size);
/** A list of CPU numbers, each below the manifest's cpu count, as a mask. */
enum mf_read mf_cpu_list(struct manifest_ctx *c, int node, const char *prop, u64 *mask);
/** Memory rights as letters of "rwx" (RIGHT_MEM_*). */
enum mf_read mf_mem_letters(struct manifest_ctx *c, int node, const char *prop, bool required,
                            u32 *out);
/** Capability rights as a string list of names valid for type. */
enum mf_read mf_cap_rights(struct manifest_ctx *c, int node, enum cap_type type, u32 *out);

/** Names of rights for messages and the drawing tool: "send,recv". */
void mf_rights_string(enum cap_type type, u32 rights, char *buf, size_t size);
/** Memory rights as letters: "rw-". */
void mf_mem_string(u32 rights, char buf[4]);

bool mf_streq(const char *a, const char *b);

/** Semantic rules over the parsed config (manifest_check.c). */
void manifest_check(struct manifest_ctx *c);

#endif /* KERNEL_MANIFEST_INTERNAL_H */
