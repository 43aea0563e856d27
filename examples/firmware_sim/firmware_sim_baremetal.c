/* firmware_sim, bare-metal edition: the shipped int8 model in flash, a slice of a real recording in flash, a
 * static arena sized at compile time, no file system, no heap, no printf (docs/embedded.md).
 *
 * Built twice from this one file (mk/arm.mk, `make firmware-sim-m4`):
 *   cortex-m4   qemu-system-arm -M mps2-an386, console through semihosting, librelcon.a for Cortex-M4F
 *   x86-64      the same program against this machine's librelcon.so
 * and the two outputs' prediction lines must be identical (the int8 embedding is bit-exact on every target).
 *
 * Inputs, generated into the build folder from this program's two headers:
 *   fw_model.h  (tools/blob2c)  fw_model[FW_MODEL_BYTES], 16-byte aligned; FW_MODEL_ARENA_BYTES
 *   fw_rec.h    (tools/rec2c)   fw_rec[FW_REC_SAMPLES * 3], x,y,z in g at the model's rate; FW_REC_T0_S
 *
 * The loop: samples arrive one at a time into a ring buffer of one window (as from a sensor FIFO); every FW_HOP
 * new samples (once a window is full) the latest window is copied out in time order and classified with the
 * blob's first head (or embedded, when it has none). One line per window; lines starting with '#' are
 * measurements (instructions, stack: bare metal only) and are not compared across targets. */
#include <stdint.h>
#include <string.h>

#include "fw_model.h"
#include "fw_rec.h"
#include "plat.h"
#include "relcon.h"

#ifndef FW_HOP
#define FW_HOP 256u
#endif
#define FW_MAX_CLASSES 16u

/* RAM: the arena at its compile-time size (a too-small constant is caught by relcon_inspect at boot). */
static _Alignas(RELCON_ARENA_ALIGN) uint8_t g_arena[FW_MODEL_ARENA_BYTES];
static float g_ring[FW_MODEL_MAX_SAMPLES * 3];
static float g_window[FW_MODEL_MAX_SAMPLES * 3];

static void line_status(const char *what, relcon_status st) {
    out_buf b = {0};
    out_str(&b, "firmware_sim: ");
    out_str(&b, what);
    out_str(&b, ": ");
    out_str(&b, relcon_status_string(st));
    out_str(&b, "\n");
    out_flush(&b);
}

