/* Triplet loss with batch-all, batch-hard and semi-hard mining: the loss, the statistics and
 * dL/ddist against a plain-C reference (double) on the device's own distance matrix, the
 * whole head's dL/de against finite differences of the double reference from the
 * embeddings, a hand-made matrix with ties (lowest index wins), and a batch with no active
 * triplet (loss 0, gradient 0). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/ops_loss.h"
#include "support.h"

/* ---- plain-C reference ------------------------------------------------------------------ */

typedef struct {
    double loss, frac, active, valid;
} ref_stats;

/* Loss and (when g != NULL) dL/dD [n, n] on the distance matrix D, same rules as the kernels:
 * ties to the lowest index, active means l > 0. */
static ref_stats ref_triplet(const double *D, const float *lab, int n, sc_triplet_mining mode,
                             double margin, double *g)
{
    ref_stats st = {0, 0, 0, 0};
    double sum = 0;
    /* Active terms as (a, p, neg) for the gradient, accumulated after the count is known. */
    int cap = n * n * n + 1, na = 0;
    int *terms = malloc(3 * (size_t)cap * sizeof *terms);
    cr_assert(terms);
    for (int a = 0; a < n; a++) {
        if (mode == SC_TRIPLET_BATCH_HARD) {
            int pi = -1, ni = -1;
            for (int k = 0; k < n; k++) {
                if (k == a)
                    continue;
                if (lab[k] == lab[a]) {
                    if (pi < 0 || D[a * n + k] > D[a * n + pi])
                        pi = k;
                } else if (ni < 0 || D[a * n + k] < D[a * n + ni]) {
                    ni = k;
                }
            }
            if (pi < 0 || ni < 0)
                continue;
            st.valid++;
            double l = D[a * n + pi] - D[a * n + ni] + margin;
            if (l > 0) {
                sum += l;
                st.active++;
                terms[3 * na] = a, terms[3 * na + 1] = pi, terms[3 * na + 2] = ni, na++;
            }
            continue;
        }
        for (int p = 0; p < n; p++) {
            if (p == a || lab[p] != lab[a])
                continue;
            double dap = D[a * n + p];
            if (mode == SC_TRIPLET_BATCH_ALL) {
                for (int k = 0; k < n; k++) {
                    if (lab[k] == lab[a])
                        continue;
                    st.valid++;
                    double l = dap - D[a * n + k] + margin;
                    if (l > 0) {
                        sum += l;
                        st.active++;
                        terms[3 * na] = a, terms[3 * na + 1] = p, terms[3 * na + 2] = k, na++;
                    }
                }
            } else {
                int hi = -1, si = -1;
                for (int k = 0; k < n; k++) {
                    if (lab[k] == lab[a])
                        continue;
                    double d = D[a * n + k];
                    if (hi < 0 || d < D[a * n + hi])
                        hi = k;
                    if (d > dap && (si < 0 || d < D[a * n + si]))
                        si = k;
                }
                if (hi < 0)
                    continue;
                int ni = si >= 0 ? si : hi;
                st.valid++;
                double l = dap - D[a * n + ni] + margin;
                if (l > 0) {
                    sum += l;
                    st.active++;
                    terms[3 * na] = a, terms[3 * na + 1] = p, terms[3 * na + 2] = ni, na++;
                }
            }
        }
    }
    double denom = mode == SC_TRIPLET_BATCH_ALL ? st.active : st.valid;
    st.loss = denom > 0 ? sum / denom : 0;
    st.frac = st.valid > 0 ? st.active / st.valid : 0;
    if (g) {
        memset(g, 0, (size_t)n * n * sizeof *g);
        for (int t = 0; t < na; t++) {
            g[terms[3 * t] * n + terms[3 * t + 1]] += 1 / denom;
            g[terms[3 * t] * n + terms[3 * t + 2]] -= 1 / denom;
        }
    }
    free(terms);
    return st;
}

static void ref_dist_matrix(const float *e, int n, int dim, int squared, double *D)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < dim; k++) {
                double t = (double)e[i * dim + k] - e[j * dim + k];
                s += t * t;
            }
            D[i * n + j] = squared ? s : sqrt(s);
        }
}

typedef struct {
    int n, dim;
    const float *lab;
    sc_triplet_opts o;
    double *D; /* scratch n x n */
} head_fd;

