/* The split-K GEMMs' second step (after cl/gemm_dot.cl's gemm_dot or cl/gemm.cl's
 * gemm_panel_nt; src/ops/gemm_dot.c launches both): the groups of K left partial products
 * part[group][M][N]. */

/* C = alpha * (sum of the groups' partial products) + beta * C; one work-item per element
 * of C (beta == 0 never reads C). */
kernel void gemm_sum(int M, int N, int groups, global const float *part, float alpha,
                     float beta, global float *C, int c_off, int ldc)
{
    int i = (int)get_global_id(1), j = (int)get_global_id(0);
    if (i >= M || j >= N)
        return;
    size_t mn = (size_t)M * (size_t)N, at = (size_t)i * (size_t)N + j;
    float s = 0.0f;
    for (int g = 0; g < groups; g++)
        s += part[g * mn + at];
    global float *c = C + c_off + (size_t)i * (size_t)ldc + j;
    *c = beta == 0.0f ? alpha * s : alpha * s + beta * *c;
}
