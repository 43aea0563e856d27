/* cmocka: the session queries (include/relcon.h "Session queries (0.5)"): relcon_session_info,
 * relcon_session_head_info and relcon_session_head_class_name agree with the blob-level queries
 * (relcon_inspect, relcon_head_*) on every blob given, report the ISA level RELCON_ISA selects, honour
 * struct_bytes, refuse bad arguments and non-sessions, and do not validate the blob again (a weight byte
 * damaged after init fails the blob-level CRC but not the session queries).
 *   test_session_info BLOB [BLOB ...]      (blobs with and without heads) */
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv, strdup */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_util.h"

static const char **g_blobs;
static int g_n_blobs;

typedef struct opened {
    void *blob;
    size_t blob_bytes;
    relcon_model_info info;
    void *arena;
    relcon_session *s;
} opened;

static void open_blob(opened *o, const char *path, uint32_t max_samples) {
    memset(o, 0, sizeof *o);
    o->blob = read_file_aligned(path, &o->blob_bytes);
    if (!o->blob) fail_msg("cannot read %s", path);
    assert_int_equal(relcon_inspect(o->blob, o->blob_bytes, max_samples, &o->info), RELCON_OK);
    o->arena = aligned_alloc(64, (o->info.arena_bytes + 63) & ~(uint64_t)63);
    assert_non_null(o->arena);
    assert_int_equal(relcon_session_init(o->blob, o->blob_bytes, max_samples, o->arena, o->info.arena_bytes, &o->s),
                     RELCON_OK);
}

static void close_blob(opened *o) {
    free(o->arena);
    free(o->blob);
}

static relcon_session_desc describe(const relcon_session *s) {
    relcon_session_desc d;
    memset(&d, 0xA5, sizeof d);
    d.struct_bytes = sizeof d;
    assert_int_equal(relcon_session_info(s, &d), RELCON_OK);
    assert_int_equal(d.struct_bytes, sizeof d);
    return d;
}

static void test_info_matches_inspect(void **state) {
    (void)state;
    for (int b = 0; b < g_n_blobs; b++) {
        opened o;
        open_blob(&o, g_blobs[b], 0);
        relcon_session_desc d = describe(o.s);
        assert_int_equal(d.arena_bytes, o.info.arena_bytes);
        assert_int_equal(d.blob_bytes, o.info.blob_bytes);
        assert_int_equal(d.min_samples, o.info.min_samples);
        assert_int_equal(d.max_samples, o.info.window_samples); /* max_samples 0 = the contract's window */
        assert_int_equal(d.window_samples, o.info.window_samples);
        assert_int_equal(d.input_channels, o.info.input_channels);
        assert_true(d.sample_rate_hz == o.info.sample_rate_hz);
        assert_int_equal(d.embedding_dim, o.info.embedding_dim);
        /* weight_dtype is the convolutions' (int8 blobs: I8); precision is the blob's */
        assert_int_equal(d.precision, o.info.weight_dtype);
        uint32_t n_heads = 99;
        assert_int_equal(relcon_head_count(o.blob, o.blob_bytes, &n_heads), RELCON_OK);
        assert_int_equal(d.n_heads, n_heads);
        assert_true(d.isa_level <= RELCON_ISA_X86_64_V4);
        assert_non_null(d.isa_name);
        const char *names[] = {"portable", "v3", "v4"};
        assert_string_equal(d.isa_name, names[d.isa_level]);
        printf("[ session  ] %s: isa %s, %u..%u samples, %u heads, arena %llu B\n", g_blobs[b], d.isa_name,
               d.min_samples, d.max_samples, d.n_heads, (unsigned long long)d.arena_bytes);
        close_blob(&o);

        /* a session planned for a longer window: max_samples and arena_bytes follow the plan */
        uint32_t longer = o.info.window_samples * 2;
        open_blob(&o, g_blobs[b], longer);
        d = describe(o.s);
        assert_int_equal(d.max_samples, longer);
        assert_int_equal(d.window_samples, o.info.window_samples);
        assert_int_equal(d.arena_bytes, o.info.arena_bytes);
        close_blob(&o);
    }
}