static double head_objective(const float *e, void *user)
{
    head_fd *h = user;
    ref_dist_matrix(e, h->n, h->dim, h->o.squared, h->D);
    return ref_triplet(h->D, h->lab, h->n, h->o.mining, h->o.margin, NULL).loss;
}

/* P identities of K rows each, in a scrambled row order (i * 7 mod n: n is never a multiple
 * of 7 here), identity ids not 0..P-1 either. */
static float *pk_labels(int p, int k)
{
    int n = p * k;
    float *lab = malloc(n * sizeof *lab);
    for (int i = 0; i < n; i++)
        lab[(i * 7) % n] = (float)(100 + 3 * (i / k));
    return lab;
}

/* ---- random batches: forward, stats, dL/ddist and dL/de ------------------------------ */

static void check_head(int p, int k, int dim, sc_triplet_mining mode, int squared, float margin,
                       unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    int n = p * k, eshape[2] = {n, dim}, dshape[2] = {n, n}, one = 1, three = 3;
    size_t ne = (size_t)n * dim, nn = (size_t)n * n;
    float *he = test_rand_alloc(ne, seed, -1, 1), *lab = pk_labels(p, k);
    int wsn = (int)sc_triplet_workspace(n);
    sc_tensor e = test_tensor(2, eshape, he), de = test_tensor(2, eshape, NULL);
    sc_tensor labels = test_tensor(1, &n, lab), dist = test_tensor(2, dshape, NULL);
    sc_tensor loss = test_tensor(1, &one, NULL), stats = test_tensor(1, &three, NULL);
    sc_tensor ws = test_tensor(1, &wsn, NULL);
    sc_triplet_opts o = {mode, margin, squared};
    cr_assert_eq(sc_triplet_head(ctx, &e, &labels, &o, &dist, &loss, &stats, &de, &ws), SC_OK,
                 "%s", sc_last_error());
    float *hd = test_download(&dist), *hl = test_download(&loss), *hs = test_download(&stats);
    float *hde = test_download(&de);

    /* Mining and loss on the device's own matrix: isolates them from the GEMM's rounding. */
    double *D = malloc(nn * sizeof *D), *G = malloc(nn * sizeof *G);
    for (size_t i = 0; i < nn; i++)
        D[i] = hd[i];
    ref_stats st = ref_triplet(D, lab, n, mode, margin, G);
    float want_l = (float)st.loss, want_s[3] = {(float)st.frac, (float)st.active,
                                                (float)st.valid};
    test_expect_close("triplet.forward", hl, &want_l, 1);
    test_expect_close("triplet.forward", hs, want_s, 3);
    cr_assert(st.active > 0, "test data: no active term");
    if (mode != SC_TRIPLET_BATCH_HARD)
        cr_assert(st.active < st.valid, "test data: every term active (%g of %g)", st.active,
                  st.valid);

    /* dL/ddist through the loss-only API on the same matrix and workspace. */
    int lwn = (int)sc_triplet_loss_workspace(n);
    sc_tensor lws = sc_tensor_view(ws.buf, ws.off, 1, &lwn), ddist = test_tensor(2, dshape, NULL);
    cr_assert_eq(sc_triplet_loss_forward(ctx, &dist, &labels, &o, &loss, NULL, &lws), SC_OK,
                 "%s", sc_last_error());
    cr_assert_eq(sc_triplet_loss_backward(ctx, &dist, &labels, &o, &ddist, &lws), SC_OK, "%s",
                 sc_last_error());
    float *hg = test_download(&ddist), *want_g = malloc(nn * sizeof *want_g);
    for (size_t i = 0; i < nn; i++)
        want_g[i] = (float)G[i];
    test_expect_close("triplet.grad", hg, want_g, nn);

    /* The whole head against finite differences of the double reference. */
    float *want = malloc(ne * sizeof *want);
    head_fd h = {n, dim, lab, o, D};
    for (size_t i = 0; i < ne; i++)
        want[i] = (float)test_fd(head_objective, he, i, 1e-4f, &h);
    test_expect_close("triplet.fd", hde, want, ne);

    free(hd);
    free(hl);
    free(hs);
    free(hde);
    free(hg);
    free(want_g);
    free(want);
    free(D);
    free(G);
    free(he);
    free(lab);
    sc_tensor *all[] = {&e, &de, &labels, &dist, &loss, &stats, &ws, &ddist};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sc_tensor_free(all[i]);
}

