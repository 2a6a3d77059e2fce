/* Checkpoint file format (all little-endian):
 *   "SIAMCLCK" u32 version u32 nlayers i32 in_c in_h in_w
 *   nlayers x { i32 kind out k stride pad bias; f32 slope p eps momentum }
 *   u32 meta_len, meta bytes
 *   u32 nblobs, nblobs x { char name[32]; u64 n; f32 data[n] }
 *   u64 FNV-1a 64 of every byte before it */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/checkpoint.h"

static const char MAGIC[8] = {'S', 'I', 'A', 'M', 'C', 'L', 'C', 'K'};
#define LAYER_BYTES 40
#define MAX_FILE ((size_t)1 << 34)

/* ---- a growable byte buffer for writing ---- */
typedef struct {
    unsigned char *p;
    size_t n, cap;
    int oom;
} wbuf;

static void put(wbuf *b, const void *src, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        unsigned char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np, b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void put_u32(wbuf *b, uint32_t v) { put(b, &v, 4); }
static void put_i32(wbuf *b, int32_t v) { put(b, &v, 4); }
static void put_f32(wbuf *b, float v) { put(b, &v, 4); }
static void put_u64(wbuf *b, uint64_t v) { put(b, &v, 8); }

static int little_endian(void)
{
    uint32_t one = 1;
    return *(unsigned char *)&one == 1;
}

static int write_file_atomic(const char *path, const void *data, size_t n)
{
    char tmp[4096];
    FILE *f;
    SC_TRY(sc_atomic_open(path, tmp, sizeof tmp, &f));
    if (fwrite(data, 1, n, f) != n) {
        fclose(f);
        remove(tmp);
        return sc_fail("writing %s failed: %s", path, strerror(errno));
    }
    return sc_atomic_commit(f, tmp, path);
}

int sc_ckpt_write(const char *path, const sc_ckpt *ck)
{
    if (!little_endian())
        return sc_fail("checkpoints are little-endian; this host is not");
    wbuf b = {0};
    put(&b, MAGIC, 8);
    put_u32(&b, SC_CKPT_VERSION);
    put_u32(&b, (uint32_t)ck->nlayers);
    put_i32(&b, ck->in_c), put_i32(&b, ck->in_h), put_i32(&b, ck->in_w);
    for (int i = 0; i < ck->nlayers; i++) {
        const sc_layer_desc *d = &ck->layers[i];
        put_i32(&b, d->kind), put_i32(&b, d->out), put_i32(&b, d->k);
        put_i32(&b, d->stride), put_i32(&b, d->pad), put_i32(&b, d->bias);
        put_f32(&b, d->slope), put_f32(&b, d->p), put_f32(&b, d->eps), put_f32(&b, d->momentum);
    }
    size_t ml = ck->meta ? strlen(ck->meta) : 0;
    put_u32(&b, (uint32_t)ml);
    put(&b, ck->meta ? ck->meta : "", ml);
    put_u32(&b, (uint32_t)ck->nblobs);
    for (int i = 0; i < ck->nblobs; i++) {
        char name[32] = {0};
        memcpy(name, ck->blobs[i].name, strnlen(ck->blobs[i].name, 31));
        put(&b, name, 32);
        put_u64(&b, ck->blobs[i].n);
        put(&b, ck->blobs[i].data, ck->blobs[i].n * sizeof(float));
    }
    put_u64(&b, sc_fnv1a64(b.p, b.n, SC_FNV_INIT));
    if (b.oom) {
        free(b.p);
        return sc_fail("out of host memory writing %s", path);
    }
    int rc = write_file_atomic(path, b.p, b.n);
    free(b.p);
    return rc;
}

/* ---- reading with bounds checks ---- */
typedef struct {
    const unsigned char *p;
    size_t n, at;
} rbuf;

static int take(rbuf *r, void *dst, size_t n)
{
    if (r->n - r->at < n)
        return SC_ERR;
    memcpy(dst, r->p + r->at, n);
    r->at += n;
    return SC_OK;
}

static int read_all(const char *path, unsigned char **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sc_fail("cannot open checkpoint %s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return sc_fail("cannot read checkpoint %s: not a regular file", path);
    }
    long size = ftell(f);
    rewind(f);
    if (size < 0 || (size_t)size > MAX_FILE) {
        fclose(f);
        return sc_fail("cannot read checkpoint %s: bad size", path);
    }
    unsigned char *p = malloc((size_t)size + 1);
    if (!p) {
        fclose(f);
        return sc_fail("out of host memory reading %s", path);
    }
    size_t got = fread(p, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) {
        free(p);
        return sc_fail("cannot read checkpoint %s: short read", path);
    }
    *out = p;
    *n = got;
    return SC_OK;
}

#define CORRUPT(why) \
    do { err = (why); goto fail; } while (0)

int sc_ckpt_read(const char *path, sc_ckpt *ck)
{
    memset(ck, 0, sizeof *ck);
    if (!little_endian())
        return sc_fail("checkpoints are little-endian; this host is not");
    unsigned char *data = NULL;
    size_t n = 0;
    SC_TRY(read_all(path, &data, &n));
    const char *err = NULL;
    rbuf r = {data, n, 0};
    char magic[8];
    uint32_t version = 0, nlayers = 0, ml = 0, nblobs = 0;
    uint64_t sum;
    if (n < 8 + 8 || take(&r, magic, 8) || memcmp(magic, MAGIC, 8) != 0)
        CORRUPT("not a siamcl checkpoint (bad magic)");
    memcpy(&sum, data + n - 8, 8);
    if (sum != sc_fnv1a64(data, n - 8, SC_FNV_INIT))
        CORRUPT("checksum mismatch: the file is truncated or corrupt");
    r.n = n - 8;
    if (take(&r, &version, 4) || version != SC_CKPT_VERSION) {
        static char msg[96];
        snprintf(msg, sizeof msg, "format version %u, this build reads version %d", version,
                 SC_CKPT_VERSION);
        CORRUPT(msg);
    }
    if (take(&r, &nlayers, 4) || nlayers == 0 || nlayers > 4096)
        CORRUPT("bad layer count");
    if (take(&r, &ck->in_c, 4) || take(&r, &ck->in_h, 4) || take(&r, &ck->in_w, 4) ||
        ck->in_c <= 0 || ck->in_h <= 0 || ck->in_w <= 0)
        CORRUPT("bad input shape");
    ck->layers = calloc(nlayers, sizeof *ck->layers);
    if (!ck->layers)
        CORRUPT("out of host memory");
    ck->nlayers = (int)nlayers;
    for (uint32_t i = 0; i < nlayers; i++) {
        sc_layer_desc *d = &ck->layers[i];
        int32_t v[6];
        float f[4];
        if (take(&r, v, sizeof v) || take(&r, f, sizeof f))
            CORRUPT("truncated layer list");
        if (v[0] < 0 || v[0] >= SC_LAYER_KIND_COUNT)
            CORRUPT("unknown layer kind");
        d->kind = (sc_layer_kind)v[0], d->out = v[1], d->k = v[2], d->stride = v[3];
        d->pad = v[4], d->bias = v[5];
        d->slope = f[0], d->p = f[1], d->eps = f[2], d->momentum = f[3];
    }
    if (take(&r, &ml, 4) || ml > r.n - r.at)
        CORRUPT("bad metadata length");
    ck->meta = malloc(ml + 1);
    if (!ck->meta || take(&r, ck->meta, ml))
        CORRUPT("bad metadata");
    ck->meta[ml] = '\0';
    if (take(&r, &nblobs, 4) || nblobs > SC_CKPT_MAX_BLOBS)
        CORRUPT("bad blob count");
    for (uint32_t i = 0; i < nblobs; i++) {
        sc_ckpt_blob *bl = &ck->blobs[i];
        uint64_t cnt;
        if (take(&r, bl->name, 32) || take(&r, &cnt, 8))
            CORRUPT("truncated blob header");
        bl->name[31] = '\0';
        if (cnt > (r.n - r.at) / sizeof(float))
            CORRUPT("blob larger than the file");
        bl->n = cnt;
        bl->data = malloc((cnt ? cnt : 1) * sizeof(float));
        if (!bl->data)
            CORRUPT("out of host memory");
        ck->nblobs++;
        take(&r, bl->data, cnt * sizeof(float));
    }
    if (r.at != r.n)
        CORRUPT("trailing bytes after the last blob");
    free(data);
    return SC_OK;
fail:
    free(data);
    sc_ckpt_free(ck);
    return sc_fail("checkpoint %s refused: %s", path, err);
}

void sc_ckpt_free(sc_ckpt *ck)
{
    free(ck->layers);
    free(ck->meta);
    for (int i = 0; i < ck->nblobs; i++)
        free(ck->blobs[i].data);
    memset(ck, 0, sizeof *ck);
}

const sc_ckpt_blob *sc_ckpt_blob_find(const sc_ckpt *ck, const char *name)
{
    for (int i = 0; i < ck->nblobs; i++)
        if (strcmp(ck->blobs[i].name, name) == 0)
            return &ck->blobs[i];
    return NULL;
}

int sc_ckpt_blob_add(sc_ckpt *ck, const char *name, const float *data, size_t n)
{
    if (ck->nblobs == SC_CKPT_MAX_BLOBS)
        return sc_fail("checkpoint: more than %d blobs", SC_CKPT_MAX_BLOBS);
    if (strlen(name) > 31 || sc_ckpt_blob_find(ck, name))
        return sc_fail("checkpoint: bad or duplicate blob name '%s'", name);
    sc_ckpt_blob *b = &ck->blobs[ck->nblobs];
    b->data = malloc((n ? n : 1) * sizeof(float));
    if (!b->data)
        return sc_fail("out of host memory");
    if (n)
        memcpy(b->data, data, n * sizeof(float));
    b->n = n;
    snprintf(b->name, sizeof b->name, "%s", name);
    ck->nblobs++;
    return SC_OK;
}

/* Finds "key=" at the start of a line; returns the value start or NULL. */
static const char *meta_find(const char *meta, const char *key, const char **line)
{
    size_t kl = strlen(key);
    for (const char *p = meta; p && *p;) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            if (line)
                *line = p;
            return p + kl + 1;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return NULL;
}

int sc_ckpt_meta_get(const sc_ckpt *ck, const char *key, char *buf, size_t size)
{
    const char *v = ck->meta ? meta_find(ck->meta, key, NULL) : NULL;
    if (!v)
        return sc_fail("checkpoint has no '%s'", key);
    size_t len = strcspn(v, "\n");
    if (len >= size)
        len = size - 1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return SC_OK;
}

int sc_ckpt_meta_set(sc_ckpt *ck, const char *key, const char *value)
{
    if (strchr(key, '=') || strchr(key, '\n') || strchr(value, '\n'))
        return sc_fail("checkpoint metadata: bad key or value for '%s'", key);
    const char *old = ck->meta ? ck->meta : "";
    const char *line = NULL;
    size_t cut_from = strlen(old), cut_to = cut_from;
    if (meta_find(old, key, &line)) {
        cut_from = (size_t)(line - old);
        const char *end = strchr(line, '\n');
        cut_to = end ? (size_t)(end - old) + 1 : strlen(old);
    }
    size_t need = strlen(old) + strlen(key) + strlen(value) + 3;
    char *m = malloc(need);
    if (!m)
        return sc_fail("out of host memory");
    snprintf(m, need, "%.*s%s%s=%s\n", (int)cut_from, old, old + cut_to, key, value);
    free(ck->meta);
    ck->meta = m;
    return SC_OK;
}

int sc_ckpt_from_net(sc_ckpt *ck, const sc_net *net)
{
    memset(ck, 0, sizeof *ck);
    ck->in_c = net->in_c, ck->in_h = net->in_h, ck->in_w = net->in_w;
    ck->nlayers = net->nlayers;
    ck->layers = calloc((size_t)net->nlayers, sizeof *ck->layers);
    float *p = malloc(net->params.n * sizeof *p), *s = malloc(net->state.n * sizeof *s);
    int rc = SC_ERR;
    if (!ck->layers || !p || !s) {
        sc_fail("out of host memory");
        goto out;
    }
    for (int i = 0; i < net->nlayers; i++) {
        ck->layers[i] = net->layers[i].d;
        ck->layers[i].line = 0;
    }
    if (sc_tensor_download(net->ctx, &net->params, p) != SC_OK ||
        sc_tensor_download(net->ctx, &net->state, s) != SC_OK ||
        sc_ckpt_blob_add(ck, "params", p, net->params.n) != SC_OK ||
        sc_ckpt_blob_add(ck, "state", s, net->state.n) != SC_OK)
        goto out;
    rc = SC_OK;
out:
    free(p);
    free(s);
    if (rc != SC_OK)
        sc_ckpt_free(ck);
    return rc;
}

/* The first field in which layer descriptions a and b differ, "key=A vs key=B" in buf, or
 * 0 when they are the same layer. */
static int layer_diff(const sc_layer_desc *a, const sc_layer_desc *b, char *buf, size_t n)
{
    if (a->kind != b->kind)
        return snprintf(buf, n, "%s vs %s", sc_layer_kind_name(a->kind),
                        sc_layer_kind_name(b->kind)), 1;
    const struct {
        const char *key;
        double x, y;
    } f[] = {{"out", a->out, b->out},       {"k", a->k, b->k},
             {"stride", a->stride, b->stride}, {"pad", a->pad, b->pad},
             {"bias", a->bias, b->bias},    {"slope", a->slope, b->slope},
             {"p", a->p, b->p},             {"eps", a->eps, b->eps},
             {"momentum", a->momentum, b->momentum}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].x != f[i].y)
            return snprintf(buf, n, "%s %s=%g vs %s=%g", sc_layer_kind_name(a->kind), f[i].key,
                            f[i].x, f[i].key, f[i].y), 1;
    return 0;
}

