/* The dataset: prepared images (from the cache or decoded on all cores), uploaded once to the
 * device as uint8, plus the ring of id buffers that feeds the gather kernel. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "siamcl/data.h"

#define IDS_RING 8

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sc_dataset_opts_default(sc_dataset_opts *o)
{
    memset(o, 0, sizeof *o);
}

void sc_dataset_close(sc_dataset *ds)
{
    if (!ds)
        return;
    for (int r = 0; ds->ids_ev && r < IDS_RING; r++)
        if (ds->ids_ev[r]) { /* the staging memory freed below must outlive the write */
            clWaitForEvents(1, &ds->ids_ev[r]);
            clReleaseEvent(ds->ids_ev[r]);
        }
    if (ds->ids_dev)
        clReleaseMemObject(ds->ids_dev);
    if (ds->images)
        clReleaseMemObject(ds->images);
    if (ds->means)
        clReleaseMemObject(ds->means);
    free(ds->ids_ev);
    free(ds->ids_host);
    free(ds->host);
    free(ds->mean);
    free(ds->moments);
    free(ds->slot);
    memset(ds, 0, sizeof *ds);
}

/* Mean luminance (Rec. 601 weights) of each prepared image in [0, 1], and its per-channel
 * moments for normalisation statistics over any subset later. */
static void compute_means(sc_dataset *ds)
{
    size_t plane = (size_t)ds->size * ds->size;
    for (int i = 0; i < ds->count; i++) {
        const uint8_t *p = ds->host + (size_t)i * ds->image_bytes;
        uint64_t s[3] = {0, 0, 0}, q[3] = {0, 0, 0};
        for (int c = 0; c < 3; c++)
            for (size_t k = 0; k < plane; k++) {
                unsigned v = p[c * plane + k];
                s[c] += v;
                q[c] += v * v;
            }
        double m = (0.299 * (double)s[0] + 0.587 * (double)s[1] + 0.114 * (double)s[2]) /
                   (255.0 * (double)plane);
        ds->mean[i] = (float)m;
        for (int c = 0; c < 3; c++) {
            ds->moments[6 * (size_t)i + c] = (double)s[c] / 255.0;
            ds->moments[6 * (size_t)i + 3 + c] = (double)q[c] / (255.0 * 255.0);
        }
    }
}

int sc_dataset_channel_stats(const sc_dataset *ds, const int *ids, int n, float mean[3],
                             float std[3])
{
    int count = ids ? n : ds->count;
    if (count <= 0)
        return sc_fail("channel statistics of no images");
    double s[3] = {0, 0, 0}, q[3] = {0, 0, 0};
    for (int i = 0; i < count; i++) {
        int slot = ids ? sc_dataset_slot(ds, ids[i]) : i;
        if (slot < 0)
            return sc_fail("channel statistics: image id %d is not in the dataset", ids[i]);
        for (int c = 0; c < 3; c++) {
            s[c] += ds->moments[6 * (size_t)slot + c];
            q[c] += ds->moments[6 * (size_t)slot + 3 + c];
        }
    }
    double pixels = (double)count * ds->size * ds->size;
    for (int c = 0; c < 3; c++) {
        double m = s[c] / pixels, var = q[c] / pixels - m * m;
        mean[c] = (float)m;
        std[c] = (float)sqrt(var > 0 ? var : 0);
    }
    return SC_OK;
}

static int load_or_prepare(sc_dataset *ds, const char *root, const char *const *relpaths, int n,
                           const sc_prep *prep, const sc_dataset_opts *o)
{
    double t0 = now_s();
    uint64_t key = 0;
    if (o->cache_dir && *o->cache_dir) {
        SC_TRY(sc_cache_dir_ready(o->cache_dir, root));
        SC_TRY(sc_dataset_cache_key(root, relpaths, n, prep, &key));
        if (snprintf(ds->cache_path, sizeof ds->cache_path, "%s/dataset-%016llx.bin",
                     o->cache_dir, (unsigned long long)key) >= (int)sizeof ds->cache_path)
            return sc_fail("cache folder path too long: %s", o->cache_dir);
        if (sc_cache_load(ds->cache_path, key, n, prep->size, ds->host, ds->cache_note,
                          sizeof ds->cache_note)) {
            ds->cache_status = SC_CACHE_HIT;
            ds->t_prepare = now_s() - t0;
            return SC_OK;
        }
    }
    SC_TRY(sc_prepare_all(root, relpaths, n, prep, o->threads, ds->host));
    if (ds->cache_path[0]) {
        ds->cache_status = ds->cache_note[0] ? SC_CACHE_REBUILT : SC_CACHE_WRITTEN;
        if (sc_cache_save(ds->cache_path, key, n, prep->size, ds->host) != SC_OK) {
            ds->cache_status = SC_CACHE_WRITE_FAILED;
            snprintf(ds->cache_note, sizeof ds->cache_note, "%s", sc_last_error());
            sc_clear_error();
        }
    }
    ds->t_prepare = now_s() - t0;
    return SC_OK;
}

