/* Dense-layer ops and the reductions other ops build on: linear, batch norm, dropout,
 * L2 normalisation, vector sums and column sums. Conventions are those of ops.h: float32,
 * row-major, enqueue-and-return, backward overwrites its outputs, NULL = "not needed". */
#ifndef SIAMCL_OPS_DENSE_H
#define SIAMCL_OPS_DENSE_H

#include <stdint.h>

#include "siamcl/tensor.h"

/* ---- reductions (cl/reduce.cl) ------------------------------------------------------ */

/* Floats of scratch sc_reduce_sum may need: partial sums of its first stage. */
#define SC_REDUCE_WS 1024

/* out[0] = scale * sum(x) over all x->n elements, on the device (mean: scale = 1/n).
 * Tree reduction in local memory; long vectors take two launches, the first writing
 * per-group partials to ws (>= SC_REDUCE_WS floats; may be NULL when x->n <= 4096, which
 * always fits one work-group pass). x->n == 0 gives 0. */
int sc_reduce_sum(sc_ctx *ctx, const sc_tensor *x, sc_tensor *out, sc_tensor *ws, float scale);

/* out[j] = scale * sum_i x[i, j] (+ out[j] when accumulate) for x viewed as [rows, cols]:
 * rows = x->shape[0], cols = the product of the other dimensions. out->n must be cols.
 * Used for bias gradients. No atomics: each column is reduced by one work-group. */
int sc_colsum(sc_ctx *ctx, const sc_tensor *x, sc_tensor *out, float scale, int accumulate);

/* ---- linear (cl/linear.cl + sc_gemm) ------------------------------------------------- */

/* y[N, out] = x W^T + b with W [out, in], b [out] (NULL: no bias). A 4-D (or any >2-D)
 * x [N, ...] is viewed as [N, in] with in = the product of its trailing dimensions. */
int sc_linear_forward(sc_ctx *ctx, const sc_tensor *x, const sc_tensor *w, const sc_tensor *b,
                      sc_tensor *y);
/* dx = dy W (shaped like x), dw = dy^T x, db = column sums of dy. Any of dx, dw, db may be
 * NULL. */
int sc_linear_backward(sc_ctx *ctx, const sc_tensor *x, const sc_tensor *w, const sc_tensor *dy,
                       sc_tensor *dx, sc_tensor *dw, sc_tensor *db);

/* ---- batch norm (cl/batchnorm.cl) ---------------------------------------------------- */

/* x is [N, C, ...]: NCHW images are normalised per channel over (N, H, W), [N, F] features
 * per feature over N. gamma, beta, running_mean, running_var are [C].
 * `saved` holds at least 2*C floats: per-channel mean in [0, C), 1/sqrt(var + eps) in
 * [C, 2C). Train mode (train != 0) uses the batch statistics (biased variance), writes them
 * to saved, and updates the running statistics PyTorch's way:
 *   running = (1 - momentum) * running + momentum * batch   (unbiased variance for running_var).
 * Eval mode uses running_mean/var and writes them (as mean, invstd) to saved, so backward
 * works in both modes. In train mode running_mean/var may both be NULL (no update).
 * y may alias x. Train mode needs N * (H * W) > 1. */
int sc_batchnorm_forward(sc_ctx *ctx, const sc_tensor *x, const sc_tensor *gamma,
                         const sc_tensor *beta, sc_tensor *running_mean, sc_tensor *running_var,
                         float eps, float momentum, int train, sc_tensor *saved, sc_tensor *y);
/* From the same x and saved as the forward: dgamma = sum dy * xhat, dbeta = sum dy, and
 * dx = gamma * invstd * (dy - dbeta / M - xhat * dgamma / M) in train mode (M = N * H * W),
 * dx = gamma * invstd * dy in eval mode (statistics are constants then).
 * dgamma and dbeta are required whenever dx is (they hold the sums dx is built from). */
int sc_batchnorm_backward(sc_ctx *ctx, const sc_tensor *x, const sc_tensor *gamma,
                          const sc_tensor *saved, const sc_tensor *dy, int train, sc_tensor *dx,
                          sc_tensor *dgamma, sc_tensor *dbeta);
/* Forward with the (leaky) ReLU that follows fused in: with act != 0 it writes
 * y = v > 0 ? v : slope * v, bit-identical to the two layers run apart with one pass over
 * memory fewer. (Backward stays apart: on PoCL the fused backward, reading the activation's
 * output inside the batch-norm loops, measured slower than the two kernels.) */
int sc_batchnorm_act_forward(sc_ctx *ctx, const sc_tensor *x, const sc_tensor *gamma,
                             const sc_tensor *beta, sc_tensor *running_mean,
                             sc_tensor *running_var, float eps, float momentum, int train,
                             sc_tensor *saved, int act, float slope, sc_tensor *y);

/* ---- dropout (cl/dropout.cl) --------------------------------------------------------- */

/* Inverted dropout: in train mode y = x * mask / (1 - p), mask[i] = 0 with probability p;
 * in eval mode y = x (a copy, or nothing when y is x). The mask is a pure function of
 * (seed, step, i) — a counter-based hash on the device, no RNG state, no stored mask — so
 * the backward regenerates it from the same (seed, step). p is in [0, 1] with 2^-24
 * resolution; p = 1 drops everything. y may alias x. */
int sc_dropout_forward(sc_ctx *ctx, const sc_tensor *x, sc_tensor *y, float p, uint32_t seed,
                       uint32_t step, int train);
/* dx = dy * mask / (1 - p) with the mask of the forward of the same (seed, step). */
int sc_dropout_backward(sc_ctx *ctx, const sc_tensor *dy, sc_tensor *dx, float p, uint32_t seed,
                        uint32_t step, int train);
/* The mask bit of element i (1 = kept), computed on the host exactly as the kernel does;
 * for tests and for anyone replaying a step. */
int sc_dropout_keep(float p, uint32_t seed, uint32_t step, uint32_t i);

/* ---- L2 normalisation (cl/l2norm.cl) ------------------------------------------------- */

/* Each row of x [N, D] (D = product of trailing dimensions) divided by its norm:
 * y = x / max(||x||, eps), PyTorch's F.normalize (eps 1e-12 there). y may alias x. */
int sc_l2norm_forward(sc_ctx *ctx, const sc_tensor *x, sc_tensor *y, float eps);
/* dx = (dy - y (y . dy)) / ||x|| where ||x|| > eps, else dy / eps (the clamp is constant). */
int sc_l2norm_backward(sc_ctx *ctx, const sc_tensor *x, const sc_tensor *dy, sc_tensor *dx,
                       float eps);

#endif
