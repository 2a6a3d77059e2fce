/* LFW lists: the index, pairs (View 1 and View 2 layouts) and people lists on small files the
 * tests write, every malformed case with its file:line message; then, with LFW_DIR set, the
 * real lists: counts, every pair resolving, disjoint people. */
#include "data_fixtures.h"

#include "siamcl/data.h"

static char *dir;

/* Alice 3, Bob 1, Carol 2, Dan 4, Eve 1, Frank 2: 13 images. */
static const char *names = "Alice\t3\nBob\t1\nCarol\t2\nDan\t4\nEve\t1\nFrank\t2\n";

static void make_images(const char *root, const char *list)
{
    char *copy = strdup(list), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[64];
        int n;
        if (sscanf(line, "%63s %d", name, &n) != 2)
            continue;
        char *d = fx_path(root, name);
        mkdir(d, 0755);
        for (int k = 1; k <= n; k++) {
            char file[160];
            snprintf(file, sizeof file, "%s/%s_%04d.jpg", d, name, k);
            fx_text(file, "P5 1 1 255\n\x80"); /* content decides the format, not the name */
        }
        free(d);
    }
    free(copy);
}

static void setup(void)
{
    dir = fx_tmpdir();
    char *p = fx_path(dir, "lfw-names.txt");
    fx_text(p, names);
    free(p);
    make_images(dir, names);
}
static void teardown(void) { fx_rmtree(dir); dir = NULL; }
TestSuite(lfw, .init = setup, .fini = teardown);

static sc_lfw open_ok(void)
{
    sc_lfw lfw;
    cr_assert_eq(sc_lfw_open(&lfw, dir, 0), SC_OK, "%s", sc_last_error());
    return lfw;
}

static void write_list(const char *name, const char *text)
{
    char *p = fx_path(dir, name);
    fx_text(p, text);
    free(p);
}

/* The message must name the file and line ("pairs.txt:3:") and say what was wrong. */
static void expect_msg(const char *file, int line, const char *what)
{
    char where[256];
    snprintf(where, sizeof where, "%s:%d:", file, line);
    cr_assert(strstr(sc_last_error(), where), "'%s' does not point at %s", sc_last_error(), where);
    cr_assert(strstr(sc_last_error(), what), "'%s' does not say '%s'", sc_last_error(), what);
}

Test(lfw, index_ids_and_paths)
{
    sc_lfw lfw = open_ok();
    cr_assert_eq(lfw.n_people, 6);
    cr_assert_eq(lfw.n_images, 13);
    int dan = sc_lfw_find(&lfw, "Dan");
    cr_assert_eq(dan, 3);
    cr_assert_eq(sc_lfw_find(&lfw, "Zed"), -1);
    cr_assert_eq(sc_lfw_find(&lfw, "alice"), -1);
    cr_assert_eq(sc_lfw_image(&lfw, dan, 1), 6); /* 3 + 1 + 2 before Dan */
    cr_assert_eq(sc_lfw_image(&lfw, dan, 4), 9);
    cr_assert_eq(sc_lfw_image(&lfw, dan, 5), -1);
    cr_assert_eq(sc_lfw_image(&lfw, dan, 0), -1);
    cr_assert_eq(lfw.image_person[9], dan);
    char rel[128];
    cr_assert_eq(sc_lfw_image_relpath(&lfw, 7, rel, sizeof rel), SC_OK);
    cr_assert_str_eq(rel, "Dan/Dan_0002.jpg");
    cr_assert_eq(sc_lfw_image_relpath(&lfw, 7, rel, 5), SC_ERR);
    cr_assert_eq(sc_lfw_image_relpath(&lfw, 13, rel, sizeof rel), SC_ERR);
    sc_lfw_close(&lfw);
}

static void names_fail(const char *text, int line, const char *what)
{
    write_list("lfw-names.txt", text);
    sc_lfw lfw;
    cr_assert_eq(sc_lfw_open(&lfw, dir, SC_LFW_NO_FILE_CHECK), SC_ERR, "accepted: %s", text);
    expect_msg("lfw-names.txt", line, what);
}