static int upload(sc_ctx *ctx, sc_dataset *ds)
{
    double t0 = now_s();
    size_t bytes = (size_t)ds->count * ds->image_bytes;
    SC_TRY(sc_buffer_alloc(ctx, &ds->images, bytes, "the dataset images"));
    SC_TRY(sc_buffer_alloc(ctx, &ds->means, sizeof(float) * (size_t)ds->count,
                           "the dataset image means"));
    SC_CL(clEnqueueWriteBuffer(ctx->queue, ds->images, CL_TRUE, 0, bytes, ds->host, 0, NULL,
                               NULL));
    SC_CL(clEnqueueWriteBuffer(ctx->queue, ds->means, CL_TRUE, 0,
                               sizeof(float) * (size_t)ds->count, ds->mean, 0, NULL, NULL));
    ds->t_upload = now_s() - t0;
    return SC_OK;
}

int sc_dataset_open(sc_dataset *ds, sc_ctx *ctx, const char *root, const char *const *relpaths,
                    int n, const sc_prep *prep, const sc_dataset_opts *opts)
{
    memset(ds, 0, sizeof *ds);
    sc_dataset_opts o;
    if (opts)
        o = *opts;
    else
        sc_dataset_opts_default(&o);
    SC_TRY(sc_prep_check(prep));
    if (n <= 0)
        return sc_fail("dataset: no images to open");
    ds->count = ds->n_ids = n;
    ds->size = prep->size;
    ds->image_bytes = (size_t)3 * prep->size * prep->size;
    ds->host = malloc((size_t)n * ds->image_bytes);
    ds->mean = malloc(sizeof *ds->mean * (size_t)n);
    ds->moments = malloc(sizeof *ds->moments * 6 * (size_t)n);
    if (!ds->host || !ds->mean || !ds->moments) {
        size_t mib = ((size_t)n * ds->image_bytes) >> 20;
        sc_dataset_close(ds);
        return sc_fail("dataset: out of host memory for %d images of %dx%d (%zu MiB): lower the "
                       "image size", n, prep->size, prep->size, mib);
    }
    if (load_or_prepare(ds, root, relpaths, n, prep, &o) != SC_OK) {
        sc_dataset_close(ds);
        return SC_ERR;
    }
    compute_means(ds);
    if (ctx) {
        if (upload(ctx, ds) != SC_OK) {
            sc_dataset_close(ds);
            return SC_ERR;
        }
        if (!o.keep_host) {
            free(ds->host);
            ds->host = NULL;
        }
    }
    return SC_OK;
}

int sc_dataset_open_lfw(sc_dataset *ds, sc_ctx *ctx, const sc_lfw *lfw, const int *ids,
                        int n_ids, const sc_prep *prep, const sc_dataset_opts *opts)
{
    memset(ds, 0, sizeof *ds);
    int n = ids ? n_ids : lfw->n_images;
    if (n <= 0)
        return sc_fail("dataset: no LFW images selected");
    char **rel = calloc((size_t)n, sizeof *rel);
    int *slot = ids ? malloc(sizeof *slot * (size_t)lfw->n_images) : NULL;
    if (!rel || (ids && !slot)) {
        free(rel);
        free(slot);
        return sc_fail("out of memory");
    }
    int rc = SC_OK;
    for (int i = 0; ids && i < lfw->n_images; i++)
        slot[i] = -1;
    for (int i = 0; rc == SC_OK && i < n; i++) {
        int id = ids ? ids[i] : i;
        if (id < 0 || id >= lfw->n_images) {
            rc = sc_fail("dataset: image id %d outside 0..%d", id, lfw->n_images - 1);
            break;
        }
        if (slot) {
            if (slot[id] >= 0) {
                rc = sc_fail("dataset: image id %d selected twice", id);
                break;
            }
            slot[id] = i;
        }
        char buf[1024];
        rc = sc_lfw_image_relpath(lfw, id, buf, sizeof buf);
        if (rc == SC_OK && !(rel[i] = strdup(buf)))
            rc = sc_fail("out of memory");
    }
    if (rc == SC_OK)
        rc = sc_dataset_open(ds, ctx, lfw->root, (const char *const *)rel, n, prep, opts);
    for (int i = 0; i < n; i++)
        free(rel[i]);
    free(rel);
    if (rc != SC_OK) {
        free(slot);
        return SC_ERR;
    }
    if (slot) {
        ds->slot = slot;
        ds->n_ids = lfw->n_images;
    }
    return SC_OK;
}

