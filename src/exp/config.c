/* The strict INI reader for experiments (libinih underneath), --set overrides, the checks
 * across keys, and writing the resolved config back out.
 *
 * libinih does not tell its handler the line number, so we feed it through our own reader:
 * one physical line per call, counted, which also lets us normalise each line first (strip
 * leading whitespace so nothing becomes a multi-line continuation, strip inline comments,
 * check section headers even when the section has no keys). */
#include "siamcl/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/util.h"
#include "exp/config_internal.h"

#define RAW_LINE 4096

typedef struct parser {
    sc_config *cfg;
    const char *name; /* file name in messages */
    FILE *f;          /* source: a file ... */
    const char *text; /* ... or text in memory */
    size_t pos;
    int line;
    int err_line;
    char err[1536];
    int seen[SC_CONFIG_MAX_KEYS]; /* line each key was set on in this read */
    int layer_line;               /* first layer line of this read */
} parser;

static void error_at(parser *ps, const char *fmt, ...) SC_PRINTF(2, 3);
static void error_at(parser *ps, const char *fmt, ...)
{
    if (ps->err_line)
        return; /* the first error is the one worth reading */
    int n = snprintf(ps->err, sizeof ps->err, "%s:%d: ", ps->name, ps->line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err + n, sizeof ps->err - (size_t)n, fmt, ap);
    va_end(ap);
    ps->err_line = ps->line;
}

/* One physical line without its '\n' into buf; *truncated when it did not fit. */
static int raw_line(parser *ps, char *buf, size_t size, int *truncated)
{
    size_t n = 0;
    int c, any = 0;
    *truncated = 0;
    for (;;) {
        if (ps->f) {
            c = getc(ps->f);
        } else {
            c = ps->text[ps->pos] ? (unsigned char)ps->text[ps->pos] : EOF;
            if (c != EOF)
                ps->pos++;
        }
        if (c == EOF || c == '\n')
            break;
        any = 1;
        if (n + 1 < size)
            buf[n++] = (char)c;
        else
            *truncated = 1;
    }
    buf[n] = '\0';
    return any || c == '\n';
}

static void check_section_header(parser *ps, const char *s)
{
    const char *end = strchr(s, ']');
    if (!end)
        return; /* libinih reports the syntax error */
    char name[128];
    size_t n = (size_t)(end - s - 1);
    if (n >= sizeof name)
        n = sizeof name - 1;
    memcpy(name, s + 1, n);
    name[n] = '\0';
    for (const char *p = end + 1; *p; p++)
        if (!isspace((unsigned char)*p)) {
            error_at(ps, "[%s]: unexpected text after the section header", name);
            return;
        }
    if (!sc_cfg_section_known(name))
        error_at(ps, "[%s]: unknown section (expected experiment, data, model, train, eval)", name);
}

