/* The aarch64 kernel modules' CONV1D against independent references, under qemu-aarch64 (make test-aarch64-isa):
 * every level the CPU has (neon always; dotprod when getauxval reports HWCAP_ASIMDDP) on random shapes (kernel
 * 1-7, dilation 1-3, stride 1-2, padding, 1-40 channels: every chunk remainder, every output-channel block
 * remainder, clipped edge steps) with
 *   int8  signed, u7 (x_max 127) and full u8 activations, at random and at their extreme operands (-128/127/255
 *         against ±127 weights), bias, fused residual (i8/u8), every clamp range, shifts 1-62 with edge
 *         multipliers: the output bytes equal an Int64 reference of docs/quantization.md exactly;
 *   fp32 / fp16 weights: within 1e-5 of the summed magnitudes of a double reference (fused multiply-add and
 *         another summation order than the portable level's).
 * Also the level the runtime picks: rlck_detect_isa() and the RELCON_ISA cap must equal what the caller expects
 * for the emulated CPU (Cortex-A53 has no dot product: neon; -cpu max: dotprod).
 *
 *   test_kernels EXPECTED_HARDWARE_LEVEL EXPECTED_SESSION_LEVEL      (0 portable, 1 neon, 2 dotprod)
 * Prints one line per failure (at most 20) and a summary; exit status 1 on any failure. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relcon_kernels.h"

void rlck_a64_neon_conv_f32(const rlck_conv *a);
void rlck_a64_neon_conv_f16(const rlck_conv *a);
void rlck_a64_neon_conv_i8(const rlck_conv *a);
void rlck_a64_dot_conv_i8(const rlck_conv *a);

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 11);
}
static int32_t range(int32_t lo, int32_t hi) { return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1)); }

static unsigned g_fail, g_checks;
static void fail(const char *what, int c, const char *msg) {
    if (g_fail++ < 20) printf("FAIL [aarch64 kernels] %s case %d: %s\n", what, c, msg);
}

typedef struct shape {
    int64_t lin, cin, lout, cout, k, s, d, pl;
} shape;

static shape random_shape(void) {
    shape p;
    for (;;) {
        p.cin = range(1, 40);
        p.cout = range(1, 9);
        p.k = range(1, 7);
        p.s = range(1, 2);
        p.d = p.k == 1 ? 1 : range(1, 3);
        p.lin = range(1, 40);
        int64_t span = (p.k - 1) * p.d;
        p.pl = range(0, (int32_t)span);
        int64_t pr = range(0, (int32_t)span);
        int64_t padded = p.lin + p.pl + pr;
        if (padded <= span) continue;
        p.lout = (padded - span - 1) / p.s + 1;
        return p;
    }
}

/* ---- int8 --------------------------------------------------------------------------------------------------- */
enum { XS_SIGNED,
       XS_U7,
       XS_U8 };

static int32_t x_value(int kind, int extreme) {
    if (kind == XS_SIGNED) return extreme ? (rnd() & 1 ? -128 : 127) : range(-128, 127);
    if (kind == XS_U7) return extreme ? 127 : range(0, 127);
    return extreme ? 255 : range(0, 255);
}