/* Each mining on three P x K batches: odd sizes, a 33-wide and a 32-wide embedding, the
 * squared distance option (one Test per mining: every Test pays for a fresh context). */
Test(triplet, batch_all_random_batches)
{
    check_head(4, 3, 7, SC_TRIPLET_BATCH_ALL, 0, 0.3f, 1);
    check_head(5, 3, 33, SC_TRIPLET_BATCH_ALL, 0, 0.2f, 2);
    check_head(4, 4, 32, SC_TRIPLET_BATCH_ALL, 1, 1.0f, 3);
}

Test(triplet, batch_hard_random_batches)
{
    check_head(4, 3, 7, SC_TRIPLET_BATCH_HARD, 0, 0.3f, 4);
    check_head(5, 3, 33, SC_TRIPLET_BATCH_HARD, 0, 0.2f, 5);
    check_head(4, 4, 32, SC_TRIPLET_BATCH_HARD, 1, 1.0f, 6);
}

Test(triplet, semi_hard_random_batches)
{
    check_head(4, 3, 7, SC_TRIPLET_SEMI_HARD, 0, 0.3f, 7);
    check_head(5, 3, 33, SC_TRIPLET_SEMI_HARD, 0, 0.2f, 8);
    check_head(4, 4, 32, SC_TRIPLET_SEMI_HARD, 1, 1.0f, 9);
}

/* ---- ties ----------------------------------------------------------------------------------
 * Identities {0, 1, 2} and {3, 4, 5}; a symmetric matrix of integers so ties are exact.
 * Anchor 0: positives 1 and 2 both at 3 (batch-hard takes 1), negatives 3 and 4 both at 2
 * (batch-hard takes 3), 5 at 6 (the only negative farther than 3: semi-hard for (0, 1)).
 * Anchor 1: negatives 3, 4, 5 all at 4 (every mining takes 3).
 * Anchor 2: for (2, 1) at 1, negative 3 at 1 is not farther (equal), 4 and 5 at 5 are
 * (semi-hard takes 4). */
static const float tie_dist[36] = {
    0, 3, 3, 2, 2, 6, /* anchor 0 */
    3, 0, 1, 4, 4, 4, /* anchor 1 */
    3, 1, 0, 1, 5, 5, /* anchor 2 */
    2, 4, 1, 0, 1, 1, /* anchor 3 */
    2, 4, 5, 1, 0, 2, /* anchor 4 */
    6, 4, 5, 1, 2, 0, /* anchor 5 */
};
static const float tie_labels[6] = {0, 0, 0, 1, 1, 1};

static void run_on_matrix(const float *hdist, const float *hlab, int n,
                          const sc_triplet_opts *o, float *loss_out, float *stats_out,
                          float *g_out)
{
    sc_ctx *ctx = test_ctx();
    int dshape[2] = {n, n}, one = 1, three = 3, wsn = (int)sc_triplet_loss_workspace(n);
    sc_tensor dist = test_tensor(2, dshape, hdist), labels = test_tensor(1, &n, hlab);
    sc_tensor loss = test_tensor(1, &one, NULL), stats = test_tensor(1, &three, NULL);
    sc_tensor ws = test_tensor(1, &wsn, NULL), g = test_tensor(2, dshape, NULL);
    cr_assert_eq(sc_triplet_loss_forward(ctx, &dist, &labels, o, &loss, &stats, &ws), SC_OK,
                 "%s", sc_last_error());
    cr_assert_eq(sc_triplet_loss_backward(ctx, &dist, &labels, o, &g, &ws), SC_OK, "%s",
                 sc_last_error());
    cr_assert_eq(sc_tensor_download(ctx, &loss, loss_out), SC_OK);
    cr_assert_eq(sc_tensor_download(ctx, &stats, stats_out), SC_OK);
    cr_assert_eq(sc_tensor_download(ctx, &g, g_out), SC_OK);
    sc_tensor *all[] = {&dist, &labels, &loss, &stats, &ws, &g};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sc_tensor_free(all[i]);
}