Test(lfw, names_malformed)
{
    names_fail("Alice\t3\nBob\n", 2, "found 1 field");
    names_fail("Alice\t3\nBob\t1\t2\n", 2, "found 3 fields");
    names_fail("Alice\t3\nBob\tone\n", 2, "not a non-negative whole number");
    names_fail("Alice\t0\n", 1, "outside");
    names_fail("Alice\t-2\n", 1, "not a non-negative");
    names_fail("Alice\t99999999999\n", 1, "outside");
    names_fail("Alice\t3\nBob\t1\nAlice\t2\n", 3, "listed again (first on line 1)");
    names_fail("../etc\t1\n", 1, "starts with '.'");
    names_fail("a/b\t1\n", 1, "contains '/'");
    names_fail("a\\b\t1\n", 1, "contains '\\'");
    names_fail("a..b\t1\n", 1, "contains '..'");
    names_fail("Alice\t3\n\nBob\t1\n", 2, "empty line");
    write_list("lfw-names.txt", "");
    sc_lfw lfw;
    cr_assert_eq(sc_lfw_open(&lfw, dir, 0), SC_ERR);
    cr_assert(strstr(sc_last_error(), "no people"), "%s", sc_last_error());
}

Test(lfw, names_missing_file_or_folder)
{
    write_list("lfw-names.txt", "Alice\t3\nBob\t2\n"); /* Bob has one image on disk */
    sc_lfw lfw;
    cr_assert_eq(sc_lfw_open(&lfw, dir, 0), SC_ERR);
    expect_msg("lfw-names.txt", 2, "Bob/Bob_0002.jpg is missing");
    cr_assert_eq(sc_lfw_open(&lfw, dir, SC_LFW_NO_FILE_CHECK), SC_OK); /* allowed when asked */
    sc_lfw_close(&lfw);
    char *nowhere = fx_path(dir, "nowhere");
    cr_assert_eq(sc_lfw_open(&lfw, nowhere, 0), SC_ERR);
    cr_assert(strstr(sc_last_error(), "does not exist"));
    free(nowhere);
    cr_assert_eq(sc_lfw_open(&lfw, NULL, 0), SC_ERR);
    cr_assert(strstr(sc_last_error(), "LFW_DIR"));
}

Test(lfw, names_crlf_and_trailing_blank_lines)
{
    write_list("lfw-names.txt", "Alice\t3\r\nBob\t1\r\nCarol\t2\r\nDan\t4\r\nEve\t1\r\nFrank\t2\r\n\r\n\n");
    sc_lfw lfw = open_ok();
    cr_assert_eq(lfw.n_images, 13);
    sc_lfw_close(&lfw);
}

Test(lfw, pairs_view1_labels_and_dedupe)
{
    write_list("pairsDevTrain.txt", "2\nAlice\t1\t2\nDan\t1\t4\nAlice\t1\tBob\t1\nCarol\t2\tDan\t3\n");
    sc_lfw lfw = open_ok();
    sc_pairs p;
    cr_assert_eq(sc_lfw_pairs_load(&lfw, "pairsDevTrain.txt", &p), SC_OK, "%s", sc_last_error());
    cr_assert_eq(p.n, 4);
    cr_assert_eq(p.folds, 1);
    /* matched -> Y = 0 (same), mismatched -> Y = 1 (different) */
    cr_assert_eq(p.p[0].y, SC_SAME);
    cr_assert_eq(p.p[1].y, SC_SAME);
    cr_assert_eq(p.p[2].y, SC_DIFFERENT);
    cr_assert_eq(p.p[3].y, SC_DIFFERENT);
    cr_assert_eq(p.p[0].a, 0);
    cr_assert_eq(p.p[0].b, 1);
    cr_assert_eq(p.p[1].a, 6);
    cr_assert_eq(p.p[1].b, 9);
    cr_assert_eq(p.p[2].b, 3);                 /* Bob_0001 */
    cr_assert_eq(p.p[3].a, 5);                 /* Carol_0002 */
    int *ids, n;
    cr_assert_eq(sc_pairs_images(&p, &ids, &n), SC_OK);
    const int want[] = {0, 1, 3, 5, 6, 8, 9}; /* Alice_0001 used twice, decoded once */
    cr_assert_eq(n, 7);
    for (int i = 0; i < n; i++)
        cr_assert_eq(ids[i], want[i]);
    free(ids);
    sc_pairs_free(&p);
    sc_lfw_close(&lfw);
}