static int int8_case(int c, void (*kern)(const rlck_conv *), const char *name, int xkind, int extreme) {
    shape p = random_shape();
    size_t nx = (size_t)(p.lin * p.cin), nw = (size_t)(p.cout * p.k * p.cin), ny = (size_t)(p.lout * p.cout);
    uint8_t *x = malloc(nx), *w = malloc(nw), *res = malloc(ny), *y = malloc(ny), *want = malloc(ny);
    int32_t *bias = malloc((size_t)p.cout * 4), *mult = malloc((size_t)p.cout * 4), *shift = malloc((size_t)p.cout * 4);
    int32_t *mres = malloc((size_t)p.cout * 4);
    for (size_t i = 0; i < nx; i++) x[i] = (uint8_t)x_value(xkind, extreme);
    for (size_t i = 0; i < nw; i++) w[i] = (uint8_t)(int8_t)(extreme ? (rnd() & 1 ? -127 : 127) : range(-127, 127));
    int use_bias = rnd() & 1, use_res = (rnd() % 3) == 0, res_signed = rnd() & 1;
    for (int64_t o = 0; o < p.cout; o++) {
        bias[o] = range(-(1 << 20), 1 << 20);
        int e = rnd() % 4; /* edge multipliers and shifts */
        mult[o] = e == 0 ? 0 : e == 1 ? INT32_MAX
                                      : range(0, INT32_MAX);
        shift[o] = e == 2 ? 62 : e == 3 ? 1
                                        : range(1, 40);
        mres[o] = range(0, 1 << 30);
    }
    for (size_t i = 0; i < ny; i++) res[i] = (uint8_t)range(0, 255);
    int clamp = rnd() % 3;
    int32_t lo = clamp == 0 ? -128 : 0, hi = clamp == 0 ? 127 : clamp == 1 ? 255
                                                                           : 127;
    for (int64_t t = 0; t < p.lout; t++)
        for (int64_t o = 0; o < p.cout; o++) {
            int64_t acc = 0;
            for (int64_t k = 0; k < p.k; k++) {
                int64_t ti = t * p.s - p.pl + k * p.d;
                if (ti < 0 || ti >= p.lin) continue;
                for (int64_t ci = 0; ci < p.cin; ci++) {
                    int64_t xv = xkind == XS_SIGNED ? (int8_t)x[ti * p.cin + ci] : x[ti * p.cin + ci];
                    acc += xv * (int8_t)w[(o * p.k + k) * p.cin + ci];
                }
            }
            int32_t a32 = (int32_t)acc + (use_bias ? bias[o] : 0);
            int64_t total = (int64_t)a32 * mult[o] + ((int64_t)1 << (shift[o] - 1));
            size_t i = (size_t)(t * p.cout + o);
            if (use_res) total += (int64_t)(res_signed ? (int8_t)res[i] : res[i]) * mres[o];
            int64_t q = total >> shift[o];
            q = q < lo ? lo : q > hi ? hi
                                     : q;
            want[i] = (uint8_t)q;
        }
    memset(y, 0xA5, ny);
    rlck_conv a = {0};
    a.x = x;
    a.w = w;
    a.bias = use_bias ? bias : NULL;
    a.residual = use_res ? res : NULL;
    a.y = y;
    a.mult = mult;
    a.shift = shift;
    a.mult_res = use_res ? mres : NULL;
    a.length_in = p.lin;
    a.channels_in = p.cin;
    a.length_out = p.lout;
    a.channels_out = p.cout;
    a.kernel = p.k;
    a.stride = p.s;
    a.dilation = p.d;
    a.pad_left = p.pl;
    a.x_signed = xkind == XS_SIGNED;
    a.res_signed = res_signed;
    a.out_lo = lo;
    a.out_hi = hi;
    a.x_max = xkind == XS_U7 ? 127 : 0;
    kern(&a);
    g_checks++;
    int ok = memcmp(y, want, ny) == 0;
    if (!ok) {
        size_t i = 0;
        while (y[i] == want[i]) i++;
        char msg[200];
        snprintf(msg, sizeof msg, "%s x%s%s cin %lld k %lld d %lld s %lld pl %lld lin %lld cout %lld: y[%zu] %u, want %u",
                 name, xkind == XS_SIGNED ? "i8" : xkind == XS_U7 ? "u7"
                                                                  : "u8",
                 extreme ? " extreme" : "",
                 (long long)p.cin, (long long)p.k, (long long)p.d, (long long)p.s, (long long)p.pl, (long long)p.lin,
                 (long long)p.cout, i, y[i], want[i]);
        fail("int8", c, msg);
    }
    free(x);
    free(w);
    free(res);
    free(y);
    free(want);
    free(bias);
    free(mult);
    free(shift);
    free(mres);
    return ok;
}

