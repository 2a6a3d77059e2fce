/* Photos -> embeddings, the one path enroll, verify, identify and the LFW evaluation share:
 * decode and prepare as the checkpoint says (on all cores), gather + normalise on the device
 * with the dataset's kernel, forward in eval mode, flip-average when the model was evaluated
 * that way. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "siamcl/gallery.h"

void sc_embedder_close(sc_embedder *e)
{
    if (!e)
        return;
    sc_net_free(e->net);
    if (e->images)
        clReleaseMemObject(e->images);
    if (e->means)
        clReleaseMemObject(e->means);
    if (e->slots)
        clReleaseMemObject(e->slots);
    sc_tensor_free(&e->x);
    free(e->host);
    free(e->views);
    memset(e, 0, sizeof *e);
}

static int embedder_buffers(sc_embedder *e)
{
    sc_ctx *ctx = e->ctx;
    int S = e->info.prep.size, T = e->info.aug.out_size, B = e->batch;
    size_t bytes = (size_t)3 * S * S;
    e->cap = B;
    e->host = malloc(bytes * (size_t)B);
    e->views = malloc(sizeof *e->views * (size_t)B * e->dim);
    float *zeros = calloc((size_t)B, sizeof *zeros);
    int *slots = malloc(sizeof *slots * (size_t)B);
    if (!e->host || !e->views || !zeros || !slots) {
        free(zeros), free(slots);
        return sc_fail("out of host memory for the embedding buffers");
    }
    for (int i = 0; i < B; i++)
        slots[i] = i;
    int rc = sc_buffer_alloc(ctx, &e->images, bytes * (size_t)B, "the photo staging buffer");
    if (rc == SC_OK)
        rc = sc_buffer_alloc(ctx, &e->means, sizeof(float) * (size_t)B, "the photo means");
    if (rc == SC_OK)
        rc = sc_buffer_alloc(ctx, &e->slots, sizeof(int) * (size_t)B, "the photo slots");
    /* Means only feed contrast jitter, which evaluation never uses: zeros are fine. */
    if (rc == SC_OK) {
        cl_int err = clEnqueueWriteBuffer(ctx->queue, e->means, CL_TRUE, 0,
                                          sizeof(float) * (size_t)B, zeros, 0, NULL, NULL);
        if (err == CL_SUCCESS)
            err = clEnqueueWriteBuffer(ctx->queue, e->slots, CL_TRUE, 0, sizeof(int) * (size_t)B,
                                       slots, 0, NULL, NULL);
        if (err != CL_SUCCESS)
            rc = sc_cl_fail(err, "clEnqueueWriteBuffer(embedder staging)", __FILE__, __LINE__);
    }
    if (rc == SC_OK)
        rc = sc_tensor_alloc(ctx, &e->x, 4, (int[]){B, 3, T, T});
    free(zeros), free(slots);
    return rc;
}

int sc_embedder_from_ckpt(sc_embedder *e, sc_ctx *ctx, const sc_ckpt *ck, const char *name,
                          int batch)
{
    memset(e, 0, sizeof *e);
    e->ctx = ctx;
    e->batch = batch > 0 ? batch : 32;
    snprintf(e->model_path, sizeof e->model_path, "%s", name ? name : "");
    if (sc_model_info_from_ckpt(ck, &e->info) != SC_OK ||
        sc_net_from_ckpt(ctx, ck, e->batch, &e->net) != SC_OK)
        goto fail;
    e->dim = sc_net_out_dim(e->net);
    if (e->info.dim && e->info.dim != e->dim) {
        sc_fail("checkpoint metadata embedding_dim = %d but the network produces %d", e->info.dim,
                e->dim);
        goto fail;
    }
    e->info.dim = e->dim;
    if (embedder_buffers(e) != SC_OK)
        goto fail;
    return SC_OK;
fail:
    sc_embedder_close(e);
    return name ? sc_fail_context("model %s", name) : SC_ERR;
}

int sc_embedder_open(sc_embedder *e, sc_ctx *ctx, const char *ckpt_path, int batch)
{
    sc_ckpt ck;
    memset(e, 0, sizeof *e);
    SC_TRY(sc_ckpt_read(ckpt_path, &ck));
    int rc = sc_embedder_from_ckpt(e, ctx, &ck, ckpt_path, batch);
    sc_ckpt_free(&ck);
    return rc;
}

/* ---- decoding a chunk of photos on all cores ---------------------------------------------- */

typedef struct decode_job {
    const char *const *paths;
    int n;
    const sc_prep *prep;
    uint8_t *host;
    uint64_t *hashes;
    atomic_int next;
    pthread_mutex_t mu;
    int first_bad; /* lowest failing index so far (n: none) */
    char err[1024];
} decode_job;

static void *decode_worker(void *arg)
{
    decode_job *j = arg;
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0, bytes = (size_t)3 * j->prep->size * j->prep->size;
    for (;;) {
        int i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n)
            break;
        pthread_mutex_lock(&j->mu);
        int stop = i > j->first_bad;
        pthread_mutex_unlock(&j->mu);
        if (stop)
            break;
        sc_image img;
        int rc = sc_file_read(j->paths[i], &buf, &cap, &len);
        if (rc == SC_OK && j->hashes)
            j->hashes[i] = sc_fnv1a64(buf, len, SC_FNV_INIT);
        if (rc == SC_OK)
            rc = sc_image_decode(buf, len, j->paths[i], &img);
        if (rc == SC_OK) {
            rc = sc_image_prepare(&img, j->prep, j->paths[i], j->host + (size_t)i * bytes);
            sc_image_free(&img);
        }
        if (rc != SC_OK) {
            pthread_mutex_lock(&j->mu);
            if (i < j->first_bad) {
                j->first_bad = i;
                snprintf(j->err, sizeof j->err, "%s", sc_last_error());
            }
            pthread_mutex_unlock(&j->mu);
        }
    }
    free(buf);
    return NULL;
}

