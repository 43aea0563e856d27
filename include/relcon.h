/*
 * relcon.h — the public C API of librelcon, the RelCon motion-encoder runtime.
 *
 * What it does: turns a window of 3-axis accelerometer samples (interleaved x,y,z floats, in g) into
 * the RelCon embedding, using a weight blob written by the Python exporter (export/, docs/blob-format.md).
 *
 * Lifecycle (no allocation anywhere, no free function):
 *
 *     relcon_model_info info;
 *     relcon_inspect(blob, blob_bytes, max_samples, &info);        // validates the blob, sizes the arena
 *     void *arena = <info.arena_bytes bytes, RELCON_ARENA_ALIGN-aligned, owned by the caller>;
 *     relcon_session *s;
 *     relcon_session_init(blob, blob_bytes, max_samples, arena, info.arena_bytes, &s);
 *     relcon_embed(s, samples, n_samples, embedding, info.embedding_dim);   // any n_samples in
 *                                                                          // [info.min_samples, max_samples]
 *
 * Ownership: the blob is used in place (weights are never copied): it must stay valid and unchanged for the
 * lifetime of every session made from it. The session lives inside the caller's arena; dropping the arena
 * ends the session.
 *
 * Thread safety: functions that take no session are reentrant and may be called from any thread. A session
 * may be used by one thread at a time; different sessions (even on the same blob) are independent.
 *
 * Errors: every fallible function returns a relcon_status; results go through out_* parameters, which are
 * written only on RELCON_OK. No function aborts, traps or reads out of bounds on a bad argument or a corrupt
 * blob: NULL pointers, wrong sizes and damaged blobs come back as a status.
 *
 * Status values are pinned forever; new ones are only ever added. Released signatures never change (a new
 * behaviour gets a new _v2 function; an old one may be marked RELCON_DEPRECATED, never removed within a major
 * version). Each function says since which version it exists ("Since 0.3."; CHANGELOG.md has the history).
 * Exception: the declarations in the "Experimental" section at the end (the streaming API) may still change.
 *
 * After relcon_session_init, ask the session (relcon_session_info, relcon_session_head_info,
 * relcon_session_head_class_name: no blob validation) rather than the blob (every blob-level function
 * validates the whole blob, a CRC over every byte, on every call).
 */
#ifndef RELCON_H
#define RELCON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions -------------------------------------------------------------------------------------- */

/* Header version. Compare with relcon_version() to catch a header/library mismatch at start-up:
 *   if (relcon_version() / 10000 != RELCON_VERSION_MAJOR) { ... wrong library ... } */
#define RELCON_VERSION_MAJOR 0
#define RELCON_VERSION_MINOR 4
#define RELCON_VERSION_PATCH 1
#define RELCON_VERSION_NUMBER (RELCON_VERSION_MAJOR * 10000 + RELCON_VERSION_MINOR * 100 + RELCON_VERSION_PATCH)

/* Newest blob format this header describes (docs/blob-format.md). */
#define RELCON_BLOB_FORMAT_VERSION 3

/* The arena passed to relcon_session_init must be aligned to this many bytes. */
#define RELCON_ARENA_ALIGN 64
/* The blob's first byte must be aligned to this many bytes (malloc, mmap and 16-aligned flash all qualify). */
#define RELCON_BLOB_ALIGN 16

/* ---- Declaration macros (0.5) ---------------------------------------------------------------------- */

/* RELCON_API is on every function of this header: default symbol visibility, so the API stays visible when
 * the library (or a program that links it statically into a shared object) is compiled with
 * -fvisibility=hidden. Define RELCON_API before including this header to replace it (e.g. with nothing, or
 * with __declspec(dllimport) on Windows). */
#ifndef RELCON_API
#if defined(__GNUC__) || defined(__clang__)
#define RELCON_API __attribute__((visibility("default")))
#else
#define RELCON_API
#endif
#endif

/* RELCON_DEPRECATED(msg) marks a function that a newer one replaces. A deprecated function keeps its
 * signature and behaviour for the rest of the major version; compilers warn at every use, with msg saying what
 * to call instead. No function is deprecated in 0.5. */
#if defined(__GNUC__) || defined(__clang__)
#define RELCON_DEPRECATED(msg) __attribute__((deprecated(msg)))
#elif defined(_MSC_VER)
#define RELCON_DEPRECATED(msg) __declspec(deprecated(msg))
#else
#define RELCON_DEPRECATED(msg)
#endif

/* relcon_status is an open enum (0.5; before 0.5 it was declared with RELCON_CLOSED_ENUM): new values are only
 * ever added, so Swift imports it as a non-frozen enum, which can hold a value a newer library returns, and a
 * `switch` over it handles unknown values (`@unknown default`). No effect in C: same type, size and values.
 * RELCON_CLOSED_ENUM stays defined (unused) for source compatibility. */
