/* Shared between the GEMM front end (gemm.c) and its backends (gemm_own.c, gemm_clblast.c). */
#ifndef SIAMCL_GEMM_INTERNAL_H
#define SIAMCL_GEMM_INTERNAL_H

#include "siamcl/ops_gemm.h"

/* One validated call: sizes positive, leading dimensions and buffers large enough. */
typedef struct sc_gemm_call {
    int ta, tb, m, n, k;
    float alpha, beta;
    cl_mem a, b, c;
    size_t a_off, b_off, c_off;
    int lda, ldb, ldc;
    const char *label;
    int b_panel; /* B in panels of 16 (sc_gemm_panel); ldb is then the panel's floats */
} sc_gemm_call;

int sc_gemm_clblast_run(sc_ctx *ctx, const sc_gemm_call *g);
int sc_gemm_own_run(sc_ctx *ctx, const sc_gemm_call *g);
/* The own backend's split-K path (gemm_dot.c): whether it takes g, and the run. */
int sc_gemm_dot_fits(const sc_ctx *ctx, const sc_gemm_call *g);
int sc_gemm_dot_run(sc_ctx *ctx, const sc_gemm_call *g);
/* ... and its form for A B^T with B in panels and 16 or 32 rows of C (gemm_panel_nt). */
int sc_gemm_panel_nt_fits(const sc_ctx *ctx, const sc_gemm_call *g);
int sc_gemm_panel_nt_run(sc_ctx *ctx, const sc_gemm_call *g);
/* The own backend's GEMMs with B in panels (sc_gemm_panel): A B through gemm_panel, A B^T
 * through gemm_panel_nt where sc_gemm_panel_nt_fits, else sc_gemm_own_run's choice. */
int sc_gemm_panel_run(sc_ctx *ctx, const sc_gemm_call *g);

#endif
