/* roc.png, loss.png and errors.png: written, valid PNGs (read back with cairo) of the stated
 * size, with something drawn, the images' colours where they belong, and no temporary file
 * left behind. Host only. */
#include <cairo.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "siamcl/plot.h"

static char dir[64];

/* Each test runs in its own process: drop cairo's and fontconfig's caches at its end (the
 * order cairo's own test suite uses) so that the sanitizer build's leak checker sees only our
 * allocations. FcFini is looked up at run time: fontconfig is cairo's dependency, not ours. */
static void release_fonts(void)
{
    cairo_debug_reset_static_data();
    void *fc = dlopen("libfontconfig.so.1", RTLD_LAZY);
    if (fc) {
        void (*fc_fini)(void);
        *(void **)&fc_fini = dlsym(fc, "FcFini");
        if (fc_fini)
            fc_fini();
        dlclose(fc);
    }
}

TestSuite(plot, .fini = release_fonts);

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/siamcl-plot-XXXXXX");
    cr_assert(mkdtemp(dir), "mkdtemp");
}

/* Only `keep` may be in the folder (no "*.tmp.*" leftovers); removes it and the folder. */
static void clean_dir(const char *keep)
{
    DIR *d = opendir(dir);
    cr_assert(d);
    struct dirent *e;
    int others = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (!keep || strcmp(e->d_name, keep) != 0)
            others++;
        char p[sizeof dir + sizeof e->d_name + 2];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        remove(p);
    }
    closedir(d);
    rmdir(dir);
    cr_expect_eq(others, 0, "unexpected files next to %s", keep ? keep : "(nothing)");
}

typedef struct png_info {
    int w, h;
    size_t non_white, red, blue;
} png_info;

static png_info read_png(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s not written", path);
    unsigned char magic[8];
    cr_assert_eq(fread(magic, 1, 8, f), 8);
    fclose(f);
    cr_assert(memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0, "%s is not a PNG", path);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    cr_assert_eq(cairo_surface_status(s), CAIRO_STATUS_SUCCESS, "%s: %s", path,
                 cairo_status_to_string(cairo_surface_status(s)));
    png_info r = {cairo_image_surface_get_width(s), cairo_image_surface_get_height(s), 0, 0, 0};
    cairo_format_t fmt = cairo_image_surface_get_format(s);
    cr_assert(fmt == CAIRO_FORMAT_RGB24 || fmt == CAIRO_FORMAT_ARGB32);
    const unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < r.h; y++)
        for (int x = 0; x < r.w; x++) {
            uint32_t p = ((const uint32_t *)(const void *)(data + (size_t)y * stride))[x];
            unsigned R = (p >> 16) & 255, G = (p >> 8) & 255, B = p & 255;
            r.non_white += (R & G & B) != 255;
            r.red += R > 220 && G < 30 && B < 30;
            r.blue += B > 220 && R < 30 && G < 30;
        }
    cairo_surface_destroy(s);
    return r;
}

static sc_roc some_roc(void)
{
    enum { N = 400 };
    static double d[N];
    static int y[N];
    unsigned s = 7;
    for (int i = 0; i < N; i++) {
        s = s * 1664525u + 1013904223u;
        y[i] = i % 2;
        d[i] = (s >> 8) / 16777216.0 + 0.4 * y[i];
    }
    sc_roc roc;
    cr_assert_eq(sc_roc_compute(d, y, N, &roc), SC_OK, "%s", sc_last_error());
    return roc;
}

Test(plot, roc_png)
{
    char path[128];
    make_dir();
    sc_roc roc = some_roc();
    snprintf(path, sizeof path, "%s/roc.png", dir);
    cr_assert_eq(sc_plot_roc(path, &roc, sc_roc_auc(&roc), "DevTest", 0), SC_OK, "%s",
                 sc_last_error());
    png_info p = read_png(path);
    cr_expect_eq(p.w, SC_PLOT_WIDTH);
    cr_expect_eq(p.h, SC_PLOT_HEIGHT);
    cr_expect_eq(SC_PLOT_WIDTH, 800);
    cr_expect_eq(SC_PLOT_HEIGHT, 600);
    cr_expect(p.non_white > 5000, "only %zu non-white pixels", p.non_white);
    /* log-FAR variant over the same file */
    cr_assert_eq(sc_plot_roc(path, &roc, sc_roc_auc(&roc), NULL, 1), SC_OK, "%s", sc_last_error());
    p = read_png(path);
    cr_expect_eq(p.w, 800);
    cr_expect(p.non_white > 5000);
    sc_roc_free(&roc);
    clean_dir("roc.png");
}

