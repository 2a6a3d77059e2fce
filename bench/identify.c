/* 1:N identification throughput: synthetic galleries of unit-length embeddings (default 10k,
 * 100k and 1M rows of 128), queries one at a time and in batches, on the device (GEMM + top-k,
 * sc_index_search), compared in the same run with a plain-C loop (sc_knn_host) and, when
 * built with libfaiss-dev, FAISS's exact index (faiss::IndexFlatL2) on the same CPU.
 * Then enrolling: photos/s through decode, preparation and the network, and through whole
 * enroll commands (one SQLite transaction each).
 *
 *   bench_identify [--sizes 10000,100000,1000000] [--dim 128] [--k 10] [--batch 256]
 *                  [--seconds 1] [--photos 128] [--model CKPT] [--device SEL]
 *
 * One query at a time takes the index's GEMM-free path (sc_topk_scan_query), batches the
 * GEMM + top-k path. Each figure runs for about --seconds (at least one call). Photos come from $LFW_DIR when
 * set (real 250x250 JPEGs), else are generated; without --model the network is the baseline
 * of configs/lfw_contrastive.ini with random weights (speed does not depend on them). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jpeglib.h>

#include "siamcl/checkpoint.h"
#include "siamcl/gallery_store.h"

#ifdef SIAMCL_HAVE_FAISS
/* bench/identify_faiss.cpp: FAISS is C++ only */
void *faiss_flat_create(int dim, const float *data, long n);
void faiss_flat_search(void *index, const float *q, long nq, int k, float *dist, long *labels);
void faiss_flat_free(void *index);
const char *faiss_flat_info(void);
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(const char *what)
{
    fprintf(stderr, "bench_identify: %s: %s\n", what, sc_last_error());
    return 1;
}

/* Unit vectors from a cheap generator: the norm of real embeddings (L2-normalised heads). */
static void random_unit(float *x, size_t rows, int dim, uint64_t seed)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t r = 0; r < rows; r++) {
        float *v = x + r * dim;
        double n = 0;
        for (int d = 0; d < dim; d++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            float u = (float)((s >> 40) * (1.0 / 16777216.0)) - 0.5f;
            v[d] = u;
            n += (double)u * u;
        }
        float inv = (float)(1.0 / sqrt(n));
        for (int d = 0; d < dim; d++)
            v[d] *= inv;
    }
}

/* Queries near gallery rows (as probes of enrolled people are), so top-1 is meaningful. */
static void make_queries(float *q, int nq, const float *g, long n, int dim)
{
    random_unit(q, (size_t)nq, dim, 4242);
    for (int i = 0; i < nq; i++) {
        const float *row = g + (size_t)((i * 7919L) % n) * dim;
        double s = 0;
        for (int d = 0; d < dim; d++) {
            q[(size_t)i * dim + d] = row[d] + 0.5f * q[(size_t)i * dim + d];
            s += (double)q[(size_t)i * dim + d] * q[(size_t)i * dim + d];
        }
        for (int d = 0; d < dim; d++)
            q[(size_t)i * dim + d] = (float)(q[(size_t)i * dim + d] / sqrt(s));
    }
}

typedef int (*search_fn)(void *user, const float *q, int nq, int k, int *idx, float *dist);

/* Queries per second of fn with nq queries per call, calls repeated for ~seconds over the
 * query pool (round robin). */
static int rate(search_fn fn, void *user, const float *pool, int npool, int dim, int nq, int k,
                double seconds, int *idx, float *dist, double *qps)
{
    SC_TRY(fn(user, pool, nq, k, idx, dist)); /* warm-up: kernels, caches */
    long done = 0;
    int at = 0;
    double t0 = now_s(), t;
    do {
        if (at + nq > npool)
            at = 0;
        SC_TRY(fn(user, pool + (size_t)at * dim, nq, k, idx, dist));
        at += nq;
        done += nq;
        t = now_s() - t0;
    } while (t < seconds);
    *qps = (double)done / t;
    return SC_OK;
}

static int dev_search(void *user, const float *q, int nq, int k, int *idx, float *dist)
{
    return sc_index_search(user, q, nq, k, idx, dist);
}

typedef struct host_gallery {
    const float *g;
    long n;
    int dim;
} host_gallery;

static int host_search(void *user, const float *q, int nq, int k, int *idx, float *dist)
{
    host_gallery *h = user;
    sc_knn_host(h->g, (int)h->n, h->dim, q, nq, k, idx, dist);
    return SC_OK;
}

