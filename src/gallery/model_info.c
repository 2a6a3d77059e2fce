/* What a checkpoint says about its inputs (preprocessing, thresholds) and the model's
 * fingerprint: the identity a store is bound to. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "siamcl/gallery.h"

/* Optional key: 0 absent (buf ""), 1 present. */
static int meta(const sc_ckpt *ck, const char *key, char *buf, size_t size)
{
    if (sc_ckpt_meta_get(ck, key, buf, size) != SC_OK) {
        sc_clear_error();
        buf[0] = '\0';
        return 0;
    }
    return 1;
}

static int parse_int(const char *key, const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    while (*end == ' ')
        end++;
    if (end == s || *end || v < lo || v > hi)
        return sc_fail("checkpoint metadata %s = '%s': expected an integer in %d..%d", key, s, lo,
                       hi);
    *out = (int)v;
    return SC_OK;
}

/* A threshold: a number, or nan when calibration had no data (then: absent). */
static int parse_threshold(const char *key, const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (end == s || *end || isinf(v) || v < 0)
        return sc_fail("checkpoint metadata %s = '%s': expected a distance (a number >= 0)", key,
                       s);
    *out = v;
    return SC_OK;
}

/* "a,b,c" (n numbers) */
static int parse_list(const char *key, const char *s, double *v, int n)
{
    const char *p = s;
    for (int i = 0; i < n; i++) {
        char *end;
        v[i] = strtod(p, &end);
        if (end == p || !isfinite(v[i]))
            return sc_fail("checkpoint metadata %s = '%s': expected %d comma-separated numbers",
                           key, s, n);
        while (*end == ' ')
            end++;
        if (i + 1 < n) {
            if (*end != ',')
                return sc_fail("checkpoint metadata %s = '%s': expected %d comma-separated "
                               "numbers", key, s, n);
            p = end + 1;
        } else if (*end) {
            return sc_fail("checkpoint metadata %s = '%s': expected %d comma-separated numbers",
                           key, s, n);
        } else {
            p = end;
        }
    }
    return SC_OK;
}

static int parse_flag(const char *key, const char *s, int *out)
{
    if (!strcmp(s, "1") || !strcasecmp(s, "on") || !strcasecmp(s, "true") ||
        !strcasecmp(s, "yes"))
        *out = 1;
    else if (!strcmp(s, "0") || !strcasecmp(s, "off") || !strcasecmp(s, "false") ||
             !strcasecmp(s, "no"))
        *out = 0;
    else
        return sc_fail("checkpoint metadata %s = '%s': expected 0 or 1", key, s);
    return SC_OK;
}

typedef struct hasher {
    unsigned long long h;
} hasher;

static void hash_bytes(hasher *hs, const void *p, size_t n) { hs->h = sc_fnv1a64(p, n, hs->h); }
static void hash_int(hasher *hs, long long v) { hash_bytes(hs, &v, sizeof v); }
static void hash_float(hasher *hs, float v) { hash_bytes(hs, &v, sizeof v); }

/* Field by field (a struct's padding bytes are not part of the model); `line` is where a
 * layer came from in a config, not what it computes, so it is left out. */
static void hash_layers(hasher *hs, const sc_ckpt *ck)
{
    hash_int(hs, ck->in_c), hash_int(hs, ck->in_h), hash_int(hs, ck->in_w);
    hash_int(hs, ck->nlayers);
    for (int i = 0; i < ck->nlayers; i++) {
        const sc_layer_desc *d = &ck->layers[i];
        hash_int(hs, d->kind), hash_int(hs, d->out), hash_int(hs, d->k);
        hash_int(hs, d->stride), hash_int(hs, d->pad), hash_int(hs, d->bias);
        hash_float(hs, d->slope), hash_float(hs, d->p), hash_float(hs, d->eps);
        hash_float(hs, d->momentum);
    }
}

static void hash_blob(hasher *hs, const sc_ckpt *ck, const char *name)
{
    const sc_ckpt_blob *b = sc_ckpt_blob_find(ck, name);
    hash_bytes(hs, name, strlen(name) + 1);
    hash_int(hs, b ? (long long)b->n : -1);
    if (b && b->n)
        hash_bytes(hs, b->data, b->n * sizeof(float));
}

