/* core/hash.h: the hashes netpeek documents and relies on.
 *
 * np_fnv1a64 is 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime
 * 0x100000001b3): the flow id is defined with it (docs/formats.md), so it
 * must never change. np_hash_mix64 is a fast finaliser for table indexing,
 * free to change.
 */
#ifndef NP_CORE_HASH_H
#define NP_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define NP_FNV1A64_INIT 0xcbf29ce484222325ull

static inline uint64_t np_fnv1a64(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Finaliser from MurmurHash3 (fmix64): every input bit affects every output bit. */
static inline uint64_t np_hash_mix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

#endif
