/* Basic tensor kernels: fill. */

__kernel void fill(__global float *x, int off, int n, float value)
{
    int i = get_global_id(0);
    if (i < n)
        x[off + i] = value;
}
