/* Compile-time checks of the internal kernel argument block (include/relcon_kernels.h). Defines nothing. */
#include <stddef.h>
#include "relcon_kernels.h"

_Static_assert(sizeof(rlck_conv) == 8 * 8 + 8 * 8 + 6 * 4, "rlck_conv layout");
