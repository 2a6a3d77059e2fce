#include "eval/plot_util.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "siamcl/util.h"
#include "siamcl/error.h"

#define TICK_FONT 13.0
#define LABEL_FONT 15.0
#define PLOT_PI 3.14159265358979323846

double plot_px(const plot_frame *f, double x)
{
    double v = f->xlog ? log10(x) : x;
    if (f->xlog && !(v >= f->xmin)) /* FAR 0 (log -inf) sits on the left edge */
        v = f->xmin;
    return f->x + (v - f->xmin) / (f->xmax - f->xmin) * f->w;
}

double plot_py(const plot_frame *f, double y)
{
    return f->y + f->h - (y - f->ymin) / (f->ymax - f->ymin) * f->h;
}

cairo_t *plot_begin(int width, int height, const char *what)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        sc_fail("%s: cannot create a %dx%d image: %s", what, width, height,
                cairo_status_to_string(cairo_surface_status(s)));
        cairo_surface_destroy(s);
        return NULL;
    }
    cairo_t *cr = cairo_create(s);
    cairo_surface_destroy(s); /* cr holds its own reference */
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    return cr;
}

int plot_finish(cairo_t *cr, const char *path)
{
    cairo_surface_t *s = cairo_get_target(cr);
    cairo_status_t st = cairo_status(cr);
    char tmp[PATH_MAX];
    int rc = SC_OK;
    if (st != CAIRO_STATUS_SUCCESS)
        rc = sc_fail("%s: drawing failed: %s", path, cairo_status_to_string(st));
    if (rc == SC_OK)
        rc = sc_atomic_tmp_name(path, tmp, sizeof tmp);
    if (rc == SC_OK) {
        cairo_surface_flush(s);
        st = cairo_surface_write_to_png(s, tmp);
        if (st != CAIRO_STATUS_SUCCESS) {
            remove(tmp);
            rc = sc_fail("%s: cannot write PNG: %s", path, cairo_status_to_string(st));
        } else {
            rc = sc_atomic_rename(tmp, path);
        }
    }
    cairo_destroy(cr);
    return rc;
}

void plot_rgb(cairo_t *cr, unsigned hex)
{
    cairo_set_source_rgb(cr, ((hex >> 16) & 255) / 255.0, ((hex >> 8) & 255) / 255.0,
                         (hex & 255) / 255.0);
}

void plot_text(cairo_t *cr, double x, double y, double ax, double ay, double size,
               const char *s)
{
    cairo_text_extents_t e;
    cairo_set_font_size(cr, size);
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - e.x_bearing - ax * e.width, y - e.y_bearing - ay * e.height);
    cairo_show_text(cr, s);
    cairo_new_path(cr);
}

void plot_text_rotated(cairo_t *cr, double x, double y, double size, const char *s)
{
    /* centred on (x, y), reading bottom to top */
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, -PLOT_PI / 2);
    plot_text(cr, 0, 0, 0.5, 0.5, size, s);
    cairo_restore(cr);
}

plot_ticks plot_nice_ticks(double lo, double hi, int want)
{
    plot_ticks t = {lo, 1.0, 1, 0};
    double span = hi - lo;
    if (!(span > 0) || !isfinite(span))
        return t;
    double raw = span / want, mag = pow(10.0, floor(log10(raw))), r = raw / mag;
    double step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
    t.step = step;
    t.first = ceil(lo / step - 1e-9) * step;
    t.n = (int)floor((hi - t.first) / step + 1e-9) + 1;
    t.decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    return t;
}

void plot_nice_range(double *lo, double *hi, int want)
{
    if (!(*hi > *lo)) {
        double pad = fabs(*lo) > 0 ? 0.1 * fabs(*lo) : 1.0;
        *lo -= pad;
        *hi += pad;
    }
    plot_ticks t = plot_nice_ticks(*lo, *hi, want);
    *lo = floor(*lo / t.step + 1e-9) * t.step;
    *hi = ceil(*hi / t.step - 1e-9) * t.step;
}

static void tick_label(char *buf, size_t n, double v, int decimals)
{
    if (fabs(v) < 1e-12)
        v = 0.0; /* no "-0" */
    snprintf(buf, n, "%.*f", decimals, v);
}

