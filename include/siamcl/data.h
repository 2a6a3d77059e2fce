/* The data room: images decoded once, kept on the device as uint8, turned into float batches
 * (with augmentation) by one kernel per batch. Umbrella header for image.h, lfw.h and
 * sampler.h.
 *
 * How the training loop uses it:
 *
 *     sc_lfw lfw;              sc_lfw_open(&lfw, root, 0);               // identity index
 *     sc_pairs train, test;    sc_lfw_pairs_load(&lfw, "pairsDevTrain.txt", &train);
 *                              sc_lfw_pairs_load(&lfw, "pairsDevTest.txt", &test);
 *     sc_people who;           sc_lfw_people_load(&lfw, "peopleDevTrain.txt", &who);
 *     sc_prep prep = {.size = 64, .crop_x = 61, .crop_y = 61, .crop_w = 128, .crop_h = 128};
 *     sc_dataset_opts o;       sc_dataset_opts_default(&o); o.cache_dir = "cache";
 *     sc_dataset ds;           sc_dataset_open_lfw(&ds, ctx, &lfw, NULL, 0, &prep, &o);
 *     sc_pair_sampler ps;      sc_pair_sampler_balanced(&ps, &lfw, &who, 0, seed);
 *                          (or sc_pair_sampler_fixed(&ps, &lfw, &train, &who, seed))
 *     sc_augment aug;          sc_augment_default(&aug); aug.out_size = 56; ...
 *     each step:
 *         sc_pair_sampler_next(&ps, B, ids, y);            // host: 2B image ids, B labels
 *         sc_arena_alloc(&arena, &x, 4, (int[]){2 * B, 3, 56, 56});
 *         sc_dataset_gather(ctx, &ds, ids, 2 * B, &aug, seed, step, &x);   // device
 *         sc_tensor_upload(ctx, &ytensor, y);  ... forward / backward ...
 *     evaluation: the same gather with sc_augment_eval(&aug) (no randomness; flip = SC_FLIP_ALL
 *     for the flipped test-time view).
 *
 * Threads: opening decodes on all cores; everything else runs on the caller's thread. */
#ifndef SIAMCL_DATA_H
#define SIAMCL_DATA_H

#include <stdint.h>

#include "siamcl/image.h"
#include "siamcl/lfw.h"
#include "siamcl/sampler.h"
#include "siamcl/tensor.h"

/* ---- dataset: prepared images, host and device -------------------------------------------- */

enum {
    SC_CACHE_OFF = 0,      /* no cache folder given */
    SC_CACHE_HIT,          /* loaded from a valid cache file */
    SC_CACHE_WRITTEN,      /* no cache yet: decoded, then written */
    SC_CACHE_REBUILT,      /* a cache file was invalid (cache_note says why): decoded, rewritten */
    SC_CACHE_WRITE_FAILED  /* decoded fine, but the cache could not be written (cache_note) */
};

typedef struct sc_dataset_opts {
    /* Folder for the prepared-image cache; NULL = no cache. The project's convention is
     * "cache" (gitignored). A folder inside the data root is refused: caches never go there. */
    const char *cache_dir;
    int threads;   /* decoding threads; 0 = every online core */
    int keep_host; /* keep ds->host after the upload (tests, host-side tools) */
} sc_dataset_opts;

typedef struct sc_dataset {
    int count;          /* images held (slots 0 .. count-1) */
    int size;           /* S: each image is uint8 [3, S, S] */
    size_t image_bytes; /* 3 * S * S */
    uint8_t *host;      /* count * image_bytes, or NULL (after upload unless keep_host) */
    float *mean;        /* per-slot mean luminance in [0, 1] (contrast jitter pivots on it) */
    double *moments;    /* per slot: sum and sum of squares of each channel, pixels / 255 */
    cl_mem images;      /* the device copy: one uint8 buffer, count * image_bytes */
    cl_mem means;       /* float [count] on the device */
    int *slot;          /* image id -> slot (-1: not held); NULL when ids are slots */
    int n_ids;          /* ids are 0 .. n_ids-1 */
    /* ring of small id buffers so uploading a batch's ids never waits for the device */
    cl_mem ids_dev;
    int *ids_host;
    cl_event *ids_ev;
    int ids_cap, ids_pos;
    /* how it was built, for logs and benchmarks */
    int cache_status;
    char cache_path[1024];
    char cache_note[512];
    double t_prepare, t_upload; /* seconds: decode+resize (or cache load), device upload */
} sc_dataset;

void sc_dataset_opts_default(sc_dataset_opts *o);

