/* How long until all of LFW is on the device: decode + prepare every image on all cores
 * (cold, no cache), then a second start from the cache. Prints images/s, seconds per stage
 * and the device memory the dataset takes.
 *
 *   bench_data_load [--lfw DIR] [--cache DIR] [--size S] [--crop X,Y,W,H] [--threads N]
 *                   [--device SEL]
 * Defaults: $LFW_DIR, cache folder "cache", S = 64 from the central 128x128 of the 250x250
 * deep-funneled images, every core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "siamcl/data.h"

#define now_s bench_now_s

static const char *status_name(int s)
{
    switch (s) {
    case SC_CACHE_OFF: return "off";
    case SC_CACHE_HIT: return "hit";
    case SC_CACHE_WRITTEN: return "written";
    case SC_CACHE_REBUILT: return "rebuilt";
    default: return "write failed";
    }
}

/* One start: index, dataset (through the cache), upload. Returns total seconds or < 0. */
static double start(sc_ctx *ctx, const char *root, const sc_prep *prep, const sc_dataset_opts *o,
                    const char *label)
{
    double t0 = now_s();
    sc_lfw lfw;
    if (sc_lfw_open(&lfw, root, 0) != SC_OK) {
        fprintf(stderr, "bench_data_load: %s\n", sc_last_error());
        return -1;
    }
    double t_index = now_s() - t0;
    sc_dataset ds;
    if (sc_dataset_open_lfw(&ds, ctx, &lfw, NULL, 0, prep, o) != SC_OK) {
        fprintf(stderr, "bench_data_load: %s\n", sc_last_error());
        sc_lfw_close(&lfw);
        return -1;
    }
    if (sc_ctx_finish(ctx) != SC_OK) {
        fprintf(stderr, "bench_data_load: %s\n", sc_last_error());
        return -1;
    }
    double total = now_s() - t0;
    printf("%-7s %6d images  index %.2f s  %s %.2f s (%.0f images/s)  upload %.2f s  "
           "total %.2f s  [cache %s]\n",
           label, ds.count, t_index, ds.cache_status == SC_CACHE_HIT ? "cache load" : "decode+prep",
           ds.t_prepare, ds.count / (ds.t_prepare > 0 ? ds.t_prepare : 1e-9), ds.t_upload, total,
           status_name(ds.cache_status));
    if (ds.cache_note[0])
        printf("        note: %s\n", ds.cache_note);
    if (strcmp(label, "cold") == 0)
        printf("        device memory: %.1f MiB (%d x 3 x %d x %d uint8 + per-image means)\n",
               sc_dataset_device_bytes(&ds) / 1048576.0, ds.count, ds.size, ds.size);
    sc_dataset_close(&ds);
    sc_lfw_close(&lfw);
    return total;
}

int main(int argc, char **argv)
{
    const char *root = getenv("LFW_DIR"), *cache = "cache", *device = NULL;
    sc_prep prep = {.size = 64, .crop_x = 61, .crop_y = 61, .crop_w = 128, .crop_h = 128};
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--lfw") && v)
            root = argv[++i];
        else if (!strcmp(argv[i], "--cache") && v)
            cache = argv[++i];
        else if (!strcmp(argv[i], "--size") && v)
            prep.size = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && v)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--device") && v)
            device = argv[++i];
        else if (!strcmp(argv[i], "--crop") && v) {
            if (sscanf(argv[++i], "%d,%d,%d,%d", &prep.crop_x, &prep.crop_y, &prep.crop_w,
                       &prep.crop_h) != 4) {
                fprintf(stderr, "bench_data_load: --crop wants X,Y,W,H (0,0,0,0: whole image)\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: %s [--lfw DIR] [--cache DIR] [--size S] [--crop X,Y,W,H] "
                            "[--threads N] [--device SEL]\n", argv[0]);
            return 2;
        }
    }
    if (!root || !*root) {
        fprintf(stderr, "bench_data_load: set LFW_DIR or pass --lfw (see data/README.md)\n");
        return 2;
    }
    sc_ctx *ctx;
    if (sc_ctx_create(&ctx, device, 0) != SC_OK) {
        fprintf(stderr, "bench_data_load: %s\n", sc_last_error());
        return 1;
    }
    if (ctx->warning[0])
        fprintf(stderr, "warning: %s\n", ctx->warning);
    printf("device: %s (%s)\n", ctx->dev.name, ctx->dev.platform_name);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("prepare: %s -> %dx%d uint8 CHW, %d decoding threads (%ld cores online)\n",
           prep.crop_w > 0 ? "crop" : "whole image", prep.size, prep.size,
           threads > 0 ? threads : (int)cores, cores);
    if (prep.crop_w > 0)
        printf("         crop %dx%d at (%d, %d)\n", prep.crop_w, prep.crop_h, prep.crop_x,
               prep.crop_y);

    /* Cold start: remove this configuration's cache file so everything is decoded. */
    sc_lfw lfw;
    if (sc_lfw_open(&lfw, root, SC_LFW_NO_FILE_CHECK) != SC_OK) {
        fprintf(stderr, "bench_data_load: %s\n", sc_last_error());
        sc_ctx_destroy(ctx);
        return 1;
    }
    char **rel = calloc((size_t)lfw.n_images, sizeof *rel);
    for (int i = 0; rel && i < lfw.n_images; i++) {
        char buf[1024];
        if (sc_lfw_image_relpath(&lfw, i, buf, sizeof buf) == SC_OK)
            rel[i] = strdup(buf);
    }
    uint64_t key = 0;
    int have_key = rel && sc_dataset_cache_key(root, (const char *const *)rel, lfw.n_images,
                                               &prep, &key) == SC_OK;
    for (int i = 0; rel && i < lfw.n_images; i++)
        free(rel[i]);
    free(rel);
    sc_lfw_close(&lfw);
    if (!have_key) {
        fprintf(stderr, "bench_data_load: %s\n", sc_last_error());
        sc_ctx_destroy(ctx);
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/dataset-%016llx.bin", cache, (unsigned long long)key);
    remove(path);

    sc_dataset_opts o;
    sc_dataset_opts_default(&o);
    o.cache_dir = cache;
    o.threads = threads;
    double cold = start(ctx, root, &prep, &o, "cold");
    double warm = cold >= 0 ? start(ctx, root, &prep, &o, "cached") : -1;
    sc_ctx_destroy(ctx);
    if (cold < 0 || warm < 0)
        return 1;
    printf("summary: cold %.2f s (target < 15 s), cached %.2f s (target < 2 s), "
           "cache %.1fx faster\n", cold, warm, cold / (warm > 0 ? warm : 1e-9));
    return 0;
}