/* paths[0 .. n-1] are photos first+1 .. first+n of `total` (for the message). */
static int decode_all(const char *const *paths, int n, int first, int total, const sc_prep *prep,
                      uint8_t *host, uint64_t *hashes)
{
    decode_job j = {.paths = paths, .n = n, .prep = prep, .host = host, .hashes = hashes,
                    .first_bad = n};
    atomic_init(&j.next, 0);
    pthread_mutex_init(&j.mu, NULL);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cores < 1 ? 1 : cores > 64 ? 64 : (int)cores;
    if (threads > n)
        threads = n;
    pthread_t tid[64];
    int started = 0;
    for (; started < threads - 1; started++) /* this thread is the last worker */
        if (pthread_create(&tid[started], NULL, decode_worker, &j) != 0)
            break;
    decode_worker(&j);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    pthread_mutex_destroy(&j.mu);
    if (j.first_bad < n)
        return total > 1 ? sc_fail("photo %d of %d: %s", first + j.first_bad + 1, total, j.err)
                         : sc_fail("%s", j.err);
    return SC_OK;
}

/* ---- the network part ---------------------------------------------------------------------- */

/* One view of m images already in e->x: forward and download into out [m, dim]. */
static int forward_view(sc_embedder *e, int m, float *out)
{
    int T = e->info.aug.out_size;
    sc_tensor x = sc_tensor_view(e->x.buf, e->x.off, 4, (int[]){m, 3, T, T}), y;
    SC_TRY(sc_net_forward(e->net, &x, 0, &y));
    return sc_tensor_download(e->ctx, &y, out);
}

/* gather(view) is called once per view to fill e->x with m images. */
typedef int (*gather_fn)(sc_embedder *e, void *user, int first, int m, const sc_augment *aug,
                         const sc_tensor *x);

static int embed_chunk(sc_embedder *e, gather_fn gather, void *user, int first, int m,
                       float *out)
{
    int T = e->info.aug.out_size, views = e->info.test_flip ? 2 : 1;
    sc_tensor x = sc_tensor_view(e->x.buf, e->x.off, 4, (int[]){m, 3, T, T});
    for (int v = 0; v < views; v++) {
        sc_augment a = e->info.aug;
        a.flip = v ? SC_FLIP_ALL : SC_FLIP_NONE;
        SC_TRY(gather(e, user, first, m, &a, &x));
        SC_TRY(forward_view(e, m, v ? e->views : out));
    }
    if (views == 2) /* test-time flip: the mean of the two views, as runexp evaluates */
        for (size_t k = 0; k < (size_t)m * e->dim; k++)
            out[k] = 0.5f * (out[k] + e->views[k]);
    return SC_OK;
}

static int gather_staged(sc_embedder *e, void *user, int first, int m, const sc_augment *aug,
                         const sc_tensor *x)
{
    (void)user, (void)first;
    /* Only the fields the gather reads: the staging buffer posing as a dataset. */
    sc_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.count = e->cap;
    ds.size = e->info.prep.size;
    ds.image_bytes = (size_t)3 * ds.size * ds.size;
    ds.images = e->images;
    ds.means = e->means;
    return sc_dataset_gather_slots(e->ctx, &ds, e->slots, 0, m, aug, 0, 0, x);
}

int sc_embed_images(sc_embedder *e, const char *const *paths, int n, float *out,
                    uint64_t *hashes)
{
    if (n <= 0)
        return sc_fail("no photos to embed");
    size_t bytes = (size_t)3 * e->info.prep.size * e->info.prep.size;
    for (int i = 0; i < n; i += e->cap) {
        int m = n - i < e->cap ? n - i : e->cap;
        SC_TRY(decode_all(paths + i, m, i, n, &e->info.prep, e->host,
                          hashes ? hashes + i : NULL));
        SC_CL(clEnqueueWriteBuffer(e->ctx->queue, e->images, CL_TRUE, 0, bytes * (size_t)m,
                                   e->host, 0, NULL, NULL));
        SC_TRY(embed_chunk(e, gather_staged, NULL, i, m, out + (size_t)i * e->dim));
    }
    return SC_OK;
}

typedef struct ds_user {
    sc_dataset *ds;
    const int *ids;
} ds_user;

static int gather_dataset(sc_embedder *e, void *user, int first, int m, const sc_augment *aug,
                          const sc_tensor *x)
{
    ds_user *u = user;
    return sc_dataset_gather(e->ctx, u->ds, u->ids + first, m, aug, 0, 0, x);
}

int sc_embed_dataset(sc_embedder *e, sc_dataset *ds, const int *ids, int n, float *out)
{
    if (ds->size != e->info.prep.size)
        return sc_fail("dataset images are %d x %d but the model wants them prepared at %d x %d",
                       ds->size, ds->size, e->info.prep.size, e->info.prep.size);
    ds_user u = {ds, ids};
    for (int i = 0; i < n; i += e->batch) {
        int m = n - i < e->batch ? n - i : e->batch;
        SC_TRY(embed_chunk(e, gather_dataset, &u, i, m, out + (size_t)i * e->dim));
    }
    return SC_OK;
}