#ifdef SIAMCL_HAVE_FAISS
typedef struct faiss_user {
    void *index;
    long *labels;
} faiss_user;

static int faiss_search(void *user, const float *q, int nq, int k, int *idx, float *dist)
{
    faiss_user *f = user;
    faiss_flat_search(f->index, q, nq, k, dist, f->labels);
    for (long i = 0; i < (long)nq * k; i++)
        idx[i] = (int)f->labels[i];
    return SC_OK;
}
#endif

/* Fraction of the reference's top-k rows found in the other's top-k. */
static double recall(const int *got, const int *want, int nq, int k)
{
    long hit = 0, all = 0;
    for (int i = 0; i < nq; i++)
        for (int a = 0; a < k; a++) {
            if (want[i * k + a] < 0)
                continue;
            all++;
            for (int b = 0; b < k; b++)
                if (got[i * k + b] == want[i * k + a]) {
                    hit++;
                    break;
                }
        }
    return all ? (double)hit / all : 1.0;
}

typedef struct opts {
    long sizes[8];
    int nsizes, dim, k, batch, photos;
    double seconds;
    const char *model, *device;
} opts;

static int bench_size(sc_ctx *ctx, const opts *o, long n)
{
    int dim = o->dim, k = o->k, B = o->batch, npool = B > 64 ? B : 64;
    float *g = malloc(sizeof *g * (size_t)n * dim), *q = malloc(sizeof *q * (size_t)npool * dim);
    int *idx = malloc(sizeof *idx * (size_t)npool * k), *ref = malloc(sizeof *ref * 64 * k);
    float *dist = malloc(sizeof *dist * (size_t)npool * k), *rd = malloc(sizeof *rd * 64 * k);
    if (!g || !q || !idx || !ref || !dist || !rd) {
        fprintf(stderr, "bench_identify: out of memory for %ld x %d\n", n, dim);
        return 1;
    }
    random_unit(g, (size_t)n, dim, (uint64_t)n);
    make_queries(q, npool, g, n, dim);
    host_gallery hg = {g, n, dim};
    sc_index ix;
    double t0 = now_s();
    if (sc_index_init(&ix, ctx, dim) != SC_OK || sc_index_add(&ix, g, (int)n) != SC_OK)
        return fail("building the device index");
    double upload = now_s() - t0;
    double dev1, devb, c1;
    /* the plain-C loop gets the same time, whatever its pace */
    if (rate(dev_search, &ix, q, npool, dim, 1, k, o->seconds, idx, dist, &dev1) != SC_OK ||
        rate(dev_search, &ix, q, npool, dim, B, k, o->seconds, idx, dist, &devb) != SC_OK)
        return fail("device search");
    /* one figure: a loop over queries gains nothing from batching */
    rate(host_search, &hg, q, npool, dim, 1, k, o->seconds, idx, dist, &c1);
    /* agreement on the first 64 queries */
    int nc = 64;
    sc_knn_host(g, (int)n, dim, q, nc, k, ref, rd);
    if (sc_index_search(&ix, q, nc, k, idx, dist) != SC_OK)
        return fail("device search");
    double rec = recall(idx, ref, nc, k);
    printf("%9ld  upload %6.2f s | device %9.1f %9.1f | plain C %8.1f | ", n, upload, dev1,
           devb, c1);
#ifdef SIAMCL_HAVE_FAISS
    double f1, fb;
    faiss_user fu = {faiss_flat_create(dim, g, n), malloc(sizeof(long) * (size_t)npool * k)};
    rate(faiss_search, &fu, q, npool, dim, 1, k, o->seconds, idx, dist, &f1);
    rate(faiss_search, &fu, q, npool, dim, B, k, o->seconds, idx, dist, &fb);
    faiss_search(&fu, q, nc, k, idx, dist);
    double frec = recall(idx, ref, nc, k);
    faiss_flat_free(fu.index);
    free(fu.labels);
    printf("FAISS %9.1f %9.1f | device/FAISS %5.2fx %5.2fx | recall@%d %.3f (FAISS %.3f)\n", f1,
           fb, dev1 / f1, devb / fb, k, rec, frec);
#else
    printf("FAISS n/a | device/plain C %5.2fx %5.2fx | recall@%d %.3f\n", dev1 / c1, devb / c1, k,
           rec);
#endif
    fflush(stdout);
    sc_index_free(&ix);
    free(g), free(q), free(idx), free(ref), free(dist), free(rd);
    return 0;
}

/* ---- enrolling -------------------------------------------------------------------------- */

