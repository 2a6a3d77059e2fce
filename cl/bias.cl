/* Per-channel bias and the per-plane sums that its gradient (and global average pooling)
 * need. Tensors are [N, C, plane] with plane = H*W (1 for [N, C]). */

/* y[n, c, p] += b[c]. */
__kernel void bias_add(__global float *y, int y_off, __global const float *b, int b_off,
                       int total, int c, int plane)
{
    int g = get_global_id(0);
    if (g >= total)
        return;
    y[y_off + g] += b[b_off + (g / plane) % c];
}

/* out[r] = scale * sum_{o < outer, j < inner} in[o * outer_stride + r * inner + j]: one
 * work-group per output r, a strided per-item sum then a tree in local memory, so the
 * result is deterministic (no atomics). The local size must be a power of two.
 *   bias gradient:   r = channel, outer = N, outer_stride = C * plane, inner = plane
 *   global avg pool: r = n * C + c, outer = 1, inner = plane, scale = 1 / plane */
__kernel void plane_sum(__global const float *in, int in_off, __global float *out,
                        int out_off, int outer, int outer_stride, int inner, float scale,
                        __local float *scratch)
{
    int r = get_group_id(0);
    int lid = get_local_id(0), lsz = get_local_size(0);
    int count = outer * inner;
    float s = 0.0f;
    for (int e = lid; e < count; e += lsz) {
        int o = e / inner, j = e - o * inner;
        s += in[in_off + o * outer_stride + r * inner + j];
    }
    scratch[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int step = lsz / 2; step > 0; step /= 2) {
        if (lid < step)
            scratch[lid] += scratch[lid + step];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0)
        out[out_off + r] = scratch[0] * scale;
}

/* plane_sum for CPUs (same arguments; the local buffer is unused): one work-item per output
 * r walks its outer runs of inner contiguous floats with eight running sums (one vector
 * register). The tree above runs as a serial loop with barriers on a CPU and divides once
 * per element. */
__kernel void plane_sum_rows(__global const float *in, int in_off, __global float *out,
                             int out_off, int rows, int outer, int outer_stride, int inner,
                             float scale, __local float *scratch)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    float s = 0.0f;
    for (int o = 0; o < outer; o++) {
        __global const float *p = in + in_off + o * outer_stride + r * inner;
        float8 a = (float8)(0.0f);
        int j = 0;
        for (; j + 8 <= inner; j += 8)
            a += vload8(0, p + j);
        float t = (a.s0 + a.s1) + (a.s2 + a.s3) + (a.s4 + a.s5) + (a.s6 + a.s7);
        for (; j < inner; j++)
            t += p[j];
        s += t;
    }
    out[out_off + r] = s * scale;
}
