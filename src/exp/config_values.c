/* Reading and writing config values: numbers with ranges, booleans, names, paths with
 * environment variables, crop boxes, FAR and fold lists, and layer specs. A parse either
 * succeeds and stores the value, or leaves the field alone and says why. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp/config_internal.h"

_Static_assert(sizeof(sc_loss) == sizeof(int) && sizeof(sc_sampler) == sizeof(int) &&
                   sizeof(sc_normalize) == sizeof(int) && sizeof(sc_mining) == sizeof(int) &&
                   sizeof(sc_optimizer) == sizeof(int) && sizeof(sc_schedule) == sizeof(int) &&
                   sizeof(sc_init_kind) == sizeof(int),
               "enum fields are written through int");

static int why_(char *why, size_t n, const char *fmt, ...) SC_PRINTF(3, 4);
static int why_(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return SC_ERR;
}

/* ---- scalars -------------------------------------------------------------------------- */

static int parse_long(const char *s, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE)
        return SC_ERR;
    *v = x;
    return SC_OK;
}

static int parse_int_in(const char *s, long lo, long hi, int *v, char *why, size_t wn)
{
    long x;
    if (!*s || parse_long(s, &x) != SC_OK)
        return why_(why, wn, "'%s' is not an integer", s);
    if (x < lo || x > hi)
        return why_(why, wn, "%s is out of range %ld .. %ld", s, lo, hi);
    *v = (int)x;
    return SC_OK;
}

static int parse_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(x))
        return SC_ERR;
    *v = x;
    return SC_OK;
}

static int in_range(double x, double lo, double hi, int lo_open, int hi_open)
{
    return (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
}

static int range_why(char *why, size_t wn, const char *s, double lo, double hi, int lo_open,
                     int hi_open)
{
    char a[40], b[40];
    sc_cfg_format_double(lo, a, sizeof a);
    sc_cfg_format_double(hi, b, sizeof b);
    return why_(why, wn, "%s is out of range %s%s, %s%s", s, lo_open ? "(" : "[", a, b,
                hi_open ? ")" : "]");
}

static int parse_bool(const char *s, int *v)
{
    static const char *const yes[] = {"on", "true", "yes", "1"}, *const no[] = {"off", "false", "no", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, yes[i]) == 0)
            return *v = 1, SC_OK;
        if (strcmp(s, no[i]) == 0)
            return *v = 0, SC_OK;
    }
    return SC_ERR;
}

void sc_cfg_format_double(double v, char *buf, size_t size)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static void format_float(float v, char *buf, size_t size)
{
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, size, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v)
            return;
    }
}

/* ---- text ------------------------------------------------------------------------------ */

static int copy_text(char *dst, const char *s, char *why, size_t wn)
{
    size_t n = strlen(s);
    if (n >= SC_CONFIG_STR)
        return why_(why, wn, "value longer than %d characters", SC_CONFIG_STR - 1);
    /* only reachable through --set: such a value could not be written and read back */
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n' || s[i] == '\r' ||
            (i > 0 && (s[i] == ';' || s[i] == '#') && isspace((unsigned char)s[i - 1])))
            return why_(why, wn, "'%s' contains a line break or a comment marker", s);
    memcpy(dst, s, n + 1);
    return SC_OK;
}

/* $VAR, ${VAR} and $$ -> out. An unset variable is an error: a path silently losing its
 * root would point somewhere unexpected. */
static int expand_env(const char *s, char *out, size_t size, char *why, size_t wn)
{
    size_t len = 0;
    for (const char *p = s; *p;) {
        const char *val = NULL;
        char name[128];
        if (p[0] == '$' && p[1] == '$') {
            val = "$";
            p += 2;
        } else if (p[0] == '$' && (p[1] == '{' || isalpha((unsigned char)p[1]) || p[1] == '_')) {
            int braced = p[1] == '{';
            const char *q = p + 1 + braced;
            size_t n = 0;
            while (isalnum((unsigned char)q[n]) || q[n] == '_')
                n++;
            if (n == 0 || n >= sizeof name || (braced && q[n] != '}'))
                return why_(why, wn, "bad variable reference in '%s'", s);
            memcpy(name, q, n);
            name[n] = '\0';
            val = getenv(name);
            if (!val)
                return why_(why, wn, "environment variable %s is not set", name);
            p = q + n + braced;
        }
        if (val) {
            size_t n = strlen(val);
            if (len + n >= size)
                return why_(why, wn, "value longer than %zu characters after expansion", size - 1);
            memcpy(out + len, val, n);
            len += n;
        } else {
            if (len + 1 >= size)
                return why_(why, wn, "value longer than %zu characters", size - 1);
            out[len++] = *p++;
        }
    }
    out[len] = '\0';
    return SC_OK;
}

