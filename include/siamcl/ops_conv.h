/* Convolution family: conv2d, bias, (leaky) ReLU, max and average pooling. NCHW float32,
 * conventions of ops.h (enqueue only, overwrite gradients, NULL gradient = not needed). */
#ifndef SIAMCL_OPS_CONV_H
#define SIAMCL_OPS_CONV_H

#include <stddef.h>

#include "siamcl/tensor.h"

/* ---- conv2d ----------------------------------------------------------------------------
 * x [N, cin, H, W], w [cout, cin, k, k] (any shape with that element count, e.g. a view into
 * the flat parameter buffer), b [cout] or NULL, y [N, cout, OH, OW] with
 * OH = (H + 2 pad - k) / stride + 1 (floor, like PyTorch). Cross-correlation, as in every
 * deep-learning framework. */
typedef struct sc_conv2d_desc {
    int cin, cout, k, stride, pad;
} sc_conv2d_desc;

/* Output size along one axis; <= 0 when the kernel does not fit. */
int sc_conv2d_out_size(int in, int k, int stride, int pad);

/* Floats of workspace for the fastest path on a batch of n images of h x w: the whole batch
 * in one im2col and one GEMM. Any workspace of at least sc_conv2d_workspace(d, 1, h, w)
 * works for every batch size (the batch is then split into as many images per GEMM as fit,
 * down to one image per GEMM); size one workspace for the largest layer of a network by
 * taking the maximum over its layers. May be 0 (1x1, stride 1, no padding, n == 1). */
size_t sc_conv2d_workspace(const sc_conv2d_desc *d, int n, int h, int w);

/* Row length, in floats, of the [rows, cols] matrices of the im2col path (the im2col matrix,
 * the GEMM output, the permuted dy, the data gradient's matrix): cols, plus 32 when cols is
 * a multiple of 256. Why: rows a power-of-two multiple of 1 KB apart fall on the same cache
 * sets and memory banks, and the GEMMs that write such rows (the data gradients, 26-77 MB)
 * measured 1.13-1.45x faster with the rows 128 bytes further apart. */
size_t sc_conv2d_ld(size_t cols);

/* Default path: im2col + SGEMM (sc_gemm) + a permute that also adds the bias.
 * ws: caller's workspace tensor (its element count is the capacity; NULL allowed only when
 * sc_conv2d_workspace(d, 1, h, w) is 0). */
int sc_conv2d_forward(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x,
                      const sc_tensor *w, const sc_tensor *b, sc_tensor *y, sc_tensor *ws);

/* Reference path: one work-item per output element, no workspace. Slow; kept to check the
 * GEMM path on devices where CLBlast misbehaves. */
int sc_conv2d_forward_direct(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x,
                             const sc_tensor *w, const sc_tensor *b, sc_tensor *y);

/* dx = conv2d^T(dy) (GEMM + col2im, a gather: no atomics), dw = sum_n dy_n col(x_n)^T
 * (GEMM), db = per-channel sum of dy (reduction kernel). Each of dx, dw, db may be NULL.
 * Same workspace rules as the forward. */
int sc_conv2d_backward(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x,
                       const sc_tensor *w, const sc_tensor *dy, sc_tensor *dx, sc_tensor *dw,
                       sc_tensor *db, sc_tensor *ws);

/* Training pair that builds the im2col matrix once: the forward writes the whole batch's
 * matrix into col (at least sc_conv2d_keep_floats(ctx, d, N, H, W) floats; the workspace
 * then only needs room for the GEMM output), and the backward of the same x reads it for
 * dw instead of building it again. col must not change in between. On the direct path col
 * keeps the padded copy of x instead. sc_conv2d_col_floats: the im2col matrix's size. */
size_t sc_conv2d_col_floats(const sc_conv2d_desc *d, int n, int h, int w);
/* What the kept tensor must hold on ctx's device: the im2col matrix, or on the direct
 * path (CPUs, see sc_conv2d_force_tiles) the much smaller padded copy of x. */
size_t sc_conv2d_keep_floats(const sc_ctx *ctx, const sc_conv2d_desc *d, int n, int h, int w);
int sc_conv2d_forward_keep(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x,
                           const sc_tensor *w, const sc_tensor *b, sc_tensor *y,
                           sc_tensor *ws, const sc_tensor *col);
int sc_conv2d_backward_kept(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x,
                            const sc_tensor *w, const sc_tensor *dy, sc_tensor *dx,
                            sc_tensor *dw, sc_tensor *db, sc_tensor *ws, const sc_tensor *col);

