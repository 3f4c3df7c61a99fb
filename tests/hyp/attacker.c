/**
 * An isolation attack. Slot 0 holds a notification capability whose badge
 * encodes the attack: the low 4 bits pick the kind, the rest is the target
 * address. Every attack must be stopped by the kernel: reaching the end
 * means the attack succeeded, which the partition reports as a failure.
 */
#include <svc/svc.h>
#include <svc_arch.h>

enum attack {
	ATTACK_READ = 1,  /**< read the target address */
	ATTACK_WRITE = 2, /**< write the target address */
	ATTACK_EXEC = 3,  /**< jump to the target address */
	ATTACK_UNDEF = 4, /**< execute an undefined instruction */
};

int svc_main(uint64_t arg)
{
	(void)arg;
	uint32_t type = 0, rights = 0;
	uint64_t badge = 0;
	svc_cap_info(0, &type, &rights, &badge);
	uintptr_t target = (uintptr_t)(badge & ~UINT64_C(0xf));
	svc_printf("attack %lu at 0x%lx\n", (unsigned long)(badge & 0xf), (unsigned long)target);
	switch (badge & 0xf) {
	case ATTACK_READ:
		svc_printf("read 0x%lx\n", (unsigned long)*(volatile uint64_t *)target);
		break;
	case ATTACK_WRITE:
		*(volatile uint64_t *)target = 0xbad;
		break;
	case ATTACK_EXEC:
		((void (*)(void))target)();
		break;
	case ATTACK_UNDEF:
		arch_undefined_instruction();
		break;
	default:
		break;
	}
	svc_printf("ATTACK SUCCEEDED\n");
	return 1;
}