Test(lfw, pairs_view2_folds)
{
    write_list("pairs.txt", "2\t1\nAlice\t1\t3\nAlice\t2\tEve\t1\nDan\t2\t3\nCarol\t1\tFrank\t2\n\n");
    sc_lfw lfw = open_ok();
    sc_pairs p, f1, rest;
    cr_assert_eq(sc_lfw_pairs_load(&lfw, "pairs.txt", &p), SC_OK, "%s", sc_last_error());
    cr_assert_eq(p.n, 4);
    cr_assert_eq(p.folds, 2);
    cr_assert_eq(p.p[0].fold, 0);
    cr_assert_eq(p.p[1].fold, 0);
    cr_assert_eq(p.p[2].fold, 1);
    cr_assert_eq(p.p[3].y, SC_DIFFERENT);
    cr_assert_eq(sc_pairs_fold(&p, 1, 1, &f1), SC_OK);
    cr_assert_eq(sc_pairs_fold(&p, 1, 0, &rest), SC_OK);
    cr_assert_eq(f1.n, 2);
    cr_assert_eq(rest.n, 2);
    cr_assert_eq(f1.p[0].a, 7);
    cr_assert_eq(rest.p[0].a, 0);
    sc_pairs_free(&f1);
    cr_assert_eq(sc_pairs_fold(&p, 2, 1, &f1), SC_ERR);
    sc_pairs_free(&rest);
    sc_pairs_free(&p);
    /* a path with '/' is used as is */
    char *abs = fx_path(dir, "pairs.txt");
    cr_assert_eq(sc_lfw_pairs_load(&lfw, abs, &p), SC_OK);
    sc_pairs_free(&p);
    free(abs);
    sc_lfw_close(&lfw);
}

static void pairs_fail(const char *text, int line, const char *what)
{
    write_list("pairsBad.txt", text);
    sc_lfw lfw = open_ok();
    sc_pairs p = {5, (sc_pair *)1, 3};
    cr_assert_eq(sc_lfw_pairs_load(&lfw, "pairsBad.txt", &p), SC_ERR, "accepted: %s", text);
    cr_assert_eq(p.p, NULL);
    cr_assert_eq(p.n, 0);
    expect_msg("pairsBad.txt", line, what);
    sc_lfw_close(&lfw);
}

Test(lfw, pairs_malformed)
{
    pairs_fail("", 1, "ends early");
    pairs_fail("x\n", 1, "pair count 'x'");
    pairs_fail("0\n", 1, "outside");
    pairs_fail("1\t2\t3\n", 1, "found 3 fields");
    pairs_fail("1 x\n", 1, "pairs per fold 'x'");
    pairs_fail("1\nAlice\t1\t2\n", 3, "ends early");
    pairs_fail("1\nAlice\t1\t2\nAlice\t1\tBob\t1\nAlice\t1\t3\n", 4, "extra line");
    pairs_fail("1\nAlice\t1\tBob\t1\nAlice\t1\t2\n", 2, "expected a matched pair");
    pairs_fail("1\nAlice\t1\t2\nAlice\t1\t2\n", 3, "expected a mismatched pair");
    pairs_fail("1\nAlice\t1\n", 2, "found 2 fields");
    pairs_fail("1\nAlice\t1\t2\t3\t4\nx\n", 2, "more than 4 fields");
    pairs_fail("1\n\nAlice\t1\t2\n", 2, "empty line");
    pairs_fail("1\nZed\t1\t2\n", 2, "unknown person 'Zed'");
    pairs_fail("1\nAlice\t1\t4\n", 2, "image 4 of 'Alice' does not exist (3 images)");
    pairs_fail("1\nAlice\t0\t2\n", 2, "image 0 of 'Alice'");
    pairs_fail("1\nAlice\t1\t-2\n", 2, "not a non-negative");
    pairs_fail("1\nAlice\t1\t2x\n", 2, "not a non-negative");
    pairs_fail("1\nAlice\t1\t99999999999999\n", 2, "outside");
    pairs_fail("1\nAlice\t2\t2\n", 2, "same image twice");
    pairs_fail("1\nAlice\t1\t2\nDan\t1\tDan\t2\n", 3, "same person twice");
    pairs_fail("1\n../Alice\t1\t2\n", 2, "starts with '.'");
    pairs_fail("1\n..\t1\t2\n", 2, "starts with '.'");
    pairs_fail("1\nAlice/../Bob\t1\t2\n", 2, "contains '..'");
    pairs_fail("1\nAlice/Bob\t1\t2\n", 2, "contains '/'");
    pairs_fail("1\nAlice\t1\t2\nAlice\t1\t/etc\t1\n", 3, "contains '/'");
    pairs_fail("2\t1\nAlice\t1\t2\nAlice\t1\tBob\t1\nAlice\t1\t2\n", 5, "ends early");
    write_list("pairsBin.txt", "1\nAl\0ice\t1\t2\n");
    char *p = fx_path(dir, "pairsBin.txt");
    fx_write(p, "1\nAl\0ice\t1\t2\n", 13);
    free(p);
    sc_lfw lfw = open_ok();
    sc_pairs pp;
    cr_assert_eq(sc_lfw_pairs_load(&lfw, "pairsBin.txt", &pp), SC_ERR);
    cr_assert(strstr(sc_last_error(), "NUL"), "%s", sc_last_error());
    cr_assert_eq(sc_lfw_pairs_load(&lfw, "no_such_list.txt", &pp), SC_ERR);
    cr_assert(strstr(sc_last_error(), "no_such_list.txt"), "%s", sc_last_error());
    sc_lfw_close(&lfw);
}

