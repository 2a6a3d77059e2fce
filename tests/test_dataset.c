/* The dataset: parallel prepare (== one image at a time), the cache (hit, rebuild on every
 * kind of damage, never inside the data folder), the upload, and the gather kernel against
 * its plain-C twin for every augmentation, at an offset inside a larger buffer. */
#include "data_fixtures.h"

#include <fcntl.h>
#include <math.h>
#include <sys/time.h>

#include "siamcl/data.h"
#include "support.h"

static char *root, *cache;
static const char *rel[] = {"a.png", "b.jpg", "c.pgm", "sub/d.png", "e.jpg"};
enum { N = 5, S = 16 };

static void setup(void)
{
    root = fx_tmpdir();
    cache = fx_tmpdir();
    char *p;
    uint8_t *rgb = fx_pattern(40, 30, 1);
    uint16_t s[64 * 64 * 3];
    for (int i = 0; i < 40 * 30 * 3; i++)
        s[i] = rgb[i];
    fx_png(p = fx_path(root, "a.png"), 40, 30, PNG_COLOR_TYPE_RGB, 8, s, NULL, 0, 0, NULL, 0);
    free(p);
    free(rgb);
    rgb = fx_pattern(50, 50, 2);
    fx_jpeg(p = fx_path(root, "b.jpg"), 50, 50, 3, rgb, 95);
    free(p);
    free(rgb);
    for (int i = 0; i < 20 * 20; i++)
        s[i] = (uint16_t)(i * 163 % 65536);
    fx_pgm(p = fx_path(root, "c.pgm"), 20, 20, 65535, s);
    free(p);
    mkdir(p = fx_path(root, "sub"), 0755);
    free(p);
    for (int i = 0; i < 33 * 33; i++)
        s[i] = (uint16_t)((i * 7) % 256);
    fx_png(p = fx_path(root, "sub/d.png"), 33, 33, PNG_COLOR_TYPE_GRAY, 8, s, NULL, 0, 0, NULL, 0);
    free(p);
    uint8_t g[64 * 48];
    for (int i = 0; i < 64 * 48; i++)
        g[i] = (uint8_t)(i % 64 * 3 + i / 64);
    fx_jpeg(p = fx_path(root, "e.jpg"), 64, 48, 1, g, 90);
    free(p);
}

static void teardown(void)
{
    fx_rmtree(root);
    fx_rmtree(cache);
    root = cache = NULL;
}

TestSuite(dataset, .init = setup, .fini = teardown);

static sc_dataset open_host(const char *cache_dir, int threads, int size)
{
    sc_dataset ds;
    sc_dataset_opts o;
    sc_dataset_opts_default(&o);
    o.cache_dir = cache_dir;
    o.threads = threads;
    sc_prep prep = {.size = size};
    cr_assert_eq(sc_dataset_open(&ds, NULL, root, rel, N, &prep, &o), SC_OK, "%s", sc_last_error());
    return ds;
}

