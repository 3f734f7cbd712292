/* Byte sizes as users write them on command lines ("32M", "512KiB",
 * "65536"), parsed to a number of bytes. */
#ifndef AH_SIZE_H
#define AH_SIZE_H

#include <stdint.h>

/* Parses decimal digits followed by an optional binary unit: k, K or KiB
 * (1024), m, M or MiB (1024^2), g, G or GiB (1024^3), t, T or TiB (1024^4);
 * none or B means bytes. Rejects empty strings, signs, fractions, spaces,
 * unknown units and trailing garbage (-EINVAL) and values over UINT64_MAX
 * (-ERANGE). out is written only on success. */
int ah_size_parse(const char *s, uint64_t *out);

#endif