static int write_jpeg(const char *path, int w, int h, uint64_t seed)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    if (!px)
        return SC_ERR;
    uint64_t s = seed * 2654435761u + 7;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) { /* smooth shapes plus grain: a JPEG-like load */
                s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                int v = (int)(128 + 90 * sin(0.05 * x * (c + 1) + 0.07 * y + (double)seed) +
                              (int)(s % 21) - 10);
                px[((size_t)y * w + x) * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(px);
        return sc_fail("cannot write %s", path);
    }
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w, c.image_height = (JDIMENSION)h;
    c.input_components = 3, c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 90, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW r = px + (size_t)c.next_scanline * w * 3;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
    free(px);
    return SC_OK;
}

/* The baseline network of configs/lfw_contrastive.ini, random weights, as a checkpoint. */
static int baseline_ckpt(sc_ctx *ctx, const char *path)
{
    sc_layer_desc L[12];
    int n = 0;
    int conv[4][4] = {{16, 7, 2, 3}, {32, 5, 2, 2}, {64, 5, 2, 2}, {128, 3, 2, 1}};
    for (int i = 0; i < 4; i++) {
        L[n] = sc_layer_default(SC_LAYER_CONV);
        L[n].out = conv[i][0], L[n].k = conv[i][1], L[n].stride = conv[i][2];
        L[n++].pad = conv[i][3];
        L[n++] = sc_layer_default(SC_LAYER_RELU);
    }
    L[n] = sc_layer_default(SC_LAYER_MAXPOOL);
    L[n].k = 2, L[n++].stride = 2;
    L[n] = sc_layer_default(SC_LAYER_LINEAR);
    L[n++].out = 256;
    L[n++] = sc_layer_default(SC_LAYER_RELU);
    L[n] = sc_layer_default(SC_LAYER_LINEAR);
    L[n++].out = 32;
    sc_net *net;
    sc_ckpt ck;
    SC_TRY(sc_net_create(ctx, L, n, 3, 128, 128, 1, &net));
    int rc = sc_net_init(net, SC_INIT_TORCH, 1);
    if (rc == SC_OK)
        rc = sc_ckpt_from_net(&ck, net);
    sc_net_free(net);
    SC_TRY(rc);
    rc = sc_ckpt_meta_set(&ck, "image_size", "128");
    if (rc == SC_OK)
        rc = sc_ckpt_write(path, &ck);
    sc_ckpt_free(&ck);
    return rc;
}

static int bench_enroll(sc_ctx *ctx, const opts *o)
{
    char dir[] = "/tmp/siamcl-bench-identify-XXXXXX";
    if (!mkdtemp(dir))
        return fprintf(stderr, "bench_identify: mkdtemp failed\n"), 1;
    int n = o->photos;
    char **paths = calloc((size_t)n, sizeof *paths);
    const char *lfw = getenv("LFW_DIR");
    sc_lfw L;
    int have_lfw = lfw && *lfw && sc_lfw_open(&L, lfw, SC_LFW_NO_FILE_CHECK) == SC_OK;
    for (int i = 0; i < n; i++) {
        paths[i] = malloc(4200);
        if (have_lfw) {
            char rel[1024];
            sc_lfw_image_relpath(&L, (int)((long)i * L.n_images / n), rel, sizeof rel);
            snprintf(paths[i], 4200, "%s/%s", lfw, rel);
        } else {
            snprintf(paths[i], 4200, "%s/photo%04d.jpg", dir, i);
            if (write_jpeg(paths[i], 250, 250, (uint64_t)i) != SC_OK)
                return fail("writing photos");
        }
    }
    if (have_lfw)
        sc_lfw_close(&L);
    char model[256], db[256];
    snprintf(model, sizeof model, "%s/baseline.ckpt", dir);
    snprintf(db, sizeof db, "%s/bench.facedb", dir);
    if (!o->model && baseline_ckpt(ctx, model) != SC_OK)
        return fail("building the baseline network");
    sc_embedder em;
    if (sc_embedder_open(&em, ctx, o->model ? o->model : model, 32) != SC_OK)
        return fail("loading the model");
    float *emb = malloc(sizeof *emb * (size_t)n * em.dim);
    const char *const *cp = (const char *const *)paths;
    if (sc_embed_images(&em, cp, n < 32 ? n : 32, emb, NULL) != SC_OK) /* warm-up */
        return fail("embedding");
    double t0 = now_s();
    if (sc_embed_images(&em, cp, n, emb, NULL) != SC_OK)
        return fail("embedding");
    double batch_s = now_s() - t0;
    sc_store *st;
    if (sc_store_open(&st, db, SC_STORE_CREATE) != SC_OK)
        return fail("creating the store");
    t0 = now_s();
    int done = 0;
    do {
        char name[32];
        snprintf(name, sizeof name, "person %d", done);
        sc_enroll_result r;
        if (sc_facedb_enroll(st, &em, name, cp + done % n, 1, 0, &r) != SC_OK)
            return fail("enrolling");
        done++;
    } while (now_s() - t0 < o->seconds && done < n);
    double one_s = (now_s() - t0) / done;
    sc_store_close(st);
    printf("\nenroll (%s photos, %s, input %dx%d, %d-d embeddings):\n",
           have_lfw ? "LFW 250x250 JPEG" : "generated 250x250 JPEG",
           o->model ? o->model : "baseline network", em.info.aug.out_size, em.info.aug.out_size,
           em.dim);
    printf("  decode + prepare + embed, batches of %d: %8.1f photos/s (%d photos)\n", em.batch,
           n / batch_s, n);
    printf("  enroll commands, one photo each (one transaction, fsync): %8.1f photos/s\n",
           1.0 / one_s);
    sc_embedder_close(&em);
    free(emb);
    for (int i = 0; i < n; i++) {
        if (!have_lfw)
            unlink(paths[i]);
        free(paths[i]);
    }
    free(paths);
    char side[300];
    unlink(model), unlink(db);
    snprintf(side, sizeof side, "%s-wal", db), unlink(side);
    snprintf(side, sizeof side, "%s-shm", db), unlink(side);
    rmdir(dir);
    return 0;
}