#if defined(__clang__)
#define RELCON_OPEN_ENUM __attribute__((enum_extensibility(open)))
#define RELCON_CLOSED_ENUM __attribute__((enum_extensibility(closed)))
#else
#define RELCON_OPEN_ENUM
#define RELCON_CLOSED_ENUM
#endif

#if defined(__GNUC__) || defined(__clang__)
#define RELCON_NODISCARD __attribute__((warn_unused_result))
#else
#define RELCON_NODISCARD
#endif

/* ---- Status ---------------------------------------------------------------------------------------- */

/* Grouped by decade: 1x arguments, 2x blob, 3x arena/session, 4x input data, 5x lookups. Pinned forever. */
typedef enum RELCON_OPEN_ENUM relcon_status {
    RELCON_OK = 0,

    RELCON_E_NULL_ARGUMENT = 10,      /* a required pointer was NULL */
    RELCON_E_INVALID_ARGUMENT = 11,   /* a size or count out of its documented range */
    RELCON_E_BUFFER_TOO_SMALL = 12,   /* an output buffer is smaller than the result */

    RELCON_E_BLOB_TOO_SMALL = 20,     /* fewer bytes than the header, or than the header's total_bytes */
    RELCON_E_BLOB_MAGIC = 21,         /* not a relcon blob */
    RELCON_E_BLOB_VERSION = 22,       /* a blob format version this library does not read */
    RELCON_E_BLOB_CHECKSUM = 23,      /* CRC-32 mismatch: the blob is damaged */
    RELCON_E_BLOB_BOUNDS = 24,        /* a table or tensor reaches outside the blob */
    RELCON_E_BLOB_ALIGNMENT = 25,     /* the blob pointer or a tensor offset is misaligned */
    RELCON_E_BLOB_TENSOR = 26,        /* a tensor record is malformed (data type, rank, size) */
    RELCON_E_BLOB_GRAPH = 27,         /* the layer list is malformed (operator, wiring, shapes) */
    RELCON_E_BLOB_CONTRACT = 28,      /* the sensor contract is malformed */
    RELCON_E_BLOB_METADATA = 29,      /* the metadata strings are malformed */

    RELCON_E_ARENA_TOO_SMALL = 30,    /* the arena is smaller than relcon_inspect's arena_bytes */
    RELCON_E_ARENA_MISALIGNED = 31,   /* the arena is not RELCON_ARENA_ALIGN-aligned */
    RELCON_E_SESSION_INVALID = 32,    /* the pointer is not an initialised session (or it was overwritten) */

    RELCON_E_WINDOW_TOO_SHORT = 40,   /* n_samples < min_samples of the architecture */
    RELCON_E_WINDOW_TOO_LONG = 41,    /* n_samples > the max_samples the session was planned for */
    RELCON_E_INPUT_NOT_FINITE = 42,   /* a sample is NaN or infinite */
    RELCON_E_OUTPUT_NOT_FINITE = 43,  /* an intermediate value or an output is NaN or infinite (0.5): the blob's
                                       * weights overflow on this input; nothing was written */

    RELCON_E_NOT_FOUND = 50,          /* the metadata key is not in the blob (also: no self-test vector) */
    RELCON_E_NO_SUCH_HEAD = 51,       /* head index >= the blob's head count (0.3) */
    RELCON_E_SELFTEST_FAILED = 52     /* relcon_selftest: the output differs from the blob's expectation (0.3) */
} relcon_status;

/* Units of the input samples (sensor contract). */
#define RELCON_UNITS_G 1              /* standard gravity, 1 g = 9.80665 m/s^2 */

/* Tensor data types of a blob (docs/blob-format.md). */
#define RELCON_DTYPE_F32 1
#define RELCON_DTYPE_F16 2
#define RELCON_DTYPE_I8 3
#define RELCON_DTYPE_I32 4

/* ---- Model description ----------------------------------------------------------------------------- */

/* Everything a caller needs to know before allocating, read from the blob alone. */
typedef struct relcon_model_info {
    uint32_t format_version;   /* blob format version */
    uint32_t weight_dtype;     /* RELCON_DTYPE_* of the convolution weights */
    uint32_t input_channels;   /* axes per sample (3) */
    uint32_t embedding_dim;    /* floats written by relcon_embed */
    float sample_rate_hz;      /* sensor contract: samples per second the model was trained on */
    uint32_t window_samples;   /* sensor contract: window length the model was trained on */
    uint32_t min_samples;      /* shortest window the architecture accepts */
    uint32_t units;            /* sensor contract: RELCON_UNITS_* of the input */
    char axis_order[4];        /* sensor contract: NUL-terminated, e.g. "xyz" (device axes -> model axes) */
    float input_scale[3];      /* the runtime feeds x*input_scale[a] + input_offset[a] to the network */
    float input_offset[3];
    float input_clip;          /* after scaling, inputs are clamped to [-input_clip, input_clip]; 0 = none */
    uint32_t n_layers;         /* layers in the graph */
    uint32_t n_tensors;        /* tensors in the blob */
    uint64_t n_parameters;     /* weight and bias values */
    uint64_t macs;             /* multiply-accumulates per window of n_samples (the argument of inspect) */
    uint64_t blob_bytes;       /* total_bytes of the blob */
    uint64_t arena_bytes;      /* arena needed by a session planned for n_samples */
    uint32_t n_samples;        /* the window length arena_bytes and macs were computed for */
    uint32_t reserved;         /* 0 */
} relcon_model_info;