Test(plot, loss_png)
{
    char path[128];
    make_dir();
    double loss[12];
    for (int i = 0; i < 12; i++)
        loss[i] = 0.3 + 0.5 * exp(-0.3 * i);
    loss[5] = NAN; /* a broken epoch must not break the plot */
    const int at[] = {4, 8, 12};
    const double auc[] = {0.61, 0.66, 0.7};
    snprintf(path, sizeof path, "%s/loss.png", dir);
    cr_assert_eq(sc_plot_loss(path, loss, 12, at, auc, 3), SC_OK, "%s", sc_last_error());
    png_info p = read_png(path);
    cr_expect_eq(p.w, SC_PLOT_WIDTH);
    cr_expect_eq(p.h, SC_PLOT_HEIGHT);
    cr_expect(p.non_white > 3000, "only %zu non-white pixels", p.non_white);
    /* loss only, and a single epoch */
    cr_assert_eq(sc_plot_loss(path, loss, 1, NULL, NULL, 0), SC_OK, "%s", sc_last_error());
    p = read_png(path);
    cr_expect_eq(p.h, SC_PLOT_HEIGHT);
    cr_expect(p.non_white > 3000);
    cr_expect_eq(sc_plot_loss(path, loss, 0, NULL, NULL, 0), SC_ERR);
    clean_dir("loss.png");
}

/* CHW planar image of one colour */
static unsigned char *solid(int w, int h, unsigned char r, unsigned char g, unsigned char b)
{
    unsigned char *im = malloc((size_t)3 * w * h);
    memset(im, r, (size_t)w * h);
    memset(im + (size_t)w * h, g, (size_t)w * h);
    memset(im + (size_t)2 * w * h, b, (size_t)w * h);
    return im;
}

Test(plot, errors_png)
{
    char path[128];
    make_dir();
    /* 40 x 32 (not square), pure red and pure blue: CHW read as HWC would mix them */
    unsigned char *red = solid(40, 32, 255, 0, 0), *blue = solid(40, 32, 0, 0, 255);
    unsigned char *grey = solid(40, 32, 128, 128, 128);
    sc_plot_pair pairs[5];
    for (int i = 0; i < 5; i++)
        pairs[i] = (sc_plot_pair){grey, grey, 40, 32, 0.1 * i, i < 3, i};
    pairs[0].a = red;
    pairs[0].b = blue;
    snprintf(path, sizeof path, "%s/errors.png", dir);
    cr_assert_eq(sc_plot_errors(path, pairs, 5, 0.25), SC_OK, "%s", sc_last_error());
    png_info p = read_png(path);
    int w, h;
    sc_plot_errors_size(3, 2, &w, &h);
    cr_expect_eq(p.w, w);
    cr_expect_eq(p.h, h);
    /* both images of pair 0 drawn at 112 px wide: at least 112 x 89 of each colour */
    cr_expect(p.red >= (size_t)SC_ERRORS_IMAGE * 85, "red pixels %zu", p.red);
    cr_expect(p.blue >= (size_t)SC_ERRORS_IMAGE * 85, "blue pixels %zu", p.blue);
    /* more pairs make a taller picture; one section alone is shorter */
    int w2, h2, w3, h3;
    sc_plot_errors_size(8, 8, &w2, &h2);
    sc_plot_errors_size(3, 0, &w3, &h3);
    cr_expect_eq(w2, w);
    cr_expect(h2 > h && h3 < h, "heights %d %d %d", h, h2, h3);

    /* no pairs: still a valid picture */
    cr_assert_eq(sc_plot_errors(path, NULL, 0, NAN), SC_OK, "%s", sc_last_error());
    p = read_png(path);
    sc_plot_errors_size(0, 0, &w, &h);
    cr_expect_eq(p.w, w);
    cr_expect_eq(p.h, h);

    /* bad input is refused before anything is written */
    pairs[1].width = 0;
    cr_expect_eq(sc_plot_errors(path, pairs, 5, 0.25), SC_ERR);
    cr_expect(strstr(sc_last_error(), "pair 1"), "%s", sc_last_error());
    free(red);
    free(blue);
    free(grey);
    clean_dir("errors.png");
}

Test(plot, unwritable_path_is_an_error)
{
    sc_roc roc = some_roc();
    cr_expect_eq(sc_plot_roc("/nonexistent-dir/roc.png", &roc, 0.5, NULL, 0), SC_ERR);
    cr_expect(strstr(sc_last_error(), "/nonexistent-dir/roc.png"), "%s", sc_last_error());
    sc_roc_free(&roc);
}
