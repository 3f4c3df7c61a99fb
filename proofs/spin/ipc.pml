/*
 * Spin model of the hypervisor's synchronous IPC (call, reply, reply_recv,
 * recv, send) and notifications (signal, wait), with capability checks as
 * kernel/ipc.c, kernel/notification.c and cap_lookup (kernel/cap.c) do them.
 *
 * Each partition has one vCPU (one process). A hypercall's kernel part runs
 * under the kernel lock, so it is one atomic step here; a vCPU that blocks
 * then waits until the kernel makes it runnable again.
 *
 *   partitions:  C0, C1 clients   S server   X intruder (holds useless caps)
 *   objects:     endpoint E (object 0); notifications N0, N1 (objects 0, 1)
 *
 *   slot   C0            C1            S                    X
 *   0      E  send (b1)  E  send (b2)  E recv               E  grant only
 *   1      N0 wait       N1 wait       N0 signal            N0 no rights
 *   2      -             -             N1 signal            -
 *
 * Checked (see proofs/README.md):
 *   - every delivery of a message (call/send into a receiver, a queued
 *     sender taken by recv) goes from a partition holding an endpoint
 *     capability with the send right to one holding the receive right; a
 *     reply goes only to the partition whose call the replier received;
 *     a notification word reaches only a holder of the wait right and is
 *     set only by a holder of the signal right (assertions);
 *   - the client/server protocol cannot deadlock: no invalid end state
 *     (every client finishes its rounds; the server may rest in recv).
 *   - the LTL claim intruder_isolated (near the end), on its own with
 *     -DCLAIM_ONLY, which turns the assertions off.
 * Mutants (must be rejected): -DBUG_SEND removes the send-right check,
 * -DBUG_RECV the receive-right check, -DBUG_LOST_WAKEUP drops a signal
 * that finds no waiter (a deadlock).
 */

#define NP 4        /* partitions */
#define C0 0
#define C1 1
#define S 2
#define X 3
#define NONE 255
#define NSLOT 3
#define ROUNDS 2

/* Capability types and rights, as in ipc/abi.h. */
#define CAP_NULL 0
#define CAP_ENDPOINT 1
#define CAP_NOTIFICATION 2
#define R_SEND 1
#define R_RECV 2
#define R_GRANT 4
#define R_SIGNAL 1
#define R_WAIT 2

/* Status codes, as in ipc/abi.h. */
#define OK 0
#define INVALID_CAP 2
#define WRONG_TYPE 3
#define NO_RIGHTS 4
#define WOULD_BLOCK 6
#define BAD_STATE 8
#define PEER_STOPPED 9

/* vCPU states. */
#define RUN 0
#define B_SEND 1
#define B_RECV 2
#define B_REPLY 3
#define B_NTF 4

typedef cap_t { byte type; byte obj; byte rights; byte badge };
typedef table_t { cap_t s[NSLOT] };

table_t ct[NP];
byte st[NP];          /* vCPU state */
byte status[NP];      /* r0 after the last hypercall */
byte got_badge[NP];   /* r1 after a delivery: badge or notification word */
byte msg_from[NP] = NONE; /* ghost: partition whose message or reply was delivered last */
byte caller[NP] = NONE; /* the reply right: whose call this partition received */
bool sendq[NP];       /* queued as a sender on E */
byte send_badge[NP];
bool recvq[NP];       /* queued as a receiver on E */
byte word[2];         /* notification words */
bool ntf_waiting[NP]; /* queued as a waiter ... */
byte ntf_on[NP];      /* ... on this notification */
byte deliveries;      /* ghost: messages delivered (for the record) */

/*
 * Scratch registers of the kernel: used only inside one atomic hypercall,
 * which never blocks part way, so they need not be in the state vector.
 */
hidden byte res, peer, k, n;
hidden byte ok1, ok2;

/* Whether partition p holds a capability to object o of type ty with right r. */
inline holds(p, ty, o, r, res) {
	res = false;
	k = 0;
	do
	:: k < NSLOT ->
		if
		:: ct[p].s[k].type == ty && ct[p].s[k].obj == o && (ct[p].s[k].rights & r) == r -> res = true
		:: else -> skip
		fi;
		k++
	:: else -> break
	od
}

/* cap_lookup: slot range, empty, type, rights, in that order. */
inline lookup(p, slot, ty, need, res) {
	if
	:: slot >= NSLOT -> res = INVALID_CAP
	:: else ->
		if
		:: ct[p].s[slot].type == CAP_NULL -> res = INVALID_CAP
		:: ct[p].s[slot].type != CAP_NULL && ct[p].s[slot].type != ty -> res = WRONG_TYPE
		:: ct[p].s[slot].type == ty && (ct[p].s[slot].rights & need) != need -> res = NO_RIGHTS
		:: ct[p].s[slot].type == ty && (ct[p].s[slot].rights & need) == need -> res = OK
		fi
	fi
}

/*
 * Every assertion of the model; -DCLAIM_ONLY switches them all off, so that
 * a run with the LTL claim below can fail only through the claim.
 */