void plot_border(cairo_t *cr, const plot_frame *f)
{
    plot_rgb(cr, 0x000000);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, f->x + 0.5, f->y + 0.5, f->w, f->h);
    cairo_stroke(cr);
}

void plot_axis_x(cairo_t *cr, const plot_frame *f, const char *label, int integer_ticks)
{
    char buf[32];
    cairo_set_line_width(cr, 1.0);
    if (f->xlog) {
        for (int k = (int)ceil(f->xmin - 1e-9); k <= (int)floor(f->xmax + 1e-9); k++) {
            double px = plot_px(f, pow(10.0, k));
            plot_rgb(cr, 0xdddddd);
            cairo_move_to(cr, floor(px) + 0.5, f->y);
            cairo_line_to(cr, floor(px) + 0.5, f->y + f->h);
            cairo_stroke(cr);
            plot_rgb(cr, 0x000000);
            if (k >= 0)
                snprintf(buf, sizeof buf, "%g", pow(10.0, k));
            else
                snprintf(buf, sizeof buf, "1e%d", k);
            plot_text(cr, px, f->y + f->h + 6, 0.5, 0.0, TICK_FONT, buf);
        }
    } else {
        plot_ticks t = plot_nice_ticks(f->xmin, f->xmax, 8);
        if (integer_ticks && t.step < 1) {
            t = plot_nice_ticks(f->xmin, f->xmax, (int)(f->xmax - f->xmin) + 1);
            if (t.step < 1)
                t = (plot_ticks){ceil(f->xmin), 1.0, (int)(floor(f->xmax) - ceil(f->xmin)) + 1, 0};
        }
        for (int i = 0; i < t.n; i++) {
            double v = t.first + i * t.step, px = plot_px(f, v);
            plot_rgb(cr, 0xdddddd);
            cairo_move_to(cr, floor(px) + 0.5, f->y);
            cairo_line_to(cr, floor(px) + 0.5, f->y + f->h);
            cairo_stroke(cr);
            plot_rgb(cr, 0x000000);
            tick_label(buf, sizeof buf, v, t.decimals);
            plot_text(cr, px, f->y + f->h + 6, 0.5, 0.0, TICK_FONT, buf);
        }
    }
    if (label) {
        plot_rgb(cr, 0x000000);
        plot_text(cr, f->x + f->w / 2, f->y + f->h + 30, 0.5, 0.0, LABEL_FONT, label);
    }
}

void plot_axis_y(cairo_t *cr, const plot_frame *f, const char *label, int right, int grid,
                 unsigned colour)
{
    char buf[32];
    plot_ticks t = plot_nice_ticks(f->ymin, f->ymax, 8);
    double widest = 0;
    cairo_set_line_width(cr, 1.0);
    for (int i = 0; i < t.n; i++) {
        double v = t.first + i * t.step, py = floor(plot_py(f, v)) + 0.5;
        if (grid) {
            plot_rgb(cr, 0xdddddd);
            cairo_move_to(cr, f->x, py);
            cairo_line_to(cr, f->x + f->w, py);
            cairo_stroke(cr);
        }
        plot_rgb(cr, colour);
        double edge = right ? f->x + f->w : f->x;
        cairo_move_to(cr, edge, py);
        cairo_line_to(cr, edge + (right ? 5 : -5), py);
        cairo_stroke(cr);
        tick_label(buf, sizeof buf, v, t.decimals);
        cairo_text_extents_t e;
        cairo_set_font_size(cr, TICK_FONT);
        cairo_text_extents(cr, buf, &e);
        if (e.width > widest)
            widest = e.width;
        plot_text(cr, edge + (right ? 8 : -8), py, right ? 0.0 : 1.0, 0.5, TICK_FONT, buf);
    }
    if (label) {
        plot_rgb(cr, colour);
        double off = 8 + widest + 10 + LABEL_FONT / 2;
        double x = right ? f->x + f->w + off : f->x - off;
        plot_text_rotated(cr, x, f->y + f->h / 2, LABEL_FONT, label);
    }
}