/* libinih's reader: fgets-like, but always one whole line, normalised. */
static char *reader(char *str, int num, void *stream)
{
    parser *ps = stream;
    char buf[RAW_LINE];
    int truncated;
    if (!raw_line(ps, buf, sizeof buf, &truncated))
        return NULL;
    ps->line++;
    char *s = buf;
    if (ps->line == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
        (unsigned char)s[2] == 0xBF)
        s += 3; /* UTF-8 byte order mark */
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0'; /* also drops the '\r' of CRLF files */
    if (*s == ';' || *s == '#') {
        *s = '\0';
    } else {
        for (size_t i = 1; s[i]; i++)
            if ((s[i] == ';' || s[i] == '#') && isspace((unsigned char)s[i - 1])) {
                s[i] = '\0';
                break;
            }
    }
    if (*s == '[')
        check_section_header(ps, s);
    if (truncated || strlen(s) + 2 > (size_t)num) {
        error_at(ps, "line longer than %d characters", (truncated ? RAW_LINE : num) - 2);
        *s = '\0';
    }
    snprintf(str, (size_t)num, "%s\n", s);
    return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    parser *ps = user;
    sc_config *cfg = ps->cfg;
    char why[1024];
    if (ps->err_line)
        return 1;
    if (!*section) {
        error_at(ps, "%s: key outside any section (start with [experiment])", name);
        return 0;
    }
    if (!sc_cfg_section_known(section)) {
        error_at(ps, "[%s]: unknown section (expected experiment, data, model, train, eval)",
                 section);
        return 0;
    }
    int ki = sc_cfg_find(section, name);
    if (ki < 0) {
        char list[512];
        sc_cfg_key_list(section, list, sizeof list);
        error_at(ps, "[%s] %s: unknown key (keys of [%s]: %s)", section, name, section, list);
        return 0;
    }
    const cfg_key *k = &sc_cfg_keys[ki];
    if (k->type == CT_LAYER) {
        sc_layer_desc d;
        if (sc_cfg_parse_layer(value, &d, why, sizeof why) != SC_OK) {
            error_at(ps, "[model] layer: %s", why);
            return 0;
        }
        if (!ps->layer_line) { /* a file's layers replace whatever was there */
            ps->layer_line = ps->line;
            cfg->model.n_layers = 0;
            cfg->origin_[ki] = ps->line;
        }
        if (cfg->model.n_layers == SC_CONFIG_MAX_LAYERS) {
            error_at(ps, "[model] layer: more than %d layers", SC_CONFIG_MAX_LAYERS);
            return 0;
        }
        d.line = ps->line;
        cfg->model.layer[cfg->model.n_layers++] = d;
        return 1;
    }
    if (ps->seen[ki]) {
        error_at(ps, "[%s] %s: given twice (first on line %d)", section, name, ps->seen[ki]);
        return 0;
    }
    if (sc_cfg_parse_value(cfg, k, value, why, sizeof why) != SC_OK) {
        error_at(ps, "[%s] %s: %s", section, name, why);
        return 0;
    }
    ps->seen[ki] = ps->line;
    cfg->origin_[ki] = ps->line;
    return 1;
}

static int parse(parser *ps)
{
    int ret = ini_parse_stream(reader, ps, handler, ps);
    if (ps->err_line && (ret <= 0 || ret >= ps->err_line))
        return sc_fail("%s", ps->err);
    if (ret > 0)
        return sc_fail("%s:%d: syntax error (expected [section], key = value, or a comment)",
                       ps->name, ret);
    if (ret < 0)
        return sc_fail("%s: cannot parse (libinih error %d)", ps->name, ret);
    return SC_OK;
}

void sc_config_init(sc_config *cfg)
{
    char why[256];
    memset(cfg, 0, sizeof *cfg);
    /* defaults go through the same parsers as the files (a test checks they all parse) */
    for (int i = 0; i < sc_cfg_nkeys; i++)
        if (sc_cfg_keys[i].def)
            (void)sc_cfg_parse_value(cfg, &sc_cfg_keys[i], sc_cfg_keys[i].def, why, sizeof why);
}

int sc_config_read(sc_config *cfg, const char *path)
{
    parser ps = {.cfg = cfg, .name = path};
    ps.f = fopen(path, "r");
    if (!ps.f)
        return sc_fail("%s: cannot open: %s", path, strerror(errno));
    snprintf(cfg->path, sizeof cfg->path, "%s", path);
    int rc = parse(&ps);
    if (rc == SC_OK && ferror(ps.f))
        rc = sc_fail("%s: read error", path);
    fclose(ps.f);
    return rc;
}

int sc_config_read_string(sc_config *cfg, const char *text, const char *name)
{
    parser ps = {.cfg = cfg, .name = name ? name : "config", .text = text ? text : ""};
    snprintf(cfg->path, sizeof cfg->path, "%s", ps.name);
    return parse(&ps);
}

