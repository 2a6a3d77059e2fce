/* Shared by the files of src/data only. */
#ifndef SIAMCL_DATA_INTERNAL_H
#define SIAMCL_DATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "siamcl/image.h"
#include "siamcl/util.h"

/* Checks w x h against the limits, then allocates out->px (3 bytes per pixel). `what` names
 * the format in messages. */
int sc_image_alloc(sc_image *out, long w, long h, const char *name, const char *what);

/* Turns img upright for EXIF orientation o (2..8: mirrored and/or rotated); on failure
 * img is freed. */
int sc_image_orient(sc_image *img, int o, const char *name);

int sc_decode_jpeg(const uint8_t *buf, size_t n, const char *name, sc_image *out);
int sc_decode_png(const uint8_t *buf, size_t n, const char *name, sc_image *out);
int sc_decode_pgm(const uint8_t *buf, size_t n, const char *name, sc_image *out);

/* FNV-1a, 64 bit: cache keys (small inputs, order-sensitive). */
static inline uint64_t sc_fnv1a(uint64_t h, const void *data, size_t n)
{
    return sc_fnv1a64(data, n, h);
}
static inline uint64_t sc_fnv1a_u64(uint64_t h, uint64_t v) { return sc_fnv1a(h, &v, sizeof v); }
static inline uint64_t sc_fnv1a_str(uint64_t h, const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return sc_fnv1a(h, s, n + 1); /* with the terminator, so "ab"+"c" != "a"+"bc" */
}

/* splitmix64 step: also the mixing function behind the sampler's per-epoch seeds. */
uint64_t sc_splitmix64(uint64_t *state);
static inline uint64_t sc_mix64(uint64_t x)
{
    uint64_t s = x;
    return sc_splitmix64(&s);
}

/* Decodes and prepares <root>/<relpaths[i]> into host + i * 3*S*S on `threads` threads
 * (0 = all online cores); the first failure stops the rest and is reported. */
int sc_prepare_all(const char *root, const char *const *relpaths, int n, const sc_prep *prep,
                   int threads, uint8_t *host);
int sc_online_cores(void);

/* Cache files (cache.c). sc_cache_dir_ready refuses a folder inside `root`, then creates it. */
int sc_cache_dir_ready(const char *cache_dir, const char *root);
/* 1: loaded into host; 0: no usable cache (note says why, "" when there was no file). */
int sc_cache_load(const char *path, uint64_t key, int count, int size, uint8_t *host, char *note,
                  size_t note_size);
/* Written through a temporary file and rename(), so readers never see half a file. */
int sc_cache_save(const char *path, uint64_t key, int count, int size, const uint8_t *host);

#endif