/* ---- lists ----------------------------------------------------------------------------- */

/* Splits s at commas into trimmed items; returns the count or -1 when more than max. */
static int split(const char *s, char items[][64], int max)
{
    int n = 0;
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && isspace((unsigned char)*p))
            p++, len--;
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (n == max || len >= 64)
            return -1;
        memcpy(items[n], p, len);
        items[n++][len] = '\0';
        if (!comma)
            return n;
        p = comma + 1;
    }
}

static int parse_crop(sc_config *cfg, const char *s, char *why, size_t wn)
{
    char items[4][64];
    int v[4];
    if (strcmp(s, "none") == 0) {
        cfg->data.crop_x = cfg->data.crop_y = cfg->data.crop_w = cfg->data.crop_h = 0;
        return SC_OK;
    }
    if (split(s, items, 4) != 4)
        return why_(why, wn, "'%s' is not \"none\" or x,y,w,h", s);
    for (int i = 0; i < 4; i++) {
        char w2[128];
        if (parse_int_in(items[i], i < 2 ? 0 : 1, 65536, &v[i], w2, sizeof w2) != SC_OK)
            return why_(why, wn, "%s (x, y >= 0; w, h >= 1)", w2);
    }
    cfg->data.crop_x = v[0], cfg->data.crop_y = v[1], cfg->data.crop_w = v[2], cfg->data.crop_h = v[3];
    return SC_OK;
}

static int parse_far(sc_config *cfg, const cfg_key *k, const char *s, char *why, size_t wn)
{
    char items[SC_CONFIG_MAX_FAR][64];
    double v[SC_CONFIG_MAX_FAR];
    int n = split(s, items, SC_CONFIG_MAX_FAR);
    if (n < 0)
        return why_(why, wn, "more than %d FAR targets", SC_CONFIG_MAX_FAR);
    for (int i = 0; i < n; i++) {
        if (parse_double(items[i], &v[i]) != SC_OK)
            return why_(why, wn, "'%s' is not a number", items[i]);
        if (!in_range(v[i], k->lo, k->hi, k->lo_open, k->hi_open))
            return range_why(why, wn, items[i], k->lo, k->hi, k->lo_open, k->hi_open);
        for (int j = 0; j < i; j++)
            if (v[j] == v[i]) /* each target is a key of metrics.json */
                return why_(why, wn, "'%s' is listed twice", items[i]);
    }
    cfg->eval.n_far = n;
    memcpy(cfg->eval.far, v, (size_t)n * sizeof v[0]);
    return SC_OK;
}

static int parse_folds(sc_config *cfg, const char *s, char *why, size_t wn)
{
    char items[SC_CONFIG_MAX_FOLDS][64];
    unsigned mask = 0;
    if (strcmp(s, "all") == 0) {
        cfg->eval.folds = 0;
        return SC_OK;
    }
    int n = split(s, items, SC_CONFIG_MAX_FOLDS);
    if (n < 0)
        return why_(why, wn, "'%s' is not \"all\" or a list of folds 1 .. %d", s, SC_CONFIG_MAX_FOLDS);
    for (int i = 0; i < n; i++) {
        int f;
        if (parse_int_in(items[i], 1, SC_CONFIG_MAX_FOLDS, &f, why, wn) != SC_OK)
            return SC_ERR;
        if (mask & (1u << (f - 1)))
            return why_(why, wn, "fold %d listed twice", f);
        mask |= 1u << (f - 1);
    }
    cfg->eval.folds = mask;
    return SC_OK;
}

/* ---- one value ------------------------------------------------------------------------- */