static void check_ties(sc_triplet_mining mode, float margin)
{
    int n = 6;
    sc_triplet_opts o = {mode, margin, 0};
    float loss, stats[3], g[36], want_g[36];
    run_on_matrix(tie_dist, tie_labels, n, &o, &loss, stats, g);
    double D[36], G[36];
    for (int i = 0; i < 36; i++)
        D[i] = tie_dist[i];
    ref_stats st = ref_triplet(D, tie_labels, n, mode, margin, G);
    for (int i = 0; i < 36; i++)
        want_g[i] = (float)G[i];
    float want_l = (float)st.loss, want_s[3] = {(float)st.frac, (float)st.active,
                                                (float)st.valid};
    test_expect_close("triplet.forward", &loss, &want_l, 1);
    test_expect_close("triplet.forward", stats, want_s, 3);
    test_expect_close("triplet.grad", g, want_g, 36);
    /* The rule itself, not only agreement with the reference. */
    if (mode == SC_TRIPLET_BATCH_HARD) {
        /* anchor 0: l = 3 - 2 + margin > 0; positive 1 (not 2), negative 3 (not 4). */
        cr_assert(g[0 * 6 + 1] > 0 && g[0 * 6 + 2] == 0, "ties: %g %g", g[1], g[2]);
        cr_assert(g[0 * 6 + 3] < 0 && g[0 * 6 + 4] == 0, "ties: %g %g", g[3], g[4]);
        /* anchor 1: negatives 3, 4, 5 all at 4: 3 wins. */
        cr_assert(g[1 * 6 + 3] < 0 && g[1 * 6 + 4] == 0 && g[1 * 6 + 5] == 0);
    }
    if (mode == SC_TRIPLET_SEMI_HARD) {
        /* (0, 1) at 3: semi-hard negative 5 (at 6), not the closer 3 or 4. */
        cr_assert(g[0 * 6 + 5] < 0 && g[0 * 6 + 3] == 0 && g[0 * 6 + 4] == 0);
        /* anchor 1, (1, 0) at 3: negatives all at 4, all farther: tie -> 3. */
        if (3 - 4 + margin > 0)
            cr_assert(g[1 * 6 + 3] < 0 && g[1 * 6 + 4] == 0 && g[1 * 6 + 5] == 0);
        /* anchor 2: 3 is not farther than the positive (equal); 4 and 5 tie -> 4. */
        if (1 - 5 + margin > 0)
            cr_assert(g[2 * 6 + 4] < 0 && g[2 * 6 + 5] == 0 && g[2 * 6 + 3] <= 0);
    }
}

Test(triplet, ties_batch_hard) { check_ties(SC_TRIPLET_BATCH_HARD, 1.5f); }
Test(triplet, ties_batch_all) { check_ties(SC_TRIPLET_BATCH_ALL, 1.0f); }
Test(triplet, ties_semi_hard) { check_ties(SC_TRIPLET_SEMI_HARD, 4.5f); }

/* Semi-hard fallback: no negative farther than the positive -> the hardest negative. */
Test(triplet, semi_hard_falls_back_to_hardest_negative)
{
    /* Anchor 0: positive 1 at 5; negatives 2 at 3, 3 at 1 (none farther): hardest = 3. */
    const float dist[16] = {0, 5, 3, 1, 5, 0, 2, 2, 3, 2, 0, 7, 1, 2, 7, 0};
    const float lab[4] = {0, 0, 1, 1};
    sc_triplet_opts o = {SC_TRIPLET_SEMI_HARD, 0.5f, 0};
    float loss, stats[3], g[16];
    run_on_matrix(dist, lab, 4, &o, &loss, stats, g);
    /* pairs: (0,1): neg 3, l = 5 - 1 + .5 = 4.5; (1,0): negatives 2, 2 at 2 (none > 5):
     * hardest with tie -> 2, l = 5 - 2 + .5 = 3.5; (2,3): d 7, negatives 3, 2 -> none
     * farther, hardest 1 (at 2): l = 7 - 2 + .5 = 5.5; (3,2): negatives 1, 2 -> 0 (at 1),
     * l = 7 - 1 + .5 = 6.5. Mean over 4 valid pairs: 20 / 4 = 5. */
    cr_assert_float_eq(loss, 5.0f, 1e-6f);
    cr_assert_float_eq(stats[0], 1.0f, 0);
    cr_assert(g[0 * 4 + 3] == -0.25f && g[0 * 4 + 2] == 0.0f, "%g %g", g[3], g[2]);
    cr_assert(g[1 * 4 + 2] == -0.25f && g[1 * 4 + 3] == 0.0f, "%g %g", g[6], g[7]);
    cr_assert(g[0 * 4 + 1] == 0.25f);
}

/* ---- nothing to learn: every triplet already satisfied -------------------------------- */