/* RELCON_ISA caps the level at session init (the CPU's highest level otherwise); the session reports it. */
static void test_isa_level_follows_relcon_isa(void **state) {
    (void)state;
    const char *saved = getenv("RELCON_ISA");
    char *keep = saved ? strdup(saved) : NULL;
    opened o;
    unsetenv("RELCON_ISA");
    open_blob(&o, g_blobs[0], 0);
    uint32_t top = describe(o.s).isa_level;
    close_blob(&o);
    setenv("RELCON_ISA", "portable", 1);
    open_blob(&o, g_blobs[0], 0);
    relcon_session_desc d = describe(o.s);
    assert_int_equal(d.isa_level, RELCON_ISA_PORTABLE);
    assert_string_equal(d.isa_name, "portable");
    close_blob(&o);
    setenv("RELCON_ISA", "v3", 1);
    open_blob(&o, g_blobs[0], 0);
    d = describe(o.s);
    assert_int_equal(d.isa_level, top < RELCON_ISA_X86_64_V3 ? top : RELCON_ISA_X86_64_V3);
    close_blob(&o);
    if (keep) {
        setenv("RELCON_ISA", keep, 1);
        free(keep);
    } else {
        unsetenv("RELCON_ISA");
    }
    printf("[ isa      ] highest level here: %u\n", top);
}

/* struct_bytes: below the 0.5 layout is refused with nothing written; a longer (newer) caller struct gets the
 * bytes this library knows, struct_bytes says how many, and the rest is left alone. */
static void test_struct_bytes(void **state) {
    (void)state;
    opened o;
    open_blob(&o, g_blobs[0], 0);
    unsigned char buf[sizeof(relcon_session_desc) + 32];
    uint32_t sizes[] = {0, 4, RELCON_SESSION_DESC_V1_BYTES - 1};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        memset(buf, 0x5A, sizeof buf);
        memcpy(buf, &sizes[i], 4);
        assert_int_equal(relcon_session_info(o.s, (relcon_session_desc *)(void *)buf), RELCON_E_INVALID_ARGUMENT);
        uint32_t back;
        memcpy(&back, buf, 4);
        assert_int_equal(back, sizes[i]);
        for (size_t j = 4; j < sizeof buf; j++) assert_int_equal(buf[j], 0x5A);
    }
    uint32_t big = (uint32_t)sizeof buf;
    memset(buf, 0x5A, sizeof buf);
    memcpy(buf, &big, 4);
    assert_int_equal(relcon_session_info(o.s, (relcon_session_desc *)(void *)buf), RELCON_OK);
    relcon_session_desc d;
    memcpy(&d, buf, sizeof d);
    assert_int_equal(d.struct_bytes, sizeof d);
    assert_int_equal(d.embedding_dim, o.info.embedding_dim);
    for (size_t j = sizeof d; j < sizeof buf; j++) assert_int_equal(buf[j], 0x5A);
    close_blob(&o);
}

static void test_bad_arguments(void **state) {
    (void)state;
    opened o;
    open_blob(&o, g_blobs[0], 0);
    relcon_session_desc d;
    memset(&d, 0, sizeof d);
    d.struct_bytes = sizeof d;
    relcon_head_desc h;
    const char *name = "unchanged";
    assert_int_equal(relcon_session_info(NULL, &d), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_session_info(o.s, NULL), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_session_head_info(NULL, 0, &h), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_session_head_info(o.s, 0, NULL), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_session_head_class_name(NULL, 0, 0, &name), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_session_head_class_name(o.s, 0, 0, NULL), RELCON_E_NULL_ARGUMENT);

    /* not a session: zeroes, a misaligned pointer, a copy at another address, an overwritten control block */
    void *zero = aligned_alloc(64, o.info.arena_bytes);
    memset(zero, 0, o.info.arena_bytes);
    void *copy = aligned_alloc(64, o.info.arena_bytes);
    memcpy(copy, o.arena, o.info.arena_bytes);
    const relcon_session *bad[] = {(const relcon_session *)zero, (const relcon_session *)((char *)o.arena + 8),
                                   (const relcon_session *)copy};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        d.struct_bytes = sizeof d;
        assert_int_equal(relcon_session_info(bad[i], &d), RELCON_E_SESSION_INVALID);
        assert_int_equal(relcon_session_head_info(bad[i], 0, &h), RELCON_E_SESSION_INVALID);
        assert_int_equal(relcon_session_head_class_name(bad[i], 0, 0, &name), RELCON_E_SESSION_INVALID);
    }
    assert_string_equal(name, "unchanged");
    ((unsigned char *)o.arena)[40] ^= 1; /* inside the checksummed header */
    d.struct_bytes = sizeof d;
    assert_int_equal(relcon_session_info(o.s, &d), RELCON_E_SESSION_INVALID);
    ((unsigned char *)o.arena)[40] ^= 1;
    assert_int_equal(relcon_session_info(o.s, &d), RELCON_OK);
    free(zero);
    free(copy);
    close_blob(&o);
}

/* Heads from the session equal the blob-level answers (the same strings inside the blob); out-of-range and
 * wrong-kind requests get the blob-level statuses. */
