/* Optimizers over one flat parameter buffer: ONE kernel launch per step for the whole
 * network. Formulas are PyTorch's (torch.optim.SGD / Adam / AdamW, single-tensor path), so a
 * run can be checked against it step by step. The gradient is read, never modified.
 *
 * Weight decay: SGD and Adam use L2 (wd * p added to the gradient, the torch.optim.SGD and
 * torch.optim.Adam convention); Adam with `decoupled` = 1 is AdamW (p *= 1 - lr * wd before
 * the update). decay_mask (optional, same element count as the parameters) scales the
 * decay per element: 0 for biases and batch-norm parameters, 1 elsewhere (PyTorch's
 * parameter groups with weight_decay = 0). NULL means wd everywhere. */
#ifndef SIAMCL_OPS_OPTIM_H
#define SIAMCL_OPS_OPTIM_H

#include "siamcl/tensor.h"

typedef struct sc_sgd_opts {
    float lr;
    float momentum;     /* 0: plain SGD (no momentum buffer needed) */
    float dampening;    /* PyTorch's dampening; 0 by default */
    float weight_decay; /* L2, added to the gradient */
    int nesterov;       /* needs momentum > 0 and dampening == 0 (as in PyTorch) */
} sc_sgd_opts;

/* One SGD step. step is 1 on the first call: then the momentum buffer is set to the
 * gradient (PyTorch's initialisation), so its earlier contents do not matter.
 *   g = grad + wd * mask * p
 *   buf = step == 1 ? g : momentum * buf + (1 - dampening) * g
 *   g = nesterov ? g + momentum * buf : buf        (when momentum != 0)
 *   p = p - lr * g
 * mom: same element count as param (may be NULL when momentum == 0). */
int sc_sgd_step(sc_ctx *ctx, const sc_sgd_opts *o, int step, const sc_tensor *param,
                const sc_tensor *grad, const sc_tensor *mom, const sc_tensor *decay_mask);

typedef struct sc_adam_opts {
    float lr;           /* 1e-3 */
    float beta1, beta2; /* 0.9, 0.999 */
    float eps;          /* 1e-8 */
    float weight_decay; /* L2 (Adam) or decoupled (AdamW) */
    int decoupled;      /* 1: AdamW */
} sc_adam_opts;

/* PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay. */
sc_adam_opts sc_adam_defaults(void);

/* One Adam step; step = 1 on the first call (bias corrections 1 - beta^step are computed
 * on the host in double, as PyTorch does). m and v start at zero (sc_tensor_alloc does).
 *   AdamW: p = p * (1 - lr * wd * mask);  Adam: g = grad + wd * mask * p
 *   m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g^2
 *   p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps) */
int sc_adam_step(sc_ctx *ctx, const sc_adam_opts *o, int step, const sc_tensor *param,
                 const sc_tensor *grad, const sc_tensor *m, const sc_tensor *v,
                 const sc_tensor *decay_mask);

#endif
