/* Optimizer updates over the flat parameter buffer, one work-item per parameter. Formulas
 * follow torch.optim (single-tensor path) so runs can be compared with PyTorch. */

/* SGD with momentum, dampening, Nesterov and L2 weight decay (scaled by an optional
 * per-element mask, e.g. 0 for biases). first = 1 on step 1: the buffer becomes the
 * gradient itself, as PyTorch initialises it. */
__kernel void sgd_step(__global float *p, int p_off, __global const float *g, int g_off,
                       __global float *buf, int buf_off, __global const float *mask,
                       int mask_off, int n, float lr, float momentum, float dampening,
                       float weight_decay, int nesterov, int first, int has_mask)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float pi = p[p_off + i];
    float gi = g[g_off + i];
    float wd = has_mask ? weight_decay * mask[mask_off + i] : weight_decay;
    if (wd != 0.0f)
        gi = gi + wd * pi;
    if (momentum != 0.0f) {
        float b = first ? gi : momentum * buf[buf_off + i] + (1.0f - dampening) * gi;
        buf[buf_off + i] = b;
        gi = nesterov ? gi + momentum * b : b;
    }
    p[p_off + i] = pi - lr * gi;
}

/* Adam / AdamW. step_size = lr / (1 - beta1^t) and bc2_sqrt = sqrt(1 - beta2^t) come from
 * the host (computed in double, like PyTorch's Python scalars). */
__kernel void adam_step(__global float *p, int p_off, __global const float *g, int g_off,
                        __global float *m, int m_off, __global float *v, int v_off,
                        __global const float *mask, int mask_off, int n, float lr, float beta1,
                        float beta2, float eps, float weight_decay, int decoupled,
                        float step_size, float bc2_sqrt, int has_mask)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float pi = p[p_off + i];
    float gi = g[g_off + i];
    float wd = has_mask ? weight_decay * mask[mask_off + i] : weight_decay;
    if (wd != 0.0f) {
        if (decoupled)
            pi = pi * (1.0f - lr * wd);
        else
            gi = gi + wd * pi;
    }
    float mi = m[m_off + i];
    mi = mi + (1.0f - beta1) * (gi - mi); /* exp_avg.lerp_(grad, 1 - beta1) */
    float vi = beta2 * v[v_off + i] + (1.0f - beta2) * gi * gi;
    m[m_off + i] = mi;
    v[v_off + i] = vi;
    float denom = sqrt(vi) / bc2_sqrt + eps;
    p[p_off + i] = pi - step_size * (mi / denom);
}
