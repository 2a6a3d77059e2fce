/* SGD and Adam: several steps against a plain-C transcription of torch.optim's update
 * (single-tensor path), with momentum, dampening, Nesterov, L2 and decoupled weight decay
 * and a per-element decay mask; each step gets a fresh gradient. Tensors sit at offsets in
 * shared buffers, as views into the flat parameter buffer do. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/ops_optim.h"
#include "support.h"

/* ---- torch.optim in plain C (float, same operation order) ---------------------------- */

static void ref_sgd(const sc_sgd_opts *o, int step, float *p, const float *g, float *buf,
                    const float *mask, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float d = g[i];
        float wd = mask ? o->weight_decay * mask[i] : o->weight_decay;
        if (wd != 0)
            d = d + wd * p[i]; /* d_p = d_p.add(param, alpha=weight_decay) */
        if (o->momentum != 0) {
            /* buf = clone(d_p) on the first step, else buf.mul_(momentum).add_(d_p, 1 - damp) */
            buf[i] = step == 1 ? d : o->momentum * buf[i] + (1 - o->dampening) * d;
            d = o->nesterov ? d + o->momentum * buf[i] : buf[i];
        }
        p[i] = p[i] - o->lr * d; /* param.add_(d_p, alpha=-lr) */
    }
}

static void ref_adam(const sc_adam_opts *o, int step, float *p, const float *g, float *m,
                     float *v, const float *mask, size_t n)
{
    double bc1 = 1 - pow(o->beta1, step), bc2 = 1 - pow(o->beta2, step);
    float step_size = (float)(o->lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float wd = mask ? o->weight_decay * mask[i] : o->weight_decay;
        if (wd != 0) {
            if (o->decoupled)
                p[i] = p[i] * (1 - o->lr * wd); /* AdamW: param.mul_(1 - lr * wd) */
            else
                gi = gi + wd * p[i];
        }
        m[i] = m[i] + (1 - o->beta1) * (gi - m[i]);   /* exp_avg.lerp_(grad, 1 - beta1) */
        v[i] = o->beta2 * v[i] + (1 - o->beta2) * gi * gi; /* mul_(beta2).addcmul_(g, g, 1-b2) */
        float denom = sqrtf(v[i]) / bc2_sqrt + o->eps;
        p[i] = p[i] - step_size * (m[i] / denom); /* param.addcdiv_(exp_avg, denom, -step) */
    }
}

/* ---- harness ------------------------------------------------------------------------------
 * One buffer holds [pad | params | pad | grad | pad | state1 | pad | state2 | pad | mask]. */
typedef struct {
    sc_tensor whole, p, g, s1, s2, mask;
    size_t n;
} slots;

static slots make_slots(size_t n, const float *p, const float *mask)
{
    slots s;
    s.n = n;
    size_t stride = n + 3;
    int total = (int)(5 * stride + 1);
    float *host = calloc(total, sizeof *host);
    cr_assert(host);
    memcpy(host + 1, p, n * sizeof *host);
    if (mask)
        memcpy(host + 1 + 4 * stride, mask, n * sizeof *host);
    s.whole = test_tensor(1, &total, host);
    int shape[1] = {(int)n};
    s.p = sc_tensor_view(s.whole.buf, 1, 1, shape);
    s.g = sc_tensor_view(s.whole.buf, 1 + stride, 1, shape);
    s.s1 = sc_tensor_view(s.whole.buf, 1 + 2 * stride, 1, shape);
    s.s2 = sc_tensor_view(s.whole.buf, 1 + 3 * stride, 1, shape);
    s.mask = sc_tensor_view(s.whole.buf, 1 + 4 * stride, 1, shape);
    free(host);
    return s;
}

/* 0 for every 5th element (think: biases), 1 elsewhere. */
static float *bias_mask(size_t n)
{
    float *m = malloc(n * sizeof *m);
    for (size_t i = 0; i < n; i++)
        m[i] = i % 5 == 0 ? 0.0f : 1.0f;
    return m;
}