Test(lfw, people_lists_both_layouts)
{
    write_list("peopleDevTrain.txt", "3\nAlice\t3\nDan\t4\nEve\t1\n");
    write_list("peopleDevTest.txt", "3\nBob\t1\nCarol\t2\nFrank\t2\n");
    write_list("people.txt", "2\n2\nAlice\t3\nBob\t1\n4\nCarol\t2\nDan\t4\nEve\t1\nFrank\t2\n");
    sc_lfw lfw = open_ok();
    sc_people tr, te, all, f0, every;
    cr_assert_eq(sc_lfw_people_load(&lfw, "peopleDevTrain.txt", &tr), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_lfw_people_load(&lfw, "peopleDevTest.txt", &te), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_lfw_people_load(&lfw, "people.txt", &all), SC_OK, "%s", sc_last_error());
    cr_assert_eq(tr.n, 3);
    cr_assert_eq(tr.folds, 1);
    cr_assert_eq(tr.person[1], 3);
    cr_assert_eq(all.n, 6);
    cr_assert_eq(all.folds, 2);
    cr_assert_eq(all.fold[1], 0);
    cr_assert_eq(all.fold[2], 1);
    cr_assert_eq(sc_people_overlap(&lfw, &tr, &te), 0);
    cr_assert_eq(sc_people_overlap(&lfw, &tr, &all), 3);
    cr_assert_eq(sc_people_select(&all, 1u << 1, &f0), SC_OK);
    cr_assert_eq(f0.n, 4);
    cr_assert_eq(f0.person[0], 2);
    cr_assert_eq(sc_people_all(&lfw, &every), SC_OK);
    cr_assert_eq(every.n, 6);
    int *ids, n;
    cr_assert_eq(sc_people_images(&lfw, &tr, &ids, &n), SC_OK); /* Alice 0-2, Dan 6-9, Eve 10 */
    const int want[] = {0, 1, 2, 6, 7, 8, 9, 10};
    cr_assert_eq(n, 8);
    for (int i = 0; i < n; i++)
        cr_assert_eq(ids[i], want[i]);
    free(ids);

    write_list("pairsDevTrain.txt", "1\nDan\t1\t2\nAlice\t1\tEve\t1\n");
    sc_pairs p;
    cr_assert_eq(sc_lfw_pairs_load(&lfw, "pairsDevTrain.txt", &p), SC_OK);
    cr_assert_eq(sc_pairs_outside(&lfw, &p, &tr), 0);
    cr_assert_eq(sc_pairs_outside(&lfw, &p, &te), 2);
    cr_assert_eq(sc_pairs_outside(&lfw, &p, &f0), 1);
    sc_pairs_free(&p);
    sc_people_free(&tr);
    sc_people_free(&te);
    sc_people_free(&all);
    sc_people_free(&f0);
    sc_people_free(&every);
    sc_lfw_close(&lfw);
}

static void people_fail(const char *text, int line, const char *what)
{
    write_list("peopleBad.txt", text);
    sc_lfw lfw = open_ok();
    sc_people p;
    cr_assert_eq(sc_lfw_people_load(&lfw, "peopleBad.txt", &p), SC_ERR, "accepted: %s", text);
    cr_assert_eq(p.person, NULL);
    expect_msg("peopleBad.txt", line, what);
    sc_lfw_close(&lfw);
}

