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

/* A translation unit must declare something (ISO C); a typedef emits no symbol. */
typedef int relcon_abi_checks_translation_unit;