static void run_sgd(const sc_sgd_opts *o, size_t n, int steps, int use_mask, unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    float *p = test_rand_alloc(n, seed, -1, 1), *buf = calloc(n, sizeof *buf);
    float *mask = use_mask ? bias_mask(n) : NULL;
    slots s = make_slots(n, p, mask);
    /* Garbage in the momentum buffer: step 1 must not read it. */
    cr_assert_eq(sc_tensor_fill(ctx, &s.s1, 123.0f), SC_OK, "%s", sc_last_error());
    for (int t = 1; t <= steps; t++) {
        float *g = test_rand_alloc(n, seed * 31 + t, -1, 1);
        cr_assert_eq(sc_tensor_upload(ctx, &s.g, g), SC_OK, "%s", sc_last_error());
        cr_assert_eq(sc_sgd_step(ctx, o, t, &s.p, &s.g, o->momentum != 0 ? &s.s1 : NULL,
                                 use_mask ? &s.mask : NULL),
                     SC_OK, "%s", sc_last_error());
        ref_sgd(o, t, p, g, buf, mask, n);
        float *got = test_download(&s.p), *gg = test_download(&s.g);
        test_expect_close("optim.step", got, p, n);
        test_expect_close("exact", gg, g, n); /* the gradient is read, never written */
        if (o->momentum != 0) {
            float *gb = test_download(&s.s1);
            test_expect_close("optim.step", gb, buf, n);
            free(gb);
        }
        free(got);
        free(gg);
        free(g);
    }
    free(p);
    free(buf);
    free(mask);
    sc_tensor_free(&s.whole);
}

Test(optim, sgd_momentum_l2_decay_mask_5_steps)
{
    sc_sgd_opts o = {0.05f, 0.9f, 0.0f, 0.1f, 0};
    run_sgd(&o, 1031, 5, 1, 1);
}

Test(optim, sgd_variants)
{
    sc_sgd_opts plain = {0.1f, 0.0f, 0.0f, 0.0f, 0};
    run_sgd(&plain, 7, 3, 0, 2);
    sc_sgd_opts nesterov = {0.02f, 0.8f, 0.0f, 0.01f, 1};
    run_sgd(&nesterov, 333, 4, 0, 3);
    sc_sgd_opts damped = {0.03f, 0.9f, 0.3f, 0.05f, 0};
    run_sgd(&damped, 64, 4, 1, 4);
}

/* Momentum by hand: with lr 1, mu 0.5, no decay, gradients 1 then 1: p -= 1, then
 * p -= 0.5 * 1 + 1 = 1.5 (the buffer starts as the gradient, PyTorch's rule). */
Test(optim, sgd_momentum_by_hand)
{
    sc_ctx *ctx = test_ctx();
    float p0[2] = {0.0f, 10.0f}, one[2] = {1.0f, 1.0f}, got[2];
    int n = 2;
    sc_tensor p = test_tensor(1, &n, p0), g = test_tensor(1, &n, one), b = test_tensor(1, &n, NULL);
    sc_sgd_opts o = {1.0f, 0.5f, 0.0f, 0.0f, 0};
    cr_assert_eq(sc_sgd_step(ctx, &o, 1, &p, &g, &b, NULL), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_sgd_step(ctx, &o, 2, &p, &g, &b, NULL), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_tensor_download(ctx, &p, got), SC_OK);
    cr_assert_eq(got[0], -2.5f);
    cr_assert_eq(got[1], 7.5f);
    sc_tensor_free(&p);
    sc_tensor_free(&g);
    sc_tensor_free(&b);
}

static void run_adam(const sc_adam_opts *o, size_t n, int steps, int use_mask, unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    float *p = test_rand_alloc(n, seed, -1, 1);
    float *m = calloc(n, sizeof *m), *v = calloc(n, sizeof *v);
    float *mask = use_mask ? bias_mask(n) : NULL;
    slots s = make_slots(n, p, mask);
    for (int t = 1; t <= steps; t++) {
        float *g = test_rand_alloc(n, seed * 17 + t, -1, 1);
        cr_assert_eq(sc_tensor_upload(ctx, &s.g, g), SC_OK, "%s", sc_last_error());
        cr_assert_eq(sc_adam_step(ctx, o, t, &s.p, &s.g, &s.s1, &s.s2,
                                  use_mask ? &s.mask : NULL),
                     SC_OK, "%s", sc_last_error());
        ref_adam(o, t, p, g, m, v, mask, n);
        float *got = test_download(&s.p), *gm = test_download(&s.s1), *gv = test_download(&s.s2);
        test_expect_close("optim.step", got, p, n);
        test_expect_close("optim.step", gm, m, n);
        test_expect_close("optim.step", gv, v, n);
        free(got);
        free(gm);
        free(gv);
        free(g);
    }
    free(p);
    free(m);
    free(v);
    free(mask);
    sc_tensor_free(&s.whole);
}

