/* blob2c: a relcon blob as C source for firmware without a file system (docs/embedded.md).
 *
 *   blob2c BLOB --name NAME --out-c FILE.c --out-h FILE.h [--max-samples N] [--section SECTION]
 *
 * FILE.c defines `const uint8_t NAME[NAME_BYTES]`, 16-byte aligned (RELCON_BLOB_ALIGN) so it can be passed to
 * relcon_inspect / relcon_session_init in place, optionally in a linker SECTION (e.g. ".rodata.relcon_blob",
 * to place it in a flash region of its own). FILE.h declares it and gives, as compile-time constants:
 *   NAME_BYTES           the blob's size
 *   NAME_ARENA_BYTES     relcon_inspect(NAME, NAME_BYTES, NAME_MAX_SAMPLES).arena_bytes, rounded up to a
 *                        multiple of RELCON_ARENA_ALIGN: size a static arena with it
 *                        (`static _Alignas(RELCON_ARENA_ALIGN) uint8_t arena[NAME_ARENA_BYTES];`)
 *   NAME_MAX_SAMPLES     the window length the arena is planned for (--max-samples; default: the contract's)
 *   NAME_EMBEDDING_DIM, NAME_SAMPLE_RATE_HZ, NAME_WEIGHT_DTYPE
 * The blob is validated completely first (relcon_inspect on this machine's librelcon; the plan is the same on
 * every target: the harness checks the constant against the target's own relcon_inspect). Both files are
 * written to temporary names and renamed, so a failure leaves nothing half-written. Errors: one line on stderr,
 * exit status 2. Build: cc -O2 -Iinclude tools/blob2c.c -Lbuild -lrelcon  (mk/install.mk: `make blob2c`). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relcon.h"

static void die(const char *msg, const char *arg) {
    fprintf(stderr, "blob2c: %s%s\n", msg, arg ? arg : "");
    exit(2);
}

static char g_tmp_c[4096], g_tmp_h[4096];
static void cleanup(void) {
    if (g_tmp_c[0]) remove(g_tmp_c);
    if (g_tmp_h[0]) remove(g_tmp_h);
}

static FILE *open_tmp(const char *path, char *tmp) {
    if ((size_t)snprintf(tmp, 4096, "%s.tmp%ld", path, (long)getpid()) >= 4096) die("path too long: ", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        tmp[0] = 0;
        die("cannot write ", path);
    }
    return f;
}

static void finish(FILE *f, char *tmp, const char *path) {
    if (ferror(f) | (fclose(f) != 0)) die("cannot write ", path);
    if (rename(tmp, path) != 0) die("cannot rename to ", path);
    tmp[0] = 0;
}

int main(int argc, char **argv) {
    const char *blob_path = NULL, *name = NULL, *out_c = NULL, *out_h = NULL, *section = NULL;
    unsigned long max_samples = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--name") && i + 1 < argc) name = argv[++i];
        else if (!strcmp(a, "--out-c") && i + 1 < argc) out_c = argv[++i];
        else if (!strcmp(a, "--out-h") && i + 1 < argc) out_h = argv[++i];
        else if (!strcmp(a, "--section") && i + 1 < argc) section = argv[++i];
        else if (!strcmp(a, "--max-samples") && i + 1 < argc) {
            char *end;
            errno = 0;
            max_samples = strtoul(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || max_samples > UINT32_MAX) die("--max-samples: not a count: ", argv[i]);
        } else if (a[0] == '-') die("unknown option ", a);
        else if (!blob_path) blob_path = a;
        else die("more than one blob: ", a);
    }
    if (!blob_path || !name || !out_c || !out_h)
        die("usage: blob2c BLOB --name NAME --out-c FILE.c --out-h FILE.h [--max-samples N] [--section SECTION]", NULL);
    if (!(isalpha((unsigned char)name[0]) || name[0] == '_')) die("--name must be a C identifier: ", name);
    for (const char *p = name; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_')) die("--name must be a C identifier: ", name);
    if (strlen(name) > 200) die("--name too long: ", name);
    if (section)
        for (const char *p = section; *p; p++)
            if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.')) die("--section: letters, digits, '_' and '.' only: ", section);

    FILE *in = fopen(blob_path, "rb");
    if (!in) die("cannot read ", blob_path);
    if (fseek(in, 0, SEEK_END) != 0) die("cannot read ", blob_path);
    long n = ftell(in);
    if (n <= 0 || fseek(in, 0, SEEK_SET) != 0) die("empty or unreadable blob: ", blob_path);
    if (n > 256L * 1024 * 1024) die("blob larger than 256 MiB: ", blob_path);
    unsigned char *blob = aligned_alloc(RELCON_BLOB_ALIGN, ((size_t)n + 15) & ~(size_t)15);
    if (!blob) die("out of memory", NULL);
    if (fread(blob, 1, (size_t)n, in) != (size_t)n) die("cannot read ", blob_path);
    fclose(in);

    relcon_model_info info;
    relcon_status st = relcon_inspect(blob, (size_t)n, (uint32_t)max_samples, &info);
    if (st != RELCON_OK) {
        fprintf(stderr, "blob2c: %s: %s\n", blob_path, relcon_status_string(st));
        return 2;
    }
    if (info.blob_bytes != (uint64_t)n) {
        fprintf(stderr, "blob2c: %s: %llu bytes of blob followed by %llu other bytes\n", blob_path,
                (unsigned long long)info.blob_bytes, (unsigned long long)((uint64_t)n - info.blob_bytes));
        return 2;
    }
    uint64_t arena = (info.arena_bytes + RELCON_ARENA_ALIGN - 1) / RELCON_ARENA_ALIGN * RELCON_ARENA_ALIGN;
    char upper[256];
    size_t k = 0;
    for (; name[k]; k++) upper[k] = (char)toupper((unsigned char)name[k]);
    upper[k] = 0;
    const char *base = strrchr(blob_path, '/') ? strrchr(blob_path, '/') + 1 : blob_path;
    const char *hbase = strrchr(out_h, '/') ? strrchr(out_h, '/') + 1 : out_h;
    atexit(cleanup);

    FILE *h = open_tmp(out_h, g_tmp_h);
    fprintf(h, "/* Generated by tools/blob2c from %s: do not edit. */\n#ifndef %s_BLOB_H\n#define %s_BLOB_H\n\n", base, upper, upper);
    fprintf(h, "#include <stdint.h>\n\n");
    fprintf(h, "#define %s_BYTES %lluu\n", upper, (unsigned long long)n);
    fprintf(h, "#define %s_MAX_SAMPLES %uu\n", upper, info.n_samples);
    fprintf(h, "/* relcon_inspect(%s, %s_BYTES, %s_MAX_SAMPLES).arena_bytes = %llu, rounded up to RELCON_ARENA_ALIGN */\n",
            name, upper, upper, (unsigned long long)info.arena_bytes);
    fprintf(h, "#define %s_ARENA_BYTES %lluu\n", upper, (unsigned long long)arena);
    fprintf(h, "#define %s_EMBEDDING_DIM %uu\n", upper, info.embedding_dim);
    fprintf(h, "#define %s_SAMPLE_RATE_HZ %.9gf\n", upper, (double)info.sample_rate_hz);
    fprintf(h, "#define %s_WEIGHT_DTYPE %uu   /* RELCON_DTYPE_* */\n\n", upper, info.weight_dtype);
    fprintf(h, "/* 16-byte aligned (RELCON_BLOB_ALIGN): pass it to relcon_session_init in place. */\n");
    fprintf(h, "extern const uint8_t %s[%s_BYTES];\n\n#endif\n", name, upper);
    finish(h, g_tmp_h, out_h);

    FILE *c = open_tmp(out_c, g_tmp_c);
    fprintf(c, "/* Generated by tools/blob2c from %s (%ld bytes, validated): do not edit. */\n#include \"%s\"\n\n",
            base, n, hbase);
    if (section) fprintf(c, "__attribute__((section(\"%s\")))\n", section);
    fprintf(c, "_Alignas(16) const uint8_t %s[%s_BYTES] = {\n", name, upper);
    for (long i = 0; i < n; i++) {
        fprintf(c, "%s0x%02x,", (i % 16 == 0) ? "    " : " ", blob[i]);
        if (i % 16 == 15 || i == n - 1) fputc('\n', c);
    }
    fprintf(c, "};\n");
    finish(c, g_tmp_c, out_c);
    free(blob);
    return 0;
}