static void trim(char *s)
{
    size_t n = strlen(s), i = 0;
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    while (isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, n - i + 1);
}

static int set_layer(sc_config *cfg, const char *assign, const char *index, const char *value)
{
    sc_model_cfg *m = &cfg->model;
    char *end;
    char why[1024];
    long n = strtol(index, &end, 10);
    if (!*index || *end || n < 1 || n > m->n_layers + 1)
        return sc_fail("--set %s: [model] layer: '%s' is not a layer number 1 .. %d "
                       "(%d = append)", assign, index, m->n_layers + 1, m->n_layers + 1);
    int i = (int)n - 1;
    if (strcmp(value, "none") == 0) {
        if (i == m->n_layers)
            return sc_fail("--set %s: [model] layer: there is no layer %ld to remove", assign, n);
        memmove(&m->layer[i], &m->layer[i + 1], (size_t)(m->n_layers - i - 1) * sizeof m->layer[0]);
        m->n_layers--;
        return SC_OK;
    }
    sc_layer_desc d;
    if (sc_cfg_parse_layer(value, &d, why, sizeof why) != SC_OK)
        return sc_fail("--set %s: [model] layer: %s", assign, why);
    if (i == m->n_layers && m->n_layers == SC_CONFIG_MAX_LAYERS)
        return sc_fail("--set %s: [model] layer: more than %d layers", assign, SC_CONFIG_MAX_LAYERS);
    d.line = 0;
    m->layer[i] = d;
    if (i == m->n_layers)
        m->n_layers++;
    cfg->origin_[sc_cfg_find("model", "layer")] = -1;
    return SC_OK;
}

int sc_config_set(sc_config *cfg, const char *assign)
{
    char key[256], value[SC_CONFIG_STR + 64], why[1024];
    const char *eq = strchr(assign, '=');
    if (!eq || (size_t)(eq - assign) >= sizeof key || strlen(eq + 1) >= sizeof value)
        return sc_fail("--set %s: expected section.key=value", assign);
    memcpy(key, assign, (size_t)(eq - assign));
    key[eq - assign] = '\0';
    strcpy(value, eq + 1);
    trim(key);
    trim(value);
    char *dot = strchr(key, '.');
    if (!dot)
        return sc_fail("--set %s: expected section.key=value", assign);
    *dot = '\0';
    const char *section = key, *name = dot + 1;
    if (!sc_cfg_section_known(section))
        return sc_fail("--set %s: [%s]: unknown section (expected experiment, data, model, "
                       "train, eval)", assign, section);
    if (strcmp(section, "model") == 0 && strncmp(name, "layer", 5) == 0 &&
        (name[5] == '.' || name[5] == '\0')) {
        if (name[5] == '\0')
            return sc_fail("--set %s: [model] layer: name the layer: model.layer.N=SPEC "
                           "(N = 1 .. %d; SPEC none removes it)", assign, cfg->model.n_layers + 1);
        return set_layer(cfg, assign, name + 6, value);
    }
    int ki = sc_cfg_find(section, name);
    if (ki < 0) {
        char list[512];
        sc_cfg_key_list(section, list, sizeof list);
        return sc_fail("--set %s: [%s] %s: unknown key (keys of [%s]: %s)", assign, section,
                       name, section, list);
    }
    if (sc_cfg_parse_value(cfg, &sc_cfg_keys[ki], value, why, sizeof why) != SC_OK)
        return sc_fail("--set %s: [%s] %s: %s", assign, section, name, why);
    cfg->origin_[ki] = -1;
    return SC_OK;
}

/* "FILE:LINE: [section] key: " for messages about a key's current value. */
static int fail_key(const sc_config *cfg, const char *section, const char *name,
                    const char *fmt, ...) SC_PRINTF(4, 5);