Test(dataset, parallel_prepare_matches_one_image_at_a_time)
{
    sc_dataset ds = open_host(NULL, 3, S);
    cr_assert_eq(ds.count, N);
    cr_assert_eq(ds.cache_status, SC_CACHE_OFF);
    cr_assert_null(ds.images);
    sc_prep prep = {.size = S};
    uint8_t want[3 * S * S];
    for (int i = 0; i < N; i++) {
        char *p = fx_path(root, rel[i]);
        sc_image img;
        cr_assert_eq(sc_image_load(p, &img), SC_OK, "%s", sc_last_error());
        cr_assert_eq(sc_image_prepare(&img, &prep, p, want), SC_OK);
        cr_assert(memcmp(want, ds.host + (size_t)i * ds.image_bytes, sizeof want) == 0,
                  "image %s differs", rel[i]);
        double lum = 0;
        for (int k = 0; k < S * S; k++)
            lum += 0.299 * want[k] + 0.587 * want[S * S + k] + 0.114 * want[2 * S * S + k];
        cr_assert_float_eq(ds.mean[i], lum / (255.0 * S * S), 1e-6);
        sc_image_free(&img);
        free(p);
    }
    /* per-channel statistics over a subset, against a direct double computation */
    int sub[] = {4, 1, 2};
    float mean[3], sd[3];
    cr_assert_eq(sc_dataset_channel_stats(&ds, sub, 3, mean, sd), SC_OK, "%s", sc_last_error());
    for (int c = 0; c < 3; c++) {
        double sum = 0, sq = 0;
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < S * S; k++) {
                double v = ds.host[(size_t)sub[i] * ds.image_bytes + (size_t)c * S * S + k] / 255.0;
                sum += v;
                sq += v * v;
            }
        double m = sum / (3.0 * S * S), var = sq / (3.0 * S * S) - m * m;
        cr_assert_float_eq(mean[c], m, 1e-6);
        cr_assert_float_eq(sd[c], sqrt(var), 1e-5);
        cr_assert_gt(sd[c], 0.01f);
    }
    cr_assert_eq(sc_dataset_channel_stats(&ds, NULL, 0, mean, sd), SC_OK);
    cr_assert_eq(sc_dataset_channel_stats(&ds, (int[]){7}, 1, mean, sd), SC_ERR);
    sc_dataset one = open_host(NULL, 1, S);
    cr_assert(memcmp(one.host, ds.host, (size_t)N * ds.image_bytes) == 0);
    sc_dataset_close(&one);
    sc_dataset_close(&ds);
}

static void damage(const char *path, long at, int truncate_to)
{
    int fd = open(path, O_RDWR);
    cr_assert(fd >= 0);
    if (truncate_to >= 0) {
        cr_assert_eq(ftruncate(fd, truncate_to), 0);
    } else {
        uint8_t b;
        cr_assert_eq(pread(fd, &b, 1, at), 1);
        b ^= 0x10;
        cr_assert_eq(pwrite(fd, &b, 1, at), 1);
    }
    close(fd);
}

