/* Tuning store: one "key = value" file per device under the user's cache folder. Small and
 * rarely written (by tuners), read once per device and process by whoever caches the
 * result, so plain stdio and a rewrite-and-rename on every set are enough. */
#include "siamcl/tuning.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "siamcl/error.h"

static int cache_dir(char *dir, size_t size)
{
    const char *s = getenv("SIAMCL_CACHE_DIR");
    int n;
    if (s && *s)
        n = snprintf(dir, size, "%s", s);
    else if ((s = getenv("XDG_CACHE_HOME")) && *s)
        n = snprintf(dir, size, "%s/siamcl", s);
    else if ((s = getenv("HOME")) && *s)
        n = snprintf(dir, size, "%s/.cache/siamcl", s);
    else
        return sc_fail("no cache folder for tuning results: set SIAMCL_CACHE_DIR, "
                       "XDG_CACHE_HOME or HOME");
    if (n < 0 || (size_t)n >= size)
        return sc_fail("cache folder path too long: %s", s);
    return SC_OK;
}

int sc_tuning_path(const sc_ctx *ctx, char *path, size_t size)
{
    char dir[900];
    SC_TRY(cache_dir(dir, sizeof dir));
    /* FNV-1a over everything that makes tuned values valid: the same device under another
     * driver (version) gets a file of its own. */
    const char *parts[4] = {ctx->dev.platform_name, ctx->dev.name, ctx->dev.version,
                            ctx->dev.driver};
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 4; i++) {
        for (const char *c = parts[i]; *c; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ull;
        h = (h ^ '|') * 1099511628211ull;
    }
    /* A readable prefix from the device name: letters, digits, '-'. */
    char name[40];
    size_t j = 0;
    for (const char *c = ctx->dev.name; *c && j + 1 < sizeof name; c++) {
        char ch = *c;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        name[j++] = ok ? ch : '-';
    }
    name[j] = '\0';
    int n = snprintf(path, size, "%s/tuning/%s-%016llx.txt", dir, name, (unsigned long long)h);
    if (n < 0 || (size_t)n >= size)
        return sc_fail("tuning file path too long under %s", dir);
    return SC_OK;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Splits "key = value" in place; 0 for comments, blank or malformed lines. */
static int split_line(char *line, char **key, char **value)
{
    char *s = trim(line);
    if (!*s || *s == '#')
        return 0;
    char *eq = strchr(s, '=');
    if (!eq)
        return 0;
    *eq = '\0';
    *key = trim(s);
    *value = trim(eq + 1);
    return **key != '\0';
}

int sc_tuning_get(const sc_ctx *ctx, const char *key, char *value, size_t size)
{
    const char *off = getenv("SIAMCL_TUNING");
    if (off && strcmp(off, "off") == 0)
        return 0;
    char path[1024];
    if (sc_tuning_path(ctx, path, sizeof path) != SC_OK)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[1024];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char *k, *v;
        if (split_line(line, &k, &v) && strcmp(k, key) == 0) {
            snprintf(value, size, "%s", v);
            found = 1;
        }
    }
    fclose(f);
    return found;
}

/* mkdir -p for the folders above `path`. */
static int make_parents(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return sc_fail("creating the tuning folder %s: %s", buf, strerror(errno));
        *s = '/';
    }
    return SC_OK;
}

static int valid_key(const char *key)
{
    if (!*key)
        return 0;
    for (const char *c = key; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '_' || *c == '-'))
            return 0;
    return 1;
}

int sc_tuning_set(const sc_ctx *ctx, const char *key, const char *value)
{
    if (!valid_key(key))
        return sc_fail("tuning key '%s': use letters, digits, '.', '_' and '-'", key);
    if (strpbrk(value, "\r\n"))
        return sc_fail("tuning value for '%s' must be one line", key);
    char path[1024], tmp[1100];
    SC_TRY(sc_tuning_path(ctx, path, sizeof path));
    SC_TRY(make_parents(path));
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *out = fopen(tmp, "w");
    if (!out)
        return sc_fail("writing tuning file %s: %s", tmp, strerror(errno));
    fprintf(out, "# siamcl tuning results for %s | %s | %s | %s\n", ctx->dev.name,
            ctx->dev.platform_name, ctx->dev.version, ctx->dev.driver);
    /* Keep every other key of the old file, in order; replace ours. */
    FILE *in = fopen(path, "r");
    if (in) {
        char line[1024], copy[1024];
        while (fgets(line, sizeof line, in)) {
            snprintf(copy, sizeof copy, "%s", line);
            char *k, *v;
            if (split_line(copy, &k, &v) && strcmp(k, key) != 0)
                fprintf(out, "%s = %s\n", k, v);
        }
        fclose(in);
    }
    fprintf(out, "%s = %s\n", key, value);
    int bad = ferror(out);
    if (fclose(out) != 0 || bad) {
        remove(tmp);
        return sc_fail("writing tuning file %s failed", tmp);
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return sc_fail("replacing tuning file %s: %s", path, strerror(e));
    }
    return SC_OK;
}
