/* The config's key table and value codecs, shared by the parser (config.c), the key table
 * (config_keys.c) and the value parsers/formatters (config_values.c). Private. */
#ifndef SIAMCL_EXP_CONFIG_INTERNAL_H
#define SIAMCL_EXP_CONFIG_INTERNAL_H

#include <stddef.h>

#include "siamcl/config.h"

typedef enum cfg_type {
    CT_STR,   /* free text */
    CT_NAME,  /* [A-Za-z0-9._-]+ (goes into folder names) */
    CT_PATH,  /* text with $VAR / ${VAR} expanded from the environment */
    CT_INT,
    CT_U64,
    CT_DBL,
    CT_BOOL,  /* on/off, true/false, yes/no, 1/0; written on/off */
    CT_ENUM,
    CT_CROP,  /* none | x,y,w,h */
    CT_FAR,   /* list of FAR targets */
    CT_FOLDS, /* all | list of fold numbers */
    CT_LAYER, /* the repeated [model] layer key */
} cfg_type;

typedef struct cfg_key {
    const char *section, *name;
    cfg_type type;
    size_t off;                 /* offset of the value in sc_config */
    double lo, hi;              /* numeric range */
    int lo_open, hi_open;       /* 1: the bound itself is excluded */
    const char *const *choices; /* CT_ENUM: names, NULL-terminated, index = enum value */
    const char *def;            /* default as written; NULL = required */
} cfg_key;

extern const cfg_key sc_cfg_keys[];
extern const int sc_cfg_nkeys;
extern const char *const sc_cfg_sections[]; /* NULL-terminated */

int sc_cfg_section_known(const char *section);
/* Index in sc_cfg_keys or -1. */
int sc_cfg_find(const char *section, const char *name);
/* "loss, margin, ..." for messages. */
void sc_cfg_key_list(const char *section, char *buf, size_t size);

/* Parses text into the key's field. On failure writes the reason ("'x' is not an integer")
 * to why and returns SC_ERR without touching the field (sc_fail is not used: the caller
 * builds the FILE:LINE message). Not for CT_LAYER. */
int sc_cfg_parse_value(sc_config *cfg, const cfg_key *k, const char *text, char *why,
                       size_t wsize);
/* The key's value as written in a config. */
void sc_cfg_format_value(const sc_config *cfg, const cfg_key *k, char *buf, size_t size);

/* One layer spec "KIND key=value ..." -> d (line is left to the caller). */
int sc_cfg_parse_layer(const char *spec, sc_layer_desc *d, char *why, size_t wsize);
/* d as a spec with every parameter of its kind. */
void sc_cfg_format_layer(const sc_layer_desc *d, char *buf, size_t size);

/* Shortest of %.15g..%.17g (double) that reads back exactly. */
void sc_cfg_format_double(double v, char *buf, size_t size);

#endif
