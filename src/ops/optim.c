/* SGD and Adam (cl/optim.cl): one launch over the flat parameter buffer per step. */
#include <limits.h>
#include <math.h>

#include "siamcl/ops_optim.h"

sc_adam_opts sc_adam_defaults(void)
{
    sc_adam_opts o = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f, 0};
    return o;
}

/* The same element count as the parameters, within the kernels' int range. */
static int check_like(const sc_tensor *t, const sc_tensor *param, const char *opt,
                      const char *what)
{
    if (!t || !t->buf)
        return sc_fail("%s: the %s tensor is missing", opt, what);
    if (t->n != param->n)
        return sc_fail("%s: %s has %zu elements but the parameters have %zu", opt, what, t->n,
                       param->n);
    if (t->off + t->n > (size_t)INT_MAX)
        return sc_fail("%s: %s ends beyond the int range of the kernels", opt, what);
    return SC_OK;
}


int sc_sgd_step(sc_ctx *ctx, const sc_sgd_opts *o, int step, const sc_tensor *param,
                const sc_tensor *grad, const sc_tensor *mom, const sc_tensor *decay_mask)
{
    if (!o || !param)
        return sc_fail("sgd: missing options or parameters");
    if (step < 1)
        return sc_fail("sgd: step is %d; steps count from 1", step);
    if (!(o->lr >= 0) || !(o->momentum >= 0) || !(o->weight_decay >= 0))
        return sc_fail("sgd: lr %g, momentum %g and weight decay %g must be >= 0", o->lr,
                       o->momentum, o->weight_decay);
    if (o->nesterov && (o->momentum <= 0 || o->dampening != 0))
        return sc_fail("sgd: Nesterov momentum needs momentum > 0 and dampening 0 (momentum "
                       "%g, dampening %g)", o->momentum, o->dampening);
    SC_TRY(check_like(param, param, "sgd", "parameter"));
    SC_TRY(check_like(grad, param, "sgd", "gradient"));
    if (o->momentum != 0)
        SC_TRY(check_like(mom, param, "sgd", "momentum buffer"));
    if (decay_mask)
        SC_TRY(check_like(decay_mask, param, "sgd", "weight-decay mask"));
    cl_kernel k = sc_kernel(ctx, "optim", NULL, "sgd_step");
    if (!k)
        return SC_ERR;
    cl_mem bb = o->momentum != 0 ? mom->buf : NULL, kb = decay_mask ? decay_mask->buf : NULL;
    int n = (int)param->n, po = (int)param->off, go = (int)grad->off;
    int bo = o->momentum != 0 ? (int)mom->off : 0, mo = decay_mask ? (int)decay_mask->off : 0;
    int first = step == 1, has_mask = decay_mask != NULL;
    float lr = o->lr, mu = o->momentum, damp = o->dampening, wd = o->weight_decay;
    SC_TRY(sc_kernel_args(k, 16, SC_ARG(param->buf), SC_ARG(po), SC_ARG(grad->buf), SC_ARG(go),
                          SC_ARG(bb), SC_ARG(bo),
                          SC_ARG(kb), SC_ARG(mo), SC_ARG(n),
                          SC_ARG(lr), SC_ARG(mu), SC_ARG(damp), SC_ARG(wd),
                          SC_ARG(o->nesterov), SC_ARG(first), SC_ARG(has_mask)));
    return sc_launch_1d(ctx, k, param->n, "optim.sgd");
}

int sc_adam_step(sc_ctx *ctx, const sc_adam_opts *o, int step, const sc_tensor *param,
                 const sc_tensor *grad, const sc_tensor *m, const sc_tensor *v,
                 const sc_tensor *decay_mask)
{
    if (!o || !param)
        return sc_fail("adam: missing options or parameters");
    if (step < 1)
        return sc_fail("adam: step is %d; steps count from 1", step);
    if (!(o->lr >= 0) || !(o->eps >= 0) || !(o->weight_decay >= 0) || !(o->beta1 >= 0) ||
        !(o->beta1 < 1) || !(o->beta2 >= 0) || !(o->beta2 < 1))
        return sc_fail("adam: need lr, eps, weight decay >= 0 and betas in [0, 1) (lr %g, "
                       "betas %g %g, eps %g, wd %g)", o->lr, o->beta1, o->beta2, o->eps,
                       o->weight_decay);
    SC_TRY(check_like(param, param, "adam", "parameter"));
    SC_TRY(check_like(grad, param, "adam", "gradient"));
    SC_TRY(check_like(m, param, "adam", "first-moment"));
    SC_TRY(check_like(v, param, "adam", "second-moment"));
    if (decay_mask)
        SC_TRY(check_like(decay_mask, param, "adam", "weight-decay mask"));
    cl_kernel k = sc_kernel(ctx, "optim", NULL, "adam_step");
    if (!k)
        return SC_ERR;
    /* Python floats in PyTorch: bias corrections in double, rounded once to float. */
    double bc1 = 1.0 - pow((double)o->beta1, step), bc2 = 1.0 - pow((double)o->beta2, step);
    float step_size = (float)((double)o->lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    cl_mem kb = decay_mask ? decay_mask->buf : NULL;
    int n = (int)param->n, po = (int)param->off, go = (int)grad->off, mo_ = (int)m->off;
    int vo = (int)v->off, ko = decay_mask ? (int)decay_mask->off : 0;
    int has_mask = decay_mask != NULL;
    float lr = o->lr, b1 = o->beta1, b2 = o->beta2, eps = o->eps, wd = o->weight_decay;
    SC_TRY(sc_kernel_args(k, 20, SC_ARG(param->buf), SC_ARG(po), SC_ARG(grad->buf), SC_ARG(go),
                          SC_ARG(m->buf), SC_ARG(mo_), SC_ARG(v->buf), SC_ARG(vo),
                          SC_ARG(kb), SC_ARG(ko), SC_ARG(n),
                          SC_ARG(lr), SC_ARG(b1), SC_ARG(b2), SC_ARG(eps), SC_ARG(wd),
                          SC_ARG(o->decoupled), SC_ARG(step_size), SC_ARG(bc2_sqrt),
                          SC_ARG(has_mask)));
    return sc_launch_1d(ctx, k, param->n, "optim.adam");
}
