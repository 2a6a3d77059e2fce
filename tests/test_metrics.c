/* Verification metrics against values worked out by hand on tiny score lists (the working
 * is in the comments), plus the CSV and JSON writers. Host only: no OpenCL. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "siamcl/eval.h"
#include "tolerances.h"

static void near(double got, double want, const char *what)
{
    const test_tol *t = test_tol_for("metrics");
    cr_assert(t, "tolerance row 'metrics' missing");
    cr_expect(fabs(got - want) <= t->abs + t->rel * fabs(want), "%s: got %.17g, want %.17g",
              what, got, want);
}

/* Example A, with a three-way tie at 0.4 (two same pairs, one different):
 *   same (0): 0.1 0.4 0.4 0.7        different (1): 0.4 0.8 0.9
 * AUC over the 4 x 3 couples: diff 0.4 beats 0.1, ties two 0.4s (2 x 0.5), loses to 0.7
 * -> 2; diff 0.8 and 0.9 beat all four -> 4 + 4. AUC = 10 / 12 = 5/6.
 * ROC (accept d <= t):  t<0.1 (0,0); 0.1 (0,1/4); 0.4 (1/3,3/4); 0.7 (1/3,1); 0.8 (2/3,1);
 * 0.9 (1,1). Trapezoids: 1/3*(1/4+3/4)/2 + 1/3*1 + 1/3*1 = 1/6 + 2/3 = 5/6.
 * EER: FAR+TAR-1 goes -3/4 -> +1/12 on the segment (0,1/4)-(1/3,3/4): s = (3/4)/(3/4+1/12)
 * = 0.9, EER = 0.9 * 1/3 = 0.3 (FRR there = 1 - (1/4 + 0.9/2) = 0.3); threshold
 * 0.1 + 0.9 * 0.3 = 0.37.
 * Correct decisions per point: 3, 4, 5, 6, 5, 4 -> best t = 0.7 (6/7), returned as the
 * midpoint to the next distance: 0.75. */
static const double A_d[] = {0.1, 0.4, 0.4, 0.7, 0.4, 0.8, 0.9};
static const int A_y[] = {0, 0, 0, 0, 1, 1, 1};
#define A_N 7

Test(metrics, auc_with_ties_mann_whitney)
{
    double auc;
    cr_assert_eq(sc_auc(A_d, A_y, A_N, &auc), SC_OK, "%s", sc_last_error());
    near(auc, 5.0 / 6.0, "AUC");
}

Test(metrics, roc_points_ties_as_one_step)
{
    sc_roc roc;
    cr_assert_eq(sc_roc_compute(A_d, A_y, A_N, &roc), SC_OK, "%s", sc_last_error());
    cr_assert_eq(roc.n, 6);
    cr_expect_eq(roc.n_same, 4);
    cr_expect_eq(roc.n_diff, 3);
    const double far[] = {0, 0, 1.0 / 3, 1.0 / 3, 2.0 / 3, 1};
    const double tar[] = {0, 0.25, 0.75, 1, 1, 1};
    const double thr[] = {0, 0.1, 0.4, 0.7, 0.8, 0.9};
    for (size_t i = 0; i < roc.n; i++) {
        near(roc.pt[i].far, far[i], "FAR");
        near(roc.pt[i].tar, tar[i], "TAR");
        if (i > 0)
            near(roc.pt[i].threshold, thr[i], "threshold");
    }
    /* the start point accepts nothing: below the smallest distance */
    cr_expect(roc.pt[0].threshold < 0.1 && roc.pt[0].threshold > 0.0999999);
    near(sc_roc_auc(&roc), 5.0 / 6.0, "trapezoid AUC");
    sc_roc_free(&roc);
}

Test(metrics, eer_interpolated)
{
    sc_roc roc;
    double eer, thr;
    cr_assert_eq(sc_roc_compute(A_d, A_y, A_N, &roc), SC_OK);
    cr_assert_eq(sc_roc_eer(&roc, &eer, &thr), SC_OK);
    near(eer, 0.3, "EER");
    near(thr, 0.37, "EER threshold");
    sc_roc_free(&roc);
}

