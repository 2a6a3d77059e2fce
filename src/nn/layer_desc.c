/* Names and defaults of the layer kinds (layers.h): the words configs and checkpoints use. */
#include "siamcl/layers.h"

static const char *const names[SC_LAYER_KIND_COUNT] = {
    [SC_LAYER_CONV] = "conv",
    [SC_LAYER_MAXPOOL] = "maxpool",
    [SC_LAYER_AVGPOOL] = "avgpool",
    [SC_LAYER_RELU] = "relu",
    [SC_LAYER_LEAKY_RELU] = "leaky_relu",
    [SC_LAYER_BATCHNORM] = "batchnorm",
    [SC_LAYER_DROPOUT] = "dropout",
    [SC_LAYER_LINEAR] = "linear",
    [SC_LAYER_L2NORM] = "l2norm",
};

const char *sc_layer_kind_name(sc_layer_kind kind)
{
    if ((int)kind < 0 || kind >= SC_LAYER_KIND_COUNT)
        return "unknown";
    return names[kind];
}

/* Defaults follow PyTorch where it has one: conv/linear with bias, stride 1, no padding;
 * pools 2x2 with stride = kernel (the config parser sets stride = k whenever only k is
 * given); global average pooling (k = 0); leaky slope 0.01; batch norm eps 1e-5 and
 * momentum 0.1; dropout 0.5; F.normalize's eps 1e-12. out = 0 for conv and linear means
 * "not set": a description needs it. */
sc_layer_desc sc_layer_default(sc_layer_kind kind)
{
    sc_layer_desc d = {.kind = kind, .stride = 1};
    switch (kind) {
    case SC_LAYER_CONV:
        d.k = 3;
        d.bias = 1;
        break;
    case SC_LAYER_LINEAR:
        d.bias = 1;
        break;
    case SC_LAYER_MAXPOOL:
        d.k = 2;
        d.stride = 2;
        break;
    case SC_LAYER_AVGPOOL:
        d.k = 0;
        break;
    case SC_LAYER_LEAKY_RELU:
        d.slope = 0.01f;
        break;
    case SC_LAYER_BATCHNORM:
        d.eps = 1e-5f;
        d.momentum = 0.1f;
        break;
    case SC_LAYER_DROPOUT:
        d.p = 0.5f;
        break;
    case SC_LAYER_L2NORM:
        d.eps = 1e-12f;
        break;
    case SC_LAYER_RELU:
    case SC_LAYER_KIND_COUNT:
        break;
    }
    return d;
}
