/* Inverted dropout with a stateless mask: element i of a step is kept when a 64-bit hash of
 * (key, i) clears a threshold. key already mixes (seed, step) on the host (sc_dropout_keep
 * in src/ops/dropout.c is the same function), so forward and backward regenerate the same
 * mask and nothing is stored between them. */

/* splitmix64's finaliser (Steele, Lea, Flood 2014): a bijection with full avalanche. */
static ulong mix64(ulong z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
    return z ^ (z >> 31);
}

/* y = x * scale where kept, 0 where dropped. The top 24 hash bits are a uniform integer in
 * [0, 2^24); it is dropped below thr = p * 2^24. Used for the forward (x -> y) and the
 * backward (dy -> dx) alike. */
kernel void dropout_apply(global const float *x, int xoff, global float *y, int yoff, int n,
                          ulong key, uint thr, float scale)
{
    int i = (int)get_global_id(0);
    if (i >= n)
        return;
    uint u = (uint)(mix64(key ^ (ulong)i) >> 40);
    y[yoff + i] = u >= thr ? x[xoff + i] * scale : 0.0f;
}