/* ---- Functions ------------------------------------------------------------------------------------- */

/* Library version as MAJOR*10000 + MINOR*100 + PATCH. Never fails. Since 0.2. */
RELCON_API uint32_t relcon_version(void);

/* Library version as "MAJOR.MINOR.PATCH", a static string. Never NULL. Since 0.2. */
RELCON_API const char *relcon_version_string(void);

/* A static English description of a status, e.g. "blob checksum mismatch". Never NULL, also for values
 * that are not in the enum ("unknown status"). Since 0.2. */
RELCON_API const char *relcon_status_string(relcon_status status);

/* Validates a blob completely (checksum over every byte, bounds, tensors, graph, contract, metadata) and
 * describes it. n_samples is the longest window the caller will run (it sizes arena_bytes and macs);
 * 0 means the contract's window_samples; below min_samples is RELCON_E_WINDOW_TOO_SHORT.
 *   blob:       blob_bytes bytes, RELCON_BLOB_ALIGN-aligned; only read. blob_bytes may exceed the blob's
 *               total_bytes (e.g. a flash partition); the extra bytes are ignored.
 *   out_info:   written on RELCON_OK only.
 * Blob defects are reported in the order of docs/blob-format.md, "Validation order and status codes"
 * (0.5: a malformed `input_clip` metadata value, not a decimal number in (0, 1e30), is RELCON_E_BLOB_METADATA).
 * Reentrant. Costs one pass over the blob (CRC-32) and one over its tensor values (all must be finite). Since 0.2. */
RELCON_API RELCON_NODISCARD relcon_status relcon_inspect(const void *blob, size_t blob_bytes, uint32_t n_samples,
                                                         relcon_model_info *out_info);

/* Looks up a metadata string of the blob (keys such as "model_name", "training_data", "source_commit").
 *   key:       NUL-terminated; at most 64 bytes of it are read.
 *   out_value: set to a NUL-terminated UTF-8 string inside the blob (valid as long as the blob is).
 * Validates the blob first, like relcon_inspect. Reentrant. Returns RELCON_E_NOT_FOUND for a missing key
 * (also for "" and for keys longer than 63 bytes, which no blob can hold). Since 0.2. */
RELCON_API RELCON_NODISCARD relcon_status relcon_meta(const void *blob, size_t blob_bytes, const char *key,
                                                      const char **out_value);

/* Opaque session; it lives inside the caller's arena. */
typedef struct relcon_session relcon_session;

/* Validates the blob (as relcon_inspect) and creates a session inside the arena, planned for windows of up
 * to max_samples samples (0 = the contract's window_samples).
 *   arena:        arena_bytes bytes, RELCON_ARENA_ALIGN-aligned, at least relcon_inspect(..., max_samples)'s
 *                 arena_bytes. Owned by the caller; the session uses all of it and nothing else.
 *   out_session:  set to a pointer inside the arena (its first byte), on RELCON_OK only.
 * Statuses: blob defects as relcon_inspect; RELCON_E_WINDOW_TOO_SHORT when max_samples < min_samples;
 * RELCON_E_ARENA_MISALIGNED, RELCON_E_ARENA_TOO_SMALL. The session's control block sits at the start of the
 * arena and is checksummed; the rest of the arena is scratch for relcon_embed.
 * The blob must outlive the session. Never allocates. Since 0.2. */
RELCON_API RELCON_NODISCARD relcon_status relcon_session_init(const void *blob, size_t blob_bytes, uint32_t max_samples,
                                                              void *arena, size_t arena_bytes,
                                                              relcon_session **out_session);

/* Embeds one window.
 *   samples:        n_samples interleaved x,y,z floats (3*n_samples values), in g, in the contract's axis
 *                   order, at the contract's sample rate; only read.
 *   n_samples:      min_samples <= n_samples <= the session's max_samples.
 *   out_embedding:  receives embedding_dim floats; embedding_capacity is its length in floats.
 * Checks, in order: NULL pointers; the session (RELCON_E_SESSION_INVALID for a pointer that is not a session
 * or whose control block was overwritten, and for a copy of a session's bytes at another address: a session
 * cannot be moved); embedding_capacity (RELCON_E_BUFFER_TOO_SMALL); n_samples (RELCON_E_WINDOW_TOO_SHORT /
 * _TOO_LONG); the samples (RELCON_E_INPUT_NOT_FINITE for NaN or +-inf).
 * Input data (0.5): every finite sample is valid. Each axis is clamped to +-input_clip g first (the blob's
 * `input_clip` metadata key, a decimal number of g, e.g. "16"; 16 g when the blob has none), then scaled
 * (x*input_scale + input_offset, clamped to the contract's input_clip field when it is > 0). Any NaN or
 * infinite value computed on the way (possible only with weights that overflow f32, e.g. a damaged or
 * adversarial blob) is RELCON_E_OUTPUT_NOT_FINITE. So on RELCON_OK every output is finite.
 * Never allocates; one session at a time per thread. On error out_embedding is left unchanged. Since 0.2. */