Test(metrics, eer_all_tied_is_half)
{
    /* one distinct distance: the ROC is the diagonal (0,0)-(1,1), FAR = FRR at 0.5 */
    const double d[] = {0.5, 0.5, 0.5, 0.5};
    const int y[] = {0, 1, 0, 1};
    sc_roc roc;
    double eer, auc;
    cr_assert_eq(sc_roc_compute(d, y, 4, &roc), SC_OK);
    cr_assert_eq(roc.n, 2);
    cr_assert_eq(sc_roc_eer(&roc, &eer, NULL), SC_OK);
    near(eer, 0.5, "EER");
    cr_assert_eq(sc_auc(d, y, 4, &auc), SC_OK);
    near(auc, 0.5, "AUC");
    near(sc_roc_auc(&roc), 0.5, "trapezoid AUC");
    sc_roc_free(&roc);
}

Test(metrics, tar_at_far)
{
    sc_roc roc;
    double tar, thr;
    cr_assert_eq(sc_roc_compute(A_d, A_y, A_N, &roc), SC_OK);
    /* FAR <= 0.1: points (0,0) and (0,1/4) -> TAR 1/4 at t = 0.1 */
    cr_assert_eq(sc_roc_tar_at_far(&roc, 0.1, &tar, &thr), SC_OK);
    near(tar, 0.25, "TAR@0.1");
    near(thr, 0.1, "threshold@0.1");
    /* FAR <= 0.34: up to (1/3, 1) -> TAR 1 at t = 0.7 (the largest TAR, not the first point
     * at FAR 1/3) */
    cr_assert_eq(sc_roc_tar_at_far(&roc, 0.34, &tar, &thr), SC_OK);
    near(tar, 1.0, "TAR@0.34");
    near(thr, 0.7, "threshold@0.34");
    /* FAR <= 0.001 with 3 different pairs: only FAR 0 -> still TAR 1/4 */
    cr_assert_eq(sc_roc_tar_at_far(&roc, 0.001, &tar, &thr), SC_OK);
    near(tar, 0.25, "TAR@0.001");
    sc_roc_free(&roc);
}

Test(metrics, tar_at_far_decimal_target_is_exact)
{
    /* 100 different pairs at 1..100, same pairs at 0.5, 28.5, 29.5. FAR 0.29 admits exactly
     * 29 different pairs (t up to 29.5, before 30): TAR 3/3 at t = 29.5. (0.29 * 100 is
     * 28.999999999999996 in double: a count comparison would stop at 28.) */
    double d[103];
    int y[103];
    for (int i = 0; i < 100; i++)
        d[i] = i + 1, y[i] = 1;
    d[100] = 0.5, d[101] = 28.5, d[102] = 29.5;
    y[100] = y[101] = y[102] = 0;
    sc_roc roc;
    double tar, thr;
    cr_assert_eq(sc_roc_compute(d, y, 103, &roc), SC_OK);
    cr_assert_eq(sc_roc_tar_at_far(&roc, 0.29, &tar, &thr), SC_OK);
    near(tar, 1.0, "TAR@0.29");
    near(thr, 29.5, "threshold@0.29");
    sc_roc_free(&roc);
}

Test(metrics, accuracy_and_best_threshold)
{
    double acc, thr;
    cr_assert_eq(sc_best_threshold(A_d, A_y, A_N, &thr, &acc), SC_OK);
    near(thr, 0.75, "best threshold");
    near(acc, 6.0 / 7.0, "best accuracy");
    cr_assert_eq(sc_accuracy_at(A_d, A_y, A_N, 0.75, &acc), SC_OK);
    near(acc, 6.0 / 7.0, "accuracy at 0.75");
    /* t = 0.4: same 0.1 0.4 0.4 right, 0.7 wrong; diff 0.4 wrong, 0.8 0.9 right -> 5/7 */
    cr_assert_eq(sc_accuracy_at(A_d, A_y, A_N, 0.4, &acc), SC_OK);
    near(acc, 5.0 / 7.0, "accuracy at 0.4");
}