Test(optim, adam_l2_decay_mask_6_steps)
{
    sc_adam_opts o = sc_adam_defaults();
    o.lr = 0.01f;
    o.weight_decay = 0.1f;
    run_adam(&o, 1031, 6, 1, 5);
}

Test(optim, adamw_decoupled_and_defaults)
{
    sc_adam_opts o = sc_adam_defaults();
    o.lr = 0.02f;
    o.weight_decay = 0.05f;
    o.decoupled = 1;
    run_adam(&o, 257, 5, 1, 6);
    sc_adam_opts d = sc_adam_defaults();
    run_adam(&d, 9, 3, 0, 7);
}

/* Adam's first step moves every parameter by about lr against its gradient's sign: the bias
 * corrections turn m and v back into g and g^2 (checks them independently of ref_adam). */
Test(optim, adam_first_step_is_lr_times_sign)
{
    sc_ctx *ctx = test_ctx();
    int n = 4;
    float p0[4] = {0, 0, 1, -1}, g0[4] = {0.5f, -3.0f, 1e-2f, -20.0f}, got[4];
    sc_tensor p = test_tensor(1, &n, p0), g = test_tensor(1, &n, g0);
    sc_tensor m = test_tensor(1, &n, NULL), v = test_tensor(1, &n, NULL);
    sc_adam_opts o = sc_adam_defaults();
    o.lr = 0.1f;
    cr_assert_eq(sc_adam_step(ctx, &o, 1, &p, &g, &m, &v, NULL), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_tensor_download(ctx, &p, got), SC_OK);
    float want[4];
    for (int i = 0; i < 4; i++)
        want[i] = p0[i] - 0.1f * (g0[i] > 0 ? 1.0f : -1.0f);
    test_expect_close("optim.step", got, want, 4);
    sc_tensor *all[] = {&p, &g, &m, &v};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sc_tensor_free(all[i]);
}

Test(optim, bad_arguments_are_errors)
{
    sc_ctx *ctx = test_ctx();
    int n = 3, n2 = 2;
    sc_tensor p = test_tensor(1, &n, NULL), g = test_tensor(1, &n, NULL);
    sc_tensor b = test_tensor(1, &n, NULL), short_g = test_tensor(1, &n2, NULL);
    sc_sgd_opts nesterov_damped = {0.1f, 0.9f, 0.1f, 0.0f, 1};
    cr_assert_eq(sc_sgd_step(ctx, &nesterov_damped, 1, &p, &g, &b, NULL), SC_ERR);
    cr_assert(strstr(sc_last_error(), "Nesterov"), "%s", sc_last_error());
    sc_sgd_opts ok = {0.1f, 0.9f, 0.0f, 0.0f, 0};
    cr_assert_eq(sc_sgd_step(ctx, &ok, 0, &p, &g, &b, NULL), SC_ERR);
    cr_assert(strstr(sc_last_error(), "step"), "%s", sc_last_error());
    cr_assert_eq(sc_sgd_step(ctx, &ok, 1, &p, &short_g, &b, NULL), SC_ERR);
    cr_assert(strstr(sc_last_error(), "gradient"), "%s", sc_last_error());
    cr_assert_eq(sc_sgd_step(ctx, &ok, 1, &p, &g, NULL, NULL), SC_ERR);
    cr_assert(strstr(sc_last_error(), "momentum"), "%s", sc_last_error());
    sc_adam_opts bad = sc_adam_defaults();
    bad.beta2 = 1.0f;
    cr_assert_eq(sc_adam_step(ctx, &bad, 1, &p, &g, &b, &b, NULL), SC_ERR);
    cr_assert(strstr(sc_last_error(), "betas"), "%s", sc_last_error());
    sc_tensor *all[] = {&p, &g, &b, &short_g};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sc_tensor_free(all[i]);
}