RELCON_API RELCON_NODISCARD relcon_status relcon_embed(relcon_session *session, const float *samples,
                                                       uint32_t n_samples, float *out_embedding,
                                                       uint32_t embedding_capacity);

/* ---- Heads (0.3) ----------------------------------------------------------------------------------- */
/*
 * A blob may carry zero or more heads (docs/blob-format.md, "Heads"): small f32 LINEAR layers after the
 * embedding (a linear probe, optionally LINEAR+ReLU -> LINEAR) with a name and either class names
 * (classifier: softmax probabilities over K classes) or a target and unit (regressor: one value).
 * relcon_embed never runs them; relcon_classify / relcon_regress run the embedding and then only the layers
 * of the requested head. Heads are numbered 0 .. count-1 in the order of the blob's metadata (head0, head1, ...).
 * Functions on a blob validate it completely first (like relcon_inspect: one CRC pass) and are reentrant;
 * functions on a session follow relcon_embed's rules (one thread at a time per session, no allocation).
 */

#define RELCON_HEAD_CLASSIFIER 1      /* softmax over n_outputs classes, class names in the blob */
#define RELCON_HEAD_REGRESSOR 2       /* one value, with a target name and a unit */

/* (The struct is not called relcon_head_info: in C that name is taken by the function below.) */
typedef struct relcon_head_desc {
    const char *name;         /* NUL-terminated [a-z0-9_], e.g. "activity"; points into the blob */
    const char *target;       /* regressors: what is predicted, e.g. "walking_speed"; NULL for classifiers */
    const char *unit;         /* regressors: unit of the value, e.g. "m/s" ("" = dimensionless); NULL for
                               * classifiers */
    uint32_t kind;            /* RELCON_HEAD_CLASSIFIER or RELCON_HEAD_REGRESSOR */
    uint32_t n_outputs;       /* classes (classifier, >= 2) or 1 (regressor) */
} relcon_head_desc;

/* Number of heads in the blob (0 for a blob without heads). Validates the blob first. Reentrant. Since 0.3. */
RELCON_API RELCON_NODISCARD relcon_status relcon_head_count(const void *blob, size_t blob_bytes, uint32_t *out_count);

/* Describes head `head` (0 .. count-1; RELCON_E_NO_SUCH_HEAD otherwise). The strings point into the blob
 * (valid as long as the blob is). Validates the blob first. Reentrant. Since 0.3. */
RELCON_API RELCON_NODISCARD relcon_status relcon_head_info(const void *blob, size_t blob_bytes, uint32_t head,
                                                           relcon_head_desc *out_info);

/* Name of class `class_index` of classifier `head`: a NUL-terminated UTF-8 string inside the blob.
 * RELCON_E_NO_SUCH_HEAD for a head index out of range; RELCON_E_INVALID_ARGUMENT when the head is a
 * regressor or class_index >= n_outputs. Validates the blob first. Reentrant. Since 0.3. */
RELCON_API RELCON_NODISCARD relcon_status relcon_head_class_name(const void *blob, size_t blob_bytes, uint32_t head,
                                                                 uint32_t class_index, const char **out_name);

/* Classifies one window: embeds it (as relcon_embed) and runs classifier `head`.
 *   out_probs:  receives n_outputs softmax probabilities (f32, summing to 1 up to rounding);
 *               probs_capacity is its length in floats (RELCON_E_BUFFER_TOO_SMALL when < n_outputs).
 *   out_top:    the most probable class (largest logit; ties -> the lowest class index).
 * Checks, in order: NULL pointers; the session; the head (RELCON_E_NO_SUCH_HEAD; RELCON_E_INVALID_ARGUMENT
 * for a regressor head); probs_capacity; then n_samples and the samples exactly as relcon_embed, including
 * the clamping and RELCON_E_OUTPUT_NOT_FINITE (a non-finite logit: 0.5; before 0.5 this was
 * RELCON_E_SESSION_INVALID). Outputs are written on RELCON_OK only. Never allocates. Since 0.3. */
RELCON_API RELCON_NODISCARD relcon_status relcon_classify(relcon_session *session, const float *samples,
                                                          uint32_t n_samples, uint32_t head, float *out_probs,
                                                          uint32_t probs_capacity, uint32_t *out_top);

