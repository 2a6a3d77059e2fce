/* Row-wise L2 normalisation, y = x / max(||x||, eps) (PyTorch's F.normalize): one
 * work-group per row, norms summed in local memory (no atomics; power-of-two groups). */

/* Tree sum of a float2 over the group; every item must call it. */
static float2 group_sum2(local float2 *scratch, float2 v)
{
    int lid = (int)get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = (int)get_local_size(0) / 2; s > 0; s >>= 1) {
        if (lid < s)
            scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float2 r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* scratch may be reused by the caller */
    return r;
}

kernel void l2norm_forward(global const float *x, int xoff, global float *y, int yoff, int d,
                           float eps, local float2 *scratch)
{
    int row = (int)get_group_id(0), lid = (int)get_local_id(0), nl = (int)get_local_size(0);
    global const float *xr = x + xoff + row * d;
    float ss = 0.0f;
    for (int j = lid; j < d; j += nl)
        ss += xr[j] * xr[j];
    float norm = sqrt(group_sum2(scratch, (float2)(ss, 0.0f)).x);
    float inv = 1.0f / fmax(norm, eps);
    for (int j = lid; j < d; j += nl)
        y[yoff + row * d + j] = xr[j] * inv;
}

/* dx = (dy - x (x . dy) / ||x||^2) / ||x|| when ||x|| > eps; below the clamp the divisor is
 * the constant eps, so dx = dy / eps. */
kernel void l2norm_backward(global const float *x, int xoff, global const float *dy, int dyoff,
                            global float *dx, int dxoff, int d, float eps,
                            local float2 *scratch)
{
    int row = (int)get_group_id(0), lid = (int)get_local_id(0), nl = (int)get_local_size(0);
    global const float *xr = x + xoff + row * d;
    global const float *gr = dy + dyoff + row * d;
    float2 acc = (float2)(0.0f, 0.0f);
    for (int j = lid; j < d; j += nl)
        acc += (float2)(xr[j] * xr[j], xr[j] * gr[j]);
    float2 s = group_sum2(scratch, acc);
    float norm = sqrt(s.x);
    if (norm > eps) {
        float inv = 1.0f / norm, c = s.y / s.x;
        for (int j = lid; j < d; j += nl)
            dx[dxoff + row * d + j] = (gr[j] - xr[j] * c) * inv;
    } else {
        float inv = 1.0f / eps;
        for (int j = lid; j < d; j += nl)
            dx[dxoff + row * d + j] = gr[j] * inv;
    }
}