Test(triplet, no_active_triplet_gives_zero_loss_and_gradient)
{
    sc_ctx *ctx = test_ctx();
    int p = 3, k = 3, n = p * k, dim = 4, eshape[2] = {n, dim}, dshape[2] = {n, n};
    int one = 1, three = 3, wsn = (int)sc_triplet_workspace(n);
    float he[36], lab[9];
    test_rand(he, 36, 77, -0.01f, 0.01f);
    for (int i = 0; i < n; i++) {
        lab[i] = (float)(i % p);
        he[i * dim + (i % p)] += 10.0f; /* identity c sits at 10 along axis c */
    }
    for (int mode = 0; mode < 3; mode++)
        for (int squared = 0; squared < 2; squared++) {
            sc_tensor e = test_tensor(2, eshape, he), de = test_tensor(2, eshape, NULL);
            sc_tensor labels = test_tensor(1, &n, lab), dist = test_tensor(2, dshape, NULL);
            sc_tensor loss = test_tensor(1, &one, NULL), stats = test_tensor(1, &three, NULL);
            sc_tensor ws = test_tensor(1, &wsn, NULL);
            sc_tensor_fill(ctx, &de, NAN); /* the backward must overwrite every element */
            sc_triplet_opts o = {(sc_triplet_mining)mode, 1.0f, squared};
            cr_assert_eq(sc_triplet_head(ctx, &e, &labels, &o, &dist, &loss, &stats, &de, &ws),
                         SC_OK, "%s", sc_last_error());
            float *hl = test_download(&loss), *hs = test_download(&stats);
            float *hde = test_download(&de);
            cr_assert_eq(hl[0], 0.0f, "%s: loss %g", sc_triplet_mining_name(o.mining), hl[0]);
            cr_assert_eq(hs[0], 0.0f, "active fraction %g", hs[0]);
            cr_assert_eq(hs[1], 0.0f);
            cr_assert(hs[2] > 0, "valid terms %g", hs[2]);
            for (int i = 0; i < n * dim; i++)
                cr_assert_eq(hde[i], 0.0f, "%s: de[%d] = %g", sc_triplet_mining_name(o.mining),
                             i, hde[i]);
            free(hl);
            free(hs);
            free(hde);
            sc_tensor *all[] = {&e, &de, &labels, &dist, &loss, &stats, &ws};
            for (size_t i = 0; i < sizeof all / sizeof *all; i++)
                sc_tensor_free(all[i]);
        }
}

/* A batch of one identity has no negative: nothing is valid, loss 0, no NaN. */
Test(triplet, single_identity_is_all_invalid)
{
    float dist[9] = {0, 1, 2, 1, 0, 3, 2, 3, 0}, lab[3] = {4, 4, 4}, loss, stats[3], g[9];
    for (int mode = 0; mode < 3; mode++) {
        sc_triplet_opts o = {(sc_triplet_mining)mode, 0.2f, 0};
        run_on_matrix(dist, lab, 3, &o, &loss, stats, g);
        cr_assert_eq(loss, 0.0f);
        cr_assert_eq(stats[2], 0.0f);
        for (int i = 0; i < 9; i++)
            cr_assert_eq(g[i], 0.0f);
    }
}

Test(triplet, mining_names_round_trip)
{
    for (int m = 0; m < 3; m++)
        cr_assert_eq(sc_triplet_mining_parse(sc_triplet_mining_name((sc_triplet_mining)m)), m);
    cr_assert_eq(sc_triplet_mining_parse("hardest"), -1);
    cr_assert_eq(sc_triplet_mining_parse(NULL), -1);
}

Test(triplet, small_workspace_is_an_error)
{
    sc_ctx *ctx = test_ctx();
    int n = 4, dshape[2] = {4, 4}, one = 1;
    sc_tensor dist = test_tensor(2, dshape, NULL), labels = test_tensor(1, &n, NULL);
    sc_tensor loss = test_tensor(1, &one, NULL), ws = test_tensor(1, &one, NULL);
    sc_triplet_opts o = {SC_TRIPLET_BATCH_HARD, 0.2f, 0};
    cr_assert_eq(sc_triplet_loss_forward(ctx, &dist, &labels, &o, &loss, NULL, &ws), SC_ERR);
    cr_assert(strstr(sc_last_error(), "workspace"), "%s", sc_last_error());
    sc_tensor *all[] = {&dist, &labels, &loss, &ws};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sc_tensor_free(all[i]);
}
