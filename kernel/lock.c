/** The big kernel lock (see lock.h; the lock operations are inline). */
#include <kernel/lock.h>

struct spinlock kernel_lock;
