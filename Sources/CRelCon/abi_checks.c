/* Compile-time checks of the C ABI in include/relcon.h. Nothing here is exported; if a layout below
 * changes, a released binary interface changed: add a _v2 type instead (see relcon.h). */
#include <stddef.h>
#include <stdint.h>

#include "relcon.h"

_Static_assert(sizeof(relcon_status) == 4, "relcon_status must be 32-bit (use -fno-short-enums on arm-none-eabi)");
_Static_assert(RELCON_OK == 0 && RELCON_E_NULL_ARGUMENT == 10 && RELCON_E_BLOB_TOO_SMALL == 20 &&
               RELCON_E_ARENA_TOO_SMALL == 30 && RELCON_E_WINDOW_TOO_SHORT == 40 && RELCON_E_NOT_FOUND == 50,
               "status values are pinned forever");

_Static_assert(sizeof(float) == 4, "f32 blobs need IEEE-754 binary32 float");
_Static_assert(sizeof(relcon_model_info) == 112, "relcon_model_info layout changed");
_Static_assert(offsetof(relcon_model_info, sample_rate_hz) == 16, "relcon_model_info layout changed");
_Static_assert(offsetof(relcon_model_info, axis_order) == 32, "relcon_model_info layout changed");
_Static_assert(offsetof(relcon_model_info, input_scale) == 36, "relcon_model_info layout changed");
_Static_assert(offsetof(relcon_model_info, input_offset) == 48, "relcon_model_info layout changed");
_Static_assert(offsetof(relcon_model_info, input_clip) == 60, "relcon_model_info layout changed");
_Static_assert(offsetof(relcon_model_info, n_layers) == 64, "relcon_model_info layout changed");
_Static_assert(offsetof(relcon_model_info, n_parameters) == 72, "relcon_model_info layout changed");
_Static_assert(offsetof(relcon_model_info, macs) == 80, "relcon_model_info layout changed");
_Static_assert(offsetof(relcon_model_info, blob_bytes) == 88, "relcon_model_info layout changed");
_Static_assert(offsetof(relcon_model_info, arena_bytes) == 96, "relcon_model_info layout changed");
_Static_assert(offsetof(relcon_model_info, n_samples) == 104, "relcon_model_info layout changed");
_Static_assert(offsetof(relcon_model_info, reserved) == 108, "relcon_model_info layout changed");

_Static_assert(RELCON_E_NO_SUCH_HEAD == 51 && RELCON_E_SELFTEST_FAILED == 52, "status values are pinned forever");
_Static_assert(RELCON_HEAD_CLASSIFIER == 1 && RELCON_HEAD_REGRESSOR == 2, "head kinds are pinned");
_Static_assert(offsetof(relcon_head_desc, kind) == 3 * sizeof(void *) &&
               offsetof(relcon_head_desc, n_outputs) == 3 * sizeof(void *) + 4, "relcon_head_desc layout changed");

_Static_assert(RELCON_ARENA_ALIGN == 64 && RELCON_BLOB_ALIGN == 16, "alignment contract");
_Static_assert(RELCON_VERSION_NUMBER == RELCON_VERSION_MAJOR * 10000 + RELCON_VERSION_MINOR * 100 + RELCON_VERSION_PATCH,
               "version number");

/* 0.5: relcon_session_desc (extensible: later versions only append, so these offsets never move). */
_Static_assert(RELCON_SESSION_DESC_V1_BYTES == 64 && sizeof(relcon_session_desc) == 64,
               "relcon_session_desc layout changed (the 0.5 layout is 64 bytes on 32- and 64-bit targets)");
_Static_assert(offsetof(relcon_session_desc, struct_bytes) == 0 && offsetof(relcon_session_desc, isa_level) == 4 &&
               offsetof(relcon_session_desc, arena_bytes) == 8 && offsetof(relcon_session_desc, blob_bytes) == 16 &&
               offsetof(relcon_session_desc, min_samples) == 24 && offsetof(relcon_session_desc, max_samples) == 28 &&
               offsetof(relcon_session_desc, window_samples) == 32 &&
               offsetof(relcon_session_desc, input_channels) == 36 &&
               offsetof(relcon_session_desc, sample_rate_hz) == 40 &&
               offsetof(relcon_session_desc, embedding_dim) == 44 &&
               offsetof(relcon_session_desc, precision) == 48 && offsetof(relcon_session_desc, n_heads) == 52 &&
               offsetof(relcon_session_desc, isa_name) == 56, "relcon_session_desc layout changed");
_Static_assert(RELCON_ISA_AARCH64_NEON == 1 && RELCON_ISA_AARCH64_DOTPROD == 2, "ISA levels are pinned");
_Static_assert(RELCON_ISA_PORTABLE == 0 && RELCON_ISA_X86_64_V3 == 1 && RELCON_ISA_X86_64_V4 == 2,
               "ISA levels are pinned");

/* A translation unit must declare something (ISO C); a typedef emits no symbol. */
typedef int relcon_abi_checks_translation_unit;