/* ---- fp32 / fp16 ---------------------------------------------------------------------------------------------- */
static int float_case(int c, int f16) {
    shape p = random_shape();
    size_t nx = (size_t)(p.lin * p.cin), nw = (size_t)(p.cout * p.k * p.cin), ny = (size_t)(p.lout * p.cout);
    float *x = malloc(nx * 4), *wf = malloc(nw * 4), *bias = malloc((size_t)p.cout * 4), *res = malloc(ny * 4);
    float *y = malloc(ny * 4);
    _Float16 *wh = malloc(nw * 2);
    for (size_t i = 0; i < nx; i++) x[i] = (float)range(-100000, 100000) / 50000.0f;
    for (size_t i = 0; i < nw; i++) {
        wf[i] = (float)range(-100000, 100000) / 100000.0f;
        wh[i] = (_Float16)wf[i];
        if (f16) wf[i] = (float)wh[i];
    }
    for (int64_t o = 0; o < p.cout; o++) bias[o] = (float)range(-1000, 1000) / 1000.0f;
    for (size_t i = 0; i < ny; i++) res[i] = (float)range(-1000, 1000) / 1000.0f;
    int use_bias = rnd() & 1, use_res = rnd() & 1, relu = rnd() & 1;
    rlck_conv a = {0};
    a.x = x;
    a.w = f16 ? (const void *)wh : (const void *)wf;
    a.bias = use_bias ? bias : NULL;
    a.residual = use_res ? res : NULL;
    a.y = y;
    a.length_in = p.lin;
    a.channels_in = p.cin;
    a.length_out = p.lout;
    a.channels_out = p.cout;
    a.kernel = p.k;
    a.stride = p.s;
    a.dilation = p.d;
    a.pad_left = p.pl;
    a.relu = relu;
    (f16 ? rlck_a64_neon_conv_f16 : rlck_a64_neon_conv_f32)(&a);
    g_checks++;
    int ok = 1;
    for (int64_t t = 0; t < p.lout && ok; t++)
        for (int64_t o = 0; o < p.cout && ok; o++) {
            double acc = 0, mag = 0;
            for (int64_t k = 0; k < p.k; k++) {
                int64_t ti = t * p.s - p.pl + k * p.d;
                if (ti < 0 || ti >= p.lin) continue;
                for (int64_t ci = 0; ci < p.cin; ci++) {
                    double v = (double)x[ti * p.cin + ci] * wf[(o * p.k + k) * p.cin + ci];
                    acc += v;
                    mag += fabs(v);
                }
            }
            size_t i = (size_t)(t * p.cout + o);
            if (use_bias) {
                acc += bias[o];
                mag += fabs(bias[o]);
            }
            if (use_res) {
                acc += res[i];
                mag += fabs(res[i]);
            }
            if (relu && acc < 0) acc = 0;
            if (!(fabs(y[i] - acc) <= 1e-5 * mag + 1e-30)) {
                char msg[200];
                snprintf(msg, sizeof msg, "%s cin %lld k %lld d %lld s %lld: y[%zu] %.9g, want %.9g (sum |x w| %.3g)",
                         f16 ? "f16" : "f32", (long long)p.cin, (long long)p.k, (long long)p.d, (long long)p.s, i,
                         (double)y[i], acc, mag);
                fail("float", c, msg);
                ok = 0;
            }
        }
    free(x);
    free(wf);
    free(wh);
    free(bias);
    free(res);
    free(y);
    return ok;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: test_kernels EXPECTED_HARDWARE_LEVEL EXPECTED_SESSION_LEVEL\n");
        return 2;
    }
    int want_hw = atoi(argv[1]), want_level = atoi(argv[2]);
    int hw = rlck_detect_isa(), cap = rlck_isa_cap(), level = hw < cap ? hw : cap;
    const char *names[] = {"portable", "neon", "dotprod"};
    if (hw != want_hw || level != want_level) {
        printf("FAIL [aarch64 kernels] ISA level: hardware %d, session %d (RELCON_ISA %s); want %d, %d\n", hw, level,
               getenv("RELCON_ISA") ? getenv("RELCON_ISA") : "unset", want_hw, want_level);
        g_fail++;
    }
    int cases = 0;
    for (int c = 0; c < 900; c++) {
        int xkind = c % 3, extreme = (c / 3) % 4 == 0;
        uint64_t saved = g_rng;
        int8_case(c, rlck_a64_neon_conv_i8, "neon", xkind, extreme);
        if (hw >= RLCK_ISA_A64_DOTPROD) {
            g_rng = saved;
            int8_case(c, rlck_a64_dot_conv_i8, "dotprod", xkind, extreme);
        }
        cases++;
    }
    for (int c = 0; c < 400; c++) float_case(c, c & 1);
    printf("%s [aarch64 kernels] hardware level %s, session level %s: %u of %u CONV1D checks (%d int8 shapes on neon%s, "
           "400 fp32/fp16 on neon)\n",
           g_fail ? "FAILED" : "PASSED", names[hw], names[level], g_checks - g_fail, g_checks,
           cases, hw >= RLCK_ISA_A64_DOTPROD ? " and dotprod" : "");
    return g_fail ? 1 : 0;
}
