/**
 * The service runtime: what every service and test partition is written
 * against. Entry and stack come from the platform's crt0
 * (services/lib/arch/<arch>/), which calls svc_main() and exits with its
 * result. Everything here is plain C over one primitive, arch_hypercall(),
 * defined inline by <svc_arch.h>.
 */
#ifndef SVC_SVC_H
#define SVC_SVC_H

#include <ipc/abi.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** A message: label, words and (on receipt) the sender's badge. */
struct msg {
	uint64_t label;
	uint64_t w[IPC_MSG_WORDS];
	uint64_t badge;
};

/** The partition's main function, written by each service; arg comes from the kernel. */
int svc_main(uint64_t arg);

enum status svc_null(void);
_Noreturn void svc_exit(uint64_t code);
void svc_yield(void);

enum status svc_call(uint32_t slot, struct msg *m);
enum status svc_recv(uint32_t slot, struct msg *m);
enum status svc_reply_recv(uint32_t slot, struct msg *m);
enum status svc_send(uint32_t slot, const struct msg *m);
enum status svc_reply(const struct msg *m);

enum status svc_signal(uint32_t slot);
enum status svc_wait(uint32_t slot, uint64_t *bits);
enum status svc_poll(uint32_t slot, uint64_t *bits);

enum status svc_cap_info(uint32_t slot, uint32_t *type, uint32_t *rights, uint64_t *badge);
enum status svc_cap_derive(uint32_t src, uint32_t dst, uint32_t rights, uint64_t badge);
enum status svc_cap_drop(uint32_t slot);
enum status svc_cap_restrict(uint32_t slot, uint32_t rights);

/** Raw hypercall: r[0..8] in, r[0..8] out (r[0] = status). */
void svc_hypercall(uint64_t r[IPC_REG_COUNT]);

/**
 * A server loop: receive on slot, hand each message to handle (which fills
 * the reply in place and returns false to stop), reply and receive again.
 */
void svc_serve(uint32_t slot, bool (*handle)(struct msg *m, void *ctx), void *ctx);

/* Console (through HC_CONSOLE_WRITE; the kernel prefixes lines with the partition name). */
void svc_putc(char c);
void svc_puts(const char *s);
void svc_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void svc_vprintf(const char *fmt, va_list ap);
void svc_flush(void);

/* TAP output for test partitions. */
void tap_plan(unsigned count);
bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Report ok when got == want, else print both. */
bool tap_is(uint64_t got, uint64_t want, const char *name);
/** Finish: exits with 0 if every planned test passed, else 1. */
_Noreturn void tap_done(void);

/* The few libc functions partitions need (the compiler may call them too). */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t strlen(const char *s);

#endif /* SVC_SVC_H */
