/* PNG plots for the run folder, drawn with cairo on the host. Every function writes to a
 * temporary file and renames it into place, so a plot is never seen half-written.
 *
 * Sizes are fixed so that runs compare at a glance:
 * - roc.png and loss.png: SC_PLOT_WIDTH x SC_PLOT_HEIGHT (800 x 600);
 * - errors.png: SC_ERRORS_COLS pairs per row; see sc_plot_errors_size. */
#ifndef SIAMCL_PLOT_H
#define SIAMCL_PLOT_H

#include <stddef.h>

#include "siamcl/eval.h"

#define SC_PLOT_WIDTH 800
#define SC_PLOT_HEIGHT 600

/* ROC curve (TAR against FAR) with the chance diagonal, labelled axes and a legend
 * "<name> (AUC = 0.xxxx)" (name NULL: "model"). log_far: FAR on a log10 axis from
 * 10^floor(log10(1 / n_diff)) to 1 (points at FAR = 0 sit on the left edge), which shows
 * the low-FAR region that TAR@FAR figures come from. */
int sc_plot_roc(const char *path, const sc_roc *roc, double auc, const char *name,
                int log_far);

/* Training loss per epoch (epochs 1..n_epochs, left axis) and, when n_auc > 0, the test AUC
 * measured after epoch auc_epoch[i] (right axis, its own scale). */
int sc_plot_loss(const char *path, const double *loss, int n_epochs, const int *auc_epoch,
                 const double *auc, int n_auc);

/* One pair for errors.png. Images are RGB uint8 in CHW (planar) order: the R plane, then G,
 * then B, each height x width, rows packed; this is the layout the dataset keeps (image.h),
 * so a pair's images can be passed straight from it. */
typedef struct sc_plot_pair {
    const unsigned char *a, *b;
    int width, height;  /* of both images */
    double distance;
    int label;          /* 0 same person, 1 different people */
    long index;         /* pair number shown in the caption (< 0: not shown) */
} sc_plot_pair;

/* Layout of errors.png: SC_ERRORS_COLS cells per row; a cell holds the pair's two images,
 * each scaled (aspect kept) into SC_ERRORS_IMAGE x SC_ERRORS_IMAGE, and two caption lines
 * under them (pair number and distance; the label, and whether the threshold got it
 * wrong). */
#define SC_ERRORS_COLS 4
#define SC_ERRORS_IMAGE 112

/* The pairs are drawn in two sections, in the order given within each: different-person
 * pairs (label 1; pass the closest first, as sc_worst_pairs does) and same-person pairs
 * (label 0; farthest first). A section without pairs is left out. threshold: the operating
 * threshold (accept when distance <= threshold) used to mark each pair right or wrong and
 * shown in the title; NAN to leave it out. n may be 0 (a titled, empty picture). */
int sc_plot_errors(const char *path, const sc_plot_pair *pairs, size_t n, double threshold);

/* The pixel size sc_plot_errors produces for n_diff different-person and n_same same-person
 * pairs. */
void sc_plot_errors_size(size_t n_diff, size_t n_same, int *width, int *height);

#endif
