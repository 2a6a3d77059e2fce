/* sc_reduce_sum and sc_colsum against double-precision sums on the host. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/ops_dense.h"
#include "support.h"

/* Sums x (n floats at a nonzero offset inside a bigger buffer, so offsets are exercised)
 * on the device with `scale`, and checks it against the double sum. */
static void check_sum(size_t n, unsigned seed, float scale)
{
    sc_ctx *ctx = test_ctx();
    const size_t pad = 5;
    float *host = test_rand_alloc(n + pad, seed, -1.0f, 1.0f);
    int whole = (int)(n + pad), one = 1, wsn = SC_REDUCE_WS + 3;
    sc_tensor buf = test_tensor(1, &whole, host);
    sc_tensor x = sc_tensor_view(buf.buf, pad, 1, (int[]){(int)n});
    /* out and ws live at offsets too, inside one buffer. */
    sc_tensor scratch = test_tensor(1, &wsn, NULL);
    sc_tensor out = sc_tensor_view(scratch.buf, 1, 1, &one);
    sc_tensor ws = sc_tensor_view(scratch.buf, 3, 1, (int[]){SC_REDUCE_WS});
    cr_assert_eq(sc_reduce_sum(ctx, &x, &out, &ws, scale), SC_OK, "%s", sc_last_error());
    float got;
    cr_assert_eq(sc_tensor_download(ctx, &out, &got), SC_OK, "%s", sc_last_error());

    double want = 0;
    for (size_t i = 0; i < n; i++)
        want += host[pad + i];
    float wantf = (float)(want * scale);
    test_expect_close("reduce.forward", &got, &wantf, 1);
    sc_tensor_free(&scratch);
    sc_tensor_free(&buf);
    free(host);
}

Test(reduce, sum_length_1) { check_sum(1, 1, 1.0f); }
Test(reduce, sum_length_7) { check_sum(7, 2, 1.0f); }
Test(reduce, sum_length_1000) { check_sum(1000, 3, 1.0f); }
Test(reduce, sum_length_4097_two_stage) { check_sum(4097, 4, 1.0f); }
Test(reduce, sum_length_1M_plus_3) { check_sum((1u << 20) + 3, 5, 1.0f); }
Test(reduce, mean_via_scale) { check_sum(1000, 6, 1.0f / 1000); }
Test(reduce, mean_long_via_scale) { check_sum((1u << 20) + 3, 7, 1.0f / ((1u << 20) + 3)); }

Test(reduce, sum_of_empty_is_zero)
{
    sc_ctx *ctx = test_ctx();
    int one = 1;
    float nan_ = NAN;
    sc_tensor out = test_tensor(1, &one, &nan_);
    sc_tensor x = sc_tensor_view(out.buf, 0, 1, (int[]){0});
    cr_assert_eq(sc_reduce_sum(ctx, &x, &out, NULL, 1.0f), SC_OK, "%s", sc_last_error());
    float got;
    cr_assert_eq(sc_tensor_download(ctx, &out, &got), SC_OK);
    cr_assert_eq(got, 0.0f);
    sc_tensor_free(&out);
}

Test(reduce, long_sum_without_workspace_is_an_error)
{
    sc_ctx *ctx = test_ctx();
    int n = 5000, one = 1;
    sc_tensor x = test_tensor(1, &n, NULL), out = test_tensor(1, &one, NULL);
    cr_assert_eq(sc_reduce_sum(ctx, &x, &out, NULL, 1.0f), SC_ERR);
    cr_assert(strstr(sc_last_error(), "ws"), "message: %s", sc_last_error());
    sc_tensor_free(&x);
    sc_tensor_free(&out);
}

/* Column sums of a [rows, cols] matrix (stored at an offset), optionally accumulated onto
 * out's previous contents. */
static void check_colsum(int rows, int cols, float scale, int accumulate, unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    size_t n = (size_t)rows * cols;
    float *host = test_rand_alloc(n + 2, seed, -1.0f, 1.0f);
    float *prev = test_rand_alloc((size_t)cols, seed + 100, -1.0f, 1.0f);
    int whole = (int)n + 2;
    sc_tensor buf = test_tensor(1, &whole, host);
    sc_tensor x = sc_tensor_view(buf.buf, 2, 2, (int[]){rows, cols});
    sc_tensor out = test_tensor(1, &cols, prev);
    cr_assert_eq(sc_colsum(ctx, &x, &out, scale, accumulate), SC_OK, "%s", sc_last_error());
    float *got = test_download(&out);
    float *want = malloc((size_t)cols * sizeof *want);
    for (int j = 0; j < cols; j++) {
        double s = 0;
        for (int i = 0; i < rows; i++)
            s += host[2 + (size_t)i * cols + j];
        want[j] = (float)(s * scale + (accumulate ? prev[j] : 0.0));
    }
    test_expect_close("reduce.forward", got, want, (size_t)cols);
    free(want);
    free(got);
    free(prev);
    free(host);
    sc_tensor_free(&out);
    sc_tensor_free(&buf);
}

Test(reduce, colsum_13x5) { check_colsum(13, 5, 1.0f, 0, 11); }
Test(reduce, colsum_7x256) { check_colsum(7, 256, 1.0f, 0, 12); }
Test(reduce, colsum_1x33) { check_colsum(1, 33, 1.0f, 0, 13); }
Test(reduce, colsum_tall_5000x3) { check_colsum(5000, 3, 0.5f, 0, 14); }
Test(reduce, colsum_accumulates) { check_colsum(13, 5, -2.0f, 1, 15); }

Test(reduce, colsum_shape_mismatch_is_an_error)
{
    sc_ctx *ctx = test_ctx();
    sc_tensor x = test_tensor(2, (int[]){4, 6}, NULL), out = test_tensor(1, (int[]){4}, NULL);
    cr_assert_eq(sc_colsum(ctx, &x, &out, 1.0f, 0), SC_ERR);
    cr_assert(strstr(sc_last_error(), "sc_colsum"), "message: %s", sc_last_error());
    sc_tensor_free(&x);
    sc_tensor_free(&out);
}
