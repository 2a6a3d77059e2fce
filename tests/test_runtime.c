/* Runtime: device listing, choice, kernel build errors, the profiler, tensors and the
 * arena. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/ops_gemm.h"
#include "support.h"

Test(runtime, lists_devices_with_names)
{
    sc_device_info *list;
    int n;
    cr_assert_eq(sc_device_list(&list, &n), SC_OK, "%s", sc_last_error());
    cr_assert_gt(n, 0);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(list[i].index, i);
        cr_assert_gt(strlen(list[i].name), 0);
        cr_assert_gt(list[i].compute_units, 0);
        cr_assert_gt(list[i].global_mem, 0);
    }
    free(list);
}

Test(runtime, bad_selectors_are_errors)
{
    sc_ctx *ctx;
    cr_assert_eq(sc_ctx_create(&ctx, "99", 0), SC_ERR);
    cr_assert(strstr(sc_last_error(), "out of range"), "%s", sc_last_error());
    cr_assert_eq(sc_ctx_create(&ctx, "no-such-device-xyz", 0), SC_ERR);
    cr_assert(strstr(sc_last_error(), "no-such-device-xyz"), "%s", sc_last_error());
    cr_assert_eq(sc_ctx_create(&ctx, "0", 0), SC_OK, "%s", sc_last_error());
    sc_ctx_destroy(ctx);
}

Test(runtime, kernels_are_cached)
{
    sc_ctx *ctx = test_ctx();
    cl_kernel a = sc_kernel(ctx, "tensor", NULL, "fill");
    cl_kernel b = sc_kernel(ctx, "tensor", NULL, "fill");
    cr_assert(a && a == b, "%s", sc_last_error());
    cl_kernel c = sc_kernel(ctx, "tensor", "#define UNUSED_FLAG 1\n", "fill");
    cr_assert(c && c != a, "different defines must give a different program");
}

Test(runtime, build_failure_reports_log)
{
    sc_ctx *ctx = test_ctx();
    cl_kernel k = sc_kernel(ctx, "tensor", "#error deliberate failure for the test\n", "fill");
    cr_assert_null(k);
    cr_assert(strstr(sc_last_error(), "build log"), "%s", sc_last_error());
    cr_assert(strstr(sc_last_error(), "deliberate failure"), "log must be included: %s",
              sc_last_error());
    /* a compiler that rejects the CPU hints gets the program without them */
    cl_kernel plain = sc_kernel(ctx, "tensor", "#ifdef SC_CPU_HINTS\n#error no hints\n#endif\n",
                                "fill");
    cr_assert(plain, "%s", sc_last_error());
    cr_assert_null(sc_kernel(ctx, "no_such_file", NULL, "k"));
    cr_assert(strstr(sc_last_error(), "no_such_file"), "%s", sc_last_error());
    cr_assert_null(sc_kernel(ctx, "tensor", NULL, "no_such_kernel"));
    cr_assert(strstr(sc_last_error(), "CL_INVALID_KERNEL_NAME"), "%s", sc_last_error());
}

