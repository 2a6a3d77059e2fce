/* Hashes for cache keys and payload checksums, and the splitmix64 mixer. Not cryptographic:
 * they detect stale or damaged caches, not tampering. */
#include <string.h>

#include "internal.h"

static inline uint64_t rotl(uint64_t x, int r) { return x << r | x >> (64 - r); }

uint64_t sc_checksum64(const void *data, size_t n)
{
    const uint8_t *p = data;
    const uint64_t k1 = 0x9e3779b97f4a7c15ull, k2 = 0xc2b2ae3d27d4eb4full;
    uint64_t v[4] = {k1, k2, k1 ^ k2, ~k1};
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        for (int l = 0; l < 4; l++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * l, 8);
            v[l] = rotl(v[l] + w * k2, 31) * k1;
        }
    }
    uint64_t h = (uint64_t)n * k1;
    for (int l = 0; l < 4; l++)
        h = (h ^ rotl(v[l], 7 + 11 * l)) * k2;
    return sc_fnv1a(h, p + i, n - i);
}

uint64_t sc_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