static void test_heads_match_blob_queries(void **state) {
    (void)state;
    int with_heads = 0;
    for (int b = 0; b < g_n_blobs; b++) {
        opened o;
        open_blob(&o, g_blobs[b], 0);
        relcon_session_desc d = describe(o.s);
        relcon_head_desc hs, hb;
        const char *cs = NULL, *cb = NULL;
        for (uint32_t i = 0; i < d.n_heads; i++) {
            assert_int_equal(relcon_session_head_info(o.s, i, &hs), RELCON_OK);
            assert_int_equal(relcon_head_info(o.blob, o.blob_bytes, i, &hb), RELCON_OK);
            assert_ptr_equal(hs.name, hb.name);
            assert_ptr_equal(hs.target, hb.target);
            assert_ptr_equal(hs.unit, hb.unit);
            assert_int_equal(hs.kind, hb.kind);
            assert_int_equal(hs.n_outputs, hb.n_outputs);
            if (hs.kind == RELCON_HEAD_CLASSIFIER) {
                for (uint32_t k = 0; k < hs.n_outputs; k++) {
                    assert_int_equal(relcon_session_head_class_name(o.s, i, k, &cs), RELCON_OK);
                    assert_int_equal(relcon_head_class_name(o.blob, o.blob_bytes, i, k, &cb), RELCON_OK);
                    assert_ptr_equal(cs, cb);
                }
                cs = "unchanged";
                assert_int_equal(relcon_session_head_class_name(o.s, i, hs.n_outputs, &cs), RELCON_E_INVALID_ARGUMENT);
                assert_string_equal(cs, "unchanged");
            } else {
                assert_int_equal(hs.kind, RELCON_HEAD_REGRESSOR);
                assert_non_null(hs.target);
                assert_non_null(hs.unit);
                assert_int_equal(relcon_session_head_class_name(o.s, i, 0, &cs), RELCON_E_INVALID_ARGUMENT);
            }
        }
        memset(&hs, 0x33, sizeof hs);
        assert_int_equal(relcon_session_head_info(o.s, d.n_heads, &hs), RELCON_E_NO_SUCH_HEAD);
        assert_int_equal(relcon_session_head_info(o.s, UINT32_MAX, &hs), RELCON_E_NO_SUCH_HEAD);
        assert_int_equal(hs.kind, 0x33333333u); /* nothing written on an error */
        assert_int_equal(relcon_session_head_class_name(o.s, d.n_heads, 0, &cs), RELCON_E_NO_SUCH_HEAD);
        if (d.n_heads) with_heads++;
        close_blob(&o);
    }
    printf("[ heads    ] %d of %d blobs with heads\n", with_heads, g_n_blobs);
}

/* The session queries read the control block and the blob's header and metadata; they do not checksum the
 * blob. A weight byte damaged after init: the blob-level queries report RELCON_E_BLOB_CHECKSUM, the session
 * queries still answer (and relcon_embed runs on, as it always did: it never re-validates either). */
static void test_no_blob_validation(void **state) {
    (void)state;
    opened o;
    open_blob(&o, g_blobs[0], 0);
    relcon_session_desc before = describe(o.s);
    uint32_t tensor_table;
    memcpy(&tensor_table, (const unsigned char *)o.blob + 28, 4);
    uint32_t data_offset; /* tensor 0's data_offset: field 5 of its 32-byte record */
    memcpy(&data_offset, (const unsigned char *)o.blob + tensor_table + 20, 4);
    assert_true(data_offset < o.blob_bytes);
    ((unsigned char *)o.blob)[data_offset] ^= 0x01;
    uint32_t n = 0;
    assert_int_equal(relcon_head_count(o.blob, o.blob_bytes, &n), RELCON_E_BLOB_CHECKSUM);
    relcon_session_desc after = describe(o.s);
    assert_memory_equal(&before, &after, sizeof before);
    relcon_head_desc h;
    assert_int_equal(relcon_session_head_info(o.s, after.n_heads, &h), RELCON_E_NO_SUCH_HEAD);
    ((unsigned char *)o.blob)[data_offset] ^= 0x01;
    assert_int_equal(relcon_head_count(o.blob, o.blob_bytes, &n), RELCON_OK);
    close_blob(&o);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s BLOB [BLOB ...]\n", argv[0]);
        return 2;
    }
    g_blobs = (const char **)(argv + 1);
    g_n_blobs = argc - 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_matches_inspect),
        cmocka_unit_test(test_isa_level_follows_relcon_isa),
        cmocka_unit_test(test_struct_bytes),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_heads_match_blob_queries),
        cmocka_unit_test(test_no_blob_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
