/* Metric-learning head: pairwise distances, the contrastive loss and the triplet loss with
 * online mining. Conventions of ops.h: float32 tensors, enqueue only (never wait), backward
 * functions overwrite their outputs, scratch from a caller's workspace tensor. Every loss
 * ends as one float in a device tensor; the host reads it only when it wants to print it. */
#ifndef SIAMCL_OPS_LOSS_H
#define SIAMCL_OPS_LOSS_H

#include <stddef.h>

#include "siamcl/tensor.h"

/* ---- distances ---------------------------------------------------------------------------
 * Euclidean d = ||a - b||_2, or its square when `squared` is non-zero.
 * At d == 0 the Euclidean distance has no gradient; the backward uses 0 there (the
 * minimum-norm subgradient), so identical embeddings never produce NaN or Inf. The forward
 * is exact at 0 (no epsilon is added), so losses read the true distance. */

/* Row-paired: d[i] = dist(a[i], b[i]); a, b [B, D] (B = shape[0], D = the product of the
 * other dimensions), d [B]. */
int sc_distance_rows_forward(sc_ctx *ctx, const sc_tensor *a, const sc_tensor *b,
                             sc_tensor *d, int squared);
/* da[i] = g[i] * dd/da[i], db = -da (either may be NULL). d is what the forward wrote. */
int sc_distance_rows_backward(sc_ctx *ctx, const sc_tensor *a, const sc_tensor *b,
                              const sc_tensor *d, const sc_tensor *g, sc_tensor *da,
                              sc_tensor *db, int squared);

/* Siamese batch layout: e [2B, D] holds the first image of every pair in rows 0..B-1 and
 * the second in rows B..2B-1; d[i] = dist(e[i], e[B + i]), d [B]. */
int sc_distance_siamese_forward(sc_ctx *ctx, const sc_tensor *e, sc_tensor *d, int squared);
/* de [2B, D] from g = dL/dd [B]. */
int sc_distance_siamese_backward(sc_ctx *ctx, const sc_tensor *e, const sc_tensor *d,
                                 const sc_tensor *g, sc_tensor *de, int squared);

/* Full matrix: dist[i, j] = dist(a[i], b[j]); a [M, D], b [N, D], dist [M, N].
 * Computed as ||a_i||^2 + ||b_j||^2 - 2 a_i.b_j (one GEMM), clamped at 0 before the square
 * root (cancellation can make it slightly negative). When a and b are the same tensor
 * (same buffer, offset and shape) the diagonal is set to exactly 0.
 * ws: at least sc_distance_matrix_workspace(M, N) floats. */
size_t sc_distance_matrix_workspace(int m, int n);
int sc_distance_matrix_forward(sc_ctx *ctx, const sc_tensor *a, const sc_tensor *b,
                               sc_tensor *dist, int squared, sc_tensor *ws);
/* Reference: one work-item per (i, j), summing (a - b)^2 directly. Slower; exact at i == j
 * for identical rows; no workspace. */
int sc_distance_matrix_forward_direct(sc_ctx *ctx, const sc_tensor *a, const sc_tensor *b,
                                      sc_tensor *dist, int squared);
/* From g = dL/ddist [M, N]: with W = dL/d(squared distance) (g / 2 dist, or g when squared;
 * 0 where the forward clamped), da = 2 diag(rowsum W) a - 2 W b and
 * db = 2 diag(colsum W) b - 2 W^T a (two GEMMs, no atomics). da or db may be NULL.
 * When a and b are the same tensor, pass da == db (the same tensor): it receives the sum.
 * dist is what the forward wrote. ws as for the forward. */
int sc_distance_matrix_backward(sc_ctx *ctx, const sc_tensor *a, const sc_tensor *b,
                                const sc_tensor *dist, const sc_tensor *g, sc_tensor *da,
                                sc_tensor *db, int squared, sc_tensor *ws);

/* ---- contrastive loss (Chopra, Hadsell, LeCun 2005; Hadsell et al. 2006) -----------------
 * L = mean_i [ (1 - y_i) * 1/2 * d_i^2 + y_i * 1/2 * max(0, m - d_i)^2 ],
 * y = 0: same person (pulled together), y = 1: different people (pushed beyond margin m).
 * d [B] distances, y [B] float labels -> per-pair losses pair [B] and their mean loss [1]
 * (sc_reduce_sum; ws is its scratch: NULL when B <= 4096, else >= SC_REDUCE_WS floats). */
