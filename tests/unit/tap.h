/**
 * A minimal TAP producer for host unit tests: each check prints one
 * "ok N - name" or "not ok N - name" line; tap_finish prints the plan and
 * returns the exit code (non-zero if any check failed).
 */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

static unsigned tap_count, tap_failed;

static inline bool tap_check(bool ok, const char *name, const char *file, int line)
{
	tap_count++;
	printf("%sok %u - %s\n", ok ? "" : "not ", tap_count, name);
	if (!ok) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	return ok;
}

static inline bool tap_check_eq(uint64_t got, uint64_t want, const char *name, const char *file,
                                int line)
{
	bool ok = tap_check(got == want, name, file, line);
	if (!ok)
		printf("#   got 0x%" PRIx64 ", want 0x%" PRIx64 "\n", got, want);
	return ok;
}

#define OK(cond, name) tap_check((cond), (name), __FILE__, __LINE__)
#define EQ(got, want, name) \
	tap_check_eq((uint64_t)(got), (uint64_t)(want), (name), __FILE__, __LINE__)

static inline int tap_finish(void)
{
	printf("1..%u\n", tap_count);
	return tap_failed == 0 ? 0 : 1;
}

#endif /* TESTS_TAP_H */