Test(dataset, cache_hit_and_rebuild_on_damage)
{
    char *cdir = fx_path(cache, "nested/cache");
    sc_dataset a = open_host(cdir, 0, S);
    cr_assert_eq(a.cache_status, SC_CACHE_WRITTEN, "%s", a.cache_note);
    struct stat st;
    cr_assert_eq(stat(a.cache_path, &st), 0);
    cr_assert_eq((size_t)st.st_size, 56 + (size_t)N * 3 * S * S);

    sc_dataset b = open_host(cdir, 0, S);
    cr_assert_eq(b.cache_status, SC_CACHE_HIT, "%s", b.cache_note);
    cr_assert(memcmp(a.host, b.host, (size_t)N * a.image_bytes) == 0);
    cr_assert(memcmp(a.mean, b.mean, sizeof(float) * N) == 0);
    sc_dataset_close(&b);

    struct { long at; int trunc; const char *why; } cases[] = {
        {56 + 700, -1, "payload checksum"},
        {st.st_size - 1, -1, "payload checksum"},
        {20, -1, "header checksum"},
        {0, -1, "bad magic"},
        {0, (int)st.st_size - 10, "wrong size"},
        {0, 30, "shorter than its header"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        damage(a.cache_path, cases[k].at, cases[k].trunc);
        sc_dataset c = open_host(cdir, 0, S);
        cr_assert_eq(c.cache_status, SC_CACHE_REBUILT, "case %zu: status %d", k, c.cache_status);
        cr_assert(strstr(c.cache_note, cases[k].why), "case %zu: '%s'", k, c.cache_note);
        cr_assert(memcmp(a.host, c.host, (size_t)N * a.image_bytes) == 0);
        sc_dataset_close(&c);
        sc_dataset d = open_host(cdir, 0, S); /* rewritten: valid again */
        cr_assert_eq(d.cache_status, SC_CACHE_HIT, "case %zu: %s", k, d.cache_note);
        sc_dataset_close(&d);
    }

    /* other parameters or a touched file: another key, a fresh cache file */
    sc_dataset e = open_host(cdir, 0, S + 1);
    cr_assert_eq(e.cache_status, SC_CACHE_WRITTEN);
    cr_assert_str_neq(e.cache_path, a.cache_path);
    sc_dataset_close(&e);
    char *img = fx_path(root, "c.pgm");
    struct timeval tv[2] = {{1000000000, 0}, {1000000000, 0}};
    cr_assert_eq(utimes(img, tv), 0);
    sc_dataset f = open_host(cdir, 0, S);
    cr_assert_eq(f.cache_status, SC_CACHE_WRITTEN);
    cr_assert_str_neq(f.cache_path, a.cache_path);
    sc_dataset_close(&f);
    free(img);
    sc_dataset_close(&a);
    free(cdir);
}

Test(dataset, cache_never_inside_the_data_folder)
{
    const char *inside[] = {"cache", "sub", "sub/../cache2", "."};
    for (int k = 0; k < 4; k++) {
        char *c = fx_path(root, inside[k]);
        sc_dataset ds;
        sc_dataset_opts o;
        sc_dataset_opts_default(&o);
        o.cache_dir = c;
        sc_prep prep = {.size = S};
        cr_assert_eq(sc_dataset_open(&ds, NULL, root, rel, N, &prep, &o), SC_ERR, "%s", c);
        cr_assert(strstr(sc_last_error(), "inside the data folder"), "%s", sc_last_error());
        free(c);
    }
    struct stat st;
    char *c = fx_path(root, "cache");
    cr_assert_neq(stat(c, &st), 0, "a cache folder was created inside the data folder");
    free(c);
}

Test(dataset, cache_write_failure_is_reported_not_fatal)
{
    sc_dataset a = open_host(cache, 0, S);
    char path[1024];
    snprintf(path, sizeof path, "%s", a.cache_path);
    sc_dataset_close(&a);
    cr_assert_eq(remove(path), 0);
    cr_assert_eq(mkdir(path, 0755), 0); /* a folder where the cache file should go */
    sc_dataset b = open_host(cache, 0, S);
    cr_assert_eq(b.cache_status, SC_CACHE_WRITE_FAILED, "status %d", b.cache_status);
    cr_assert(strstr(b.cache_note, path), "%s", b.cache_note);
    cr_assert_not_null(b.host);
    sc_dataset_close(&b);
}

Test(dataset, bad_or_missing_image_names_the_file)
{
    char *p = fx_path(root, "b.jpg");
    size_t n;
    uint8_t *buf = fx_read(p, &n);
    fx_write(p, buf, n / 2);
    free(buf);
    sc_dataset ds;
    sc_prep prep = {.size = S};
    cr_assert_eq(sc_dataset_open(&ds, NULL, root, rel, N, &prep, NULL), SC_ERR);
    cr_assert(strstr(sc_last_error(), p), "%s", sc_last_error());
    remove(p);
    cr_assert_eq(sc_dataset_open(&ds, NULL, root, rel, N, &prep, NULL), SC_ERR);
    cr_assert(strstr(sc_last_error(), p), "%s", sc_last_error());
    sc_dataset_opts o;
    sc_dataset_opts_default(&o);
    o.cache_dir = cache;
    cr_assert_eq(sc_dataset_open(&ds, NULL, root, rel, N, &prep, &o), SC_ERR);
    cr_assert(strstr(sc_last_error(), p), "%s", sc_last_error());
    free(p);
    cr_assert_eq(sc_dataset_open(&ds, NULL, root, rel, 0, &prep, NULL), SC_ERR);
}

/* ---- device --------------------------------------------------------------------------------- */

static sc_dataset open_dev(int size)
{
    sc_dataset ds;
    sc_dataset_opts o;
    sc_dataset_opts_default(&o);
    o.keep_host = 1;
    sc_prep prep = {.size = size};
    cr_assert_eq(sc_dataset_open(&ds, test_ctx(), root, rel, N, &prep, &o), SC_OK, "%s",
                 sc_last_error());
    cr_assert_not_null(ds.images);
    return ds;
}

/* Gathers ids into a view at element offset `off` of a sentinel-filled buffer, compares with
 * sc_augment_host sample by sample, and checks the sentinels around it. */
static void check_gather(sc_dataset *ds, const int *ids, int n, const sc_augment *aug,
                         uint64_t seed, uint64_t step)
{
    int T = sc_augment_out_size(aug, ds->size);
    size_t each = (size_t)3 * T * T, off = 37, total = off + n * each + 11;
    float *init = malloc(sizeof(float) * total);
    for (size_t i = 0; i < total; i++)
        init[i] = -7.0f;
    sc_tensor big = test_tensor(1, (int[]){(int)total}, init);
    sc_tensor x = sc_tensor_view(big.buf, off, 4, (int[]){n, 3, T, T});
    cr_assert_eq(sc_dataset_gather(test_ctx(), ds, ids, n, aug, seed, step, &x), SC_OK, "%s",
                 sc_last_error());
    float *got = test_download(&big);
    float *want = malloc(sizeof(float) * n * each);
    for (int b = 0; b < n; b++) {
        int slot = sc_dataset_slot(ds, ids[b]);
        sc_augment_host(ds->host + (size_t)slot * ds->image_bytes, ds->mean[slot], ds->size, aug,
                        seed, step, b, want + b * each);
    }
    test_expect_close("exact", got + off, want, n * each);
    for (size_t i = 0; i < off; i++)
        cr_assert_eq(got[i], -7.0f, "wrote before the view at %zu", i);
    for (size_t i = off + n * each; i < total; i++)
        cr_assert_eq(got[i], -7.0f, "wrote after the view at %zu", i);
    free(init);
    free(got);
    free(want);
    sc_tensor_free(&big);
}

Test(dataset, gather_plain_conversion)
{
    sc_dataset ds = open_dev(S);
    cr_assert_null(ds.slot);
    cr_assert_geq(sc_dataset_device_bytes(&ds), (size_t)N * 3 * S * S);
    int ids[] = {4, 0, 2, 2, 1, 3, 0};
    sc_augment a;
    sc_augment_default(&a);
    check_gather(&ds, ids, 7, &a, 1, 0);
    /* and the twin itself is the plain conversion px / 255 */
    float out[3 * S * S];
    sc_augment_host(ds.host, ds.mean[0], S, &a, 1, 0, 0, out);
    for (int i = 0; i < 3 * S * S; i++)
        cr_assert_eq(out[i], (float)ds.host[i] * (1.0f / 255.0f));
    sc_dataset_close(&ds);
}

Test(dataset, gather_flip_all_mirrors_and_crops)
{
    sc_dataset ds = open_dev(S);
    int ids[] = {1, 3, 4};
    sc_augment a;
    sc_augment_default(&a);
    a.out_size = 12;
    a.flip = SC_FLIP_ALL;
    a.mean[0] = 0.5f, a.mean[1] = 0.4f, a.mean[2] = 0.3f;
    a.std[0] = 0.25f, a.std[1] = 0.5f, a.std[2] = 2.0f;
    check_gather(&ds, ids, 3, &a, 9, 3);
    /* independent of the twin: flipped output x reads source column o + T-1-x */
    float out[3 * 12 * 12];
    sc_augment_host(ds.host + ds.image_bytes, 0, S, &a, 0, 0, 0, out);
    int o = (S - 12) / 2;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 12; y++)
            for (int x = 0; x < 12; x++) {
                uint8_t px = ds.host[ds.image_bytes + (size_t)c * S * S + (o + y) * S + o + 11 - x];
                float v = ((float)px * (1.0f / 255.0f) - a.mean[c]) * (1.0f / a.std[c]);
                cr_assert_eq(out[c * 144 + y * 12 + x], v);
            }
    sc_dataset_close(&ds);
}

