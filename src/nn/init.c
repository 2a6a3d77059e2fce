/* Seeded parameter initialisation. Done once on the host (a few MB) and uploaded: the
 * numbers are then identical on every device, which makes runs comparable across vendors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/nn.h"

static const char *const init_names[] = {"torch", "kaiming", "xavier"};

const char *sc_init_name(sc_init init)
{
    return (unsigned)init < 3 ? init_names[init] : "?";
}

int sc_init_parse(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, init_names[i]) == 0)
            return i;
    return -1;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) { return (splitmix64(s) >> 11) * (1.0 / 9007199254740992.0); }

static double normal(uint64_t *s)
{
    double u1 = uniform(s), u2 = uniform(s);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

size_t sc_net_param_count(const sc_net *net)
{
    size_t n = 0;
    for (int i = 0; i < net->nlayers; i++)
        n += net->layers[i].w_n + net->layers[i].b_n;
    return n;
}

int sc_net_init(sc_net *net, sc_init init, uint64_t seed)
{
    float *p = calloc(net->nparams ? net->nparams : 1, sizeof *p);
    if (!p)
        return sc_fail("out of host memory");
    uint64_t s = seed ^ 0x5EED5EED5EED5EEDull;
    for (int i = 0; i < net->nlayers; i++) {
        const sc_layer *L = &net->layers[i];
        if (L->d.kind == SC_LAYER_BATCHNORM) {
            for (size_t j = 0; j < L->w_n; j++)
                p[L->w_off + j] = 1.0f; /* gamma = 1, beta = 0 */
            continue;
        }
        if (L->d.kind != SC_LAYER_CONV && L->d.kind != SC_LAYER_LINEAR)
            continue;
        size_t kk = L->d.kind == SC_LAYER_CONV ? (size_t)L->d.k * L->d.k : 1;
        double fan_in = (double)L->w_n / (double)L->d.out;
        double fan_out = (double)L->d.out * kk;
        for (size_t j = 0; j < L->w_n; j++) {
            double v;
            switch (init) {
            case SC_INIT_KAIMING: v = normal(&s) * sqrt(2.0 / fan_in); break;
            case SC_INIT_XAVIER: v = (2 * uniform(&s) - 1) * sqrt(6.0 / (fan_in + fan_out)); break;
            default: v = (2 * uniform(&s) - 1) / sqrt(fan_in); break;
            }
            p[L->w_off + j] = (float)v;
        }
        for (size_t j = 0; j < L->b_n; j++)
            p[L->b_off + j] = init == SC_INIT_TORCH ? (float)((2 * uniform(&s) - 1) / sqrt(fan_in)) : 0.0f;
    }
    int rc = sc_tensor_upload(net->ctx, &net->params, p);
    free(p);
    return rc;
}
