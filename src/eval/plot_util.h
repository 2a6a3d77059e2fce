/* Drawing helpers shared by the plots: axes with readable ticks, anchored text, colours,
 * and the temp-file-then-rename PNG save. Private to src/eval. */
#ifndef SIAMCL_EVAL_PLOT_UTIL_H
#define SIAMCL_EVAL_PLOT_UTIL_H

#include <cairo.h>

/* A data rectangle mapped onto a pixel rectangle (y grows upwards in data space). */
typedef struct plot_frame {
    double x, y, w, h;             /* pixels: left, top, width, height */
    double xmin, xmax, ymin, ymax; /* data; log10 values when xlog */
    int xlog;
} plot_frame;

double plot_px(const plot_frame *f, double x); /* x in data units (not log10) */
double plot_py(const plot_frame *f, double y);

/* A white canvas with the default font set; NULL after sc_fail. */
cairo_t *plot_begin(int width, int height, const char *what);
/* Checks cairo's status, writes the PNG to a temporary file, renames it to path, and
 * destroys cr and its surface in every case. */
int plot_finish(cairo_t *cr, const char *path);

void plot_rgb(cairo_t *cr, unsigned hex);
/* Draws s so that its ink box's point (ax, ay) (0..1: left..right, top..bottom) is at
 * (x, y); plot_text_rotated centres s on (x, y), reading bottom to top. */
void plot_text(cairo_t *cr, double x, double y, double ax, double ay, double size,
               const char *s);
void plot_text_rotated(cairo_t *cr, double x, double y, double size, const char *s);

/* Round tick positions covering [lo, hi] with about `want` steps. */
typedef struct plot_ticks {
    double first, step;
    int n, decimals;
} plot_ticks;
plot_ticks plot_nice_ticks(double lo, double hi, int want);
/* Expands [lo, hi] outwards to whole ticks (and separates lo == hi). */
void plot_nice_range(double *lo, double *hi, int want);

/* Grid lines, ticks and tick labels of the bottom x axis (decades when f->xlog) and of a y
 * axis on the left (or the right when right != 0, in `colour`); labels may be NULL. */
void plot_axis_x(cairo_t *cr, const plot_frame *f, const char *label, int integer_ticks);
void plot_axis_y(cairo_t *cr, const plot_frame *f, const char *label, int right, int grid,
                 unsigned colour);
void plot_border(cairo_t *cr, const plot_frame *f);

#endif