int sc_cfg_parse_value(sc_config *cfg, const cfg_key *k, const char *s, char *why, size_t wn)
{
    void *field = (char *)cfg + k->off;
    switch (k->type) {
    case CT_STR:
        return copy_text(field, s, why, wn);
    case CT_NAME:
        if (!*s)
            return why_(why, wn, "empty");
        for (const char *p = s; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
                return why_(why, wn, "'%s': use only letters, digits, '-', '_' and '.'", s);
        return copy_text(field, s, why, wn);
    case CT_PATH: {
        char buf[SC_CONFIG_STR];
        SC_TRY(expand_env(s, buf, sizeof buf, why, wn));
        return copy_text(field, buf, why, wn);
    }
    case CT_INT:
        return parse_int_in(s, (long)k->lo, (long)k->hi, field, why, wn);
    case CT_U64: {
        char *end;
        errno = 0;
        if (!isdigit((unsigned char)*s))
            return why_(why, wn, "'%s' is not a non-negative integer", s);
        unsigned long long x = strtoull(s, &end, 10);
        if (*end || errno == ERANGE)
            return why_(why, wn, "'%s' is not an integer in 0 .. 2^64-1", s);
        *(uint64_t *)field = (uint64_t)x;
        return SC_OK;
    }
    case CT_DBL: {
        double x;
        if (parse_double(s, &x) != SC_OK)
            return why_(why, wn, "'%s' is not a number", s);
        if (!in_range(x, k->lo, k->hi, k->lo_open, k->hi_open))
            return range_why(why, wn, s, k->lo, k->hi, k->lo_open, k->hi_open);
        *(double *)field = x;
        return SC_OK;
    }
    case CT_BOOL:
        if (parse_bool(s, field) != SC_OK)
            return why_(why, wn, "'%s' is not on/off (true/false, yes/no, 1/0)", s);
        return SC_OK;
    case CT_ENUM: {
        char list[256] = "";
        for (int i = 0; k->choices[i]; i++) {
            if (strcmp(s, k->choices[i]) == 0) {
                *(int *)field = i;
                return SC_OK;
            }
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", k->choices[i]);
        }
        return why_(why, wn, "'%s' is not one of: %s", s, list);
    }
    case CT_CROP:
        return parse_crop(cfg, s, why, wn);
    case CT_FAR:
        return parse_far(cfg, k, s, why, wn);
    case CT_FOLDS:
        return parse_folds(cfg, s, why, wn);
    case CT_LAYER:
        break;
    }
    return why_(why, wn, "internal: no parser for this key");
}

void sc_cfg_format_value(const sc_config *cfg, const cfg_key *k, char *buf, size_t size)
{
    const void *field = (const char *)cfg + k->off;
    buf[0] = '\0';
    switch (k->type) {
    case CT_STR:
    case CT_NAME:
        snprintf(buf, size, "%s", (const char *)field);
        break;
    case CT_PATH: {
        /* '$' doubled, so that reading the written value back does not expand it again */
        size_t len = 0;
        for (const char *p = field; *p && len + 2 < size; p++) {
            if (*p == '$')
                buf[len++] = '$';
            buf[len++] = *p;
        }
        buf[len] = '\0';
        break;
    }
    case CT_INT:
        snprintf(buf, size, "%d", *(const int *)field);
        break;
    case CT_U64:
        snprintf(buf, size, "%" PRIu64, *(const uint64_t *)field);
        break;
    case CT_DBL:
        sc_cfg_format_double(*(const double *)field, buf, size);
        break;
    case CT_BOOL:
        snprintf(buf, size, "%s", *(const int *)field ? "on" : "off");
        break;
    case CT_ENUM:
        snprintf(buf, size, "%s", k->choices[*(const int *)field]);
        break;
    case CT_CROP: {
        const sc_data_cfg *d = &cfg->data;
        if (d->crop_w <= 0 || d->crop_h <= 0)
            snprintf(buf, size, "none");
        else
            snprintf(buf, size, "%d,%d,%d,%d", d->crop_x, d->crop_y, d->crop_w, d->crop_h);
        break;
    }
    case CT_FAR: {
        size_t len = 0;
        for (int i = 0; i < cfg->eval.n_far && len < size; i++) {
            char num[40];
            sc_cfg_format_double(cfg->eval.far[i], num, sizeof num);
            len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "," : "", num);
        }
        break;
    }
    case CT_FOLDS: {
        size_t len = 0;
        if (cfg->eval.folds == 0) {
            snprintf(buf, size, "all");
            break;
        }
        for (int f = 1; f <= SC_CONFIG_MAX_FOLDS && len < size; f++)
            if (cfg->eval.folds & (1u << (f - 1)))
                len += (size_t)snprintf(buf + len, size - len, "%s%d", len ? "," : "", f);
        break;
    }
    case CT_LAYER:
        break;
    }
}

