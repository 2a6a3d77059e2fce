/* Contrastive loss (Hadsell, Chopra, LeCun): per pair
 *   l_i = (1 - y_i) * 1/2 * d_i^2 + y_i * 1/2 * max(0, m - d_i)^2,  L = mean_i l_i,
 * y = 0 for the same person, 1 for different people. The mean is sc_reduce_sum's job. */

__kernel void contrastive_forward(__global const float *d, int d_off, __global const float *y,
                                  int y_off, __global float *pair, int pair_off, int n,
                                  float margin)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float di = d[d_off + i], yi = y[y_off + i];
    float h = fmax(margin - di, 0.0f);
    pair[pair_off + i] = 0.5f * ((1.0f - yi) * di * di + yi * h * h);
}

/* dL/dd_i = ((1 - y_i) d_i - y_i max(0, m - d_i)) / n (0 at and beyond the margin). */
__kernel void contrastive_backward(__global const float *d, int d_off, __global const float *y,
                                   int y_off, __global float *dd, int dd_off, int n,
                                   float margin)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float di = d[d_off + i], yi = y[y_off + i];
    float h = fmax(margin - di, 0.0f);
    dd[dd_off + i] = ((1.0f - yi) * di - yi * h) / (float)n;
}
