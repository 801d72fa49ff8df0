/* tests/testutil.h: small helpers shared by unit tests of several folders.
 *
 * Test helper only; include root is tests/ (tests_inc in tests/meson.build).
 */
#ifndef NP_TESTS_TESTUTIL_H
#define NP_TESTS_TESTUTIL_H

#include <stdint.h>

/* xorshift64*: a fixed seed gives the same inputs on every run. One
 * generator per test program; not thread-safe. */
static uint64_t rng_state;

static inline void rng_seed(uint64_t s)
{
    rng_state = s ? s : 1;
}

static inline uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* A value in [0, n); n > 0. */
static inline uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(rng_next() % n);
}

#endif
