/* Linear layer helpers; the product itself is sc_gemm (CLBlast). */

/* y[r, c] = b[c]: the bias is written first and the GEMM adds x W^T onto it (beta = 1),
 * so the bias costs no extra pass over y. */
kernel void linear_bias_rows(global float *y, int yoff, global const float *b, int boff,
                             int rows, int cols)
{
    int i = (int)get_global_id(0);
    if (i < rows * cols)
        y[yoff + i] = b[boff + i % cols];
}