int main(int argc, char **argv) {
    (void)argc; (void)argv;
    out_buf b = {0};
    relcon_model_info info;
    uint64_t i0 = plat_instructions();
    relcon_status st = relcon_inspect(fw_model, FW_MODEL_BYTES, FW_MODEL_MAX_SAMPLES, &info);
    if (st != RELCON_OK) { line_status("relcon_inspect", st); return 2; }
    if (info.arena_bytes > sizeof g_arena) {
        out_str(&b, "firmware_sim: the model needs a larger arena than FW_MODEL_ARENA_BYTES\n");
        out_flush(&b);
        return 2;
    }
    relcon_session *s = NULL;
    plat_stack_paint();
    st = relcon_session_init(fw_model, FW_MODEL_BYTES, FW_MODEL_MAX_SAMPLES, g_arena, sizeof g_arena, &s);
    size_t init_stack = plat_stack_used();
    uint64_t i1 = plat_instructions();
    if (st != RELCON_OK) { line_status("relcon_session_init", st); return 2; }
    /* Heads and the kernels from the session: no blob validation (a blob-level relcon_head_* call checksums the
     * whole blob, every time). */
    uint32_t n_classes = 0;
    relcon_session_desc sd;
    memset(&sd, 0, sizeof sd);
    sd.struct_bytes = sizeof sd;
    st = relcon_session_info(s, &sd);
    if (st != RELCON_OK) { line_status("relcon_session_info", st); return 2; }
    relcon_head_desc head;
    memset(&head, 0, sizeof head);
    if (sd.n_heads > 0 && relcon_session_head_info(s, 0, &head) == RELCON_OK && head.kind == RELCON_HEAD_CLASSIFIER &&
        head.n_outputs <= FW_MAX_CLASSES)
        n_classes = head.n_outputs;
    const char *model = "?";
    if (relcon_meta(fw_model, FW_MODEL_BYTES, "model_name", &model) != RELCON_OK) model = "?";

    out_str(&b, "boot: model ");
    out_str(&b, model);
    out_str(&b, ", ");
    out_u64(&b, info.window_samples);
    out_str(&b, " samples at ");
    out_f(&b, info.sample_rate_hz, 0);
    out_str(&b, " Hz, hop ");
    out_u64(&b, FW_HOP);
    out_str(&b, "; arena ");
    out_u64(&b, info.arena_bytes);
    out_str(&b, " of ");
    out_u64(&b, sizeof g_arena);
    out_str(&b, " static bytes; blob ");
    out_u64(&b, FW_MODEL_BYTES);
    out_str(&b, " bytes in flash; head ");
    out_str(&b, n_classes ? head.name : "(none: embedding norm)");
    out_str(&b, "\n");
    out_str(&b, "# kernels: ");
    out_str(&b, sd.isa_name);
    out_str(&b, "\n");
    if (i1 > i0) {
        out_str(&b, "# session_init: ");
        out_u64(&b, i1 - i0);
        out_str(&b, " instructions (with relcon_inspect), stack ");
        out_u64(&b, init_stack);
        out_str(&b, " B\n");
    }
    out_flush(&b);

    const uint32_t T = FW_MODEL_MAX_SAMPLES;
    uint32_t votes[FW_MAX_CLASSES] = {0}, windows = 0, head_pos = 0;
    uint64_t instr_total = 0;
    size_t stack_max = 0;
    for (uint32_t n = 0; n < FW_REC_SAMPLES; n++) {
        memcpy(&g_ring[3 * head_pos], &fw_rec[3 * n], 3 * sizeof(float));   /* the "ISR": one sample in */
        head_pos = (head_pos + 1) % T;
        uint32_t have = n + 1;
        if (have < T || (have - T) % FW_HOP != 0) continue;
        /* the app: the latest T samples in time order (oldest at head_pos) */
        memcpy(g_window, &g_ring[3 * head_pos], 3 * sizeof(float) * (T - head_pos));
        memcpy(&g_window[3 * (T - head_pos)], g_ring, 3 * sizeof(float) * head_pos);
        double t_start = FW_REC_T0_S + (double)(have - T) / info.sample_rate_hz;
        out_f(&b, t_start, 2);
        out_str(&b, " s  ");
        uint64_t a0 = plat_instructions();
        plat_stack_paint();
        if (n_classes) {
            float probs[FW_MAX_CLASSES];
            uint32_t top = 0;
            st = relcon_classify(s, g_window, T, 0, probs, FW_MAX_CLASSES, &top);
            if (st != RELCON_OK) { out_flush(&b); line_status("relcon_classify", st); return 2; }
            const char *cls = "?";
            if (relcon_session_head_class_name(s, 0, top, &cls) != RELCON_OK) cls = "?";
            out_str(&b, cls);
            out_str(&b, " (");
            out_f(&b, probs[top], 3);
            out_str(&b, ")");
            votes[top]++;
        } else {
            float e[512];
            st = relcon_embed(s, g_window, T, e, 512);
            if (st != RELCON_OK) { out_flush(&b); line_status("relcon_embed", st); return 2; }
            double norm = 0;
            for (uint32_t i = 0; i < info.embedding_dim; i++) norm += (double)e[i] * e[i];
            out_str(&b, "|e|^2 ");
            out_f(&b, norm, 4);
        }
        size_t used = plat_stack_used();
        uint64_t a1 = plat_instructions();
        if (used > stack_max) stack_max = used;
        instr_total += a1 - a0;
        windows++;
        out_str(&b, "\n");
        out_flush(&b);
    }
    out_str(&b, "summary: ");
    out_u64(&b, windows);
    out_str(&b, " windows");
    if (n_classes && windows) {
        uint32_t best = 0;
        for (uint32_t k = 1; k < n_classes; k++) if (votes[k] > votes[best]) best = k;
        const char *cls = "?";
        if (relcon_session_head_class_name(s, 0, best, &cls) != RELCON_OK) cls = "?";
        out_str(&b, "; recording: ");
        out_str(&b, head.name);
        out_str(&b, " = ");
        out_str(&b, cls);
        out_str(&b, " (majority vote)");
    }
    out_str(&b, "\n");
    if (instr_total && windows) {
        out_str(&b, "# per window: ");
        out_u64(&b, instr_total / windows);
        out_str(&b, " instructions (QEMU -icount, not cycles), stack high-water ");
        out_u64(&b, stack_max);
        out_str(&b, " B; no heap in this image\n");
    }
    out_flush(&b);
    return 0;
}
