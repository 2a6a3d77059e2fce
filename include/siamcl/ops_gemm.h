/* Matrix multiply on the device: the one place the library runs an SGEMM. Two backends:
 * the project's own register-blocked kernels (cl/gemm.cl, tile sizes per device) and
 * CLBlast. CLBlast has no tuning for CPU runtimes such as PoCL, where its defaults run at a
 * few percent of the FMA peak; it is the better choice on GPUs it was tuned for. */
#ifndef SIAMCL_OPS_GEMM_H
#define SIAMCL_OPS_GEMM_H

#include "siamcl/runtime.h"

/* C = alpha * op(A) * op(B) + beta * C, all row-major, op(X) = X or X^T (trans_x != 0).
 * op(A) is m x k, op(B) is k x n, C is m x n. Offsets and leading dimensions are in floats
 * (lda is the row length of A as stored, i.e. k when not transposed, m when transposed).
 * `label` names the call in profiles ("conv.gemm", "linear.gemm"; NULL means "gemm").
 * m == 0 or n == 0 is a no-op; k must be positive. Leading dimensions, offsets and buffer
 * sizes are checked here so a mistake is reported in our words. beta == 0 never reads C.
 * Runs on the backend sc_gemm_backend_for(ctx) names. Enqueues on ctx->queue, never waits. */
int sc_gemm(sc_ctx *ctx, int trans_a, int trans_b, int m, int n, int k, float alpha, cl_mem a,
            size_t a_off, int lda, cl_mem b, size_t b_off, int ldb, float beta, cl_mem c,
            size_t c_off, int ldc, const char *label);

/* sc_gemm with B stored in panels of 16 columns, as the CPU convolutions lay out their
 * im2col matrix (cl/conv.cl): the stored B, rows x cols (k x n for A B, n x k for A B^T with
 * trans_b), is cols / 16 panels of rows x 16 floats one after the other, element (r, c) at
 * b_off + (c / 16) * 16 rows + r * 16 + c % 16. A panel is then one sequential stream, where a
 * strip of 16 columns of a row-major B is a short piece of each of its rows (the GEMM's
 * time at the early convs' short C went into gathering those pieces). cols must be a
 * multiple of 16. No transposed A. Runs the own kernels whatever the backend
 * (cl/gemm_panel.cl; for A B^T with 16 or 32 rows, long K and B of at least 4x A's rows,
 * gemm_panel_nt in cl/gemm.cl (src/ops/gemm_dot.c says when exactly), else gemm_strip or
 * the split-K kernel as the own backend picks them for row-major B),
 * which are written for CPU devices: src/ops/conv.c uses this layout only on those. */
int sc_gemm_panel(sc_ctx *ctx, int trans_b, int m, int n, int k, float alpha, cl_mem a,
                  size_t a_off, int lda, cl_mem b, size_t b_off, float beta, cl_mem c,
                  size_t c_off, int ldc, const char *label);

typedef enum sc_gemm_backend {
    SC_GEMM_AUTO = 0, /* the device's choice (see sc_gemm_backend_for) */
    SC_GEMM_OWN,      /* cl/gemm.cl */
    SC_GEMM_CLBLAST   /* CLBlastSgemm (with any parameters CLBlastOverrideParameters set) */
} sc_gemm_backend;

/* sc_gemm on a given backend (tests and benchmarks compare them). */
int sc_gemm_on(sc_ctx *ctx, sc_gemm_backend backend, int trans_a, int trans_b, int m, int n,
               int k, float alpha, cl_mem a, size_t a_off, int lda, cl_mem b, size_t b_off,
               int ldb, float beta, cl_mem c, size_t c_off, int ldc, const char *label);

/* The backend sc_gemm uses on this context's device, decided once per device and process:
 * $SIAMCL_GEMM ("own" or "clblast") first, then a choice saved by the tuner
 * (key "gemm.backend", siamcl/tuning.h), then the device type: the own kernels on CPUs,
 * CLBlast on GPUs and accelerators (it ships tuned parameters for most of them). */
sc_gemm_backend sc_gemm_backend_for(sc_ctx *ctx);
const char *sc_gemm_backend_name(sc_gemm_backend backend);
/* Makes `backend` (not AUTO) the device's choice for this process; with save, also for
 * later runs (tuning store). $SIAMCL_GEMM still wins when set. */
int sc_gemm_backend_set(sc_ctx *ctx, sc_gemm_backend backend, int save);

/* Tile sizes of the own kernel (cl/gemm.cl), per device. */
typedef struct sc_gemm_params {
    int vw;  /* columns per work-item, one floatVW register (4, 8, 16) */
    int rm;  /* rows per register block (1..8): rm accumulators of floatVW */
    int nrb; /* register blocks per work-item (1..32): it owns nrb * rm rows of C */
    int ns;  /* strips of vw columns per work-item (1..16): longer runs of each row of B */
    int kb;  /* K block (8..512): the private copy of op(B) holds kb x ns * vw floats */
    int kbt; /* K block when op(B) = B^T (8..512); then ns = 1: the copy already reads runs
                of kbt floats along K, and N (kernel size x channels) is often small */
    int wg;  /* work-items per work-group to aim for (1..1024, a power of two) */
    int rmt;  /* rm and nrb for tall C (m >= SC_GEMM_TALL_M): more accumulators hide the */
    int nrbt; /* FMA latency better, and short C (the early convs' 16-32 rows) wastes them */
} sc_gemm_params;

#define SC_GEMM_TALL_M 64
#define SC_GEMM_MAX_NS 16

/* The parameters in use on ctx's device: defaults for its type, or those saved by the
 * tuner (key "gemm.params"). */
int sc_gemm_params_get(sc_ctx *ctx, sc_gemm_params *out);
/* Validates and uses p on ctx's device from now on; with save, also for later runs. */
int sc_gemm_params_set(sc_ctx *ctx, const sc_gemm_params *p, int save);
/* Parameters as text ("vw=16 rm=4 nrb=16 ns=4 kb=32 kbt=128 wg=16") and back;
 * parse fails naming the bad field and leaves *out untouched. */
void sc_gemm_params_format(const sc_gemm_params *p, char *buf, size_t size);
int sc_gemm_params_parse(const char *text, sc_gemm_params *out);

/* Parameters for CLBlast's Xgemm kernel on ctx's device, "GEMMK=0 KREG=1 KWG=32 KWI=2
 * MDIMA=8 MDIMC=8 MWG=64 NDIMB=8 NDIMC=8 NWG=64 SA=0 SB=0 STRM=0 STRN=0 VWM=4 VWN=4" (all
 * 16, any order), applied with CLBlastOverrideParameters from the next CLBlast call on.
 * With save they are stored (key "clblast.xgemm") and applied by every later run before
 * its first CLBlast call. */
int sc_gemm_clblast_override(sc_ctx *ctx, const char *params, int save);

/* CLBlast status codes by name ("CLBlastInsufficientMemoryA"), "unknown" otherwise. */
const char *sc_clblast_status_name(int status);

#endif
