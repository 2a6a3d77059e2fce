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
