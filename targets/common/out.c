/* Text formatting for the device harness (plat.h): no printf, so the bare-metal image needs no stdio. */
#include <string.h>

#include "plat.h"

void out_str(out_buf *b, const char *s) {
    while (*s) {
        if (b->n == sizeof b->s) out_flush(b);
        b->s[b->n++] = *s++;
    }
}

void out_u64(out_buf *b, uint64_t v) {
    char t[24];
    int i = 0;
    do { t[i++] = (char)('0' + v % 10); v /= 10; } while (v);
    char r[24];
    for (int k = 0; k < i; k++) r[k] = t[i - 1 - k];
    r[i] = 0;
    out_str(b, r);
}

void out_i64(out_buf *b, int64_t v) {
    if (v < 0) { out_str(b, "-"); out_u64(b, (uint64_t)0 - (uint64_t)v); } else out_u64(b, (uint64_t)v);
}

void out_hex(out_buf *b, uint64_t v, int digits) {
    char t[19] = "0x";
    for (int k = 0; k < digits; k++) t[2 + k] = "0123456789abcdef"[(v >> (4 * (digits - 1 - k))) & 0xF];
    t[2 + digits] = 0;
    out_str(b, t);
}

void out_f(out_buf *b, double v, int decimals) {
    if (v != v) { out_str(b, "nan"); return; }
    if (v < 0) { out_str(b, "-"); v = -v; }
    if (v > 1e18) { out_str(b, "inf"); return; }
    double scale = 1;
    for (int k = 0; k < decimals; k++) scale *= 10;
    uint64_t n = (uint64_t)(v * scale + 0.5);
    uint64_t s = (uint64_t)scale;
    out_u64(b, n / s);
    if (decimals > 0) {
        out_str(b, ".");
        uint64_t frac = n % s;
        for (uint64_t d = s / 10; d >= 1; d /= 10) { out_u64(b, frac / d % 10); if (d == 1) break; }
    }
}

void out_g(out_buf *b, double v) {
    if (v != v) { out_str(b, "nan"); return; }
    if (v == 0) { out_str(b, "0"); return; }
    double a = v < 0 ? -v : v;
    if (a >= 1e-3 && a < 1e6) { out_f(b, v, a >= 100 ? 1 : a >= 1 ? 4 : 6); return; }
    int e = 0;
    while (a >= 10) { a /= 10; e++; }
    while (a < 1) { a *= 10; e--; }
    if (v < 0) out_str(b, "-");
    out_f(b, a, 3);
    out_str(b, "e");
    out_i64(b, e);
}

void out_flush(out_buf *b) {
    if (b->n) plat_write(b->s, b->n);
    b->n = 0;
}