Test(lfw, people_malformed)
{
    people_fail("", 1, "ends early");
    people_fail("two\n", 1, "count 'two'");
    people_fail("2\tx\n", 1, "found 2 fields");
    people_fail("2\nAlice\t3\n", 3, "ends early");
    people_fail("1\nAlice\t3\nBob\t1\n", 3, "extra line");
    people_fail("2\nAlice\t3\nAlice\t3\n", 3, "listed twice");
    people_fail("1\nAlice\t2\n", 2, "has 2 images here but 3 in lfw-names.txt");
    people_fail("1\nZed\t2\n", 2, "unknown person 'Zed'");
    people_fail("1\n../x\t2\n", 2, "starts with '.'");
    people_fail("1\nAlice\t3\t1\n", 2, "found 3 fields");
    people_fail("2\n1\nAlice\t3\nBob\t1\n", 4, "fold size");
    people_fail("2\n1\nAlice\t3\n6\nBob\t1\n", 4, "more than the people left");
    people_fail("2\n1\nAlice\t3\n1\n", 5, "ends early");
    people_fail("1\n\nAlice\t3\n", 2, "empty line");
    people_fail("7\nAlice\t3\n", 1, "outside");
}

/* ---- the real LFW ------------------------------------------------------------------------- */

static const char *lfw_dir(void)
{
    const char *d = getenv("LFW_DIR");
    if (!d || !*d)
        cr_skip_test("LFW_DIR is not set: the real-LFW checks need a copy of LFW "
                     "(see data/README.md)");
    return d;
}

Test(lfw_real, counts_pairs_people_disjoint)
{
    const char *root = lfw_dir();
    sc_lfw lfw;
    cr_assert_eq(sc_lfw_open(&lfw, root, 0), SC_OK, "%s", sc_last_error());
    cr_assert_eq(lfw.n_images, 13233);
    cr_assert_eq(lfw.n_people, 5749);

    sc_pairs train, test, view2;
    cr_assert_eq(sc_lfw_pairs_load(&lfw, "pairsDevTrain.txt", &train), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_lfw_pairs_load(&lfw, "pairsDevTest.txt", &test), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_lfw_pairs_load(&lfw, "pairs.txt", &view2), SC_OK, "%s", sc_last_error());
    cr_assert_eq(train.n, 2200);
    cr_assert_eq(test.n, 1000);
    cr_assert_eq(view2.n, 6000);
    cr_assert_eq(view2.folds, 10);
    int same = 0;
    for (int i = 0; i < view2.n; i++)
        same += view2.p[i].y == SC_SAME;
    cr_assert_eq(same, 3000);

    sc_people ptr, pte, p10;
    cr_assert_eq(sc_lfw_people_load(&lfw, "peopleDevTrain.txt", &ptr), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_lfw_people_load(&lfw, "peopleDevTest.txt", &pte), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_lfw_people_load(&lfw, "people.txt", &p10), SC_OK, "%s", sc_last_error());
    cr_assert_eq(ptr.n, 4038);
    cr_assert_eq(pte.n, 1711);
    cr_assert_eq(p10.n, 5749);
    cr_assert_eq(p10.folds, 10);
    cr_assert_eq(sc_people_overlap(&lfw, &ptr, &pte), 0, "DevTrain and DevTest share people");
    cr_assert_eq(sc_pairs_outside(&lfw, &train, &ptr), 0);
    cr_assert_eq(sc_pairs_outside(&lfw, &test, &pte), 0);
    /* View 2: the pairs of fold f only use people of fold f */
    for (int f = 0; f < 10; f++) {
        sc_pairs pf;
        sc_people folk;
        cr_assert_eq(sc_pairs_fold(&view2, f, 1, &pf), SC_OK);
        cr_assert_eq(pf.n, 600);
        cr_assert_eq(sc_people_select(&p10, 1u << f, &folk), SC_OK);
        cr_assert_eq(sc_pairs_outside(&lfw, &pf, &folk), 0, "fold %d", f);
        sc_pairs_free(&pf);
        sc_people_free(&folk);
    }

    /* decode a handful: the first and last image and both sides of a few pairs */
    int probe[8] = {0, lfw.n_images - 1, train.p[0].a, train.p[0].b, test.p[999].a,
                    test.p[999].b, view2.p[3000].a, view2.p[5999].b};
    for (int i = 0; i < 8; i++) {
        char rel[512], path[4096];
        cr_assert_eq(sc_lfw_image_relpath(&lfw, probe[i], rel, sizeof rel), SC_OK);
        snprintf(path, sizeof path, "%s/%s", root, rel);
        sc_image img;
        cr_assert_eq(sc_image_load(path, &img), SC_OK, "%s", sc_last_error());
        cr_assert_eq(img.w, 250);
        cr_assert_eq(img.h, 250);
        sc_image_free(&img);
    }
    sc_pairs_free(&train);
    sc_pairs_free(&test);
    sc_pairs_free(&view2);
    sc_people_free(&ptr);
    sc_people_free(&pte);
    sc_people_free(&p10);
    sc_lfw_close(&lfw);
}