Test(metrics, best_threshold_ties_and_edges)
{
    double acc, thr;
    /* same 1 3, diff 2 4: correct 2,3,2,3,2 -> the first best is t = 1, midpoint 1.5 */
    const double d1[] = {1, 3, 2, 4};
    const int y1[] = {0, 0, 1, 1};
    cr_assert_eq(sc_best_threshold(d1, y1, 4, &thr, &acc), SC_OK);
    near(thr, 1.5, "tie threshold");
    near(acc, 0.75, "tie accuracy");
    /* same 5, diff 1 2: accepting nothing is best (2 of 3) */
    const double d2[] = {5, 1, 2};
    const int y2[] = {0, 1, 1};
    cr_assert_eq(sc_best_threshold(d2, y2, 3, &thr, &acc), SC_OK);
    cr_expect(thr < 1.0 && thr > 0.999999, "threshold %.17g", thr);
    near(acc, 2.0 / 3.0, "accept-nothing accuracy");
    cr_assert_eq(sc_accuracy_at(d2, y2, 3, thr, &acc), SC_OK);
    near(acc, 2.0 / 3.0, "accuracy at the accept-nothing threshold");
    /* same 1 3 5, diff 2: correct 1,2,1,2,3 -> accept everything, t = 5 */
    const double d3[] = {1, 3, 5, 2};
    const int y3[] = {0, 0, 0, 1};
    cr_assert_eq(sc_best_threshold(d3, y3, 4, &thr, &acc), SC_OK);
    near(thr, 5.0, "accept-all threshold");
    near(acc, 0.75, "accept-all accuracy");
}

/* Three folds of 2 same + 2 different pairs:
 *   fold 1: same 0.2 0.3    diff 0.6 0.7
 *   fold 2: same 0.1 0.48   diff 0.4 0.9
 *   fold 3: same 0.33 0.45  diff 0.55 0.25
 * Fold 1 tested, trained on 2+3: sorted 0.1S 0.25D 0.33S 0.4D 0.45S 0.48S 0.55D 0.9D,
 *   correct 4,5,4,5,4,5,6,5,4 -> t = 0.48, midpoint (0.48+0.55)/2 = 0.515; fold 1 all right
 *   -> accuracy 1, AUC 1.
 * Fold 2 tested, trained on 1+3: 0.2S 0.25D 0.3S 0.33S 0.45S 0.55D 0.6D 0.7D, correct
 *   4,5,4,5,6,7,6,5,4 -> t = 0.45, midpoint 0.5; fold 2: 0.1 0.48 accepted (right), 0.4
 *   accepted (wrong), 0.9 rejected -> 3/4; AUC: 0.4 beats 0.1 only, 0.9 beats both -> 3/4.
 * Fold 3 tested, trained on 1+2: 0.1S 0.2S 0.3S 0.4D 0.48S 0.6D 0.7D 0.9D, correct
 *   4,5,6,7,6,7,6,5,4 -> first best t = 0.3, midpoint 0.35; fold 3: 0.33 right, 0.45 wrong,
 *   0.55 right, 0.25 wrong -> 1/2; AUC: 0.55 beats both, 0.25 neither -> 1/2.
 * Mean accuracy 0.75; sample std sqrt((0.0625 + 0 + 0.0625) / 2) = 0.25; se = 0.25/sqrt(3).
 * AUC: mean 0.75, se 0.25/sqrt(3) as well. */
Test(metrics, ten_fold_protocol_on_three_folds)
{
    const double d[] = {0.2, 0.3, 0.6, 0.7, 0.1, 0.48, 0.4, 0.9, 0.33, 0.45, 0.55, 0.25};
    const int y[] = {0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1};
    const int f[] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2};
    sc_folds_result r;
    cr_assert_eq(sc_folds_evaluate(d, y, f, 12, 3, &r), SC_OK, "%s", sc_last_error());
    cr_assert_eq(r.nfolds, 3);
    near(r.threshold[0], 0.515, "fold 1 threshold");
    near(r.threshold[1], 0.5, "fold 2 threshold");
    near(r.threshold[2], 0.35, "fold 3 threshold");
    near(r.accuracy[0], 1.0, "fold 1 accuracy");
    near(r.accuracy[1], 0.75, "fold 2 accuracy");
    near(r.accuracy[2], 0.5, "fold 3 accuracy");
    near(r.auc[0], 1.0, "fold 1 AUC");
    near(r.auc[1], 0.75, "fold 2 AUC");
    near(r.auc[2], 0.5, "fold 3 AUC");
    near(r.mean_accuracy, 0.75, "mean accuracy");
    near(r.se_accuracy, 0.25 / sqrt(3.0), "standard error");
    near(r.mean_auc, 0.75, "mean AUC");
    near(r.se_auc, 0.25 / sqrt(3.0), "AUC standard error");
}

