/* Batch gather: uint8 images [count][3][S][S] -> float [n][3][T][T], with per-sample crop
 * jitter, horizontal flip, brightness/contrast jitter and normalisation. One work-item per
 * output row (all three channels): the per-sample draws and the index arithmetic run once
 * per row, not per pixel (per pixel the gather took 4.6 ms of a ~120 ms baseline step on
 * PoCL). The random draws are a counter-based hash of (seed, step, sample, draw) in 32-bit
 * integer arithmetic, mirrored exactly by sc_augment_rand() on the host. */

/* No fused multiply-adds: the host twin then matches bit for bit. */
#pragma OPENCL FP_CONTRACT OFF

#ifndef AUG_FLIP_NONE
#define AUG_FLIP_NONE 0
#define AUG_FLIP_RANDOM 1
#define AUG_FLIP_ALL 2
#endif

/* lowbias32 (Wellons): a full-avalanche 32-bit mixer. */
inline uint aug_mix(uint x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

inline uint aug_rand(uint s0, uint s1, uint t0, uint t1, uint sample, uint draw)
{
    uint h = aug_mix(s0 ^ 0x9e3779b9u);
    h = aug_mix(h ^ s1);
    h = aug_mix(h ^ t0);
    h = aug_mix(h ^ t1);
    h = aug_mix(h ^ sample);
    return aug_mix(h ^ (draw * 0x85ebca6bu + 0x68e31da4u));
}

/* [0, 1) from the top 24 bits: exact in float, same on host and device. */
inline float aug_unit(uint h) { return (float)(h >> 8) * (1.0f / 16777216.0f); }

__kernel void data_gather(__global const uchar *images, __global const float *means,
                          __global const int *slots, int slots_off, int n, int S, int T,
                          __global float *out, int out_off, int flip, int jitter,
                          float brightness, float contrast, float4 mean, float4 inv_std,
                          uint s0, uint s1, uint t0, uint t1)
{
    int gid = (int)get_global_id(0);
    int plane = T * T;
    if (gid >= n * T)
        return;
    int b = gid / T, y = gid - b * T;
    int slot = slots[slots_off + b];
    uint sample = (uint)b;

    int dx = 0, dy = 0;
    if (jitter > 0) {
        uint span = (uint)(2 * jitter + 1);
        dx = (int)(aug_rand(s0, s1, t0, t1, sample, 1u) % span) - jitter;
        dy = (int)(aug_rand(s0, s1, t0, t1, sample, 2u) % span) - jitter;
    }
    int flipped = flip == AUG_FLIP_ALL ||
                  (flip == AUG_FLIP_RANDOM && (aug_rand(s0, s1, t0, t1, sample, 0u) >> 31));
    int o = (S - T) / 2;
    int sy = clamp(o + dy + y, 0, S - 1);

    int colour = brightness > 0.0f || contrast > 0.0f;
    float cf = 1.0f, bf = 0.0f, m = 0.0f;
    if (colour) {
        cf = 1.0f + contrast * (2.0f * aug_unit(aug_rand(s0, s1, t0, t1, sample, 4u)) - 1.0f);
        bf = brightness * (2.0f * aug_unit(aug_rand(s0, s1, t0, t1, sample, 3u)) - 1.0f);
        m = means[slot];
    }
    size_t img = (size_t)slot * (size_t)(3 * S * S) + (size_t)(sy * S);
    size_t dst = (size_t)out_off + (size_t)b * (size_t)(3 * plane) + (size_t)(y * T);
    float mu[3] = {mean.x, mean.y, mean.z}, is[3] = {inv_std.x, inv_std.y, inv_std.z};
    for (int c = 0; c < 3; c++) {
        const global uchar *src = images + img + (size_t)(c * S * S);
        global float *row = out + dst + (size_t)(c * plane);
        for (int x = 0; x < T; x++) {
            int sx = clamp(o + dx + (flipped ? T - 1 - x : x), 0, S - 1);
            float v = (float)src[sx] * (1.0f / 255.0f);
            if (colour)
                v = clamp((v - m) * cf + m + bf, 0.0f, 1.0f);
            row[x] = (v - mu[c]) * is[c];
        }
    }
}