/* Prepares the images <root>/<relpaths[i]> (i = slot = id) in parallel, through the cache
 * when one is given, and uploads them to ctx's device (ctx NULL: host only, host kept).
 * The first bad image fails the whole open, naming the file and the reason. */
int sc_dataset_open(sc_dataset *ds, sc_ctx *ctx, const char *root, const char *const *relpaths,
                    int n, const sc_prep *prep, const sc_dataset_opts *opts);
/* The LFW images `ids` (NULL: all of them, in id order), addressed by LFW image id. */
int sc_dataset_open_lfw(sc_dataset *ds, sc_ctx *ctx, const sc_lfw *lfw, const int *ids,
                        int n_ids, const sc_prep *prep, const sc_dataset_opts *opts);
void sc_dataset_close(sc_dataset *ds);
/* Slot of an image id, -1 when the dataset does not hold it. */
int sc_dataset_slot(const sc_dataset *ds, int id);
/* Per-channel mean and standard deviation (population) of the pixels / 255 of the images
 * `ids` (NULL: every image held), for "meanstd" normalisation from the training images only.
 * Works after the host copy is gone (the moments are kept per image). */
int sc_dataset_channel_stats(const sc_dataset *ds, const int *ids, int n, float mean[3],
                             float std[3]);
/* Device memory the dataset holds (images, means, id ring). */
size_t sc_dataset_device_bytes(const sc_dataset *ds);
/* The cache file name for these inputs (for tools and tests); the key hashes every relpath
 * with its file size and mtime, and the preparation parameters. */
int sc_dataset_cache_key(const char *root, const char *const *relpaths, int n, const sc_prep *prep,
                         uint64_t *key);

/* ---- batches: gather + augmentation on the device ------------------------------------------- */

enum { SC_FLIP_NONE = 0, SC_FLIP_RANDOM = 1, SC_FLIP_ALL = 2 };

/* Per-sample augmentation and normalisation, applied in this order to image s of a batch:
 *   crop:  a T x T window, centred ((S - T) / 2) and shifted by integers dx, dy uniform in
 *          [-jitter, jitter]; pixels outside the image repeat the edge.
 *   flip:  mirror the window horizontally (RANDOM: with probability 1/2; ALL: always).
 *   scale: v = pixel / 255.
 *   colour (only when brightness or contrast > 0): v = (v - m) * c + m + b, clamped to [0, 1],
 *          m the image's mean luminance, c uniform in [1 - contrast, 1 + contrast],
 *          b uniform in [-brightness, brightness].
 *   normalise: (v - mean[ch]) / std[ch].
 * The random draws are a counter-based hash of (seed, step, sample index, draw), so a batch
 * depends on nothing but those numbers (reproducible, independent of launch geometry). */
typedef struct sc_augment {
    int out_size; /* T (<= S); 0 means S */
    int flip;     /* SC_FLIP_* */
    int jitter;   /* pixels, >= 0 */
    float brightness, contrast;
    float mean[3], std[3];
} sc_augment;

/* Everything off, mean 0, std 1 (values in [0, 1]), T = S. */
void sc_augment_default(sc_augment *a);
/* The same normalisation and size without randomness (flip and jitter off, no colour jitter):
 * what evaluation uses. */
void sc_augment_eval(sc_augment *a);
int sc_augment_check(const sc_augment *a, int size);
/* T for a dataset of side S. */
static inline int sc_augment_out_size(const sc_augment *a, int size)
{
    return a->out_size > 0 ? a->out_size : size;
}

/* out [n, 3, T, T] (float, any offset) from the images `ids` (host array, translated to
 * slots; n small). The ids go up through the dataset's ring of id buffers; never waits. */
int sc_dataset_gather(sc_ctx *ctx, sc_dataset *ds, const int *ids, int n, const sc_augment *aug,
                      uint64_t seed, uint64_t step, const sc_tensor *out);
/* The same from slot numbers already on the device (int32 at element offset slots_off). */
int sc_dataset_gather_slots(sc_ctx *ctx, const sc_dataset *ds, cl_mem slots, size_t slots_off,
                            int n, const sc_augment *aug, uint64_t seed, uint64_t step,
                            const sc_tensor *out);

/* Plain-C twins of the kernel (tests, host-side tools): the random draw `draw` of sample
 * `sample`, and one whole sample out[3][T][T] from a uint8 [3][S][S] image. */
uint32_t sc_augment_rand(uint64_t seed, uint64_t step, uint32_t sample, uint32_t draw);
void sc_augment_host(const uint8_t *img, float img_mean, int size, const sc_augment *a,
                     uint64_t seed, uint64_t step, int sample, float *out);

#endif
