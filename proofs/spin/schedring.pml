/*
 * Spin model of the kernel-policy protocol of the scheduling plan
 * (kernel/sched_plan.c sched_report, HC_SCHED_SET's park flag,
 * sched_partition_stopped; docs/scheduling.md):
 *
 *   kernel (any CPU, the kernel lock held)   policy partition
 *   used = head - tail (tail read once)       loop: wait on the notification
 *   used >= SLOTS -> lost++                         read head, slots tail..head-1
 *   else write slot, head++ (publish)               tail = head
 *   raise the notification                          maybe park / unpark the vCPU
 *                                             or it dies (any time, in the runs
 *                                             where it was chosen to)
 *   policy stopped for good -> unpark
 *
 * Checked, in every interleaving:
 *  - the kernel never waits for the policy: it finishes all its events
 *    whether the policy reads, stalls or dies (no invalid end state);
 *  - nothing is lost silently: when both are done, every event was read by
 *    the policy, counted as lost, or is still in the ring of a dead policy;
 *  - the policy never reads a slot the kernel has not finished, nor one
 *    overwritten before it was read (each slot carries its event's number);
 *  - a live policy is never asleep with unread events (no lost wake-up);
 *  - a vCPU parked by a policy that died for good does not stay parked.
 * Mutants (must be rejected): -DBUG_NO_FULL_CHECK writes without looking at
 * tail (overwrites an unread slot); -DBUG_SIGNAL_FIRST raises the
 * notification before publishing head (the policy wakes, sees nothing, and
 * sleeps through the event); -DBUG_NO_UNPARK leaves out the release of a
 * dead policy's parked vCPUs.
 */

#define EVENTS 4
#define SLOTS 2

byte head = 0;     /* the kernel's count of events published */
byte tail = 0;     /* written by the policy */
bit filled[SLOTS];   /* a slot written and not yet read */
byte lost = 0;
byte read = 0;     /* events the policy consumed */
bit ntf = 0;       /* the notification word */
bit policy_dead = 0;
bit will_die = 0;  /* chosen at the start: in the runs where it is 0 the policy lives */
bit kernel_done = 0;
bit parked = 0;
bit lock = 0;

inline kernel_lock() { atomic { lock == 0 -> lock = 1 } }
inline kernel_unlock() { lock = 0 }

proctype kernel()
{
	byte n = 0;
	do
	:: n < EVENTS ->
		kernel_lock();
		if
#ifndef BUG_NO_FULL_CHECK
		:: (head - tail) >= SLOTS -> lost++; ntf = 1
#endif
		:: else ->
			/* never overwrites an unread slot */
			assert(filled[head % SLOTS] == 0);
#ifdef BUG_SIGNAL_FIRST
			ntf = 1;
			filled[head % SLOTS] = 1;
			head++;
#else
			filled[head % SLOTS] = 1;
			head++;
			ntf = 1;
#endif
		fi;
		n++;
		kernel_unlock()
	:: n == EVENTS -> break
	od;
	kernel_done = 1
}

proctype policy()
{
	byte h;
	do
	:: atomic { policy_dead == 0 && ntf == 1 -> ntf = 0 } ->
		h = head;
		do
		:: tail != h ->
			/* never a slot the kernel has not published */
			assert(filled[tail % SLOTS] == 1);
			filled[tail % SLOTS] = 0;
			read++;
			tail++
		:: tail == h -> break
		od;
		/* a plan update: park or unpark (HC_SCHED_SET), under the kernel lock */
		kernel_lock();
		if
		:: parked = 1
		:: parked = 0
		fi;
		kernel_unlock()
	:: will_die == 1 && policy_dead == 0 ->
		/* it dies, for good (at any moment of the runs that allow it) */
		kernel_lock();
		policy_dead = 1;
#ifndef BUG_NO_UNPARK
		parked = 0; /* sched_partition_stopped */
#endif
		kernel_unlock();
		break
	:: kernel_done == 1 && ntf == 0 && tail == head -> break /* all read: asleep for good is fine */
	od
}

init
{
	atomic {
		if
		:: will_die = 0
		:: will_die = 1
		fi;
		run kernel();
		run policy()
	};
	(_nr_pr == 1);
	/* Both done: every event read, lost, or left in a dead policy's ring. */
	assert(read + lost + (head - tail) == EVENTS);
	assert(policy_dead == 1 || tail == head);
	assert(policy_dead == 0 || parked == 0)
}