int sc_contrastive_forward(sc_ctx *ctx, const sc_tensor *d, const sc_tensor *y, float margin,
                           sc_tensor *pair, sc_tensor *loss, sc_tensor *ws);
/* dd[i] = dL/dd_i = ((1 - y_i) d_i - y_i max(0, m - d_i)) / B. */
int sc_contrastive_backward(sc_ctx *ctx, const sc_tensor *d, const sc_tensor *y, float margin,
                            sc_tensor *dd);

/* The whole Siamese head in one call: e [2B, D] (layout of sc_distance_siamese_forward),
 * y [B] -> d [B] (Euclidean distances, kept for evaluation), loss [1], and de = dL/de
 * [2B, D] (NULL: forward only). ws: at least sc_contrastive_workspace(B) floats. */
size_t sc_contrastive_workspace(int b);
int sc_contrastive_siamese(sc_ctx *ctx, const sc_tensor *e, const sc_tensor *y, float margin,
                           sc_tensor *d, sc_tensor *loss, sc_tensor *de, sc_tensor *ws);

/* ---- triplet loss with online mining (FaceNet; Hermans, Beyer, Leibe 2017) ---------------
 * Embeddings e [N, D] from a P x K batch, labels [N] (float tensor holding integer identity
 * ids), per-triplet loss l(a, p, n) = max(d(a, p) - d(a, n) + margin, 0) on the matrix of
 * Euclidean (or squared) distances. A positive of anchor a is any p != a with the same label,
 * a negative any n with a different label. Ties in mining go to the lowest row index.
 *
 * - SC_TRIPLET_BATCH_ALL: every valid (a, p, n); L = mean over the triplets with l > 0
 *   ("BA != 0"; 0 when none is active).
 * - SC_TRIPLET_BATCH_HARD: per anchor the farthest positive and the closest negative;
 *   L = mean over the anchors that have both.
 * - SC_TRIPLET_SEMI_HARD: per (a, p) the negative with d(a, n) > d(a, p) closest to d(a, p)
 *   (FaceNet's semi-hard negative); when no negative is farther than the positive, the
 *   hardest (closest) negative. L = mean over the (a, p) pairs whose anchor has a negative.
 *   (TensorFlow Addons falls back to the farthest negative instead; we follow the brief of
 *   always taking the hardest available example.)
 *
 * stats (optional, >= 3 floats): fraction of active terms (l > 0) among the valid ones,
 * the active count and the valid count (terms = triplets for batch-all, anchors for
 * batch-hard, (a, p) pairs for semi-hard). */
typedef enum sc_triplet_mining {
    SC_TRIPLET_BATCH_ALL,
    SC_TRIPLET_BATCH_HARD,
    SC_TRIPLET_SEMI_HARD,
} sc_triplet_mining;

typedef struct sc_triplet_opts {
    sc_triplet_mining mining;
    float margin; /* alpha */
    int squared;  /* 1: squared Euclidean distances */
} sc_triplet_opts;

/* "batch_all", "batch_hard", "semi_hard" <-> the enum (-1 when unknown). */
const char *sc_triplet_mining_name(sc_triplet_mining m);
int sc_triplet_mining_parse(const char *name);

/* Workspace of the loss on a given distance matrix, and of the whole head (adds the
 * distance matrix's scratch and dL/ddist). */
size_t sc_triplet_loss_workspace(int n);
size_t sc_triplet_workspace(int n);

/* On a distance matrix dist [N, N] (any symmetric distance; rows are anchors). */
int sc_triplet_loss_forward(sc_ctx *ctx, const sc_tensor *dist, const sc_tensor *labels,
                            const sc_triplet_opts *o, sc_tensor *loss, sc_tensor *stats,
                            sc_tensor *ws);
/* ddist = dL/ddist [N, N] (row a holds the anchor-a terms; a gather per element, no
 * atomics). Needs the same ws the forward just filled (it reads the mining and counts). */
int sc_triplet_loss_backward(sc_ctx *ctx, const sc_tensor *dist, const sc_tensor *labels,
                             const sc_triplet_opts *o, sc_tensor *ddist, sc_tensor *ws);

/* The whole triplet head: e -> dist [N, N] (kept for evaluation), loss [1], stats (optional)
 * and de = dL/de [N, D] (NULL: forward only). ws: sc_triplet_workspace(N) floats. */
int sc_triplet_head(sc_ctx *ctx, const sc_tensor *e, const sc_tensor *labels,
                    const sc_triplet_opts *o, sc_tensor *dist, sc_tensor *loss,
                    sc_tensor *stats, sc_tensor *de, sc_tensor *ws);

#endif