int main(int argc, char **argv)
{
#ifdef SIAMCL_HAVE_FAISS
    /* libgomp reads this when it loads, before main: without it FAISS's idle OpenMP threads
     * spin and steal the CPU from whatever is measured next (here: PoCL's threads, OpenBLAS's).
     * Set it and start again, unless the caller chose a policy. */
    if (!getenv("OMP_WAIT_POLICY") && setenv("OMP_WAIT_POLICY", "PASSIVE", 1) == 0)
        execv("/proc/self/exe", argv);
#endif
    opts o = {.sizes = {10000, 100000, 1000000}, .nsizes = 3, .dim = 128, .k = 10, .batch = 256,
              .photos = 128, .seconds = 1.0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "usage: see the comment at the top of bench/identify.c\n");
            return 2;
        }
        i++;
        if (!strcmp(a, "--sizes")) {
            o.nsizes = 0;
            for (char *s = (char *)v; *s && o.nsizes < 8;) {
                o.sizes[o.nsizes++] = strtol(s, &s, 10);
                if (*s == ',')
                    s++;
            }
        } else if (!strcmp(a, "--dim"))
            o.dim = atoi(v);
        else if (!strcmp(a, "--k"))
            o.k = atoi(v);
        else if (!strcmp(a, "--batch"))
            o.batch = atoi(v);
        else if (!strcmp(a, "--seconds"))
            o.seconds = atof(v);
        else if (!strcmp(a, "--photos"))
            o.photos = atoi(v);
        else if (!strcmp(a, "--model"))
            o.model = v;
        else if (!strcmp(a, "--device"))
            o.device = v;
        else {
            fprintf(stderr, "bench_identify: unknown option %s\n", a);
            return 2;
        }
    }
    sc_ctx *ctx;
    if (sc_ctx_create(&ctx, o.device, 0) != SC_OK)
        return fail("opening the device");
    printf("device: %s (%s), %u compute units\n", ctx->dev.name, ctx->dev.platform_name,
           ctx->dev.compute_units);
#ifdef SIAMCL_HAVE_FAISS
    printf("FAISS: %s, OMP_WAIT_POLICY=%s\n", faiss_flat_info(), getenv("OMP_WAIT_POLICY"));
#else
    printf("FAISS: not built in (install libfaiss-dev and re-run cmake)\n");
#endif
    printf("identify, queries/s: one at a time | batches of %d; top-%d of %d-d unit vectors\n",
           o.batch, o.k, o.dim);
    printf("%9s  %13s | %-26s | %-16s | %s\n", "gallery", "", "device  single   batched",
           "plain C", "FAISS single batched");
    for (int s = 0; s < o.nsizes; s++)
        if (bench_size(ctx, &o, o.sizes[s]))
            return 1;
    int rc = o.photos > 0 ? bench_enroll(ctx, &o) : 0;
    sc_ctx_destroy(ctx);
    return rc;
}
