/* Direct convolution through a padded, phase-split copy of x (conv_tiles.c). Internal to
 * the conv wrapper: arguments are checked there. */
#ifndef SIAMCL_OPS_CONV_TILES_H
#define SIAMCL_OPS_CONV_TILES_H

#include <stdio.h>

#include "conv_common.h"
#include "siamcl/ops_conv.h"

/* Whether conv d on inputs w wide runs the direct path on ctx's device (CPUs, for output
 * rows of 16 or more, unless forced or turned off by SIAMCL_CONV_TILES=0; never for 1x1
 * stride-1 unpadded convs). */
int sc_tiles_on(const sc_ctx *ctx, const sc_conv2d_desc *d, int w);
/* Floats of the padded, phase-split copy of n images of h x w. */
size_t sc_tiles_floats(const sc_conv2d_desc *d, int n, int h, int w);
/* xp (at xp_off floats) = the copy of x. */
int sc_tiles_split(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x, cl_mem xp,
                   size_t xp_off);
/* y = conv(x) + b from the copy (x gives the shapes only). */
int sc_tiles_forward(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x, cl_mem xp,
                     size_t xp_off, const sc_tensor *wt, const sc_tensor *b, sc_tensor *y);
/* Floats of partial gradients sc_tiles_dw needs for a batch of n (0: none). */
size_t sc_tiles_dw_floats(const sc_conv2d_desc *d, int n);
/* dw = sum over the batch of dy (x) the copy (overwrites dw); part: room for
 * sc_tiles_dw_floats(d, n) floats at part_off (unused when that is 0). */
int sc_tiles_dw(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x, cl_mem xp,
                size_t xp_off, const sc_tensor *dy, sc_tensor *dw, cl_mem part, size_t part_off);
/* Floats of padded dy and transposed weights that sc_tiles_dx needs for n images of h x w. */
size_t sc_tiles_dx_floats(const sc_conv2d_desc *d, int n, int h, int w);
/* dx = conv2d^T(dy) directly (overwrites dx); tmp: room for sc_tiles_dx_floats floats. */
int sc_tiles_dx(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *dy, const sc_tensor *wt,
                sc_tensor *dx, cl_mem tmp, size_t tmp_off);

#endif
