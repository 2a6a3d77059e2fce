/* (Leaky) ReLU. slope >= 0, so the forward input and output have the same sign and the
 * backward may take either as `ref`. */

__kernel void leaky_relu_forward(__global const float *x, int x_off, __global float *y,
                                 int y_off, int n, float slope)
{
    int g = get_global_id(0);
    if (g >= n)
        return;
    float v = x[x_off + g];
    y[y_off + g] = v > 0.0f ? v : slope * v;
}

__kernel void leaky_relu_backward(__global const float *ref, int ref_off,
                                  __global const float *dy, int dy_off, __global float *dx,
                                  int dx_off, int n, float slope)
{
    int g = get_global_id(0);
    if (g >= n)
        return;
    float d = dy[dy_off + g];
    dx[dx_off + g] = ref[ref_off + g] > 0.0f ? d : slope * d;
}

/* CPU forms: sixteen contiguous elements per work-item in one vector (PoCL did not vectorise
 * the one-element kernels above across work-items: 3-6 GB/s on the largest maps). */
__kernel void leaky_relu_forward_x16(__global const float *x, int x_off, __global float *y,
                                     int y_off, int n, float slope)
{
    int i = get_global_id(0) * 16;
    if (i + 16 <= n) {
        float16 v = vload16(0, x + x_off + i);
        vstore16(select(slope * v, v, isgreater(v, (float16)(0.0f))), 0, y + y_off + i);
        return;
    }
    for (; i < n; i++) {
        float v = x[x_off + i];
        y[y_off + i] = v > 0.0f ? v : slope * v;
    }
}

__kernel void leaky_relu_backward_x16(__global const float *ref, int ref_off,
                                      __global const float *dy, int dy_off, __global float *dx,
                                      int dx_off, int n, float slope)
{
    int i = get_global_id(0) * 16;
    if (i + 16 <= n) {
        float16 d = vload16(0, dy + dy_off + i);
        int16 pos = isgreater(vload16(0, ref + ref_off + i), (float16)(0.0f));
        vstore16(select(slope * d, d, pos), 0, dx + dx_off + i);
        return;
    }
    for (; i < n; i++) {
        float d = dy[dy_off + i];
        dx[dx_off + i] = ref[ref_off + i] > 0.0f ? d : slope * d;
    }
}