Test(metrics, folds_refuse_bad_input)
{
    const double d[] = {0.2, 0.3, 0.6, 0.7};
    const int y[] = {0, 0, 1, 1};
    const int f[] = {0, 0, 1, 1}; /* fold 2 has no same pairs */
    sc_folds_result r;
    cr_expect_eq(sc_folds_evaluate(d, y, f, 4, 2, &r), SC_ERR);
    cr_expect(strstr(sc_last_error(), "fold 1") || strstr(sc_last_error(), "fold 2"),
              "%s", sc_last_error());
    const int g[] = {0, 1, 0, 5};
    cr_expect_eq(sc_folds_evaluate(d, y, g, 4, 2, &r), SC_ERR);
    cr_expect(strstr(sc_last_error(), "pair 3"), "%s", sc_last_error());
    cr_expect_eq(sc_folds_evaluate(d, y, f, 4, 1, &r), SC_ERR);
}

Test(metrics, bad_input_is_an_error_naming_the_pair)
{
    double auc;
    sc_roc roc;
    const double d[] = {0.1, NAN, 0.3};
    const int y[] = {0, 1, 1};
    cr_expect_eq(sc_auc(d, y, 3, &auc), SC_ERR);
    cr_expect(strstr(sc_last_error(), "pair 1"), "%s", sc_last_error());
    const double d2[] = {0.1, 0.2, 0.3};
    const int y2[] = {0, 2, 1};
    cr_expect_eq(sc_roc_compute(d2, y2, 3, &roc), SC_ERR);
    cr_expect(strstr(sc_last_error(), "label 2"), "%s", sc_last_error());
    const int y3[] = {1, 1, 1};
    cr_expect_eq(sc_auc(d2, y3, 3, &auc), SC_ERR);
    cr_expect(strstr(sc_last_error(), "0 same"), "%s", sc_last_error());
    cr_expect_eq(sc_roc_compute(d2, y2, 0, &roc), SC_ERR);
}

Test(metrics, summary)
{
    const double far[] = {0.1, 0.5};
    sc_verif_metrics m;
    cr_assert_eq(sc_verif_evaluate(A_d, A_y, A_N, 0.75, far, 2, &m), SC_OK, "%s", sc_last_error());
    cr_expect_eq(m.n, 7);
    near(m.auc, 5.0 / 6.0, "AUC");
    near(m.eer, 0.3, "EER");
    near(m.eer_threshold, 0.37, "EER threshold");
    near(m.tar[0], 0.25, "TAR@0.1");
    near(m.far_threshold[0], 0.1, "threshold@0.1");
    near(m.tar[1], 1.0, "TAR@0.5");
    near(m.far_threshold[1], 0.7, "threshold@0.5");
    near(m.accuracy, 6.0 / 7.0, "accuracy");
    cr_assert_eq(sc_verif_evaluate(A_d, A_y, A_N, NAN, far, 2, &m), SC_OK);
    cr_expect(isnan(m.accuracy));
    const double bad[] = {0.0};
    cr_expect_eq(sc_verif_evaluate(A_d, A_y, A_N, 0.5, bad, 1, &m), SC_ERR);
}

Test(metrics, auc_matches_trapezoid_on_random_scores)
{
    /* quantised random distances: many ties, two independent computations must agree */
    enum { N = 500 };
    double d[N];
    int y[N];
    unsigned s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 1103515245u + 12345u;
        y[i] = (s >> 16) & 1;
        s = s * 1103515245u + 12345u;
        d[i] = (double)((s >> 16) % 20) + (y[i] ? 3 : 0);
    }
    sc_roc roc;
    double auc;
    cr_assert_eq(sc_roc_compute(d, y, N, &roc), SC_OK);
    cr_assert_eq(sc_auc(d, y, N, &auc), SC_OK);
    near(sc_roc_auc(&roc), auc, "trapezoid vs Mann-Whitney");
    cr_expect(auc > 0.6 && auc < 0.9, "AUC %g", auc);
    sc_roc_free(&roc);
}

