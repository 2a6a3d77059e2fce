/* Checkpoints: round trip, and refusal of corrupt, truncated, foreign and mismatched files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "siamcl/checkpoint.h"
#include "support.h"

static sc_net *small_net(int out2)
{
    sc_layer_desc L[5] = {sc_layer_default(SC_LAYER_CONV), sc_layer_default(SC_LAYER_BATCHNORM),
                          sc_layer_default(SC_LAYER_RELU), sc_layer_default(SC_LAYER_LINEAR),
                          sc_layer_default(SC_LAYER_L2NORM)};
    L[0].out = 4, L[0].k = 3, L[0].stride = 1, L[0].pad = 1;
    L[3].out = out2;
    sc_net *net;
    cr_assert_eq(sc_net_create(test_ctx(), L, 5, 3, 6, 6, 2, &net), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_net_init(net, SC_INIT_KAIMING, 9), SC_OK, "%s", sc_last_error());
    return net;
}

static void tmp_path(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "/tmp/siamcl-test-%d-%s.ckpt", (int)getpid(), tag);
}

static void save(sc_net *net, const char *path)
{
    sc_ckpt ck;
    cr_assert_eq(sc_ckpt_from_net(&ck, net), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_ckpt_meta_set(&ck, "epoch", "3"), SC_OK);
    cr_assert_eq(sc_ckpt_meta_set(&ck, "threshold_eer", "0.75"), SC_OK);
    cr_assert_eq(sc_ckpt_meta_set(&ck, "epoch", "4"), SC_OK); /* replaces */
    float extra[3] = {1, 2, 3};
    cr_assert_eq(sc_ckpt_blob_add(&ck, "opt.m", extra, 3), SC_OK);
    cr_assert_eq(sc_ckpt_write(path, &ck), SC_OK, "%s", sc_last_error());
    sc_ckpt_free(&ck);
}

Test(checkpoint, round_trip_restores_parameters_and_metadata)
{
    char path[256];
    tmp_path(path, sizeof path, "rt");
    sc_net *a = small_net(5);
    save(a, path);
    sc_ckpt ck;
    cr_assert_eq(sc_ckpt_read(path, &ck), SC_OK, "%s", sc_last_error());
    char v[32];
    cr_assert_eq(sc_ckpt_meta_get(&ck, "epoch", v, sizeof v), SC_OK);
    cr_assert_str_eq(v, "4");
    cr_assert_eq(sc_ckpt_meta_get(&ck, "threshold_eer", v, sizeof v), SC_OK);
    cr_assert_str_eq(v, "0.75");
    cr_assert_eq(sc_ckpt_meta_get(&ck, "missing", v, sizeof v), SC_ERR);
    const sc_ckpt_blob *m = sc_ckpt_blob_find(&ck, "opt.m");
    cr_assert(m && m->n == 3 && m->data[2] == 3.0f);
    sc_net *b;
    cr_assert_eq(sc_net_from_ckpt(test_ctx(), &ck, 2, &b), SC_OK, "%s", sc_last_error());
    float *pa = test_download(&a->params), *pb = test_download(&b->params);
    test_expect_close("exact", pb, pa, a->params.n);
    float *sa = test_download(&a->state), *sb = test_download(&b->state);
    test_expect_close("exact", sb, sa, a->state.n);
    free(pa), free(pb), free(sa), free(sb);
    sc_ckpt_free(&ck);
    sc_net_free(a), sc_net_free(b);
    unlink(path);
}

static void expect_refused(const char *path, const char *why)
{
    sc_ckpt ck;
    cr_assert_eq(sc_ckpt_read(path, &ck), SC_ERR, "a damaged checkpoint was accepted");
    cr_assert(strstr(sc_last_error(), path), "message must name the file: %s", sc_last_error());
    cr_assert(strstr(sc_last_error(), why), "expected '%s' in: %s", why, sc_last_error());
}

static void rewrite(const char *path, long cut, long flip)
{
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *p = malloc((size_t)n);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    if (flip >= 0)
        p[flip] ^= 0x40;
    f = fopen(path, "wb");
    fwrite(p, 1, (size_t)(cut >= 0 ? cut : n), f);
    fclose(f);
    free(p);
}

Test(checkpoint, corrupt_truncated_and_foreign_files_are_refused)
{
    char path[256];
    tmp_path(path, sizeof path, "bad");
    sc_net *a = small_net(5);
    save(a, path);
    rewrite(path, -1, 200); /* one flipped bit in the parameters */
    expect_refused(path, "checksum");
    save(a, path);
    rewrite(path, 100, -1); /* truncated */
    expect_refused(path, "checksum");
    FILE *f = fopen(path, "wb");
    fputs("this is not a checkpoint at all, just text", f);
    fclose(f);
    expect_refused(path, "magic");
    sc_ckpt ck;
    cr_assert_eq(sc_ckpt_read("/nonexistent/dir/x.ckpt", &ck), SC_ERR);
    cr_assert(strstr(sc_last_error(), "/nonexistent/dir/x.ckpt"), "%s", sc_last_error());
    sc_net_free(a);
    unlink(path);
}

Test(checkpoint, other_architecture_is_refused)
{
    char path[256];
    tmp_path(path, sizeof path, "arch");
    sc_net *a = small_net(5), *b = small_net(7);
    save(a, path);
    sc_ckpt ck;
    cr_assert_eq(sc_ckpt_read(path, &ck), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_ckpt_to_net(&ck, b), SC_ERR);
    cr_assert(strstr(sc_last_error(), "layer 4") && strstr(sc_last_error(), "linear out=5 vs out=7"),
              "%s", sc_last_error());
    sc_ckpt_free(&ck);
    sc_net_free(a), sc_net_free(b);
    unlink(path);
}

Test(checkpoint, write_is_atomic_and_leaves_no_temp_files)
{
    char path[256];
    tmp_path(path, sizeof path, "atomic");
    sc_net *a = small_net(5);
    save(a, path);
    save(a, path); /* replacing an existing file */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s.tmp.* 2>/dev/null | wc -l", path);
    FILE *p = popen(cmd, "r");
    int leftovers = -1;
    cr_assert_eq(fscanf(p, "%d", &leftovers), 1);
    pclose(p);
    cr_assert_eq(leftovers, 0);
    /* a folder that does not exist: an error, not a crash */
    sc_ckpt ck;
    cr_assert_eq(sc_ckpt_from_net(&ck, a), SC_OK);
    cr_assert_eq(sc_ckpt_write("/nonexistent/dir/m.ckpt", &ck), SC_ERR);
    sc_ckpt_free(&ck);
    sc_net_free(a);
    unlink(path);
}