/* ---- layers ---------------------------------------------------------------------------- */

typedef enum { LP_INT, LP_FLOAT, LP_BOOL } lp_type;

typedef struct layer_param {
    const char *name;
    lp_type type;
    size_t off;
    double lo, hi;
    int lo_open, hi_open;
} layer_param;

#define LOFF(f) offsetof(sc_layer_desc, f)
enum { P_OUT, P_K, P_STRIDE, P_PAD, P_BIAS, P_SLOPE, P_EPS, P_MOMENTUM, P_P, P_COUNT };
static const layer_param params[P_COUNT] = {
    [P_OUT] = {"out", LP_INT, LOFF(out), 1, 1 << 20, 0, 0},
    [P_K] = {"k", LP_INT, LOFF(k), 0, 64, 0, 0},
    [P_STRIDE] = {"stride", LP_INT, LOFF(stride), 1, 64, 0, 0},
    [P_PAD] = {"pad", LP_INT, LOFF(pad), 0, 64, 0, 0},
    [P_BIAS] = {"bias", LP_BOOL, LOFF(bias), 0, 1, 0, 0},
    [P_SLOPE] = {"slope", LP_FLOAT, LOFF(slope), 0, 1, 0, 0},
    [P_EPS] = {"eps", LP_FLOAT, LOFF(eps), 0, 1, 1, 1},
    [P_MOMENTUM] = {"momentum", LP_FLOAT, LOFF(momentum), 0, 1, 0, 0},
    [P_P] = {"p", LP_FLOAT, LOFF(p), 0, 1, 0, 1},
};

/* Parameters of each kind, in the order they are written; -1 ends a list. */
static const int kind_params[SC_LAYER_KIND_COUNT][6] = {
    [SC_LAYER_CONV] = {P_OUT, P_K, P_STRIDE, P_PAD, P_BIAS, -1},
    [SC_LAYER_MAXPOOL] = {P_K, P_STRIDE, P_PAD, -1},
    [SC_LAYER_AVGPOOL] = {P_K, P_STRIDE, P_PAD, -1},
    [SC_LAYER_RELU] = {-1},
    [SC_LAYER_LEAKY_RELU] = {P_SLOPE, -1},
    [SC_LAYER_BATCHNORM] = {P_EPS, P_MOMENTUM, -1},
    [SC_LAYER_DROPOUT] = {P_P, -1},
    [SC_LAYER_LINEAR] = {P_OUT, P_BIAS, -1},
    [SC_LAYER_L2NORM] = {P_EPS, -1},
};

static void kind_param_list(int kind, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; kind_params[kind][i] >= 0; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
                                params[kind_params[kind][i]].name);
    if (len == 0)
        snprintf(buf, size, "no parameters");
}

static int parse_param(const layer_param *p, const char *kind, const char *s, sc_layer_desc *d,
                       char *why, size_t wn)
{
    void *field = (char *)d + p->off;
    if (p->type == LP_BOOL) {
        if (parse_bool(s, field) != SC_OK)
            return why_(why, wn, "%s %s: '%s' is not on/off (1/0)", kind, p->name, s);
        return SC_OK;
    }
    if (p->type == LP_INT) {
        char w2[160];
        if (parse_int_in(s, (long)p->lo, (long)p->hi, field, w2, sizeof w2) != SC_OK)
            return why_(why, wn, "%s %s: %s", kind, p->name, w2);
        return SC_OK;
    }
    double x;
    if (parse_double(s, &x) != SC_OK)
        return why_(why, wn, "%s %s: '%s' is not a number", kind, p->name, s);
    x = (double)(float)x; /* the range holds for the float actually stored (1e-50 -> 0) */
    if (!in_range(x, p->lo, p->hi, p->lo_open, p->hi_open)) {
        char w2[160];
        range_why(w2, sizeof w2, s, p->lo, p->hi, p->lo_open, p->hi_open);
        return why_(why, wn, "%s %s: %s", kind, p->name, w2);
    }
    *(float *)field = (float)x;
    return SC_OK;
}