Test(metrics, worst_pairs)
{
    size_t idx[4];
    /* different closest first: 4 (0.4), 5 (0.8); same farthest first: 3 (0.7), then the
     * 0.4 tie taken from the end of the order (index 2 before 1) */
    size_t n = sc_worst_pairs(A_d, A_y, A_N, 2, idx);
    cr_assert_eq(n, 4);
    cr_expect_eq(idx[0], 4);
    cr_expect_eq(idx[1], 5);
    cr_expect_eq(idx[2], 3);
    cr_expect_eq(idx[3], 2);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void tmpdir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/siamcl-metrics-XXXXXX");
    cr_assert(mkdtemp(buf), "mkdtemp");
}

Test(metrics, csv_files)
{
    char dir[64], path[128];
    tmpdir(dir, sizeof dir);
    sc_roc roc;
    cr_assert_eq(sc_roc_compute(A_d, A_y, A_N, &roc), SC_OK);
    snprintf(path, sizeof path, "%s/roc.csv", dir);
    cr_assert_eq(sc_roc_write_csv(&roc, path), SC_OK, "%s", sc_last_error());
    char *text = slurp(path);
    cr_expect(strncmp(text, "threshold,far,tar\n", 18) == 0, "%s", text);
    int lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    cr_expect_eq(lines, 7, "header + 6 points, got %d lines", lines);
    cr_expect(strstr(text, "\n0.40000000000000002,0.33333333333333331,0.75\n"), "%s", text);
    remove(path);
    sc_roc_free(&roc);

    snprintf(path, sizeof path, "%s/scores.csv", dir);
    cr_assert_eq(sc_scores_write_csv(A_d, A_y, NULL, A_N, path), SC_OK);
    text = slurp(path);
    cr_expect(strncmp(text, "pair,label,distance\n0,0,0.10000000000000001\n", 44) == 0, "%s", text);
    const int folds[] = {0, 0, 1, 1, 2, 2, 2};
    cr_assert_eq(sc_scores_write_csv(A_d, A_y, folds, A_N, path), SC_OK);
    text = slurp(path);
    cr_expect(strstr(text, "pair,fold,label,distance\n") == text, "%s", text);
    cr_expect(strstr(text, "\n6,3,1,0.90000000000000002\n"), "%s", text);
    remove(path);
    /* a folder that does not exist: an error naming the file, nothing left behind */
    snprintf(path, sizeof path, "%s/missing/scores.csv", dir);
    cr_expect_eq(sc_scores_write_csv(A_d, A_y, NULL, A_N, path), SC_ERR);
    cr_expect(strstr(sc_last_error(), "missing/scores.csv"), "%s", sc_last_error());
    cr_expect_eq(rmdir(dir), 0, "temporary files left in %s", dir);
}

Test(metrics, json_object_and_lines)
{
    char dir[64], path[128];
    tmpdir(dir, sizeof dir);
    sc_json j;
    sc_json_begin(&j);
    sc_json_num(&j, "auc", 5.0 / 6.0);
    sc_json_int(&j, "epochs", 30);
    sc_json_str(&j, "device", "pocl \"cpu\"\n");
    sc_json_num(&j, "eer", NAN);
    sc_json_bool(&j, "view2", 0);
    sc_json_nums(&j, "acc", (const double[]){1, 0.5}, 2);
    const char *want = "{\"auc\": 0.8333333333, \"epochs\": 30, \"device\": \"pocl \\\"cpu\\\"\\u000a\", "
                       "\"eer\": null, \"view2\": false, \"acc\": [1, 0.5]}";
    const char *got = sc_json_end(&j);
    cr_assert(got);
    cr_expect_str_eq(got, want);
    snprintf(path, sizeof path, "%s/metrics.json", dir);
    cr_assert_eq(sc_json_write(&j, path), SC_OK, "%s", sc_last_error());
    char expect[512];
    snprintf(expect, sizeof expect, "%s\n", want);
    cr_expect_str_eq(slurp(path), expect);
    remove(path);
    sc_json_free(&j);

    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    for (int e = 1; e <= 2; e++) {
        sc_json_begin(&j);
        sc_json_int(&j, "epoch", e);
        cr_assert_eq(sc_json_append(&j, path), SC_OK, "%s", sc_last_error());
        sc_json_free(&j);
    }
    cr_expect_str_eq(slurp(path), "{\"epoch\": 1}\n{\"epoch\": 2}\n");
    remove(path);
    cr_expect_eq(rmdir(dir), 0);
}