#ifdef CLAIM_ONLY
#define CHECK(c) skip
#else
#define CHECK(c) assert(c)
#endif

#ifdef BUG_SEND
#define NEED_SEND 0
#else
#define NEED_SEND R_SEND
#endif
#ifdef BUG_RECV
#define NEED_RECV 0
#else
#define NEED_RECV R_RECV
#endif

/* Move a message from s into r: the property under test. */
inline deliver(s, r, bdg) {
	holds(s, CAP_ENDPOINT, 0, R_SEND, ok1);
	holds(r, CAP_ENDPOINT, 0, R_RECV, ok2);
	CHECK(ok1 && ok2);
	msg_from[r] = s;
	got_badge[r] = bdg;
	status[r] = OK;
	deliveries++
}

/* The lowest-numbered partition queued as a sender / receiver, or NONE. */
inline pop_sender(who) {
	who = NONE;
	k = 0;
	do
	:: k < NP && sendq[k] -> who = k; sendq[k] = false; break
	:: k < NP && !sendq[k] -> k++
	:: k >= NP -> break
	od
}

inline pop_receiver(who) {
	who = NONE;
	k = 0;
	do
	:: k < NP && recvq[k] -> who = k; recvq[k] = false; break
	:: k < NP && !recvq[k] -> k++
	:: k >= NP -> break
	od
}

/* A queued sender's message into receiver r; r now holds its reply right. */
inline take_sender(s, r) {
	deliver(s, r, send_badge[s]);
	st[s] = B_REPLY;
	caller[r] = s
}

inline hc_call(v, slot) {
	atomic {
		lookup(v, slot, CAP_ENDPOINT, NEED_SEND, res);
		status[v] = res;
		if
		:: res == OK ->
			pop_receiver(peer);
			if
			:: peer == NONE ->
				st[v] = B_SEND; send_badge[v] = ct[v].s[slot].badge; sendq[v] = true
			:: else ->
				deliver(v, peer, ct[v].s[slot].badge);
				caller[peer] = v; st[v] = B_REPLY; st[peer] = RUN
			fi
		:: else -> skip
		fi
	}
}

/* Reply to the caller without receiving (HC_REPLY). */
inline hc_reply(v) {
	atomic {
		if
		:: caller[v] == NONE -> status[v] = BAD_STATE
		:: else ->
			CHECK(st[caller[v]] == B_REPLY);
			msg_from[caller[v]] = v; status[caller[v]] = OK;
			st[caller[v]] = RUN; caller[v] = NONE; status[v] = OK
		fi
	}
}

inline hc_send(v, slot) {
	atomic {
		lookup(v, slot, CAP_ENDPOINT, NEED_SEND, res);
		status[v] = res;
		if
		:: res == OK ->
			pop_receiver(peer);
			if
			:: peer == NONE -> status[v] = WOULD_BLOCK
			:: else -> deliver(v, peer, ct[v].s[slot].badge); st[peer] = RUN
			fi
		:: else -> skip
		fi
	}
}

/* The receive half: take a queued sender or block. */
inline recv_invoke(v) {
	pop_sender(peer);
	if
	:: peer != NONE -> take_sender(peer, v)
	:: else -> st[v] = B_RECV; recvq[v] = true
	fi
}

inline hc_recv(v, slot) {
	atomic {
		lookup(v, slot, CAP_ENDPOINT, NEED_RECV, res);
		status[v] = res;
		if
		:: res == OK ->
			if
			:: caller[v] != NONE ->
				/* The reply right is given up: the caller gets PEER_STOPPED. */
				status[caller[v]] = PEER_STOPPED; st[caller[v]] = RUN; caller[v] = NONE
			:: else -> skip
			fi;
			recv_invoke(v)
		:: else -> skip
		fi
	}
}

inline hc_reply_recv(v, slot) {
	atomic {
		lookup(v, slot, CAP_ENDPOINT, NEED_RECV, res);
		status[v] = res;
		if
		:: res == OK ->
			if
			:: caller[v] != NONE ->
				/* Only the partition whose call v received can get this reply. */
				CHECK(st[caller[v]] == B_REPLY);
				msg_from[caller[v]] = v; status[caller[v]] = OK;
				st[caller[v]] = RUN; caller[v] = NONE
			:: else -> skip
			fi;
			recv_invoke(v)
		:: else -> skip
		fi
	}
}

inline hc_signal(v, slot) {
	atomic {
		lookup(v, slot, CAP_NOTIFICATION, R_SIGNAL, res);
		status[v] = res;
		if
		:: res == OK ->
			n = ct[v].s[slot].obj;
			holds(v, CAP_NOTIFICATION, n, R_SIGNAL, ok1);
			CHECK(ok1);
#ifdef BUG_LOST_WAKEUP
			skip;
#else
			word[n] = word[n] | 1;
#endif
			k = 0;
			do
			:: k < NP && ntf_waiting[k] && ntf_on[k] == n -> break
			:: k < NP && !(ntf_waiting[k] && ntf_on[k] == n) -> k++
			:: k >= NP -> break
			od;
			if
			:: k < NP ->
				peer = k;
				holds(peer, CAP_NOTIFICATION, n, R_WAIT, ok2);
				CHECK(ok2);
				ntf_waiting[peer] = false; got_badge[peer] = word[n] | 1; word[n] = 0;
				status[peer] = OK; st[peer] = RUN
			:: else -> skip
			fi
		:: else -> skip
		fi
	}
}

