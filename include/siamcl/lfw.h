/* LFW: the identity index and the official lists (View 1: pairsDevTrain/pairsDevTest and
 * peopleDevTrain/peopleDevTest; View 2: pairs.txt and people.txt, 10 folds).
 *
 * Ids. Person ids are positions in lfw-names.txt (0 .. n_people-1). Image ids number every
 * image of every person in that order: person p owns ids first .. first + count - 1, and id
 * first + k is the file "Name/Name_%04d.jpg" with number k + 1. So each image has exactly one
 * id however many pairs use it (image dedupe), and the dataset decodes each id once.
 *
 * Labels. This project's convention everywhere: Y = 0 same person, Y = 1 different people.
 * LFW's files list "matched" and "mismatched" pairs; the conversion happens in one place,
 * the pair-list parser (SC_SAME / SC_DIFFERENT below).
 *
 * Validation. Every line of every list is checked; a malformed line, a bad number, an unknown
 * person, an image number beyond the person's count (or a missing file), a name containing '/'
 * or '\\' or that is "." / ".." / hidden, or a count that disagrees with the index fails with
 * "<file>:<line>: <what>". Host only. */
#ifndef SIAMCL_LFW_H
#define SIAMCL_LFW_H

#include <stddef.h>
#include <stdint.h>

#include "siamcl/error.h"

enum { SC_SAME = 0, SC_DIFFERENT = 1 };

typedef struct sc_lfw_person {
    char *name;
    int first; /* image id of its first image */
    int count; /* number of images */
} sc_lfw_person;

typedef struct sc_lfw {
    char *root; /* the folder holding Name/ folders and the list files */
    int n_people;
    sc_lfw_person *people; /* in lfw-names.txt order */
    int n_images;
    int *image_person; /* image id -> person id */
    int *by_name;      /* person ids sorted by name, for lookup */
} sc_lfw;

enum {
    SC_LFW_NO_FILE_CHECK = 1 /* skip checking that every image file exists (faster open) */
};

/* Reads <root>/lfw-names.txt ("name<TAB>count" per line) and, unless SC_LFW_NO_FILE_CHECK,
 * checks that every listed image file exists (a missing one names its lfw-names.txt line). */
int sc_lfw_open(sc_lfw *lfw, const char *root, unsigned flags);
void sc_lfw_close(sc_lfw *lfw);

/* Person id for a name, -1 when unknown. */
int sc_lfw_find(const sc_lfw *lfw, const char *name);
/* Image id of `person`'s image `number` (1-based, as in the lists); -1 when out of range. */
int sc_lfw_image(const sc_lfw *lfw, int person, int number);
/* "Name/Name_0001.jpg", relative to the root. Fails when buf is too small. */
int sc_lfw_image_relpath(const sc_lfw *lfw, int id, char *buf, size_t size);
/* A list file: `list` without '/' is a file name under the root ("pairs.txt"); with '/' it is
 * a path used as is. */
int sc_lfw_list_path(const sc_lfw *lfw, const char *list, char *buf, size_t size);

/* ---- pairs ------------------------------------------------------------------------------ */

typedef struct sc_pair {
    int a, b; /* image ids */
    int y;    /* SC_SAME (0) or SC_DIFFERENT (1) */
    int fold; /* 0 .. folds-1 (always 0 for View 1) */
} sc_pair;

typedef struct sc_pairs {
    int n;
    sc_pair *p;
    int folds; /* 1 for pairsDev*.txt, 10 for pairs.txt */
} sc_pairs;

/* Parses pairsDevTrain.txt / pairsDevTest.txt (first line N: N matched then N mismatched) or
 * pairs.txt (first line "folds<TAB>N": per fold N matched then N mismatched), told apart by
 * the first line. Matched lines are "name<TAB>i<TAB>j", mismatched "n1<TAB>i<TAB>n2<TAB>j";
 * a line of the wrong kind for its position, the same image twice, the same person in a
 * mismatched pair, missing or extra lines are errors. */
int sc_lfw_pairs_load(const sc_lfw *lfw, const char *list, sc_pairs *out);
void sc_pairs_free(sc_pairs *p);
/* The pairs of one fold (keep = 1) or of every other fold (keep = 0), copied. */
int sc_pairs_fold(const sc_pairs *all, int fold, int keep, sc_pairs *out);
/* Distinct image ids used by the pairs, ascending (*ids malloc'ed). */
int sc_pairs_images(const sc_pairs *p, int **ids, int *n);

/* ---- people lists ----------------------------------------------------------------------- */

typedef struct sc_people {
    int n;
    int *person; /* person ids */
    int *fold;   /* fold of each entry (0 for single-list files) */
    int folds;
} sc_people;

/* Parses peopleDevTrain.txt / peopleDevTest.txt (count N, then N "name<TAB>n" lines) or
 * people.txt (fold count F, then per fold a count and that many "name<TAB>n" lines), told
 * apart by the second line. n must equal the index's image count for that person; a person
 * listed twice is an error. */
int sc_lfw_people_load(const sc_lfw *lfw, const char *list, sc_people *out);
/* Every person of the index (one fold). */
int sc_people_all(const sc_lfw *lfw, sc_people *out);
/* The entries whose fold is in fold_mask (bit f = fold f), e.g. the nine training folds. */
int sc_people_select(const sc_people *all, uint32_t fold_mask, sc_people *out);
void sc_people_free(sc_people *p);
/* Every image id of the persons in `people`, ascending (*ids malloc'ed): e.g. the training
 * images for normalisation statistics. */
int sc_people_images(const sc_lfw *lfw, const sc_people *people, int **ids, int *n);
/* Number of persons present in both lists. */
int sc_people_overlap(const sc_lfw *lfw, const sc_people *a, const sc_people *b);
/* Number of pairs with an image of a person not in `allowed` (0: the pairs stay inside). */
int sc_pairs_outside(const sc_lfw *lfw, const sc_pairs *pairs, const sc_people *allowed);

#endif
