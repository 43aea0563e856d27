/* Compile-time checks of the internal kernel argument blocks and table (include/relcon_kernels.h). Defines
 * nothing. rlck_conv: eight pointers, eight int64, six int32: 152 bytes on LP64 (x86-64, aarch64), 120 on ILP32
 * (Cortex-M). rlck_eltwise: seven pointers, two int64, four int32: 88 / 64 (the int64 8-aligned). rlck_kernels: six function pointers
 * and an int32 (padded): 56 / 28. */
#include <stddef.h>
#include "relcon_kernels.h"

_Static_assert(offsetof(rlck_conv, length_in) == 8 * sizeof(void *), "rlck_conv layout");
_Static_assert(offsetof(rlck_conv, relu) == 8 * sizeof(void *) + 8 * 8, "rlck_conv layout");
_Static_assert(sizeof(rlck_conv) == 8 * sizeof(void *) + 8 * 8 + 6 * 4, "rlck_conv layout");
_Static_assert(offsetof(rlck_eltwise, length) == 7 * sizeof(void *) + (sizeof(void *) == 4 ? 4 : 0),
               "rlck_eltwise layout");
_Static_assert(sizeof(rlck_eltwise) == offsetof(rlck_eltwise, length) + 2 * 8 + 4 * 4, "rlck_eltwise layout");
_Static_assert(offsetof(rlck_kernels, fallback) == 6 * sizeof(void (*)(void)), "rlck_kernels layout");
