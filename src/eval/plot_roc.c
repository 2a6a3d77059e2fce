/* roc.png */
#include "siamcl/plot.h"

#include <math.h>
#include <stdio.h>

#include "eval/plot_util.h"

#define CURVE 0x1f77b4
#define CHANCE 0x888888

int sc_plot_roc(const char *path, const sc_roc *roc, double auc, const char *name,
                int log_far)
{
    if (!roc || roc->n < 2 || roc->n_diff == 0)
        return sc_fail("%s: empty ROC", path);
    cairo_t *cr = plot_begin(SC_PLOT_WIDTH, SC_PLOT_HEIGHT, path);
    if (!cr)
        return SC_ERR;
    plot_frame f = {90, 50, SC_PLOT_WIDTH - 130, SC_PLOT_HEIGHT - 130, 0, 1, 0, 1, log_far};
    if (log_far) {
        f.xmin = floor(log10(1.0 / (double)roc->n_diff));
        if (f.xmin > -1)
            f.xmin = -1;
        f.xmax = 0;
    }
    plot_axis_x(cr, &f, log_far ? "false accept rate (log scale)" : "false accept rate", 0);
    plot_axis_y(cr, &f, "true accept rate", 0, 1, 0x000000);

    cairo_save(cr);
    cairo_rectangle(cr, f.x, f.y, f.w, f.h);
    cairo_clip(cr);
    /* chance: TAR = FAR (a curve on the log axis) */
    plot_rgb(cr, CHANCE);
    cairo_set_line_width(cr, 1.5);
    double dash[] = {6, 4};
    cairo_set_dash(cr, dash, 2, 0);
    for (int i = 0; i <= 200; i++) {
        double x = log_far ? pow(10.0, f.xmin + (f.xmax - f.xmin) * i / 200.0) : i / 200.0;
        if (i == 0)
            cairo_move_to(cr, plot_px(&f, x), plot_py(&f, x));
        else
            cairo_line_to(cr, plot_px(&f, x), plot_py(&f, x));
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    plot_rgb(cr, CURVE);
    cairo_set_line_width(cr, 2.5);
    for (size_t i = 0; i < roc->n; i++) {
        double x = plot_px(&f, roc->pt[i].far), y = plot_py(&f, roc->pt[i].tar);
        if (i == 0)
            cairo_move_to(cr, x, y);
        else
            cairo_line_to(cr, x, y);
    }
    cairo_stroke(cr);
    cairo_restore(cr);
    plot_border(cr, &f);

    char title[256], legend[256];
    snprintf(title, sizeof title, "ROC: %zu same-person, %zu different-person pairs",
             roc->n_same, roc->n_diff);
    plot_rgb(cr, 0x000000);
    plot_text(cr, f.x + f.w / 2, 18, 0.5, 0.0, 17, title);

    /* legend in the lower right, where a useful ROC curve never goes */
    snprintf(legend, sizeof legend, "%s (AUC = %.4f)", name ? name : "model", auc);
    double lx = f.x + f.w - 300, ly = f.y + f.h - 70;
    plot_rgb(cr, 0xffffff);
    cairo_rectangle(cr, lx, ly, 288, 58);
    cairo_fill_preserve(cr);
    plot_rgb(cr, 0x999999);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    plot_rgb(cr, CURVE);
    cairo_set_line_width(cr, 2.5);
    cairo_move_to(cr, lx + 10, ly + 18);
    cairo_line_to(cr, lx + 40, ly + 18);
    cairo_stroke(cr);
    plot_rgb(cr, CHANCE);
    cairo_set_line_width(cr, 1.5);
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, lx + 10, ly + 40);
    cairo_line_to(cr, lx + 40, ly + 40);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    plot_rgb(cr, 0x000000);
    plot_text(cr, lx + 50, ly + 18, 0.0, 0.5, 14, legend);
    plot_text(cr, lx + 50, ly + 40, 0.0, 0.5, 14, "chance");
    return plot_finish(cr, path);
}
