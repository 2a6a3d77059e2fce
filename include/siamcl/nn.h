/* A sequential network built from layer descriptions: shapes inferred layer by layer, all
 * parameters in one device buffer and all gradients in another (so the optimizer is one
 * launch), activations allocated once for the largest batch. */
#ifndef SIAMCL_NN_H
#define SIAMCL_NN_H

#include <stdint.h>

#include "siamcl/layers.h"
#include "siamcl/tensor.h"

typedef enum sc_init {
    SC_INIT_TORCH,   /* PyTorch's default: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
    SC_INIT_KAIMING, /* He: W ~ N(0, 2/fan_in), b = 0 (for ReLU networks) */
    SC_INIT_XAVIER,  /* Glorot: W ~ U(+-sqrt(6/(fan_in+fan_out))), b = 0 */
} sc_init;
const char *sc_init_name(sc_init init);
int sc_init_parse(const char *name); /* -1 when unknown */

typedef struct sc_layer {
    sc_layer_desc d;
    int in[3], out[3];       /* per-sample C, H, W (H = W = 1 for feature vectors) */
    size_t w_off, w_n;       /* weights (conv, linear) or gamma (batch norm) in params */
    size_t b_off, b_n;       /* bias or beta; b_n = 0 when none */
    size_t rm_off, rv_off;   /* batch-norm running mean / variance in the state buffer */
    sc_tensor out_act;       /* output, allocated for the largest batch */
    sc_tensor aux;           /* max-pool argmax or batch-norm saved statistics */
    sc_tensor col;           /* conv: the training forward's im2col matrix, for backward */
    int col_ok;              /* col holds the last forward's matrix */
} sc_layer;

typedef struct sc_net {
    sc_ctx *ctx;
    int nlayers;
    sc_layer *layers;
    int in_c, in_h, in_w;
    int max_batch;
    size_t nparams, nstate;
    sc_tensor params, grads; /* flat, nparams floats each */
    sc_tensor state;         /* batch-norm running statistics (not trained) */
    sc_tensor decay_mask;    /* 1 for weights, 0 for biases and batch-norm affine */
    sc_arena arena;          /* activations, auxiliaries, gradients, conv workspace */
    sc_tensor grad_a, grad_b, ws;
    /* set by forward, used by backward */
    const sc_tensor *input;
    int batch, train;
    uint32_t seed, step; /* dropout masks are a function of (seed, step) */
    int fuse;            /* batch norm + (leaky) ReLU in one pass (SIAMCL_NO_FUSE=1: off) */
    int keep_cols;       /* conv backward reuses the forward's im2col (SIAMCL_NO_KEEP=1: off) */
    size_t kept_floats;  /* allocated so far for kept im2col matrices */
} sc_net;

/* Builds the network for inputs [N, in_c, in_h, in_w] with N <= max_batch. Shapes that do
 * not fit (a kernel larger than its input, ...) are errors naming the layer and its config
 * line. Parameters start at zero: call sc_net_init or load a checkpoint. */
int sc_net_create(sc_ctx *ctx, const sc_layer_desc *layers, int nlayers, int in_c, int in_h,
                  int in_w, int max_batch, sc_net **out);
void sc_net_free(sc_net *net);

/* For per-layer benchmarks (bench/net.c), after a training sc_net_forward: run layer i's
 * forward again from its stored input into its stored output (*last: the last layer that
 * covered, i + 1 when an activation is fused into it; an activation fused into the batch
 * norm before it is refused: it has no forward of its own), or its backward on the network's
 * gradient buffers (their contents are whatever they hold; the input gradient of a first
 * conv or linear layer is skipped, as in sc_net_backward). Parameter gradients are
 * overwritten. */
int sc_net_layer_forward(sc_net *net, int i, int *last);
int sc_net_layer_backward(sc_net *net, int i);

/* Seeded initialisation on the host (once), uploaded to the device. */
int sc_net_init(sc_net *net, sc_init init, uint64_t seed);
/* Trainable parameters (weights, biases, batch-norm affine), without layout padding. */
size_t sc_net_param_count(const sc_net *net);
/* Output features per sample (C*H*W of the last layer). */
int sc_net_out_dim(const sc_net *net);

/* x [N, in_c, in_h, in_w] -> *out [N, out_dim] (a view valid until the next forward).
 * train: batch norm uses batch statistics and updates running ones; dropout is active. */
int sc_net_forward(sc_net *net, const sc_tensor *x, int train, sc_tensor *out);
/* From dL/dout [N, out_dim] of the last forward: parameter gradients into net->grads
 * (overwritten). dx (may be NULL) receives dL/dx. */
int sc_net_backward(sc_net *net, const sc_tensor *dout, sc_tensor *dx);

/* Human-readable summary: one line per layer with output shape and parameter count. */
void sc_net_describe(const sc_net *net, char *buf, size_t size);

#endif
