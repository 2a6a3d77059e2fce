/* Checkpoints: the layer list, all parameters and state, named extra blobs (optimizer
 * moments for --resume) and a text metadata block (key=value lines: epoch, step, seed,
 * calibrated thresholds, ...). Versioned header, FNV-1a 64 checksum over everything, written
 * to a temporary file and renamed so a crash never leaves a half-written checkpoint. */
#ifndef SIAMCL_CHECKPOINT_H
#define SIAMCL_CHECKPOINT_H

#include <stddef.h>

#include "siamcl/nn.h"
#include "siamcl/util.h"

#define SC_CKPT_VERSION 1
#define SC_CKPT_MAX_BLOBS 8

typedef struct sc_ckpt_blob {
    char name[32];
    float *data;
    size_t n;
} sc_ckpt_blob;

typedef struct sc_ckpt {
    int in_c, in_h, in_w;
    int nlayers;
    sc_layer_desc *layers;
    char *meta; /* "key=value\n" lines, NUL-terminated */
    int nblobs;
    sc_ckpt_blob blobs[SC_CKPT_MAX_BLOBS];
} sc_ckpt;

int sc_ckpt_write(const char *path, const sc_ckpt *ck);
/* Refuses (with the path and the reason) anything that is not a complete, intact siamcl
 * checkpoint of a version this build reads. */
int sc_ckpt_read(const char *path, sc_ckpt *ck);
void sc_ckpt_free(sc_ckpt *ck);

const sc_ckpt_blob *sc_ckpt_blob_find(const sc_ckpt *ck, const char *name);
/* Adds a blob (the data is copied). */
int sc_ckpt_blob_add(sc_ckpt *ck, const char *name, const float *data, size_t n);
/* Value of `key` in the metadata into buf; SC_ERR when absent. */
int sc_ckpt_meta_get(const sc_ckpt *ck, const char *key, char *buf, size_t size);
/* Appends or replaces key=value in the metadata. */
int sc_ckpt_meta_set(sc_ckpt *ck, const char *key, const char *value);

/* Network <-> checkpoint: the layer list, "params" and "state" blobs (downloaded from the
 * device; a blocking read). */
int sc_ckpt_from_net(sc_ckpt *ck, const sc_net *net);
/* Loads parameters into a network with the same architecture; a different layer list or
 * input shape is refused naming the first difference. */
int sc_ckpt_to_net(const sc_ckpt *ck, sc_net *net);
/* Builds a network from the checkpoint's layer list and loads it. */
int sc_net_from_ckpt(sc_ctx *ctx, const sc_ckpt *ck, int max_batch, sc_net **out);

#endif
