/**
 * libFuzzer target for the arm64 virtual GICv3 model (platform/arm64/vgic/):
 * the input configures a VM (SPI count, vCPU count, affinities, list-register
 * counts) and then drives a random sequence of trapped distributor and
 * redistributor accesses (any offset, any width), PPI/SPI injections, SGIs,
 * HW mappings, and guest runs: the guest moves its list registers through
 * the transitions the hardware allows (acknowledge, EOI, deactivate) and the
 * model folds and refills them. Checked after every step (abort on failure):
 *  - nothing outside the configured INTIDs and vCPUs ever holds state;
 *  - every list register filled is a valid ICH_LR<n>_EL2 encoding for an
 *    INTID the VM has, never twice on one vCPU, an SPI never on two vCPUs;
 *  - a read that succeeds returns no more bits than its width.
 * At the end the guest keeps taking and EOI-ing what it is given with the
 * distributor and every redistributor on: every pending, enabled, inactive
 * interrupt routed to a vCPU must have been delivered.
 * ASan and UBSan catch out-of-bounds accesses and undefined behaviour.
 */
#include <stdlib.h>
#include <string.h>

#include <arm64/vgic.h>

struct input {
	const unsigned char *data;
	size_t size;
};

static u64 take(struct input *in, u32 bytes)
{
	u64 v = 0;
	for (u32 i = 0; i < bytes; i++) {
		v <<= 8;
		if (in->size != 0) {
			v |= *in->data++;
			in->size--;
		}
	}
	return v;
}

static struct vgic vm;
static u64 lrs[VGIC_VCPU_MAX][VGIC_LR_MAX];
static u32 lr_count[VGIC_VCPU_MAX];

static bool all_zero(const void *p, size_t size)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < size; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/** No state for SPIs past spi_count or vCPUs past cpu_count. */
static void check_bounds(void)
{
	for (u32 i = vm.spi_count; i < VGIC_SPI_MAX; i++)
		if (!all_zero(&vm.spi[i], sizeof(vm.spi[i])) || vm.irouter[i] != 0)
			abort();
	for (u32 c = vm.cpu_count; c < VGIC_VCPU_MAX; c++)
		if (!all_zero(&vm.cpu[c], sizeof(vm.cpu[c])))
			abort();
}

/**
 * Every list register of every vCPU is a valid encoding; no INTID listed
 * twice. filled: the vCPU whose registers the model just wrote, where an
 * unused one is 0 (elsewhere an emptied one keeps its INTID, as hardware does).
 */
static void check_lrs_as(u32 filled)
{
	static u8 listed_by[VGIC_INTID_SPI_END];
	memset(listed_by, 0, sizeof(listed_by));
	for (u32 c = 0; c < vm.cpu_count; c++) {
		u32 seen_priv = 0;
		for (u32 n = 0; n < lr_count[c]; n++) {
			u64 lr = lrs[c][n];
			if ((lr >> 62) == 0) {
				if (c == filled && lr != 0)
					abort(); /* an unused LR is written as 0 */
				continue;
			}
			u32 intid = (u32)(lr & VGIC_LR_VINTID_MASK);
			if (intid >= VGIC_PRIV_COUNT + vm.spi_count || !(lr & VGIC_LR_GROUP))
				abort();
			if (lr & (0xfull << 56 | 0x7ull << 45))
				abort(); /* NMI and RES0 bits */
			u32 pintid = (u32)((lr >> VGIC_LR_PINTID_SHIFT) & VGIC_LR_PINTID_MASK);
			if (lr & VGIC_LR_HW) {
				if (pintid < 32 || pintid >= 1020 || (lr >> 62) == 3 ||
				    intid < VGIC_PRIV_COUNT)
					abort();
			} else if (pintid != 0) {
				abort();
			}
			if (intid < VGIC_PRIV_COUNT) {
				if (seen_priv & (1u << intid))
					abort();
				seen_priv |= 1u << intid;
			} else {
				if (listed_by[intid] != 0)
					abort(); /* one SPI in two list registers */
				listed_by[intid] = (u8)(c + 1);
			}
		}
	}
}