inline hc_wait(v, slot) {
	atomic {
		lookup(v, slot, CAP_NOTIFICATION, R_WAIT, res);
		status[v] = res;
		if
		:: res == OK ->
			n = ct[v].s[slot].obj;
			if
			:: word[n] != 0 ->
				holds(v, CAP_NOTIFICATION, n, R_WAIT, ok2);
				CHECK(ok2);
				got_badge[v] = word[n]; word[n] = 0
			:: else -> st[v] = B_NTF; ntf_waiting[v] = true; ntf_on[v] = n
			fi
		:: else -> skip
		fi
	}
}


proctype client(byte me) {
	byte i = 0;
	do
	:: i < ROUNDS ->
		hc_call(me, 0);
		(st[me] == RUN);
		CHECK(status[me] == OK && msg_from[me] == S);
		hc_wait(me, 1);
		(st[me] == RUN);
		CHECK(status[me] == OK && got_badge[me] != 0);
		i++
	:: else -> break
	od
}

proctype server() {
	hc_recv(S, 0);
end_first:
	(st[S] == RUN);
	do
	:: CHECK(status[S] == OK && (msg_from[S] == C0 || msg_from[S] == C1));
		/*
		 * Badge 1 is C0's capability, 2 is C1's: signal that client's
		 * notification (slot = badge) before the reply, or after it, so
		 * that the client finds the word set or has to be woken.
		 */
		if
		:: true -> hc_signal(S, got_badge[S]);
			CHECK(status[S] == OK);
			hc_reply_recv(S, 0)
		:: true -> hc_reply(S);
			CHECK(status[S] == OK);
			hc_signal(S, got_badge[S]);
			CHECK(status[S] == OK);
			hc_recv(S, 0)
		fi;
end_loop:
		(st[S] == RUN)
	od
}

/*
 * Tries ATTEMPTS operations, each any operation on any slot (or one past the
 * table); with the checks in place none passes. It stops after that, so the
 * whole system can come to rest and Spin can judge its end state.
 */
#define ATTEMPTS 2

proctype intruder() {
	byte slot = 0;
	byte tries = 0;
	do
	:: tries < ATTEMPTS ->
		select(slot : 0 .. NSLOT);
		if
		:: true -> hc_call(X, slot);
end_call:		(st[X] == RUN)
		:: true -> hc_send(X, slot)
		:: true -> hc_recv(X, slot);
end_recv:		(st[X] == RUN)
		:: true -> hc_signal(X, slot)
		:: true -> hc_wait(X, slot);
end_wait:		(st[X] == RUN)
		fi;
		slot = 0;
		tries++
	:: else -> break
	od
}

/*
 * The same isolation as a temporal property, independent of the assertions
 * inside the kernel steps (proofs/run checks it with assertions switched
 * off, -A): the intruder, which holds no send, receive or wait right, never
 * gets a message, a reply or a notification word, and no partition ever
 * gets a message from it.
 */
ltl intruder_isolated {
	[] (msg_from[X] == NONE && got_badge[X] == 0 &&
	    msg_from[C0] != X && msg_from[C1] != X && msg_from[S] != X)
}

init {
	atomic {
		ct[C0].s[0].type = CAP_ENDPOINT; ct[C0].s[0].rights = R_SEND; ct[C0].s[0].badge = 1;
		ct[C0].s[1].type = CAP_NOTIFICATION; ct[C0].s[1].obj = 0; ct[C0].s[1].rights = R_WAIT;
		ct[C1].s[0].type = CAP_ENDPOINT; ct[C1].s[0].rights = R_SEND; ct[C1].s[0].badge = 2;
		ct[C1].s[1].type = CAP_NOTIFICATION; ct[C1].s[1].obj = 1; ct[C1].s[1].rights = R_WAIT;
		ct[S].s[0].type = CAP_ENDPOINT; ct[S].s[0].rights = R_RECV;
		ct[S].s[1].type = CAP_NOTIFICATION; ct[S].s[1].obj = 0; ct[S].s[1].rights = R_SIGNAL;
		ct[S].s[2].type = CAP_NOTIFICATION; ct[S].s[2].obj = 1; ct[S].s[2].rights = R_SIGNAL;
		ct[X].s[0].type = CAP_ENDPOINT; ct[X].s[0].rights = R_GRANT;
		ct[X].s[1].type = CAP_NOTIFICATION; ct[X].s[1].obj = 0; ct[X].s[1].rights = 0;
		run client(C0);
		run client(C1);
		run server();
		run intruder()
	}
}