int sc_cfg_parse_layer(const char *spec, sc_layer_desc *out, char *why, size_t wn)
{
    char buf[SC_CONFIG_STR], *save = NULL;
    if (strlen(spec) >= sizeof buf)
        return why_(why, wn, "layer spec too long");
    strcpy(buf, spec);
    char *tok = strtok_r(buf, " \t", &save);
    if (!tok)
        return why_(why, wn, "empty layer (expected e.g. \"conv out=16 k=3\")");
    int kind = -1;
    char kinds[256] = "";
    for (int i = 0; i < SC_LAYER_KIND_COUNT; i++) {
        const char *name = sc_layer_kind_name((sc_layer_kind)i);
        if (strcmp(tok, name) == 0)
            kind = i;
        size_t len = strlen(kinds);
        snprintf(kinds + len, sizeof kinds - len, "%s%s", i ? ", " : "", name);
    }
    if (kind < 0)
        return why_(why, wn, "unknown layer kind '%s' (expected one of: %s)", tok, kinds);
    const char *kname = sc_layer_kind_name((sc_layer_kind)kind);
    sc_layer_desc d = sc_layer_default((sc_layer_kind)kind);
    int given[P_COUNT] = {0};
    while ((tok = strtok_r(NULL, " \t", &save))) {
        char *eq = strchr(tok, '=');
        char list[128];
        kind_param_list(kind, list, sizeof list);
        if (!eq || eq == tok || !eq[1])
            return why_(why, wn, "%s: '%s' is not key=value (%s takes %s)", kname, tok, kname, list);
        *eq = '\0';
        int pi = -1;
        for (int i = 0; kind_params[kind][i] >= 0; i++)
            if (strcmp(params[kind_params[kind][i]].name, tok) == 0)
                pi = kind_params[kind][i];
        if (pi < 0)
            return why_(why, wn, "%s: unknown parameter '%s' (%s takes %s)", kname, tok, kname, list);
        if (given[pi])
            return why_(why, wn, "%s: parameter '%s' given twice", kname, tok);
        given[pi] = 1;
        SC_TRY(parse_param(&params[pi], kname, eq + 1, &d, why, wn));
    }
    if ((kind == SC_LAYER_CONV || kind == SC_LAYER_LINEAR) && !given[P_OUT])
        return why_(why, wn, "%s needs out=N", kname);
    if (kind == SC_LAYER_CONV && !given[P_K])
        return why_(why, wn, "conv needs k=N (kernel size)");
    if (kind == SC_LAYER_CONV && d.k < 1)
        return why_(why, wn, "conv k: 0 is out of range 1 .. 64");
    if (kind == SC_LAYER_MAXPOOL && d.k < 1)
        return why_(why, wn, "maxpool k: 0 is out of range 1 .. 64");
    if (kind == SC_LAYER_MAXPOOL || kind == SC_LAYER_AVGPOOL) {
        if (!given[P_STRIDE])
            d.stride = d.k > 0 ? d.k : 1; /* PyTorch: stride defaults to the window */
        if (d.pad > d.k / 2)
            return why_(why, wn, "%s pad: %d is more than half the window k=%d", kname, d.pad, d.k);
    }
    *out = d;
    return SC_OK;
}

void sc_cfg_format_layer(const sc_layer_desc *d, char *buf, size_t size)
{
    int kind = (int)d->kind;
    size_t len = (size_t)snprintf(buf, size, "%s", sc_layer_kind_name(d->kind));
    if (kind < 0 || kind >= SC_LAYER_KIND_COUNT)
        return;
    for (int i = 0; kind_params[kind][i] >= 0 && len < size; i++) {
        const layer_param *p = &params[kind_params[kind][i]];
        const void *field = (const char *)d + p->off;
        char num[40];
        if (p->type == LP_FLOAT)
            format_float(*(const float *)field, num, sizeof num);
        else
            snprintf(num, sizeof num, "%d", *(const int *)field);
        len += (size_t)snprintf(buf + len, size - len, " %s=%s", p->name, num);
    }
}
