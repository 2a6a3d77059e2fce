/* loss.png: training loss per epoch, test AUC per evaluation on a second axis. */
#include "siamcl/plot.h"

#include <math.h>

#include "eval/plot_util.h"

#define LOSS 0x1f77b4
#define AUC 0xd62728

static void marker(cairo_t *cr, double x, double y)
{
    cairo_arc(cr, x, y, 3.5, 0, 6.283185307179586);
    cairo_fill(cr);
}

int sc_plot_loss(const char *path, const double *loss, int n_epochs, const int *auc_epoch,
                 const double *auc, int n_auc)
{
    if (n_epochs < 1 || !loss)
        return sc_fail("%s: no epochs to plot", path);
    if (n_auc < 0 || (n_auc > 0 && (!auc || !auc_epoch)))
        return sc_fail("%s: bad AUC series", path);
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n_epochs; i++)
        if (isfinite(loss[i])) {
            lo = fmin(lo, loss[i]);
            hi = fmax(hi, loss[i]);
        }
    if (!isfinite(lo))
        lo = hi = 0;
    if (lo > 0 && lo < 0.5 * hi)
        lo = 0; /* a loss usually reads best from zero */
    plot_nice_range(&lo, &hi, 8);

    cairo_t *cr = plot_begin(SC_PLOT_WIDTH, SC_PLOT_HEIGHT, path);
    if (!cr)
        return SC_ERR;
    double xmin = 1, xmax = n_epochs;
    for (int i = 0; i < n_auc; i++)
        xmax = fmax(xmax, auc_epoch[i]);
    if (xmax <= xmin) {
        xmin -= 0.5;
        xmax += 0.5;
    }
    plot_frame f = {90, 50, SC_PLOT_WIDTH - 180, SC_PLOT_HEIGHT - 130, xmin, xmax, lo, hi, 0};
    plot_frame fa = f;
    plot_axis_x(cr, &f, "epoch", 1);
    plot_axis_y(cr, &f, "training loss", 0, 1, LOSS);
    if (n_auc > 0) {
        double alo = INFINITY, ahi = -INFINITY;
        for (int i = 0; i < n_auc; i++)
            if (isfinite(auc[i])) {
                alo = fmin(alo, auc[i]);
                ahi = fmax(ahi, auc[i]);
            }
        if (!isfinite(alo))
            alo = 0.5, ahi = 1.0;
        alo -= 0.02;
        ahi += 0.02;
        plot_nice_range(&alo, &ahi, 6);
        fa.ymin = fmax(alo, 0.0);
        fa.ymax = fmin(ahi, 1.0);
        if (fa.ymax <= fa.ymin)
            fa.ymin = 0, fa.ymax = 1;
        plot_axis_y(cr, &fa, "test AUC", 1, 0, AUC);
    }

    cairo_save(cr);
    cairo_rectangle(cr, f.x - 5, f.y - 5, f.w + 10, f.h + 10);
    cairo_clip(cr);
    plot_rgb(cr, LOSS);
    cairo_set_line_width(cr, 2.0);
    int started = 0;
    for (int i = 0; i < n_epochs; i++) {
        if (!isfinite(loss[i])) {
            started = 0; /* a NaN epoch breaks the line rather than bending it */
            continue;
        }
        double x = plot_px(&f, i + 1), y = plot_py(&f, loss[i]);
        if (started)
            cairo_line_to(cr, x, y);
        else
            cairo_move_to(cr, x, y);
        started = 1;
    }
    cairo_stroke(cr);
    for (int i = 0; i < n_epochs; i++)
        if (isfinite(loss[i]))
            marker(cr, plot_px(&f, i + 1), plot_py(&f, loss[i]));
    if (n_auc > 0) {
        plot_rgb(cr, AUC);
        started = 0;
        for (int i = 0; i < n_auc; i++) {
            if (!isfinite(auc[i]))
                continue;
            double x = plot_px(&fa, auc_epoch[i]), y = plot_py(&fa, auc[i]);
            if (started)
                cairo_line_to(cr, x, y);
            else
                cairo_move_to(cr, x, y);
            started = 1;
        }
        cairo_stroke(cr);
        for (int i = 0; i < n_auc; i++)
            if (isfinite(auc[i]))
                marker(cr, plot_px(&fa, auc_epoch[i]), plot_py(&fa, auc[i]));
    }
    cairo_restore(cr);
    plot_border(cr, &f);

    plot_rgb(cr, 0x000000);
    plot_text(cr, f.x + f.w / 2, 18, 0.5, 0.0, 17,
              n_auc > 0 ? "Training loss and test AUC" : "Training loss");
    /* legend, upper right inside the frame */
    double lx = f.x + f.w - 170, ly = f.y + 10;
    plot_rgb(cr, 0xffffff);
    cairo_rectangle(cr, lx, ly, 160, n_auc > 0 ? 52 : 30);
    cairo_fill_preserve(cr);
    plot_rgb(cr, 0x999999);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    plot_rgb(cr, LOSS);
    cairo_set_line_width(cr, 2);
    cairo_move_to(cr, lx + 10, ly + 15);
    cairo_line_to(cr, lx + 40, ly + 15);
    cairo_stroke(cr);
    plot_rgb(cr, 0x000000);
    plot_text(cr, lx + 50, ly + 15, 0, 0.5, 14, "training loss");
    if (n_auc > 0) {
        plot_rgb(cr, AUC);
        cairo_move_to(cr, lx + 10, ly + 37);
        cairo_line_to(cr, lx + 40, ly + 37);
        cairo_stroke(cr);
        plot_rgb(cr, 0x000000);
        plot_text(cr, lx + 50, ly + 37, 0, 0.5, 14, "test AUC");
    }
    return plot_finish(cr, path);
}