static int fail_key(const sc_config *cfg, const char *section, const char *name,
                    const char *fmt, ...)
{
    char where[SC_CONFIG_STR + 300], why[1024];
    int ki = sc_cfg_find(section, name), origin = ki >= 0 ? cfg->origin_[ki] : 0;
    const char *file = cfg->path[0] ? cfg->path : "config";
    if (origin > 0)
        snprintf(where, sizeof where, "%s:%d: ", file, origin);
    else if (origin < 0)
        snprintf(where, sizeof where, "--set %s.%s: ", section, name);
    else
        snprintf(where, sizeof where, "%s: ", file);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return sc_fail("%s[%s] %s: %s", where, section, name, why);
}

int sc_config_check(sc_config *cfg)
{
    const sc_data_cfg *d = &cfg->data;
    const sc_train_cfg *t = &cfg->train;
    if (!cfg->experiment.name[0])
        return fail_key(cfg, "experiment", "name", "required key missing");
    if (cfg->model.n_layers == 0)
        return fail_key(cfg, "model", "layer", "required key missing (at least one layer)");
    if (!d->root[0]) {
        const char *env = getenv("LFW_DIR");
        if (!env || !*env)
            return fail_key(cfg, "data", "root", "not set, and LFW_DIR is not in the environment");
        if (strlen(env) >= sizeof d->root)
            return fail_key(cfg, "data", "root", "LFW_DIR is longer than %d characters",
                            SC_CONFIG_STR - 1);
        strcpy(cfg->data.root, env);
    }
    if (t->loss == SC_LOSS_TRIPLET && d->sampler != SC_SAMPLER_PK)
        return fail_key(cfg, "train", "loss", "triplet needs [data] sampler = pk (P x K identity "
                        "batches), not %s", sc_sampler_name(d->sampler));
    if (t->loss == SC_LOSS_CONTRASTIVE && d->sampler == SC_SAMPLER_PK)
        return fail_key(cfg, "data", "sampler", "pk batches need [train] loss = triplet "
                        "(contrastive trains on pairs: sampler pairs or balanced)");
    if (t->warmup_epochs > 0 && t->warmup_epochs >= t->epochs)
        return fail_key(cfg, "train", "warmup_epochs", "%d is not less than epochs (%d)",
                        t->warmup_epochs, t->epochs);
    if (t->schedule == SC_SCHED_COSINE && t->min_lr > t->lr)
        return fail_key(cfg, "train", "min_lr", "%g is above lr (%g)", t->min_lr, t->lr);
    if (d->jitter > d->image_size / 2)
        return fail_key(cfg, "data", "jitter", "%d is more than half of image_size (%d)",
                        d->jitter, d->image_size);
    if (cfg->eval.n_far < 1)
        return fail_key(cfg, "eval", "far", "at least one FAR target is needed");
    return SC_OK;
}

int sc_config_load(sc_config *cfg, const char *path)
{
    sc_config_init(cfg);
    SC_TRY(sc_config_read(cfg, path));
    return sc_config_check(cfg);
}

/* ---- writing ---------------------------------------------------------------------------- */

typedef struct text {
    char *buf;
    size_t len, cap;
    int failed;
} text;

