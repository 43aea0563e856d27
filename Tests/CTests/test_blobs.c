/* cmocka: damaged blobs come back as statuses, never crashes.
 *  - every single byte of Tests/Fixtures/tiny.blob, changed (xor 0xFF and +1), makes inspect and session_init
 *    return a non-OK status;
 *  - every truncation of it is rejected;
 *  - each Tests/Fixtures/bad/<STATUS>__<what>.blob (valid CRC, one defect) gives exactly <STATUS>.
 */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_util.h"

static void test_every_byte_corruption(void **state) {
    (void)state;
    char path[1024];
    fixture_path(path, sizeof path, "tiny.blob");
    size_t n = 0;
    uint8_t *blob = read_file_aligned(path, &n);
    if (!blob) fail_msg("cannot read %s", path);
    relcon_model_info info;
    assert_int_equal(relcon_inspect(blob, n, 256, &info), RELCON_OK);
    void *arena = aligned_alloc(64, (info.arena_bytes + 63) & ~(uint64_t)63);
    static const int deltas[] = {0xFF, 1};
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t d = 0; d < 2; d++) {
            uint8_t keep = blob[i];
            blob[i] = (deltas[d] == 0xFF) ? (uint8_t)(keep ^ 0xFF) : (uint8_t)(keep + 1);
            relcon_status s1 = relcon_inspect(blob, n, 256, &info);
            relcon_session *s = NULL;
            relcon_status s2 = relcon_session_init(blob, n, 256, arena, info.arena_bytes, &s);
            blob[i] = keep;
            if (s1 == RELCON_OK || s2 == RELCON_OK) fail_msg("byte %zu changed (%s) still accepted", i, d ? "+1" : "xor 0xFF");
            checked++;
        }
    }
    for (size_t len = 0; len < n; len += (len < 256 ? 1 : 61)) {
        if (relcon_inspect(blob, len, 256, &info) == RELCON_OK) fail_msg("truncated to %zu bytes still accepted", len);
    }
    printf("[ corrupt  ] %zu single-byte corruptions of %zu bytes rejected\n", checked, n);
    free(arena);
    free(blob);
}

static relcon_status status_from_name(const char *name, int *ok) {
    static const struct { const char *name; relcon_status s; } table[] = {
        {"RELCON_E_BLOB_TOO_SMALL", RELCON_E_BLOB_TOO_SMALL}, {"RELCON_E_BLOB_MAGIC", RELCON_E_BLOB_MAGIC},
        {"RELCON_E_BLOB_VERSION", RELCON_E_BLOB_VERSION}, {"RELCON_E_BLOB_CHECKSUM", RELCON_E_BLOB_CHECKSUM},
        {"RELCON_E_BLOB_BOUNDS", RELCON_E_BLOB_BOUNDS}, {"RELCON_E_BLOB_ALIGNMENT", RELCON_E_BLOB_ALIGNMENT},
        {"RELCON_E_BLOB_TENSOR", RELCON_E_BLOB_TENSOR}, {"RELCON_E_BLOB_GRAPH", RELCON_E_BLOB_GRAPH},
        {"RELCON_E_BLOB_CONTRACT", RELCON_E_BLOB_CONTRACT}, {"RELCON_E_BLOB_METADATA", RELCON_E_BLOB_METADATA},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        size_t len = strlen(table[i].name);
        if (strncmp(name, table[i].name, len) == 0 && strncmp(name + len, "__", 2) == 0) { *ok = 1; return table[i].s; }
    }
    *ok = 0;
    return RELCON_OK;
}

static void check_defect_dir(const char *sub, int min_count) {
    char dir[1024];
    fixture_path(dir, sizeof dir, sub);
    DIR *d = opendir(dir);
    if (!d) fail_msg("cannot open %s", dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".blob") != 0) continue;
        int ok = 0;
        relcon_status want = status_from_name(e->d_name, &ok);
        if (!ok) fail_msg("%s: file name does not start with a blob status", e->d_name);
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t bytes = 0;
        void *blob = read_file_aligned(path, &bytes);
        if (!blob) fail_msg("cannot read %s", path);
        relcon_model_info info;
        relcon_status got = relcon_inspect(blob, bytes, 0, &info);
        if (got != want) fail_msg("%s: got %s, want %s", e->d_name, relcon_status_string(got), relcon_status_string(want));
        free(blob);
        n++;
    }
    closedir(d);
    assert_true(n >= min_count);
    printf("[ defects  ] %s: %d defective blobs gave their own status\n", sub, n);
}

static void test_defect_classes(void **state) {
    (void)state;
    check_defect_dir("bad", 10);
}

/* Version-2 (int8) defects: quantisation table, i8/i32 tensors, requantisation parameters. */
static void test_defect_classes_v2(void **state) {
    (void)state;
    check_defect_dir("bad_v2", 10);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_byte_corruption),
        cmocka_unit_test(test_defect_classes),
        cmocka_unit_test(test_defect_classes_v2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