/** The guest's side of one run: each list register moves as the hardware allows. */
static void guest_run(u32 c, struct input *in)
{
	for (u32 n = 0; n < lr_count[c]; n++) {
		u64 state = lrs[c][n] >> 62;
		u32 act = (u32)take(in, 1) & 3u;
		u64 next = state;
		if (act == 1 && state == 1)
			next = 2; /* acknowledge: pending -> active */
		else if (act == 2 && state == 1)
			next = 0; /* acknowledge and EOI */
		else if (act == 3 && (state & 2u))
			next = state & 1u; /* EOI (EOImode 0) or DIR (EOImode 1); a pending+active
			                    * LR then becomes pending */
		lrs[c][n] = (lrs[c][n] & ~(3ull << 62)) | (next << 62);
	}
}

static void cycle(u32 c)
{
	vgic_lr_fold(&vm, c, lrs[c], lr_count[c]);
	(void)vgic_lr_fill(&vm, c, lrs[c], lr_count[c]);
	check_lrs_as(c);
}

static const u32 sizes[8] = { 4, 4, 4, 8, 1, 2, 3, 16 };
/** Register bases the offsets are drawn near half of the time, so accesses hit real registers. */
static const u16 dist_regs[] = { 0x0,   0x4,   0x80,  0x100, 0x180,  0x200, 0x280,
	                         0x300, 0x380, 0x400, 0xc00, 0x6100, 0xffe8 };
static const u32 sgi_regs[] = { 0x0,     0x8,     0x14,    0x70,    0x78,
	                        0x10080, 0x10100, 0x10180, 0x10200, 0x10280,
	                        0x10300, 0x10380, 0x10400, 0x10c00, 0x10c04 };

static void step(struct input *in)
{
	u32 op = (u32)take(in, 1) % 11u;
	u32 cpu = (u32)take(in, 1) % (VGIC_VCPU_MAX + 1u);
	u64 value;
	switch (op) {
	case 0:
	case 1: {
		u64 off = take(in, 2);
		u32 pick = (u32)take(in, 1);
		if (pick < 0x80)
			off = dist_regs[pick % (sizeof(dist_regs) / sizeof(dist_regs[0]))] +
			      (off & 0x3c);
		else if (pick == 0xff)
			off |= 1ull << 32;
		u32 size = sizes[take(in, 1) & 7u];
		if (op == 0) {
			(void)vgic_dist_write(&vm, off, size, take(in, 8));
		} else if (vgic_dist_read(&vm, off, size, &value) && size < 8 &&
		           (value >> (8 * size)) != 0) {
			abort();
		}
		break;
	}
	case 2:
	case 3: {
		u64 off = take(in, 3) % (VGIC_REDIST_STRIDE * (VGIC_VCPU_MAX + 1u));
		u32 pick = (u32)take(in, 1);
		if (pick < 0x80)
			off = cpu * (u64)VGIC_REDIST_STRIDE +
			      sgi_regs[pick % (sizeof(sgi_regs) / sizeof(sgi_regs[0]))] +
			      (off & 0x1c);
		u32 size = sizes[take(in, 1) & 7u];
		if (op == 2) {
			(void)vgic_redist_write(&vm, off, size, take(in, 8));
		} else if (vgic_redist_read(&vm, off, size, &value) && size < 8 &&
		           (value >> (8 * size)) != 0) {
			abort();
		}
		break;
	}
	case 4:
		(void)vgic_raise(&vm, cpu, (u32)take(in, 2) % 400u);
		break;
	case 5:
		(void)vgic_set_level(&vm, cpu, (u32)take(in, 2) % 400u, take(in, 1) & 1u);
		break;
	case 6:
		if (cpu < vm.cpu_count)
			vgic_sgi(&vm, cpu, take(in, 8));
		break;
	case 7:
		(void)vgic_set_hw(&vm, (u32)take(in, 2) % 400u, (u32)take(in, 2) % 1100u);
		break;
	case 8:
		if (cpu < vm.cpu_count) {
			guest_run(cpu, in);
			cycle(cpu);
		}
		break;
	case 9:
		if (cpu < vm.cpu_count) {
			/*
			 * The exit path's fast paths (a timer tick or one new interrupt on
			 * the running vCPU): the guest runs, an interrupt is raised, and
			 * it goes into a list register the hardware reports empty without
			 * a fold and fill. Whatever came before, no LR may be listed twice
			 * or hold an INTID the VM lacks (check_lrs_as).
			 */
			guest_run(cpu, in);
			u32 intid = (u32)take(in, 2) % 320u, free = 0, n;
			for (u32 k = 0; k < lr_count[cpu]; k++)
				if ((lrs[cpu][k] >> 62) == 0)
					free |= 1u << k;
			u64 lr;
			bool done = (take(in, 1) & 1u) &&
			            vgic_lr_relist(&vm, cpu, intid, free, &n, &lr);
			if (!done) {
				(void)vgic_raise(&vm, cpu, intid);
				done = vgic_lr_inject(&vm, cpu, intid, free, lr_count[cpu], &n,
				                      &lr);
			}
			if (done) {
				if (n >= lr_count[cpu] || !(free & (1u << n)))
					abort(); /* only a register the hardware reported empty */
				lrs[cpu][n] = lr;
			}
			check_lrs_as(VGIC_VCPU_MAX);
		}
		break;
	default:
		(void)vgic_deliverable(&vm, cpu, (u8)take(in, 1), (u8)take(in, 1));
		break;
	}
}

