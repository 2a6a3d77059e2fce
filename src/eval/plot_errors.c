/* errors.png: the test pairs the model got most wrong, the picture a researcher looks at
 * first (are the "same" failures profile views? are the "different" ones look-alikes?). */
#include "siamcl/plot.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "eval/plot_util.h"

#define MARGIN 10
#define TITLE_H 44
#define SECTION_H 30
#define GAP 6
#define PAD 8
#define CAPTION_H 42
#define CELL_W (2 * SC_ERRORS_IMAGE + GAP + 2 * PAD)
#define CELL_H (SC_ERRORS_IMAGE + CAPTION_H + 2 * PAD)
#define MAX_SIDE 4096

static int rows(size_t n) { return (int)((n + SC_ERRORS_COLS - 1) / SC_ERRORS_COLS); }

void sc_plot_errors_size(size_t n_diff, size_t n_same, int *width, int *height)
{
    *width = 2 * MARGIN + SC_ERRORS_COLS * CELL_W;
    *height = TITLE_H + MARGIN;
    if (n_diff)
        *height += SECTION_H + rows(n_diff) * CELL_H;
    if (n_same)
        *height += SECTION_H + rows(n_same) * CELL_H;
}

/* CHW planar RGB -> a cairo RGB24 surface (native-endian 0x00RRGGBB words). */
static cairo_surface_t *to_surface(const unsigned char *chw, int w, int h)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
        return s;
    cairo_surface_flush(s);
    unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    size_t plane = (size_t)w * (size_t)h;
    for (int y = 0; y < h; y++) {
        uint32_t *row = (uint32_t *)(void *)(data + (size_t)y * (size_t)stride);
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * (size_t)w + (size_t)x;
            row[x] = (uint32_t)chw[i] << 16 | (uint32_t)chw[plane + i] << 8 |
                     (uint32_t)chw[2 * plane + i];
        }
    }
    cairo_surface_mark_dirty(s);
    return s;
}

/* Scales the image into a SC_ERRORS_IMAGE square at (x, y), aspect kept, centred. */
static void draw_image(cairo_t *cr, const unsigned char *chw, int w, int h, double x, double y)
{
    cairo_surface_t *s = to_surface(chw, w, h);
    if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
        double k = (double)SC_ERRORS_IMAGE / (w > h ? w : h);
        cairo_save(cr);
        cairo_translate(cr, x + (SC_ERRORS_IMAGE - k * w) / 2, y + (SC_ERRORS_IMAGE - k * h) / 2);
        cairo_scale(cr, k, k);
        cairo_set_source_surface(cr, s, 0, 0);
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
        cairo_rectangle(cr, 0, 0, w, h);
        cairo_fill(cr);
        cairo_restore(cr);
    }
    cairo_surface_destroy(s);
}

static void draw_cell(cairo_t *cr, const sc_plot_pair *p, double x, double y, double threshold)
{
    char l1[96], l2[96];
    draw_image(cr, p->a, p->width, p->height, x + PAD, y + PAD);
    draw_image(cr, p->b, p->width, p->height, x + PAD + SC_ERRORS_IMAGE + GAP, y + PAD);
    if (p->index >= 0)
        snprintf(l1, sizeof l1, "pair %ld   d = %.4f", p->index, p->distance);
    else
        snprintf(l1, sizeof l1, "d = %.4f", p->distance);
    const char *who = p->label ? "different people" : "same person";
    int wrong = 0;
    if (isnan(threshold)) {
        snprintf(l2, sizeof l2, "%s", who);
    } else {
        int accepted = p->distance <= threshold;
        wrong = accepted == (p->label == 1);
        snprintf(l2, sizeof l2, "%s, %s%s", who, accepted ? "accepted" : "rejected",
                 wrong ? " (wrong)" : "");
    }
    double cx = x + CELL_W / 2.0, ty = y + PAD + SC_ERRORS_IMAGE + 6;
    plot_rgb(cr, 0x000000);
    plot_text(cr, cx, ty, 0.5, 0.0, 13, l1);
    plot_rgb(cr, wrong ? 0xc0392b : 0x333333);
    plot_text(cr, cx, ty + 19, 0.5, 0.0, 13, l2);
}

static int check_pair(const sc_plot_pair *p, size_t i, const char *path)
{
    if (!p->a || !p->b)
        return sc_fail("%s: pair %zu has no image", path, i);
    if (p->width < 1 || p->height < 1 || p->width > MAX_SIDE || p->height > MAX_SIDE)
        return sc_fail("%s: pair %zu has a %dx%d image (1..%d per side)", path, i, p->width,
                       p->height, MAX_SIDE);
    if (p->label != 0 && p->label != 1)
        return sc_fail("%s: pair %zu has label %d (0 same, 1 different)", path, i, p->label);
    return SC_OK;
}

static double draw_section(cairo_t *cr, const sc_plot_pair *pairs, size_t n, int label,
                           size_t count, double y, double threshold)
{
    char head[128];
    if (count == 0)
        return y;
    snprintf(head, sizeof head, label ? "Different people, closest first (%zu)"
                                      : "Same person, farthest first (%zu)", count);
    plot_rgb(cr, 0x000000);
    plot_text(cr, MARGIN + PAD, y + SECTION_H / 2.0, 0.0, 0.5, 15, head);
    y += SECTION_H;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (pairs[i].label != label)
            continue;
        double cx = MARGIN + (double)(k % SC_ERRORS_COLS) * CELL_W;
        double cy = y + (double)(k / SC_ERRORS_COLS) * CELL_H;
        draw_cell(cr, &pairs[i], cx, cy, threshold);
        k++;
    }
    return y + rows(count) * CELL_H;
}

int sc_plot_errors(const char *path, const sc_plot_pair *pairs, size_t n, double threshold)
{
    size_t n_diff = 0, n_same = 0;
    if (n > 0 && !pairs)
        return sc_fail("%s: no pairs given", path);
    for (size_t i = 0; i < n; i++) {
        SC_TRY(check_pair(&pairs[i], i, path));
        if (pairs[i].label)
            n_diff++;
        else
            n_same++;
    }
    int w, h;
    sc_plot_errors_size(n_diff, n_same, &w, &h);
    cairo_t *cr = plot_begin(w, h, path);
    if (!cr)
        return SC_ERR;
    char title[160];
    if (isnan(threshold))
        snprintf(title, sizeof title, "Worst test pairs");
    else
        snprintf(title, sizeof title, "Worst test pairs (accept when d <= %.4f)", threshold);
    plot_rgb(cr, 0x000000);
    plot_text(cr, w / 2.0, 14, 0.5, 0.0, 18, n ? title : "Worst test pairs: none");
    double y = TITLE_H;
    y = draw_section(cr, pairs, n, 1, n_diff, y, threshold);
    draw_section(cr, pairs, n, 0, n_same, y, threshold);
    return plot_finish(cr, path);
}