int sc_ckpt_to_net(const sc_ckpt *ck, sc_net *net)
{
    if (ck->in_c != net->in_c || ck->in_h != net->in_h || ck->in_w != net->in_w)
        return sc_fail("checkpoint is for %dx%dx%d inputs, the network takes %dx%dx%d", ck->in_c,
                       ck->in_h, ck->in_w, net->in_c, net->in_h, net->in_w);
    if (ck->nlayers != net->nlayers)
        return sc_fail("checkpoint has %d layers, the network %d", ck->nlayers, net->nlayers);
    char why[160];
    for (int i = 0; i < ck->nlayers; i++)
        if (layer_diff(&ck->layers[i], &net->layers[i].d, why, sizeof why))
            return sc_fail("checkpoint layer %d differs from the network's: %s (checkpoint vs "
                           "network)", i + 1, why);
    const sc_ckpt_blob *p = sc_ckpt_blob_find(ck, "params"), *s = sc_ckpt_blob_find(ck, "state");
    if (!p || !s || p->n != net->params.n || s->n != net->state.n)
        return sc_fail("checkpoint parameter sizes do not match the network");
    SC_TRY(sc_tensor_upload(net->ctx, &net->params, p->data));
    return sc_tensor_upload(net->ctx, &net->state, s->data);
}

int sc_net_from_ckpt(sc_ctx *ctx, const sc_ckpt *ck, int max_batch, sc_net **out)
{
    SC_TRY(sc_net_create(ctx, ck->layers, ck->nlayers, ck->in_c, ck->in_h, ck->in_w, max_batch,
                         out));
    if (sc_ckpt_to_net(ck, *out) != SC_OK) {
        sc_net_free(*out);
        *out = NULL;
        return SC_ERR;
    }
    return SC_OK;
}