int sc_model_info_from_ckpt(const sc_ckpt *ck, sc_model_info *info)
{
    memset(info, 0, sizeof *info);
    char v[256];
    int T = ck->in_h, S;
    if (ck->in_c != 3 || ck->in_h != ck->in_w)
        return sc_fail("checkpoint input is %d x %d x %d: facedb needs square RGB inputs "
                       "(3 x T x T)", ck->in_c, ck->in_h, ck->in_w);
    if (meta(ck, "image_size", v, sizeof v)) {
        SC_TRY(parse_int("image_size", v, 1, 4096, &T));
        if (T != ck->in_h)
            return sc_fail("checkpoint metadata image_size = %d but the network takes %d x %d "
                           "inputs", T, ck->in_h, ck->in_w);
    }
    S = T;
    if (meta(ck, "prep_size", v, sizeof v)) {
        SC_TRY(parse_int("prep_size", v, 1, 4096, &S));
        if (S < T)
            return sc_fail("checkpoint metadata prep_size = %d is smaller than image_size = %d",
                           S, T);
    }
    memset(&info->prep, 0, sizeof info->prep);
    info->prep.size = S;
    if (meta(ck, "crop", v, sizeof v) && strcmp(v, "none") != 0) {
        double box[4];
        SC_TRY(parse_list("crop", v, box, 4));
        for (int i = 0; i < 4; i++)
            if (box[i] != floor(box[i]) || box[i] < 0 || box[i] > 65536)
                return sc_fail("checkpoint metadata crop = '%s': expected 4 whole numbers", v);
        info->prep.crop_x = (int)box[0], info->prep.crop_y = (int)box[1];
        info->prep.crop_w = (int)box[2], info->prep.crop_h = (int)box[3];
        if (info->prep.crop_w <= 0 || info->prep.crop_h <= 0)
            return sc_fail("checkpoint metadata crop = '%s': width and height must be > 0", v);
        /* The box is in pixels of the training images; photos of another size get it scaled.
           Checkpoints from before crop_frame was recorded were all trained on LFW, whose
           images are all 250 x 250. */
        info->prep.frame_w = info->prep.frame_h = 250;
        if (meta(ck, "crop_frame", v, sizeof v) && strcmp(v, "none") != 0) {
            char tail;
            if (sscanf(v, "%dx%d%c", &info->prep.frame_w, &info->prep.frame_h, &tail) != 2 ||
                info->prep.frame_w < 1 || info->prep.frame_h < 1 ||
                info->prep.frame_w > 65536 || info->prep.frame_h > 65536)
                return sc_fail("checkpoint metadata crop_frame = '%s': expected WxH", v);
        }
    }
    SC_TRY(sc_prep_check(&info->prep));
    sc_augment_default(&info->aug);
    info->aug.out_size = T;
    double m[3] = {0, 0, 0}, s[3] = {1, 1, 1};
    if (meta(ck, "norm_mean", v, sizeof v))
        SC_TRY(parse_list("norm_mean", v, m, 3));
    if (meta(ck, "norm_std", v, sizeof v))
        SC_TRY(parse_list("norm_std", v, s, 3));
    for (int c = 0; c < 3; c++)
        info->aug.mean[c] = (float)m[c], info->aug.std[c] = (float)s[c];
    sc_augment_eval(&info->aug);
    SC_TRY(sc_augment_check(&info->aug, S));
    if (meta(ck, "test_flip", v, sizeof v))
        SC_TRY(parse_flag("test_flip", v, &info->test_flip));
    info->threshold_eer = info->threshold_far_1e2 = info->threshold_far_1e3 = NAN;
    if (meta(ck, "threshold_eer", v, sizeof v))
        SC_TRY(parse_threshold("threshold_eer", v, &info->threshold_eer));
    if (meta(ck, "threshold_far_0.01", v, sizeof v))
        SC_TRY(parse_threshold("threshold_far_0.01", v, &info->threshold_far_1e2));
    if (meta(ck, "threshold_far_0.001", v, sizeof v))
        SC_TRY(parse_threshold("threshold_far_0.001", v, &info->threshold_far_1e3));
    if (meta(ck, "embedding_dim", v, sizeof v))
        SC_TRY(parse_int("embedding_dim", v, 1, 1 << 20, &info->dim));
    if (!sc_ckpt_blob_find(ck, "params"))
        return sc_fail("checkpoint has no parameters (blob 'params')");

    hasher hs = {SC_FNV_INIT};
    hash_layers(&hs, ck);
    hash_blob(&hs, ck, "params");
    hash_blob(&hs, ck, "state");
    const sc_prep *p = &info->prep;
    hash_int(&hs, p->size), hash_int(&hs, T), hash_int(&hs, p->crop_x), hash_int(&hs, p->crop_y);
    hash_int(&hs, p->crop_w), hash_int(&hs, p->crop_h), hash_int(&hs, info->test_flip);
    for (int c = 0; c < 3; c++)
        hash_float(&hs, info->aug.mean[c]), hash_float(&hs, info->aug.std[c]);
    snprintf(info->fingerprint, sizeof info->fingerprint, "%016llx", hs.h);
    return SC_OK;
}

int sc_model_threshold(const sc_model_info *info, const char *which, double *threshold)
{
    const char *key;
    double t;
    if (!strcasecmp(which, "eer"))
        key = "threshold_eer", t = info->threshold_eer;
    else if (!strcmp(which, "0.01") || !strcasecmp(which, "1e-2"))
        key = "threshold_far_0.01", t = info->threshold_far_1e2;
    else if (!strcmp(which, "0.001") || !strcasecmp(which, "1e-3"))
        key = "threshold_far_0.001", t = info->threshold_far_1e3;
    else
        return sc_fail("unknown operating point '%s': use 0.01, 0.001 or eer", which);
    if (isnan(t))
        return sc_fail("the checkpoint has no calibrated %s (train it with runexp, which "
                       "stores it, or give a threshold explicitly)", key);
    *threshold = t;
    return SC_OK;
}
