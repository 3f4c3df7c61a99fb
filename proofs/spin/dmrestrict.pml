/*
 * Spin model of dm_restrict (services/dmop/dmop.c: admit() and the DMOP_RESTRICT branch of
 * dmop_call): a device model may narrow itself, irrevocably, to DMOP on one target, and no
 * sequence of calls, by it or by any other device model, widens it again.
 *
 * Two device models call the service concurrently, each any number of times (up to CALLS),
 * with any operation (RESTRICT or another) on any of three targets, target 2 being the
 * caller's own id for model 1 (refused as its own domain). The service takes one call at a
 * time (its single receive loop) and decides as dmop_call does: a restricted model's call on
 * another target is DENIED; RESTRICT on its first success records the target for good.
 *
 * Checked (assertions in the service, after every decision): once model m has restricted
 * itself to r, it stays restricted, its target stays r, and no call of m on a target other
 * than r succeeds. Mutants (must be rejected): -DBUG_REWIDEN handles RESTRICT before the
 * restriction check and lets it replace the target (a second restrict moves the model to
 * another guest); -DBUG_NO_CHECK leaves out the restricted check in admit().
 */

#define CALLS 4
#define TARGETS 3
#define OP_RESTRICT 1
#define OP_OTHER 2
#define OK 0
#define DENIED 1

chan req = [0] of { byte, byte, byte };   /* model, op, target */
chan rep[2] = [0] of { byte };

/* The service's per-model state (struct dmop_model). */
bit restricted[2];
byte restrict_target[2];
/* What each model saw, for the check: the target it first restricted itself to. */
bit ever[2];
byte first_target[2];

inline decide(m, op, t, result)
{
	/* admit(): the restriction, then the own domain (model 1's id is 2). */
	if
#ifdef BUG_REWIDEN
	:: op != OP_RESTRICT && restricted[m] && t != restrict_target[m] -> result = DENIED
#else
	:: restricted[m] && t != restrict_target[m] ->
		result = DENIED;
#ifdef BUG_NO_CHECK
		result = OK
#endif
#endif
	:: else ->
		if
		:: m == 1 && t == 2 -> result = DENIED
		:: else -> result = OK
		fi
	fi;
	if
	:: result == OK && op == OP_RESTRICT ->
#ifdef BUG_REWIDEN
		restricted[m] = 1; restrict_target[m] = t
#else
		if
		:: !restricted[m] -> restricted[m] = 1; restrict_target[m] = t
		:: else -> skip /* the same target again: nothing changes */
		fi
#endif
	:: else -> skip
	fi
}

active proctype service()
{
	byte m, op, t, result;
end:	do
	:: req ? m, op, t ->
		decide(m, op, t, result);
		/* The property, from what the models were promised. */
		if
		:: ever[m] ->
			assert(restricted[m] && restrict_target[m] == first_target[m]);
			assert(result == DENIED || t == first_target[m])
		:: else -> skip
		fi;
		if
		:: result == OK && op == OP_RESTRICT && !ever[m] -> ever[m] = 1; first_target[m] = t
		:: else -> skip
		fi;
		rep[m] ! result
	od
}

proctype model(byte m)
{
	byte n = 0, op, t, result;
	do
	:: n < CALLS ->
		n++;
		if
		:: op = OP_RESTRICT
		:: op = OP_OTHER
		fi;
		if
		:: t = 0
		:: t = 1
		:: t = 2
		fi;
		req ! m, op, t;
		rep[m] ? result
	:: else -> break
	od
}

init
{
	atomic { run model(0); run model(1) }
}