Test(runtime, error_names)
{
    cr_assert_str_eq(sc_cl_error_name(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES");
    cr_assert_str_eq(sc_cl_error_name(-1001), "CL_PLATFORM_NOT_FOUND_KHR");
    sc_cl_fail(-1001, "clGetPlatformIDs", "x.c", 7);
    cr_assert(strstr(sc_last_error(), "x.c:7"), "%s", sc_last_error());
    cr_assert(strstr(sc_last_error(), "pocl-opencl-icd"), "hint expected: %s", sc_last_error());
}

/* Calls and total ms of `label` in a profile report; 0 calls when absent. */
static long report_row(const char *report, const char *label, double *ms)
{
    char want[64];
    snprintf(want, sizeof want, "\n%s ", label);
    const char *at = strstr(report, want);
    long calls = 0;
    *ms = 0;
    if (at)
        cr_assert_eq(sscanf(at + strlen(want), "%ld %lf", &calls, ms), 2, "%s", report);
    return calls;
}

/* Kernels recorded per label, and a span (sc_profile_span: CLBlast returns only its last
 * kernel's event) covering everything enqueued between its two events. */
Test(runtime, profiler_counts_calls_and_spans)
{
    sc_ctx *ctx;
    cr_assert_eq(sc_ctx_create(&ctx, NULL, SC_CTX_PROFILE), SC_OK, "%s", sc_last_error());
    sc_tensor m;
    cr_assert_eq(sc_tensor_alloc(ctx, &m, 1, (int[]){3 * 256 * 256}), SC_OK, "%s",
                 sc_last_error());
    cr_assert_eq(sc_tensor_fill(ctx, &m, 0.5f), SC_OK, "%s", sc_last_error());
    sc_profile_reset(ctx);
    size_t b = 256 * 256, c = 2 * b;
    for (int i = 0; i < 2; i++) /* the first call builds the kernel and touches C */
        cr_assert_eq(sc_gemm_on(ctx, SC_GEMM_OWN, 0, 0, 256, 256, 256, 1.0f, m.buf, 0, 256,
                                m.buf, b, 256, 0.0f, m.buf, c, 256, "t.warm"),
                     SC_OK, "%s", sc_last_error());
    cl_event first, last;
    cr_assert_eq(clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, &first), CL_SUCCESS);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(sc_gemm_on(ctx, SC_GEMM_OWN, 0, 0, 256, 256, 256, 1.0f, m.buf, 0, 256,
                                m.buf, b, 256, 0.0f, m.buf, c, 256, "t.inner"),
                     SC_OK, "%s", sc_last_error());
    cr_assert_eq(clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, &last), CL_SUCCESS);
    sc_profile_span(ctx, first, last, "t.span");
    char report[4096];
    sc_profile_report(ctx, report, sizeof report);
    double warm, inner, span;
    cr_assert_eq(report_row(report, "t.warm", &warm), 2, "%s", report);
    cr_assert_eq(report_row(report, "t.inner", &inner), 2, "%s", report);
    cr_assert_eq(report_row(report, "t.span", &span), 1, "%s", report);
    /* the span holds the two inner GEMMs (the report rounds to 10 us) */
    cr_assert(inner > 0 && span >= inner - 0.02, "span %.3f ms, inner %.3f ms\n%s", span,
              inner, report);
    sc_profile_reset(ctx);
    sc_profile_report(ctx, report, sizeof report);
    cr_assert_eq(report_row(report, "t.inner", &inner), 0, "%s", report);
    sc_tensor_free(&m);
    sc_ctx_destroy(ctx);
}

Test(tensor, upload_fill_download_roundtrip)
{
    float host[37], back[37];
    test_rand(host, 37, 1, -1, 1);
    sc_tensor t = test_tensor(2, (int[]){37, 1}, host);
    float *got = test_download(&t);
    test_expect_close("exact", got, host, 37);
    cr_assert_eq(sc_tensor_fill(test_ctx(), &t, 2.5f), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_tensor_download(test_ctx(), &t, back), SC_OK);
    for (int i = 0; i < 37; i++)
        cr_assert_eq(back[i], 2.5f);
    free(got);
    sc_tensor_free(&t);
}

Test(tensor, views_respect_offsets)
{
    float host[20];
    for (int i = 0; i < 20; i++)
        host[i] = (float)i;
    sc_tensor t = test_tensor(1, (int[]){20}, host);
    sc_tensor v = sc_tensor_view(t.buf, 5, 2, (int[]){2, 3});
    cr_assert_eq(v.n, 6u);
    cr_assert_eq(sc_tensor_fill(test_ctx(), &v, -1.0f), SC_OK);
    float *got = test_download(&t);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(got[i], (i >= 5 && i < 11) ? -1.0f : (float)i, "index %d", i);
    sc_tensor r;
    cr_assert_eq(sc_tensor_reshape(&v, &r, 1, (int[]){7}), SC_ERR);
    cr_assert_eq(sc_tensor_reshape(&v, &r, 1, (int[]){6}), SC_OK);
    free(got);
    sc_tensor_free(&t);
}

Test(tensor, arena_aligns_and_refuses_overflow)
{
    sc_arena a;
    cr_assert_eq(sc_arena_init(test_ctx(), &a, 100), SC_OK, "%s", sc_last_error());
    sc_tensor x, y, z;
    cr_assert_eq(sc_arena_alloc(&a, &x, 1, (int[]){5}), SC_OK);
    cr_assert_eq(sc_arena_alloc(&a, &y, 2, (int[]){3, 7}), SC_OK);
    cr_assert_eq(x.off, 0u);
    cr_assert_eq(y.off % 16, 0u);
    cr_assert_geq(y.off, 5u);
    cr_assert_eq(sc_arena_alloc(&a, &z, 1, (int[]){90}), SC_ERR);
    cr_assert(strstr(sc_last_error(), "arena full"), "%s", sc_last_error());
    sc_arena_reset(&a);
    cr_assert_eq(sc_arena_alloc(&a, &z, 1, (int[]){90}), SC_OK);
    sc_arena_free(&a);
}

Test(tensor, huge_allocation_is_a_clear_error)
{
    sc_tensor t;
    int shape[4] = {1 << 15, 1 << 15, 1 << 10, 1};
    cr_assert_eq(sc_tensor_alloc(test_ctx(), &t, 3, shape), SC_ERR);
    cr_assert(strstr(sc_last_error(), "MiB"), "%s", sc_last_error());
}