/* Regresses one window: embeds it and runs regressor `head`; *out_value is in the head's unit.
 * Checks as relcon_classify (RELCON_E_INVALID_ARGUMENT for a classifier head), RELCON_E_OUTPUT_NOT_FINITE
 * for a non-finite value. Never allocates. Since 0.3. */
RELCON_API RELCON_NODISCARD relcon_status relcon_regress(relcon_session *session, const float *samples,
                                                         uint32_t n_samples, uint32_t head, float *out_value);

/* Recording-level classification by majority vote, without allocation.
 *   samples:          n_total_samples interleaved x,y,z floats (a whole recording, contract rate and units).
 *   Windows:          W = the session's max_samples samples each, starting at 0, hop, 2*hop, ... while the
 *                     window fits (start + W <= n_total_samples); a tail shorter than W is not used.
 *   hop:              >= 1 (RELCON_E_INVALID_ARGUMENT for 0).
 *   votes:            caller buffer of votes_capacity >= n_outputs counters (RELCON_E_BUFFER_TOO_SMALL
 *                     otherwise); on RELCON_OK votes[k] = windows whose top class is k (the rest of the
 *                     buffer is untouched); on any other status its contents are unspecified.
 *   out_top:          the class with the most votes; ties -> the lowest class index.
 *   out_windows:      windows classified (>= 1).
 * Checks as relcon_classify; n_total_samples < W is RELCON_E_WINDOW_TOO_SHORT; every sample of the recording
 * is checked for NaN/inf (RELCON_E_INPUT_NOT_FINITE) before any window runs; RELCON_E_OUTPUT_NOT_FINITE
 * when any window computes a non-finite value (no vote is returned). Costs one relcon_classify per window
 * (no softmax). Never allocates. Since 0.3. */
RELCON_API RELCON_NODISCARD relcon_status relcon_classify_recording(relcon_session *session, const float *samples,
                                                                    uint32_t n_total_samples, uint32_t hop,
                                                                    uint32_t head, uint32_t *votes,
                                                                    uint32_t votes_capacity, uint32_t *out_top,
                                                                    uint32_t *out_windows);

/* Recording-level regression: the mean of regressor `head` over the same windows as
 * relcon_classify_recording (accumulated in double). Statuses as relcon_classify_recording
 * (RELCON_E_OUTPUT_NOT_FINITE also when the mean overflows f32). Outputs on RELCON_OK only. Never allocates.
 * Since 0.3. */
RELCON_API RELCON_NODISCARD relcon_status relcon_regress_recording(relcon_session *session, const float *samples,
                                                                   uint32_t n_total_samples, uint32_t hop,
                                                                   uint32_t head, float *out_mean,
                                                                   uint32_t *out_windows);

/* ---- Self-test (0.3) ------------------------------------------------------------------------------- */

/* Runs the self-test vector stored in the blob (docs/blob-format.md, "Self-test"): embeds its input window
 * and compares with its expected embedding.
 *   out_max_rel_error: max_i |y_i - e_i| / max_i |e_i| (0 when bit-exact); written on RELCON_OK and on
 *                      RELCON_E_SELFTEST_FAILED.
 * Returns RELCON_OK when that error is <= the blob's selftest_tolerance (0 = bit-exact, used by int8 blobs),
 * RELCON_E_SELFTEST_FAILED when it is not (or any computed value is not finite: then *out_max_rel_error is
 * +inf; the self-test never returns RELCON_E_OUTPUT_NOT_FINITE), RELCON_E_NOT_FOUND when the blob has
 * no self-test vector, RELCON_E_WINDOW_TOO_LONG when the vector is longer than the session's max_samples
 * (the exporter uses the contract's window_samples, so a session with max_samples 0 always fits).
 * Uses the session's arena like relcon_embed. Never allocates. Since 0.3. */
RELCON_API RELCON_NODISCARD relcon_status relcon_selftest(relcon_session *session, float *out_max_rel_error);



/* ---- Session queries (0.5) ------------------------------------------------------------------------- */
/*
 * What a session was planned with, the kernels it runs and its heads, read from the session: its
 * checksummed control block, and the blob's header and metadata through bounds-checked reads. The blob is not
 * validated again (no CRC over it): each call costs about what the session check of relcon_embed costs, so
 * firmware can ask after boot instead of keeping copies (the blob-level relcon_head_* functions validate the
 * whole blob on every call). The blob must be the unchanged blob the session was made from, as for every
 * session function; answers that no longer fit the session's records are RELCON_E_SESSION_INVALID.
 * Session rules as relcon_embed (one thread at a time per session). Never allocate.
 */

/* Kernel ISA levels (relcon_session_desc.isa_level). New levels are only ever added; print isa_name. */
#define RELCON_ISA_PORTABLE 0         /* the portable kernels: any CPU of the target */
#define RELCON_ISA_X86_64_V3 1        /* x86-64-v3: AVX2, FMA, F16C */
#define RELCON_ISA_X86_64_V4 2        /* x86-64-v4 (AVX-512 F/BW/CD/DQ/VL) + AVX512-VNNI */
/* The same numbers on aarch64 (isa_name tells them apart): */
#define RELCON_ISA_AARCH64_NEON 1     /* Armv8-A Advanced SIMD (every aarch64 CPU) */
#define RELCON_ISA_AARCH64_DOTPROD 2  /* + FEAT_DotProd (SDOT), from getauxval(AT_HWCAP) */

