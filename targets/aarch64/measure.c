/* aarch64 Linux measurement program for docs/embedded.md (targets/aarch64/figures.sh, make a64-figures): the blob
 * read from a file, real windows from a C array (tools/rec2c, the same slice as the Cortex-M4F figures), then
 * relcon_inspect, relcon_session_init and WINDOWS calls of relcon_embed. Run under qemu-aarch64 with the
 * instruction-counting plugin (insn_count.c) once with WINDOWS = 0 and once with WINDOWS = n: the difference / n
 * is the instructions per relcon_embed (everything else is the same in both runs). Prints one line:
 *
 *   measure macs=<MAC per window> arena=<B> windows=<n> checksum=<FNV-1a of every embedding bit>
 *
 *   measure BLOB WINDOWS */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_rec.h"
#include "relcon.h"

static float g_emb[1024];

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: measure BLOB WINDOWS\n");
        return 2;
    }
    unsigned windows = (unsigned)strtoul(argv[2], NULL, 10);
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "measure: cannot open %s\n", argv[1]);
        return 2;
    }
    static _Alignas(64) uint8_t blob[16u << 20];
    size_t n = fread(blob, 1, sizeof blob, f);
    int big = !feof(f);
    fclose(f);
    if (big || n == 0) {
        fprintf(stderr, "measure: %s is empty or larger than 16 MiB\n", argv[1]);
        return 2;
    }
    const uint32_t samples = 256;
    relcon_model_info info;
    relcon_status st = relcon_inspect(blob, n, samples, &info);
    if (st != RELCON_OK || info.embedding_dim > 1024 || FW_REC_SAMPLES < samples) {
        fprintf(stderr, "measure: relcon_inspect: %s (or embedding / recording too small)\n", relcon_status_string(st));
        return 2;
    }
    void *arena = aligned_alloc(RELCON_ARENA_ALIGN, (info.arena_bytes + RELCON_ARENA_ALIGN - 1) / RELCON_ARENA_ALIGN * RELCON_ARENA_ALIGN);
    relcon_session *s = NULL;
    st = arena ? relcon_session_init(blob, n, samples, arena, info.arena_bytes, &s) : RELCON_E_ARENA_TOO_SMALL;
    if (st != RELCON_OK) {
        fprintf(stderr, "measure: relcon_session_init: %s\n", relcon_status_string(st));
        return 2;
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned w = 0; w < windows; w++) {
        uint32_t start = (uint32_t)(((uint64_t)(FW_REC_SAMPLES - samples) * (w % 3u)) / 3u);
        st = relcon_embed(s, &fw_rec[3 * start], samples, g_emb, 1024);
        if (st != RELCON_OK) {
            fprintf(stderr, "measure: relcon_embed: %s\n", relcon_status_string(st));
            return 2;
        }
        const unsigned char *c = (const unsigned char *)g_emb;
        for (size_t i = 0; i < info.embedding_dim * sizeof(float); i++) {
            h ^= c[i];
            h *= 0x100000001b3ull;
        }
    }
    printf("measure macs=%llu arena=%llu windows=%u checksum=%016llx\n", (unsigned long long)info.macs,
           (unsigned long long)info.arena_bytes, windows, (unsigned long long)h);
    free(arena);
    return 0;
}