/** The guest takes and EOIs everything it is given until nothing more comes. */
static void drain(void)
{
	(void)vgic_dist_write(&vm, 0x0, 4, 2);
	for (u32 c = 0; c < vm.cpu_count; c++) {
		(void)vgic_redist_write(&vm, (u64)c * VGIC_REDIST_STRIDE + 0x14, 4, 0);
		for (u32 i = VGIC_SGI_COUNT; i < VGIC_PRIV_COUNT + vm.spi_count; i++)
			(void)vgic_set_level(&vm, c, i, false);
	}
	for (u32 round = 0; round < 2u * VGIC_INTID_SPI_END * VGIC_VCPU_MAX; round++) {
		bool listed = false;
		for (u32 c = 0; c < vm.cpu_count; c++) {
			for (u32 n = 0; n < lr_count[c]; n++)
				lrs[c][n] &= ~(3ull << 62);
			cycle(c);
			for (u32 n = 0; n < lr_count[c]; n++)
				listed |= (lrs[c][n] >> 62) != 0;
		}
		if (!listed)
			break;
	}
	for (u32 c = 0; c < vm.cpu_count; c++) {
		for (u32 i = 0; i < VGIC_PRIV_COUNT + vm.spi_count; i++) {
			const struct vgic_irq *irq = vgic_irq_get(&vm, c, i);
			if ((irq->flags & VGIC_IRQ_ENABLED) && !(irq->flags & VGIC_IRQ_ACTIVE) &&
			    vgic_irq_pending(irq) && vgic_routed_to(&vm, c, i))
				abort(); /* pending, enabled, routed here, never delivered */
		}
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct input in = { data, size };
	u32 spis = (u32)take(&in, 2) % (VGIC_SPI_MAX + 2u);
	u32 cpus = (u32)take(&in, 1) % (VGIC_VCPU_MAX + 2u);
	u64 mpidr[VGIC_VCPU_MAX];
	for (u32 c = 0; c < VGIC_VCPU_MAX; c++)
		mpidr[c] = (take(&in, 1) & 0x3u) << (8 * (take(&in, 1) & 3u));
	memset(&vm, 0x5a, sizeof(vm)); /* init must not depend on earlier contents */
	if (!vgic_init(&vm, spis, cpus, mpidr)) {
		if (spis <= VGIC_SPI_MAX && cpus >= 1 && cpus <= VGIC_VCPU_MAX)
			abort();
		return 0;
	}
	memset(lrs, 0, sizeof(lrs));
	for (u32 c = 0; c < VGIC_VCPU_MAX; c++)
		lr_count[c] = 1u + (u32)take(&in, 1) % VGIC_LR_MAX;
	/* Half the inputs start with the GIC up and every interrupt enabled, as a guest's
	 * driver leaves it, so delivery is reached often. */
	if (take(&in, 1) & 1u) {
		(void)vgic_dist_write(&vm, 0x0, 4, 2);
		for (u64 off = 0x100; off < 0x180; off += 4)
			(void)vgic_dist_write(&vm, off, 4, ~0ull);
		for (u32 c = 0; c < vm.cpu_count; c++) {
			u64 rd = c * (u64)VGIC_REDIST_STRIDE;
			(void)vgic_redist_write(&vm, rd + 0x14, 4, 0);
			(void)vgic_redist_write(&vm, rd + 0x10100, 4, ~0ull);
		}
	}
	check_bounds();
	for (u32 i = 0; i < 4096 && in.size != 0; i++) {
		step(&in);
		if ((i & 63u) == 63u)
			check_bounds(); /* every step would cost most of the run */
	}
	check_bounds();
	drain();
	return 0;
}
