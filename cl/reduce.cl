/* Reductions without atomics: each work-group sums into local memory with a tree, so the
 * result does not depend on scheduling (runs are reproducible bit for bit).
 * The host launches power-of-two work-group sizes. */

/* Tree sum of scratch[0 .. get_local_size(0)) into scratch[0]; every item must call it. */
static float group_sum(local float *scratch, float v)
{
    int lid = (int)get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = (int)get_local_size(0) / 2; s > 0; s >>= 1) {
        if (lid < s)
            scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return scratch[0];
}

/* out[ooff + group] = scale * (sum of x[xoff + i] over the i this group strides over).
 * With one group this is the whole sum; with G groups the host sums the G partials with a
 * second launch of the same kernel. */
kernel void reduce_sum(global const float *x, int xoff, int n, global float *out, int ooff,
                       float scale, local float *scratch)
{
    float acc = 0.0f;
    for (int i = (int)get_global_id(0); i < n; i += (int)get_global_size(0))
        acc += x[xoff + i];
    float total = group_sum(scratch, acc);
    if (get_local_id(0) == 0)
        out[ooff + (int)get_group_id(0)] = scale * total;
}

/* out[j] = scale * sum_i x[i, j] (+ out[j]): a 2-D group of LX columns by LY row lanes;
 * lane ty sums rows ty, ty + LY, ... of its column (reads coalesced along a row), then the
 * LY lanes are summed in local memory. */
kernel void colsum(global const float *x, int xoff, int rows, int cols, global float *out,
                   int ooff, float scale, int accumulate, local float *scratch)
{
    int lx = (int)get_local_id(0), ly = (int)get_local_id(1);
    int nx = (int)get_local_size(0), ny = (int)get_local_size(1);
    int j = (int)get_global_id(0);
    float acc = 0.0f;
    if (j < cols)
        for (int i = ly; i < rows; i += ny)
            acc += x[xoff + i * cols + j];
    scratch[ly * nx + lx] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = ny / 2; s > 0; s >>= 1) {
        if (ly < s)
            scratch[ly * nx + lx] += scratch[(ly + s) * nx + lx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (ly == 0 && j < cols) {
        float v = scale * scratch[lx];
        out[ooff + j] = accumulate ? out[ooff + j] + v : v;
    }
}