/* The size of the first (0.5) layout of relcon_session_desc, the smallest struct_bytes accepted. */
#define RELCON_SESSION_DESC_V1_BYTES 64

/* A session's description. Extensible: later versions only append fields, and struct_bytes says how many
 * bytes of the struct a library filled. (Not called relcon_session_info: in C that name is the function's.) */
typedef struct relcon_session_desc {
    uint32_t struct_bytes;     /* in: sizeof(relcon_session_desc) of the caller's header; out: bytes written */
    uint32_t isa_level;        /* RELCON_ISA_*: the level this session's kernels run at (chosen by
                                * relcon_session_init from the CPU, capped by the RELCON_ISA environment
                                * variable where there is one) */
    uint64_t arena_bytes;      /* bytes of the arena the session uses: relcon_inspect(..., max_samples)'s
                                * arena_bytes; the rest of a larger arena is never touched */
    uint64_t blob_bytes;       /* total_bytes of the session's blob */
    uint32_t min_samples;      /* shortest window relcon_embed accepts */
    uint32_t max_samples;      /* longest window: what the session was planned for */
    uint32_t window_samples;   /* sensor contract: the window the model was trained on */
    uint32_t input_channels;   /* axes per sample (3) */
    float sample_rate_hz;      /* sensor contract: samples per second */
    uint32_t embedding_dim;    /* floats written by relcon_embed */
    uint32_t precision;        /* RELCON_DTYPE_F32, _F16 or _I8: the blob's precision */
    uint32_t n_heads;          /* heads of the blob (0 .. n_heads-1 for the session head queries) */
    const char *isa_name;      /* static, NUL-terminated name of isa_level: "portable", "v3", "v4" (the value of
                                * RELCON_ISA that selects the level) */
} relcon_session_desc;

/* Describes a session.
 *   out_info:  set out_info->struct_bytes = sizeof(relcon_session_desc) first (RELCON_E_INVALID_ARGUMENT
 *              below RELCON_SESSION_DESC_V1_BYTES). The library writes min(struct_bytes, the size it knows)
 *              bytes, struct_bytes included (set to that count); fields past it are left as they were.
 * Statuses: RELCON_E_NULL_ARGUMENT; RELCON_E_SESSION_INVALID (as relcon_embed); RELCON_E_INVALID_ARGUMENT.
 * Writes out_info on RELCON_OK only. Since 0.5. */
RELCON_API RELCON_NODISCARD relcon_status relcon_session_info(const relcon_session *session,
                                                              relcon_session_desc *out_info);

/* Describes head `head` of the session's blob, as relcon_head_info (0 .. n_heads-1; RELCON_E_NO_SUCH_HEAD
 * otherwise); the strings point into the blob. Checks, in order: NULL pointers; the session; the head.
 * Since 0.5. */
RELCON_API RELCON_NODISCARD relcon_status relcon_session_head_info(const relcon_session *session, uint32_t head,
                                                                   relcon_head_desc *out_info);

/* Name of class `class_index` of classifier `head` of the session's blob, as relcon_head_class_name
 * (RELCON_E_NO_SUCH_HEAD for a head out of range; RELCON_E_INVALID_ARGUMENT for a regressor head or
 * class_index >= n_outputs); a NUL-terminated UTF-8 string inside the blob. Since 0.5. */
RELCON_API RELCON_NODISCARD relcon_status relcon_session_head_class_name(const relcon_session *session, uint32_t head,
                                                                         uint32_t class_index,
                                                                         const char **out_name);

/* ---- Resampling (0.5) ------------------------------------------------------------------------------ */
/*
 * The anti-aliased rational polyphase resampler of the stream, also for whole recordings (the relcon CLI
 * resamples through it, so the CLI and the stream give the same samples, bit for bit). Design
 * (docs/runtime.md, "Streaming"): ratio out/in ~ up/down, the best rational approximation with down <= 1000;
 * Kaiser-windowed sinc low-pass (24 zero crossings, beta 8, cut-off 0.9 of the lower Nyquist), one tap row of
 * 2*half taps per phase, each row normalised to sum 1; taps in f32, products summed in f32 in tap order.
 * Output k sits at input position k*down/up. Identity (up == down) copies the samples.
 */

#define RELCON_RESAMPLE_MIN_RATE_HZ 1.0      /* input rates accepted by the resampler and the stream */
#define RELCON_RESAMPLE_MAX_RATE_HZ 5000.0