Test(dataset, gather_random_augmentation_matches_twin)
{
    sc_dataset ds = open_dev(S);
    int ids[] = {0, 1, 2, 3, 4, 4, 3, 2, 1, 0, 2};
    sc_augment a;
    sc_augment_default(&a);
    a.out_size = 11;
    a.flip = SC_FLIP_RANDOM;
    a.jitter = 3;
    a.brightness = 0.3f;
    a.contrast = 0.4f;
    a.mean[0] = a.mean[1] = a.mean[2] = 0.5f;
    a.std[0] = a.std[1] = a.std[2] = 0.5f;
    for (uint64_t step = 0; step < 3; step++)
        check_gather(&ds, ids, 11, &a, 0xfeedface12345678ull, step + (step << 40));
    a.out_size = 0;
    a.jitter = S; /* windows leave the image: edges repeat */
    a.brightness = 1.0f;
    check_gather(&ds, ids, 11, &a, 5, 5);
    sc_dataset_close(&ds);
}

Test(dataset, augmentation_draws_are_spread_and_keyed)
{
    /* flip about half the time, every shift in [-J, J], brightness across its range */
    int flips = 0, shifts[7] = {0};
    float lo = 1, hi = -1;
    for (uint32_t s = 0; s < 4000; s++) {
        flips += sc_augment_rand(3, 8, s, 0) >> 31;
        shifts[sc_augment_rand(3, 8, s, 1) % 7]++;
        float u = (float)(sc_augment_rand(3, 8, s, 3) >> 8) / 16777216.0f;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    cr_assert(flips > 1850 && flips < 2150, "%d flips of 4000", flips);
    for (int k = 0; k < 7; k++)
        cr_assert(shifts[k] > 480 && shifts[k] < 660, "shift %d: %d", k - 3, shifts[k]);
    cr_assert(lo < 0.01f && hi > 0.99f);
    /* every input of the key matters (seed halves, step halves, sample, draw) */
    uint32_t base = sc_augment_rand(1ull << 33 | 1, 1ull << 35 | 2, 3, 4);
    cr_assert_neq(base, sc_augment_rand(1ull << 33 | 0, 1ull << 35 | 2, 3, 4));
    cr_assert_neq(base, sc_augment_rand(1ull << 34 | 1, 1ull << 35 | 2, 3, 4));
    cr_assert_neq(base, sc_augment_rand(1ull << 33 | 1, 1ull << 35 | 3, 3, 4));
    cr_assert_neq(base, sc_augment_rand(1ull << 33 | 1, 1ull << 36 | 2, 3, 4));
    cr_assert_neq(base, sc_augment_rand(1ull << 33 | 1, 1ull << 35 | 2, 2, 4));
    cr_assert_neq(base, sc_augment_rand(1ull << 33 | 1, 1ull << 35 | 2, 3, 5));
    /* pinned values: the host twin and cl/data.cl must not drift apart silently */
    cr_assert_eq(sc_augment_rand(1, 2, 3, 4), 0x1c579bffu);
}

Test(dataset, gather_errors)
{
    sc_dataset ds = open_dev(S);
    sc_augment a;
    sc_augment_default(&a);
    sc_tensor x = test_tensor(4, (int[]){2, 3, S, S}, NULL);
    cr_assert_eq(sc_dataset_gather(test_ctx(), &ds, (int[]){0, 5}, 2, &a, 0, 0, &x), SC_ERR);
    cr_assert(strstr(sc_last_error(), "not in the dataset"), "%s", sc_last_error());
    cr_assert_eq(sc_dataset_gather(test_ctx(), &ds, (int[]){0, -1}, 2, &a, 0, 0, &x), SC_ERR);
    cr_assert_eq(sc_dataset_gather(test_ctx(), &ds, (int[]){0}, 1, &a, 0, 0, &x), SC_ERR);
    cr_assert(strstr(sc_last_error(), "must be [1, 3, 16, 16]"), "%s", sc_last_error());
    a.out_size = S + 1;
    cr_assert_eq(sc_dataset_gather(test_ctx(), &ds, (int[]){0, 1}, 2, &a, 0, 0, &x), SC_ERR);
    sc_augment_default(&a);
    a.std[1] = 0;
    cr_assert_eq(sc_dataset_gather(test_ctx(), &ds, (int[]){0, 1}, 2, &a, 0, 0, &x), SC_ERR);
    cr_assert(strstr(sc_last_error(), "std"), "%s", sc_last_error());
    sc_augment_default(&a);
    a.flip = 3;
    cr_assert_eq(sc_augment_check(&a, S), SC_ERR);
    sc_augment_default(&a);
    a.brightness = -0.1f;
    cr_assert_eq(sc_augment_check(&a, S), SC_ERR);
    sc_tensor_free(&x);
    sc_dataset_close(&ds);
    sc_dataset host = open_host(NULL, 0, S);
    cr_assert_eq(sc_dataset_gather(test_ctx(), &host, (int[]){0}, 1, &a, 0, 0, &x), SC_ERR);
    sc_dataset_close(&host);
}

Test(dataset, id_ring_and_growth_keep_batches_apart)
{
    sc_dataset ds = open_dev(8);
    sc_augment a;
    sc_augment_default(&a);
    enum { STEPS = 20, B = 300 }; /* more steps than ring slots, more ids than its first size */
    sc_tensor x[STEPS];
    int *ids = malloc(sizeof(int) * STEPS * B);
    for (int s = 0; s < STEPS; s++) {
        for (int i = 0; i < B; i++)
            ids[s * B + i] = (s + i * 3) % N;
        int n = s < 10 ? 7 : B;
        x[s] = test_tensor(4, (int[]){n, 3, 8, 8}, NULL);
        cr_assert_eq(sc_dataset_gather(test_ctx(), &ds, ids + s * B, n, &a, 0, 0, &x[s]), SC_OK,
                     "%s", sc_last_error());
    }
    for (int s = 0; s < STEPS; s++) {
        float *got = test_download(&x[s]);
        int n = x[s].shape[0];
        for (int i = 0; i < n; i += 37) {
            int id = ids[s * B + i];
            for (int k = 0; k < 3 * 64; k++)
                cr_assert_eq(got[i * 192 + k], ds.host[id * ds.image_bytes + k] * (1.0f / 255.0f),
                             "step %d, sample %d", s, i);
        }
        free(got);
        sc_tensor_free(&x[s]);
    }
    free(ids);
    sc_dataset_close(&ds);
}

/* ---- LFW-shaped datasets -------------------------------------------------------------------- */

Test(dataset, lfw_subset_addressed_by_image_id)
{
    /* a tiny LFW: Ann 2, Ben 1, Cat 2 */
    const char *people[] = {"Ann", "Ben", "Cat"};
    const int count[] = {2, 1, 2};
    char *p = fx_path(root, "lfw-names.txt");
    fx_text(p, "Ann\t2\nBen\t1\nCat\t2\n");
    free(p);
    for (int i = 0; i < 3; i++) {
        mkdir(p = fx_path(root, people[i]), 0755);
        free(p);
        for (int k = 1; k <= count[i]; k++) {
            char name[64];
            snprintf(name, sizeof name, "%s/%s_%04d.jpg", people[i], people[i], k);
            uint8_t *rgb = fx_pattern(30, 30, i * 10 + k);
            fx_jpeg(p = fx_path(root, name), 30, 30, 3, rgb, 90);
            free(p);
            free(rgb);
        }
    }
    sc_lfw lfw;
    cr_assert_eq(sc_lfw_open(&lfw, root, 0), SC_OK, "%s", sc_last_error());
    sc_dataset ds;
    sc_dataset_opts o;
    sc_dataset_opts_default(&o);
    o.keep_host = 1;
    sc_prep prep = {.size = 10, .crop_x = 5, .crop_y = 5, .crop_w = 20, .crop_h = 20};
    cr_assert_eq(sc_dataset_open_lfw(&ds, test_ctx(), &lfw, (int[]){3, 0}, 2, &prep, &o), SC_OK,
                 "%s", sc_last_error());
    cr_assert_eq(ds.count, 2);
    cr_assert_eq(sc_dataset_slot(&ds, 3), 0);
    cr_assert_eq(sc_dataset_slot(&ds, 0), 1);
    cr_assert_eq(sc_dataset_slot(&ds, 1), -1);
    cr_assert_eq(sc_dataset_slot(&ds, 99), -1);
    sc_augment a;
    sc_augment_default(&a);
    a.flip = SC_FLIP_RANDOM;
    a.jitter = 2;
    check_gather(&ds, (int[]){0, 3, 0}, 3, &a, 4, 4);
    sc_tensor x = test_tensor(4, (int[]){1, 3, 10, 10}, NULL);
    cr_assert_eq(sc_dataset_gather(test_ctx(), &ds, (int[]){2}, 1, &a, 0, 0, &x), SC_ERR);
    sc_tensor_free(&x);
    sc_dataset_close(&ds);
    cr_assert_eq(sc_dataset_open_lfw(&ds, NULL, &lfw, (int[]){1, 1}, 2, &prep, &o), SC_ERR);
    cr_assert(strstr(sc_last_error(), "twice"), "%s", sc_last_error());
    cr_assert_eq(sc_dataset_open_lfw(&ds, NULL, &lfw, (int[]){5}, 1, &prep, &o), SC_ERR);
    cr_assert_eq(sc_dataset_open_lfw(&ds, NULL, &lfw, NULL, 0, &prep, &o), SC_OK);
    cr_assert_eq(ds.count, 5);
    cr_assert_null(ds.slot);
    sc_dataset_close(&ds);
    sc_lfw_close(&lfw);
}

Test(dataset, real_lfw_handful_on_the_device)
{
    const char *d = getenv("LFW_DIR");
    if (!d || !*d)
        cr_skip_test("LFW_DIR is not set: the real-LFW checks need a copy of LFW "
                     "(see data/README.md)");
    sc_lfw lfw;
    cr_assert_eq(sc_lfw_open(&lfw, d, SC_LFW_NO_FILE_CHECK), SC_OK, "%s", sc_last_error());
    sc_pairs pairs;
    cr_assert_eq(sc_lfw_pairs_load(&lfw, "pairsDevTest.txt", &pairs), SC_OK, "%s", sc_last_error());
    pairs.n = 6; /* a handful: the first six pairs */
    int *ids, n;
    cr_assert_eq(sc_pairs_images(&pairs, &ids, &n), SC_OK);
    sc_dataset ds;
    sc_dataset_opts o;
    sc_dataset_opts_default(&o);
    o.keep_host = 1;
    sc_prep prep = {.size = 64, .crop_x = 61, .crop_y = 61, .crop_w = 128, .crop_h = 128};
    cr_assert_eq(sc_dataset_open_lfw(&ds, test_ctx(), &lfw, ids, n, &prep, &o), SC_OK, "%s",
                 sc_last_error());
    int batch[12];
    for (int i = 0; i < 6; i++) {
        batch[i] = pairs.p[i].a;
        batch[6 + i] = pairs.p[i].b;
    }
    sc_augment a;
    sc_augment_default(&a);
    a.out_size = 56;
    a.flip = SC_FLIP_RANDOM;
    a.jitter = 4;
    check_gather(&ds, batch, 12, &a, 1, 2);
    sc_dataset_close(&ds);
    free(ids);
    sc_pairs_free(&pairs);
    sc_lfw_close(&lfw);
}
