/* Layer descriptions: what the config's [model] section turns into and the network is built
 * from. Input channels and sizes are inferred from the previous layer. */
#ifndef SIAMCL_LAYERS_H
#define SIAMCL_LAYERS_H

typedef enum sc_layer_kind {
    SC_LAYER_CONV,       /* out, k, stride, pad, bias */
    SC_LAYER_MAXPOOL,    /* k, stride, pad */
    SC_LAYER_AVGPOOL,    /* k, stride, pad; k = 0 means global average */
    SC_LAYER_RELU,
    SC_LAYER_LEAKY_RELU, /* slope */
    SC_LAYER_BATCHNORM,  /* eps, momentum; per channel after conv, per feature after linear */
    SC_LAYER_DROPOUT,    /* p */
    SC_LAYER_LINEAR,     /* out, bias; flattens a 4-D input */
    SC_LAYER_L2NORM,     /* eps */
    SC_LAYER_KIND_COUNT
} sc_layer_kind;

typedef struct sc_layer_desc {
    sc_layer_kind kind;
    int out;        /* conv: output channels; linear: output features */
    int k;          /* kernel size (square) */
    int stride;
    int pad;
    int bias;       /* 1 = has a bias (default for conv and linear) */
    float slope;    /* leaky ReLU negative slope */
    float p;        /* dropout probability */
    float eps;      /* batch norm / L2 norm epsilon */
    float momentum; /* batch norm running-statistics momentum */
    int line;       /* config line it came from (0 if built in code), for error messages */
} sc_layer_desc;

/* "conv", "maxpool", ... as written in configs and checkpoints. */
const char *sc_layer_kind_name(sc_layer_kind kind);
/* A description with the defaults for its kind filled in. */
sc_layer_desc sc_layer_default(sc_layer_kind kind);

#endif