typedef struct relcon_resample_desc {
    uint32_t up;               /* out/in = up/down (reduced) */
    uint32_t down;
    uint32_t taps;             /* taps per phase (2*half; 0 for identity) */
    uint32_t reserved;         /* 0 */
    double effective_rate_hz;  /* in_rate * up / down */
    uint64_t work_bytes;       /* scratch relcon_resample needs: the tap table (4*up*taps) + 12*taps bytes */
} relcon_resample_desc;

/* Describes the resampler from in_rate_hz to out_rate_hz. RELCON_E_INVALID_ARGUMENT when a rate is not finite,
 * in_rate_hz is outside [RELCON_RESAMPLE_MIN_RATE_HZ, RELCON_RESAMPLE_MAX_RATE_HZ], out_rate_hz is outside
 * (0, 100000], or the tap table would exceed 64 MiB. Reentrant. Since 0.5. */
RELCON_API RELCON_NODISCARD relcon_status relcon_resample_info(double in_rate_hz, double out_rate_hz,
                                                               relcon_resample_desc *out_desc);

/* Resamples n_in interleaved x,y,z samples (a whole segment: both ends are extended by odd reflection, which
 * continues constants and lines exactly) to n_out = floor((n_in - 1)*up/down) + 1 samples (n_in for identity).
 *   work:         work_bytes of relcon_resample_info (tap table, then 12*taps bytes of scratch),
 *                 16-byte aligned (RELCON_E_ARENA_MISALIGNED / RELCON_E_ARENA_TOO_SMALL otherwise); NULL is
 *                 allowed when work_bytes is 0.
 *   out_capacity: in samples (RELCON_E_BUFFER_TOO_SMALL when < n_out); *out_n receives n_out.
 * RELCON_E_INPUT_NOT_FINITE for a NaN or infinite sample; RELCON_E_INVALID_ARGUMENT for n_in == 0 or rates as
 * relcon_resample_info. Outputs on RELCON_OK only (out may be partly written otherwise). Never allocates. Since 0.5. */
RELCON_API RELCON_NODISCARD relcon_status relcon_resample(double in_rate_hz, double out_rate_hz, const float *in,
                                                          uint32_t n_in, void *work, size_t work_bytes, float *out,
                                                          uint32_t out_capacity, uint32_t *out_n);

/* ==== Experimental ================================================================================== */
/*
 * The declarations from here to the end of the experimental section are the streaming API. They work and are
 * tested like the rest, but they are not yet under the rule above: until a release declares them stable, a
 * minor release may change their signatures or struct layouts (each change listed in CHANGELOG.md, never in a
 * patch release). Status values stay pinned everywhere. Define RELCON_NO_EXPERIMENTAL before including this
 * header to leave them out (and catch any use of them at compile time).
 */
#ifndef RELCON_NO_EXPERIMENTAL

/* ---- Streaming (0.5, experimental) ----------------------------------------------------------------- */
/*
 * A stream takes the sensor's samples at the sensor's own rate, in chunks of any length, resamples them to
 * the contract rate (the resampler above), keeps a ring of the last window (the contract's window_samples)
 * and, every `hop` contract samples once the window is full, runs the model: the embedding and every head of
 * the blob. The stream and its session live in one caller arena:
 *
 *     relcon_stream_config cfg = { .input_rate_hz = 52, .hop = 128 };       // the rest 0
 *     uint64_t bytes; relcon_stream_arena_bytes(blob, blob_bytes, &cfg, &bytes);
 *     relcon_stream *st; relcon_stream_init(blob, blob_bytes, &cfg, arena, bytes, &st);
 *     while (n > 0) {                        // one FIFO burst
 *         relcon_stream_result r; uint32_t used;
 *         relcon_stream_push_f32(st, xyz, n, RELCON_STREAM_NO_TIME, &used, &r);
 *         xyz += 3 * used; n -= used;
 *         if (r.ready) ... r.embedding, r.head_outputs, r.start, r.end ...
 *     }
 *
 * A push consumes samples until a result is ready (at most one inference per call) or the chunk is used up.
 * Time: input-sample units since the stream's first sample. Without timestamps the samples are taken as
 * contiguous; relcon_stream_gap() declares missing data. With a timestamp (seconds, of the chunk's first
 * sample), a chunk that starts more than half an input period away from where the previous one ended (either
 * way) is a gap too. After a gap the resampler and the window restart (nothing is stitched across it), the
 * sample clock moves to the timestamp (or continues counting without one), and the next result has
 * `restarted` set. A window never spans a gap.
 * Samples are clamped to +-input_clip g (as relcon_embed: the blob's `input_clip` key, else 16 g) before they enter
 * the resampler, so every finite sample is valid input. Results equal relcon_resample on the segment followed by
 * relcon_embed / relcon_classify / relcon_regress on the same window, bit for bit.
 * One thread at a time per stream. Never allocates.
 */

typedef struct relcon_stream relcon_stream;

#define RELCON_STREAM_NO_TIME (-1.0)   /* a chunk without a timestamp (any negative or NaN value) */

