/* xoshiro256** (Blackman and Vigna): small, fast, and the same stream on every platform. */
#include "internal.h"
#include "siamcl/sampler.h"

static inline uint64_t rotl(uint64_t x, int k) { return x << k | x >> (64 - k); }

void sc_rng_seed(sc_rng *r, uint64_t seed)
{
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = sc_splitmix64(&sm);
}

void sc_rng_seed3(sc_rng *r, uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t h = sc_mix64(seed);
    h = sc_mix64(h ^ a);
    h = sc_mix64(h ^ (b + 0x632be59bd9b4e019ull));
    sc_rng_seed(r, h);
}

uint64_t sc_rng_next(sc_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

uint32_t sc_rng_below(sc_rng *r, uint32_t n)
{
    /* Lemire's multiply-shift with rejection of the biased low products. */
    uint64_t m = (sc_rng_next(r) >> 32) * (uint64_t)n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (lo < t) {
            m = (sc_rng_next(r) >> 32) * (uint64_t)n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double sc_rng_uniform(sc_rng *r) { return (double)(sc_rng_next(r) >> 11) * 0x1.0p-53; }

void sc_rng_shuffle(sc_rng *r, int *a, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)sc_rng_below(r, (uint32_t)i + 1);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
