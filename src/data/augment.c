/* Augmentation parameters, the plain-C twin of cl/data.cl, and the gather launch. */
#include <math.h>
#include <string.h>

#include "siamcl/data.h"

void sc_augment_default(sc_augment *a)
{
    memset(a, 0, sizeof *a);
    a->flip = SC_FLIP_NONE;
    for (int c = 0; c < 3; c++)
        a->std[c] = 1.0f;
}

void sc_augment_eval(sc_augment *a)
{
    a->flip = SC_FLIP_NONE;
    a->jitter = 0;
    a->brightness = 0;
    a->contrast = 0;
}

int sc_augment_check(const sc_augment *a, int size)
{
    int t = sc_augment_out_size(a, size);
    if (t < 1 || t > size)
        return sc_fail("augmentation output size %d outside 1..%d (the dataset's image size)", t,
                       size);
    if (a->flip < SC_FLIP_NONE || a->flip > SC_FLIP_ALL)
        return sc_fail("augmentation flip mode %d unknown", a->flip);
    if (a->jitter < 0 || a->jitter > size)
        return sc_fail("augmentation jitter %d outside 0..%d", a->jitter, size);
    if (!(a->brightness >= 0 && a->brightness <= 1))
        return sc_fail("augmentation brightness %g outside 0..1", a->brightness);
    if (!(a->contrast >= 0 && a->contrast <= 1))
        return sc_fail("augmentation contrast %g outside 0..1", a->contrast);
    for (int c = 0; c < 3; c++)
        if (!(a->std[c] > 0) || !isfinite(a->std[c]) || !isfinite(a->mean[c]))
            return sc_fail("normalisation of channel %d: mean %g, std %g (std must be > 0)", c,
                           a->mean[c], a->std[c]);
    return SC_OK;
}

/* Must stay identical to aug_mix / aug_rand in cl/data.cl. */
static uint32_t aug_mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

uint32_t sc_augment_rand(uint64_t seed, uint64_t step, uint32_t sample, uint32_t draw)
{
    uint32_t h = aug_mix((uint32_t)seed ^ 0x9e3779b9u);
    h = aug_mix(h ^ (uint32_t)(seed >> 32));
    h = aug_mix(h ^ (uint32_t)step);
    h = aug_mix(h ^ (uint32_t)(step >> 32));
    h = aug_mix(h ^ sample);
    return aug_mix(h ^ (draw * 0x85ebca6bu + 0x68e31da4u));
}

static float aug_unit(uint32_t h) { return (float)(h >> 8) * (1.0f / 16777216.0f); }

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void sc_augment_host(const uint8_t *img, float img_mean, int size, const sc_augment *a,
                     uint64_t seed, uint64_t step, int sample, float *out)
{
    int S = size, T = sc_augment_out_size(a, size);
    uint32_t s = (uint32_t)sample;
    int dx = 0, dy = 0;
    if (a->jitter > 0) {
        uint32_t span = (uint32_t)(2 * a->jitter + 1);
        dx = (int)(sc_augment_rand(seed, step, s, 1) % span) - a->jitter;
        dy = (int)(sc_augment_rand(seed, step, s, 2) % span) - a->jitter;
    }
    int flipped = a->flip == SC_FLIP_ALL ||
                  (a->flip == SC_FLIP_RANDOM && (sc_augment_rand(seed, step, s, 0) >> 31));
    int colour = a->brightness > 0.0f || a->contrast > 0.0f;
    float cf = 1.0f, bf = 0.0f, m = 0.0f;
    if (colour) {
        float u4 = 2.0f * aug_unit(sc_augment_rand(seed, step, s, 4)) - 1.0f;
        float u3 = 2.0f * aug_unit(sc_augment_rand(seed, step, s, 3)) - 1.0f;
        cf = 1.0f + a->contrast * u4;
        bf = a->brightness * u3;
        m = img_mean;
    }
    float is[3];
    for (int c = 0; c < 3; c++)
        is[c] = 1.0f / a->std[c];
    int o = (S - T) / 2;
    for (int y = 0; y < T; y++)
        for (int x = 0; x < T; x++) {
            int sx = clampi(o + dx + (flipped ? T - 1 - x : x), 0, S - 1);
            int sy = clampi(o + dy + y, 0, S - 1);
            for (int c = 0; c < 3; c++) {
                float v = (float)img[(size_t)c * S * S + (size_t)sy * S + sx] * (1.0f / 255.0f);
                if (colour) {
                    v = (v - m) * cf + m + bf;
                    v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
                }
                out[(size_t)c * T * T + (size_t)y * T + x] = (v - a->mean[c]) * is[c];
            }
        }
}

int sc_dataset_gather_slots(sc_ctx *ctx, const sc_dataset *ds, cl_mem slots, size_t slots_off,
                            int n, const sc_augment *aug, uint64_t seed, uint64_t step,
                            const sc_tensor *out)
{
    SC_TRY(sc_augment_check(aug, ds->size));
    if (!ds->images)
        return sc_fail("gather: the dataset was opened without a device");
    int S = ds->size, T = sc_augment_out_size(aug, S);
    if (n <= 0)
        return sc_fail("gather: batch of %d images", n);
    if (out->ndim != 4 || out->shape[0] != n || out->shape[1] != 3 || out->shape[2] != T ||
        out->shape[3] != T)
        return sc_fail("gather: output tensor must be [%d, 3, %d, %d], got %d dims [%d, %d, %d, "
                       "%d]", n, T, T, out->ndim, out->shape[0], out->shape[1], out->shape[2],
                       out->shape[3]);
    if (slots_off > (size_t)INT32_MAX || out->off > (size_t)INT32_MAX)
        return sc_fail("gather: buffer offsets beyond 2^31 elements");
    cl_kernel k = sc_kernel(ctx, "data", NULL, "data_gather");
    if (!k)
        return SC_ERR;
    int soff = (int)slots_off, ooff = (int)out->off, flip = aug->flip, jitter = aug->jitter;
    float br = aug->brightness, co = aug->contrast;
    cl_float4 mean = {{aug->mean[0], aug->mean[1], aug->mean[2], 0.0f}};
    cl_float4 istd = {{1.0f / aug->std[0], 1.0f / aug->std[1], 1.0f / aug->std[2], 1.0f}};
    cl_uint s0 = (cl_uint)seed, s1 = (cl_uint)(seed >> 32), t0 = (cl_uint)step,
            t1 = (cl_uint)(step >> 32);
    SC_TRY(sc_kernel_args(k, 19, SC_ARG(ds->images), SC_ARG(ds->means), SC_ARG(slots),
                          SC_ARG(soff), SC_ARG(n), SC_ARG(S), SC_ARG(T), SC_ARG(out->buf),
                          SC_ARG(ooff), SC_ARG(flip), SC_ARG(jitter), SC_ARG(br), SC_ARG(co),
                          SC_ARG(mean), SC_ARG(istd), SC_ARG(s0), SC_ARG(s1), SC_ARG(t0),
                          SC_ARG(t1)));
    size_t total = (size_t)n * T, local = sc_kernel_wg(ctx, k, 64); /* one item per row */
    size_t global = sc_round_up(total, local);
    return sc_launch(ctx, k, 1, &global, &local, "data.gather");
}