static void add(text *t, const char *fmt, ...) SC_PRINTF(2, 3);
static void add(text *t, const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2 && !t->failed; attempt++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 4096;
        while (cap <= t->len + (size_t)n)
            cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->failed = 1;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

char *sc_config_format(const sc_config *cfg)
{
    text t = {0};
    char value[SC_CONFIG_STR + 64];
    add(&t, "; resolved experiment config: every key, defaults included (see "
            "include/siamcl/config.h)\n");
    for (int s = 0; sc_cfg_sections[s]; s++) {
        add(&t, "\n[%s]\n", sc_cfg_sections[s]);
        for (int i = 0; i < sc_cfg_nkeys; i++) {
            const cfg_key *k = &sc_cfg_keys[i];
            if (strcmp(k->section, sc_cfg_sections[s]) != 0)
                continue;
            if (k->type == CT_LAYER) {
                for (int l = 0; l < cfg->model.n_layers; l++) {
                    sc_cfg_format_layer(&cfg->model.layer[l], value, sizeof value);
                    add(&t, "layer = %s\n", value);
                }
                continue;
            }
            sc_cfg_format_value(cfg, k, value, sizeof value);
            add(&t, value[0] ? "%s = %s\n" : "%s =\n", k->name, value);
        }
    }
    if (t.failed) {
        free(t.buf);
        sc_fail("config: out of memory formatting");
        return NULL;
    }
    return t.buf;
}

int sc_config_write(const sc_config *cfg, const char *path)
{
    char *s = sc_config_format(cfg);
    if (!s)
        return SC_ERR;
    char tmp[PATH_MAX];
    FILE *f;
    int rc = sc_atomic_open(path, tmp, sizeof tmp, &f);
    if (rc == SC_OK) {
        fputs(s, f);
        rc = sc_atomic_commit(f, tmp, path);
    }
    free(s);
    return rc;
}

int sc_config_get(const sc_config *cfg, const char *key, char *buf, size_t size)
{
    char section[64];
    const char *dot = strchr(key, '.');
    if (!dot || (size_t)(dot - key) >= sizeof section)
        return sc_fail("config: '%s' is not section.key", key);
    memcpy(section, key, (size_t)(dot - key));
    section[dot - key] = '\0';
    const char *name = dot + 1;
    if (strcmp(section, "model") == 0 && strncmp(name, "layer.", 6) == 0) {
        char *end;
        long n = strtol(name + 6, &end, 10);
        if (*end || n < 1 || n > cfg->model.n_layers)
            return sc_fail("config: %s: no such layer (%d layers)", key, cfg->model.n_layers);
        sc_cfg_format_layer(&cfg->model.layer[n - 1], buf, size);
        return SC_OK;
    }
    int ki = sc_cfg_find(section, name);
    if (ki < 0 || sc_cfg_keys[ki].type == CT_LAYER)
        return sc_fail("config: %s: unknown key", key);
    sc_cfg_format_value(cfg, &sc_cfg_keys[ki], buf, size);
    return SC_OK;
}

int sc_config_diff(const sc_config *a, const sc_config *b, char *key, size_t size)
{
    char va[SC_CONFIG_STR + 64], vb[SC_CONFIG_STR + 64];
    for (int i = 0; i < sc_cfg_nkeys; i++) {
        const cfg_key *k = &sc_cfg_keys[i];
        if (k->type == CT_LAYER) {
            if (a->model.n_layers != b->model.n_layers) {
                if (key)
                    snprintf(key, size, "model.layers");
                return 1;
            }
            for (int l = 0; l < a->model.n_layers; l++) {
                sc_cfg_format_layer(&a->model.layer[l], va, sizeof va);
                sc_cfg_format_layer(&b->model.layer[l], vb, sizeof vb);
                if (strcmp(va, vb) != 0) {
                    if (key)
                        snprintf(key, size, "model.layer.%d", l + 1);
                    return 1;
                }
            }
            continue;
        }
        sc_cfg_format_value(a, k, va, sizeof va);
        sc_cfg_format_value(b, k, vb, sizeof vb);
        if (strcmp(va, vb) != 0) {
            if (key)
                snprintf(key, size, "%s.%s", k->section, k->name);
            return 1;
        }
    }
    return 0;
}

int sc_config_data_path(const sc_config *cfg, const char *rel, char *out, size_t size)
{
    const char *root = cfg->data.root;
    int n;
    if (rel[0] == '/' || !root[0])
        n = snprintf(out, size, "%s", rel);
    else
        n = snprintf(out, size, "%s%s%s", root, root[strlen(root) - 1] == '/' ? "" : "/", rel);
    if (n < 0 || (size_t)n >= size)
        return sc_fail("%s/%s: path too long", root, rel);
    return SC_OK;
}