int sc_dataset_slot(const sc_dataset *ds, int id)
{
    if (id < 0 || id >= ds->n_ids)
        return -1;
    return ds->slot ? ds->slot[id] : id;
}

size_t sc_dataset_device_bytes(const sc_dataset *ds)
{
    if (!ds->images)
        return 0;
    return (size_t)ds->count * ds->image_bytes + sizeof(float) * (size_t)ds->count +
           (ds->ids_dev ? sizeof(int) * (size_t)IDS_RING * (size_t)ds->ids_cap : 0);
}

/* Grows the id ring to hold batches of n. Rare (the batch size is fixed in practice), so it
 * may wait for the queue. */
static int ids_reserve(sc_ctx *ctx, sc_dataset *ds, int n)
{
    if (n <= ds->ids_cap)
        return SC_OK;
    int cap = 256;
    while (cap < n)
        cap *= 2;
    SC_CL(clFinish(ctx->queue));
    for (int r = 0; ds->ids_ev && r < IDS_RING; r++)
        if (ds->ids_ev[r]) {
            clReleaseEvent(ds->ids_ev[r]);
            ds->ids_ev[r] = NULL;
        }
    if (ds->ids_dev)
        clReleaseMemObject(ds->ids_dev);
    ds->ids_dev = NULL;
    ds->ids_cap = 0;
    free(ds->ids_host);
    ds->ids_host = malloc(sizeof *ds->ids_host * (size_t)IDS_RING * (size_t)cap);
    if (!ds->ids_ev)
        ds->ids_ev = calloc(IDS_RING, sizeof *ds->ids_ev);
    if (!ds->ids_host || !ds->ids_ev)
        return sc_fail("out of memory");
    SC_TRY(sc_buffer_alloc(ctx, &ds->ids_dev, sizeof(int) * (size_t)IDS_RING * (size_t)cap,
                           "the batch image ids"));
    ds->ids_cap = cap;
    ds->ids_pos = 0;
    return SC_OK;
}

int sc_dataset_gather(sc_ctx *ctx, sc_dataset *ds, const int *ids, int n, const sc_augment *aug,
                      uint64_t seed, uint64_t step, const sc_tensor *out)
{
    if (!ds->images)
        return sc_fail("gather: the dataset was opened without a device");
    if (n <= 0)
        return sc_fail("gather: batch of %d images", n);
    SC_TRY(ids_reserve(ctx, ds, n));
    int r = ds->ids_pos;
    /* The host copy of this ring slot may still feed a write from IDS_RING batches ago. */
    if (ds->ids_ev[r]) {
        SC_CL(clWaitForEvents(1, &ds->ids_ev[r]));
        clReleaseEvent(ds->ids_ev[r]);
        ds->ids_ev[r] = NULL;
    }
    int *stage = ds->ids_host + (size_t)r * ds->ids_cap;
    for (int i = 0; i < n; i++) {
        int s = sc_dataset_slot(ds, ids[i]);
        if (s < 0)
            return sc_fail("gather: image id %d (batch position %d) is not in the dataset", ids[i],
                           i);
        stage[i] = s;
    }
    size_t off = (size_t)r * ds->ids_cap;
    SC_CL(clEnqueueWriteBuffer(ctx->queue, ds->ids_dev, CL_FALSE, off * sizeof(int),
                               (size_t)n * sizeof(int), stage, 0, NULL, &ds->ids_ev[r]));
    ds->ids_pos = (r + 1) % IDS_RING;
    return sc_dataset_gather_slots(ctx, ds, ds->ids_dev, off, n, aug, seed, step, out);
}
