/* Cortex-M4F measurement image for docs/embedded.md (targets/figures.sh): a blob in flash (tools/blob2c), a real
 * window in flash (tools/rec2c), a static arena of the blob's compile-time size. Prints one line of figures:
 *
 *   figures inspect=<instr> init=<instr> embed=<instr> embed_min=<instr> embed_max=<instr> arena=<B>
 *           stack_init=<B> stack_embed=<B> per_tick=<calibration> windows=<n>
 *
 * Instructions come from QEMU's -icount (a calibrated timer; QEMU is not cycle-accurate, so these are guest
 * instructions, not cycles). Stack: the high-water mark below the caller's frame, by painting. */
#include <stdint.h>
#include <string.h>

#include "fw_model.h"
#include "fw_rec.h"
#include "plat.h"
#include "relcon.h"

#define WINDOWS 3u

static _Alignas(RELCON_ARENA_ALIGN) uint8_t g_arena[FW_MODEL_ARENA_BYTES];
static float g_emb[1024];

extern double plat_instructions_per_tick(void);

static void field(out_buf *b, const char *name, uint64_t v) {
    out_str(b, " ");
    out_str(b, name);
    out_str(b, "=");
    out_u64(b, v);
}

int main(int argc, char **argv) {
    (void)argc; (void)argv;
    out_buf b = {0};
    relcon_model_info info;
    (void)plat_instructions();     /* calibrates */
    uint64_t t0 = plat_instructions();
    relcon_status st = relcon_inspect(fw_model, FW_MODEL_BYTES, FW_MODEL_MAX_SAMPLES, &info);
    uint64_t t1 = plat_instructions();
    if (st != RELCON_OK || info.arena_bytes > sizeof g_arena || info.embedding_dim > 1024 ||
        FW_REC_SAMPLES < FW_MODEL_MAX_SAMPLES) {
        out_str(&b, "measure: relcon_inspect: ");
        out_str(&b, relcon_status_string(st));
        out_str(&b, " (or arena / window / embedding too large)\n");
        out_flush(&b);
        return 2;
    }
    relcon_session *s = NULL;
    plat_stack_paint();
    uint64_t t2 = plat_instructions();
    st = relcon_session_init(fw_model, FW_MODEL_BYTES, FW_MODEL_MAX_SAMPLES, g_arena, sizeof g_arena, &s);
    uint64_t t3 = plat_instructions();
    size_t stack_init = plat_stack_used();
    if (st != RELCON_OK) {
        out_str(&b, "measure: relcon_session_init: ");
        out_str(&b, relcon_status_string(st));
        out_str(&b, "\n");
        out_flush(&b);
        return 2;
    }
    uint64_t sum = 0, lo = UINT64_MAX, hi = 0;
    size_t stack_embed = 0;
    for (uint32_t w = 0; w < WINDOWS; w++) {
        uint32_t start = (uint32_t)(((uint64_t)(FW_REC_SAMPLES - FW_MODEL_MAX_SAMPLES) * w) / WINDOWS);
        plat_stack_paint();
        uint64_t a = plat_instructions();
        st = relcon_embed(s, &fw_rec[3 * start], FW_MODEL_MAX_SAMPLES, g_emb, 1024);
        uint64_t z = plat_instructions();
        size_t used = plat_stack_used();
        if (st != RELCON_OK) {
            out_str(&b, "measure: relcon_embed: ");
            out_str(&b, relcon_status_string(st));
            out_str(&b, "\n");
            out_flush(&b);
            return 2;
        }
        uint64_t d = z - a;
        sum += d;
        if (d < lo) lo = d;
        if (d > hi) hi = d;
        if (used > stack_embed) stack_embed = used;
    }
    out_str(&b, "figures");
    field(&b, "inspect", t1 - t0);
    field(&b, "init", t3 - t2);
    field(&b, "embed", sum / WINDOWS);
    field(&b, "embed_min", lo);
    field(&b, "embed_max", hi);
    field(&b, "arena", info.arena_bytes);
    field(&b, "macs", info.macs);
    field(&b, "stack_init", stack_init);
    field(&b, "stack_embed", stack_embed);
    out_str(&b, " per_tick=");
    out_f(&b, plat_instructions_per_tick(), 3);
    field(&b, "windows", WINDOWS);
    out_str(&b, "\n");
    out_flush(&b);
    return 0;
}