/* The im2col/col2im, permute, tiled max-pool, (leaky) ReLU and batch-norm kernels follow
 * the device: on CPUs one work-item per matrix, plane, channel or image row, or per sixteen
 * elements (long loops, no per-element index arithmetic), on GPUs one per element
 * (coalesced neighbours). Tests force each:
 * 1 = CPU rows, 0 = GPU columns, -1 = by device type (the default). */
void sc_conv2d_force_layout(int rows);
/* The direct ("tiles") path on CPUs, for output rows of 16 or more: the forward and the
 * weight gradient read a padded, phase-split copy of x instead of an im2col matrix, and
 * the data gradient reads a padded copy of dy instead of going through GEMM + col2im. It
 * needs the kept tensor or a workspace that holds the whole batch's copy, else the im2col
 * path runs. 1 = on for every device and row width, 0 = off, -1 = the default (CPUs,
 * unless SIAMCL_CONV_TILES=0). */
void sc_conv2d_force_tiles(int on);
/* The im2col matrix in panels of 16 columns for sc_gemm_panel (ops_gemm.h) on the im2col
 * path, for output planes of a multiple of 16 pixels, except pointwise convolutions (1x1,
 * stride 1, no padding: x itself is their matrix). 1 = on for every device, 0 = off
 * (row-major), -1 = the default (CPUs with the own GEMM, unless SIAMCL_CONV_PANEL=0). */
void sc_conv2d_force_panel(int on);

/* ---- bias over channels --------------------------------------------------------------
 * y is [N, C, ...] (4-D NCHW, or 2-D [N, C] for linear layers): channel = dim 1. */

/* y[n, c, ...] += b[c], in place. */
int sc_bias_forward(sc_ctx *ctx, sc_tensor *y, const sc_tensor *b);
/* db[c] = sum over n and the spatial positions of dy[n, c, ...] (overwrites db). */
int sc_bias_backward(sc_ctx *ctx, const sc_tensor *dy, sc_tensor *db);

/* ---- ReLU / leaky ReLU -----------------------------------------------------------------
 * y = x > 0 ? x : slope * x; slope = 0 is ReLU. slope must be >= 0 (so x and y have the
 * same sign and the backward can use either). In place (y == x) is allowed. */
int sc_leaky_relu_forward(sc_ctx *ctx, const sc_tensor *x, sc_tensor *y, float slope);
/* dx = ref > 0 ? dy : slope * dy, where ref is EITHER the forward input x OR its output y
 * (same sign for slope >= 0, so a layer may keep whichever it already stores; the gradient
 * at exactly 0 is slope, as in PyTorch). In place (dx == dy) is allowed. */
int sc_leaky_relu_backward(sc_ctx *ctx, const sc_tensor *ref, const sc_tensor *dy,
                           sc_tensor *dx, float slope);
int sc_relu_forward(sc_ctx *ctx, const sc_tensor *x, sc_tensor *y);
int sc_relu_backward(sc_ctx *ctx, const sc_tensor *ref, const sc_tensor *dy, sc_tensor *dx);

/* ---- pooling ---------------------------------------------------------------------------
 * x [N, C, H, W] -> y [N, C, OH, OW], OH = (H + 2 pad - k) / stride + 1 (floor), pad < k.
 * Average pooling divides by k*k, padding counted (PyTorch's count_include_pad=True);
 * k = 0 is global average pooling: y [N, C, 1, 1] (stride and pad ignored). */
typedef struct sc_pool2d_desc {
    int k, stride, pad;
} sc_pool2d_desc;

/* Output size along one axis (1 for global pooling, k == 0); <= 0 when it does not fit. */
int sc_pool2d_out_size(const sc_pool2d_desc *d, int in);

/* idx: a tensor with y's element count whose storage holds int32 argmax positions
 * (iy * W + ix within the plane; the bits are ints, not floats: only the kernels read it).
 * NULL for inference. Ties and NaN: the first maximum in row-major window order, NaN wins. */
int sc_maxpool_forward(sc_ctx *ctx, const sc_pool2d_desc *d, const sc_tensor *x,
                       sc_tensor *y, sc_tensor *idx);
/* dx[n, c, p] = sum of dy over the windows whose argmax was p (a gather over windows, no
 * atomics). dx's shape gives H and W; idx is what the forward wrote. */
int sc_maxpool_backward(sc_ctx *ctx, const sc_pool2d_desc *d, const sc_tensor *idx,
                        const sc_tensor *dy, sc_tensor *dx);

int sc_avgpool_forward(sc_ctx *ctx, const sc_pool2d_desc *d, const sc_tensor *x,
                       sc_tensor *y);
/* dx's shape gives H and W. */
int sc_avgpool_backward(sc_ctx *ctx, const sc_pool2d_desc *d, const sc_tensor *dy,
                        sc_tensor *dx);

#endif