typedef struct relcon_stream_config {
    double input_rate_hz;      /* the sensor's rate, [RELCON_RESAMPLE_MIN_RATE_HZ, RELCON_RESAMPLE_MAX_RATE_HZ] */
    uint32_t hop;              /* contract samples between results, 1 .. window_samples; 0 = window_samples/2 */
    uint32_t reserved0;        /* 0 */
    float count_scale[3];      /* relcon_stream_push_i16: g = count*count_scale[a] + count_offset[a] */
    float count_offset[3];
    uint32_t reserved[4];      /* 0 */
} relcon_stream_config;

typedef struct relcon_stream_result {
    uint32_t ready;            /* 1: a window ran and the fields below are set; 0: nothing else is written */
    uint32_t restarted;        /* 1: the first result after the start or a gap */
    uint64_t index;            /* results since the stream began (0, 1, ...) */
    double start;              /* input-sample position of the window's first contract sample */
    double end;                /* start + window_samples * down/up: one contract sample past the last */
    const float *embedding;    /* embedding_dim floats, inside the arena, valid until the next push/gap */
    const float *head_outputs; /* every head in blob order: classifiers' softmax probabilities (n_outputs
                                * each), regressors' value (1 each); NULL for a blob without heads */
    uint32_t n_head_outputs;   /* floats at head_outputs */
    uint32_t reserved;
} relcon_stream_result;

/* Arena bytes (RELCON_ARENA_ALIGN-aligned) a stream over this blob with this configuration needs: the session
 * (relcon_inspect's arena_bytes for the contract window) plus the stream's state, tap table, input history,
 * window ring and outputs. Validates the blob (as relcon_inspect) and the configuration
 * (RELCON_E_INVALID_ARGUMENT: rate as relcon_resample_info, hop > window_samples, reserved fields not 0,
 * count_scale not finite; RELCON_E_BLOB_CONTRACT when the contract's window exceeds 65536 samples). Reentrant.
 * Since 0.5. */
RELCON_API RELCON_NODISCARD relcon_status relcon_stream_arena_bytes(const void *blob, size_t blob_bytes,
                                                                    const relcon_stream_config *config,
                                                                    uint64_t *out_bytes);

/* Creates a stream (and its session) inside the arena. Statuses as relcon_stream_arena_bytes, plus
 * RELCON_E_ARENA_MISALIGNED / RELCON_E_ARENA_TOO_SMALL. The blob must outlive the stream. Since 0.5. */
RELCON_API RELCON_NODISCARD relcon_status relcon_stream_init(const void *blob, size_t blob_bytes,
                                                             const relcon_stream_config *config, void *arena,
                                                             size_t arena_bytes, relcon_stream **out_stream);

/* Pushes up to n_samples interleaved x,y,z floats in g (contract axis order). *out_consumed receives the
 * samples taken (< n_samples only when a result became ready); out_result is always written (ready 0 or 1).
 *   t_first: timestamp of samples[0] in seconds, or RELCON_STREAM_NO_TIME.
 * Statuses: RELCON_E_NULL_ARGUMENT (samples may be NULL when n_samples is 0); RELCON_E_SESSION_INVALID for a
 * pointer that is not a stream (or whose state was overwritten); RELCON_E_INPUT_NOT_FINITE for a NaN or
 * infinite sample (the samples before it are consumed, *out_consumed says how many; that sample is not);
 * RELCON_E_OUTPUT_NOT_FINITE when the window's result is not finite (the window is dropped, the stream goes
 * on: push again). Never allocates. Since 0.5. */
RELCON_API RELCON_NODISCARD relcon_status relcon_stream_push_f32(relcon_stream *stream, const float *samples,
                                                                 uint32_t n_samples, double t_first,
                                                                 uint32_t *out_consumed,
                                                                 relcon_stream_result *out_result);

/* As relcon_stream_push_f32 for raw int16 counts: g = count*count_scale[a] + count_offset[a] (the config's).
 * Since 0.5. */
RELCON_API RELCON_NODISCARD relcon_status relcon_stream_push_i16(relcon_stream *stream, const int16_t *counts,
                                                                 uint32_t n_samples, double t_first,
                                                                 uint32_t *out_consumed,
                                                                 relcon_stream_result *out_result);

/* Declares missing data: the window and the resampler restart; the sample clock goes on. Since 0.5. */
RELCON_API RELCON_NODISCARD relcon_status relcon_stream_gap(relcon_stream *stream);

/* The stream's session (for relcon_selftest, or relcon_embed between pushes: it shares the arena's scratch,
 * the last result's pointers stay valid). Since 0.5. */
RELCON_API RELCON_NODISCARD relcon_status relcon_stream_session(relcon_stream *stream, relcon_session **out_session);

#endif /* RELCON_NO_EXPERIMENTAL */
/* ==== End of the experimental section ================================================================= */

#ifdef __cplusplus
}
#endif

#endif /* RELCON_H */
