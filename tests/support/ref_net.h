/* The plain-C path of a whole network: the same layer table and parameter layout as an
 * sc_net (read from it), computed on the host from the reference kernels in double-accumulated
 * C. Covers conv, relu, leaky relu, max/avg pool, linear: the layers of the baseline recipe. */
#ifndef SIAMCL_TEST_REF_NET_H
#define SIAMCL_TEST_REF_NET_H

#include "siamcl/nn.h"

typedef struct ref_acts {
    int n;
    float **out; /* per layer output, n * per-sample size */
    int **idx;   /* max-pool argmax */
} ref_acts;

void ref_net_forward(const sc_net *net, const float *params, const float *x, int n, ref_acts *a);
/* grads overwritten (net->nparams floats, padding left 0). */
void ref_net_backward(const sc_net *net, const float *params, const float *x, const ref_acts *a,
                      const float *dout, float *grads);
void ref_acts_free(const sc_net *net, ref_acts *a);

/* Contrastive loss of the Siamese layout e [2B, D]; returns the mean loss, de may be NULL. */
double ref_contrastive(const float *e, const float *y, int b, int d, float margin, float *de);
/* PyTorch SGD: g += wd * p; v = mu * v + g (v = g on the first step); p -= lr * v. */
void ref_sgd(float *p, const float *g, float *v, size_t n, float lr, float mu, float wd, int first);

#endif
