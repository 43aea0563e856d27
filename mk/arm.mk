# librelcon for the devices it is for (docs/embedded.md): Cortex-M4F bare metal and aarch64 Linux, from the same
# runtime sources as the x86-64 build, with swiftc per target triple (SwiftPM cannot cross-build this package: its
# x86 kernel modules carry -march flags). Included from the Makefile.
#
#   make cortex-m4     .build/arm/cortex-m4/librelcon.a (+ -int8 variant), the test images, their suites under QEMU
#   make aarch64       .build/arm/aarch64/librelcon.so(.0, .0.x.y) and librelcon.a, the suite under qemu-aarch64
#   make test-arm      both targets' suites (in `make test`): int8 bit-exact, float within tolerance, defect
#                      statuses, self-tests, real windows against this x86 build, nm of every librelcon.a,
#                      the bare-metal firmware_sim against x86, blob2c
#   make firmware-sim-m4   the bare-metal firmware_sim (shipped int8 model, real recording) under QEMU
#   make embedded-figures  docs/embedded.md's tables (sizes, arena, stack, QEMU instruction counts)

ARM_APT_PACKAGES := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm qemu-user gcc-aarch64-linux-gnu \
	libc6-dev-arm64-cross binutils
APT_PACKAGES += $(ARM_APT_PACKAGES)

ARM := .build/arm
SWIFTC ?= swiftc
RT_SWIFT := $(sort $(shell find Sources/RelConRuntime -name '*.swift'))
RT_DEPS := $(RT_SWIFT) $(wildcard Sources/CRelConKernels/*.c Sources/CRelConKernels/include/*.h Sources/CRelCon/*.c) \
	include/relcon.h
RELCON_VERSION := $(shell sed -n 's/^\#define RELCON_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' include/relcon.h | paste -sd.)
RELCON_SOVERSION := $(firstword $(subst ., ,$(RELCON_VERSION)))
SWIFT_EMBEDDED := -enable-experimental-feature Embedded -wmo -parse-as-library -Xfrontend -disable-stack-protector \
	-Xfrontend -function-sections

# Cortex-M4F, hard float (-eabi triple + -mfloat-abi=hard: the toolchain has no eabihf Embedded stdlib).
M4_CFLAGS := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -fno-short-enums -Wa,--noexecstack
M4_CC := arm-none-eabi-gcc
M4_SWIFT_BASE := -target armv7em-none-none-eabi -Xcc -mfloat-abi=hard -Xcc -mfpu=fpv4-sp-d16 \
	-Xcc -isystem -Xcc /usr/lib/arm-none-eabi/include
M4_OPT ?= -Osize
# The Cortex-M int8 kernel's SMLAD lane (Sources/RelConRuntime/Kernels/ARM/ConvI8M.swift) where the target's C
# compiler says the core has the DSP extension (Cortex-M4/M7); without it (M0/M3) the kernel's scalar lane.
M4_DSP := $(shell echo | $(M4_CC) $(M4_CFLAGS) -dM -E - 2>/dev/null | grep -q '__ARM_FEATURE_DSP 1' && echo '-D RELCON_ARM_DSP')
M4_SWIFT := $(M4_SWIFT_BASE) $(M4_DSP)
# aarch64 Linux: the aarch64-none-none-elf Embedded stdlib with the Linux headers (same AAPCS64/LP64 ABI).
A64_CC := aarch64-linux-gnu-gcc
A64_SWIFT := -target aarch64-none-none-elf -Xcc -fPIC -Xcc -DRLCK_HOSTED_LIBC=1 \
	-Xcc -isystem -Xcc /usr/aarch64-linux-gnu/include
A64_OPT ?= -O
include mk/arm-a64.mk
C_WARN := -std=c11 -Wall -Wextra -Werror

# QEMU runs get a wall-clock limit, so that a hang is a failure and not a stuck `make test`.
QEMU_TIMEOUT ?= 600
QEMU_M4 = timeout $(QEMU_TIMEOUT) qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
	-semihosting-config enable=on,target=native
QEMU_A64 = timeout $(QEMU_TIMEOUT) qemu-aarch64

.PHONY: cortex-m4 aarch64 test-arm test-cortex-m4 test-aarch64 arm-deps arm-ref firmware-sim-m4 embedded-figures \
	blob2c test-blob2c clean-arm

clean: clean-arm
clean-arm:
	rm -rf $(ARM) .build/host

arm-deps: deps

$(ARM)/modules/module.modulemap:
	@mkdir -p $(dir $@)
	@printf 'module CRelCon {\n    header "%s"\n    export *\n}\nmodule CRelConKernels {\n    header "%s"\n    export *\n}\n' \
	  "$(abspath include/relcon.h)" "$(abspath Sources/CRelConKernels/include/relcon_kernels.h)" > $@.tmp && mv $@.tmp $@

# ---- one library build per variant --------------------------------------------------------------------------
#   $(call arm_lib,VARIANT,SWIFTFLAGS,CC,CFLAGS,TOOLPREFIX[,KERNEL_OBJECTS])
# KERNEL_OBJECTS: per-ISA kernel modules the runtime imports (built first) and the library links (aarch64).
# RelConRuntime.o: the whole runtime module (-wmo); C: the CRC tables and the two ABI-check units.
# librelcon.a: one relocatable pre-link (ld -r) with every section unreachable from relcon_* dropped
# (--gc-sections: the Embedded allocator goes), every other global made local (objcopy --keep-global-symbols),
# unneeded symbols stripped, in one archive member. librelcon.exports: the relcon_* names.
define arm_lib
$(ARM)/$(1)/flags: FORCE_FLAGS
	@mkdir -p $$(dir $$@)
	@echo '$(2) | $(3) $(4)' > $$@.new; cmp -s $$@.new $$@ && rm $$@.new || mv $$@.new $$@
$(ARM)/$(1)/RelConRuntime.o: $(RT_DEPS) $(ARM)/modules/module.modulemap $(ARM)/$(1)/flags $(6)
	@mkdir -p $$(dir $$@)
	nice $(SWIFTC) $(2) $(SWIFT_EMBEDDED) -I $(ARM)/modules -module-name RelConRuntime $(RT_SWIFT) -c -o $$@.tmp.o
	@mv $$@.tmp.o $$@
$(ARM)/$(1)/%.o: Sources/CRelConKernels/%.c $(RT_DEPS) $(ARM)/$(1)/flags
	@mkdir -p $$(dir $$@)
	$(3) $(4) $(C_WARN) -Os -ffunction-sections -fdata-sections -ISources/CRelConKernels/include -c $$< -o $$@
$(ARM)/$(1)/abi_checks.o: Sources/CRelCon/abi_checks.c $(RT_DEPS) $(ARM)/$(1)/flags
	@mkdir -p $$(dir $$@)
	$(3) $(4) $(C_WARN) -Os -Iinclude -c $$< -o $$@
$(ARM)/$(1)/librelcon.a: $(ARM)/$(1)/RelConRuntime.o $(ARM)/$(1)/crc32_table.o $(ARM)/$(1)/kernels_abi.o $(ARM)/$(1)/abi_checks.o $(6)
	$(5)nm --defined-only -g $(ARM)/$(1)/RelConRuntime.o | awk '$$$$3 ~ /^relcon_/ {print $$$$3}' | sort > $(ARM)/$(1)/librelcon.exports
	$(5)ld -r --gc-sections $$$$(sed 's/^/-u /' $(ARM)/$(1)/librelcon.exports) $$^ -o $(ARM)/$(1)/librelcon-prelink.o
	$(5)objcopy --keep-global-symbols=$(ARM)/$(1)/librelcon.exports --strip-unneeded \
	  $(ARM)/$(1)/librelcon-prelink.o $(ARM)/$(1)/librelcon.o
	rm -f $$@ && $(5)ar rcs $$@ $(ARM)/$(1)/librelcon.o
endef

$(eval $(call arm_lib,cortex-m4,$(M4_SWIFT) $(M4_OPT),$(M4_CC),$(M4_CFLAGS),arm-none-eabi-))
$(eval $(call arm_lib,cortex-m4-int8,$(M4_SWIFT) $(M4_OPT) -D RELCON_INT8_ONLY,$(M4_CC),$(M4_CFLAGS),arm-none-eabi-))
# -O instead of -Osize (for docs/embedded.md's comparison; make embedded-figures)
$(eval $(call arm_lib,cortex-m4-O,$(M4_SWIFT) -O,$(M4_CC),$(M4_CFLAGS),arm-none-eabi-))
$(eval $(call arm_lib,cortex-m4-int8-O,$(M4_SWIFT) -O -D RELCON_INT8_ONLY,$(M4_CC),$(M4_CFLAGS),arm-none-eabi-))
$(eval $(call arm_lib,aarch64,$(A64_SWIFT) $(A64_OPT) $(A64K_SWIFT),$(A64_CC),-fPIC -DRLCK_HOSTED_LIBC=1,aarch64-linux-gnu-,$(A64K_OBJS)))

# aarch64 shared library: SONAME librelcon.so.0, only relcon_* exported (the x86 build's version script), no
# unresolved symbol left, unused sections collected.
A64_SO := $(ARM)/aarch64/librelcon.so.$(RELCON_VERSION)
$(A64_SO): $(ARM)/aarch64/RelConRuntime.o $(ARM)/aarch64/crc32_table.o $(ARM)/aarch64/kernels_abi.o $(A64K_OBJS) \
		Sources/relcon-exports.map
	$(A64_CC) -shared -o $@ $(filter %.o,$^) -Wl,--version-script=Sources/relcon-exports.map \
	  -Wl,-soname,librelcon.so.$(RELCON_SOVERSION) -Wl,-z,defs -Wl,--gc-sections -Wl,--strip-all -Wl,-z,noexecstack
	ln -sf $(notdir $@) $(ARM)/aarch64/librelcon.so.$(RELCON_SOVERSION)
	ln -sf librelcon.so.$(RELCON_SOVERSION) $(ARM)/aarch64/librelcon.so

# ---- harness images ------------------------------------------------------------------------------------------
HARNESS_SRC := targets/common/harness.c targets/common/out.c
HARNESS_DEPS := $(HARNESS_SRC) targets/common/plat.h include/relcon.h
M4_LD := -nostdlib -T targets/cortex-m4/mps2-an386.ld -Wl,--gc-sections -Wl,--no-enum-size-warning \
	-Wl,-z,noexecstack -Wl,--no-warn-rwx-segments
M4_RT := targets/cortex-m4/startup.c targets/cortex-m4/semihost.c

# The image links newlib only for memcpy/memset/strlen-class functions and libgcc for the EABI helpers.
$(ARM)/%/harness.elf: $(ARM)/%/librelcon.a $(HARNESS_DEPS) $(M4_RT) targets/cortex-m4/mps2-an386.ld
	$(M4_CC) $(M4_CFLAGS) $(C_WARN) -O2 -ffunction-sections -Iinclude -Itargets/common $(HARNESS_SRC) $(M4_RT) \
	  $< $(M4_LD) -lc -lgcc -o $@

$(ARM)/aarch64/harness: $(ARM)/aarch64/librelcon.a $(HARNESS_DEPS) targets/common/plat_linux.c
	$(A64_CC) $(C_WARN) -O2 -DPLAT_HOSTED -Iinclude -Itargets/common $(HARNESS_SRC) targets/common/plat_linux.c \
	  -static $< -o $@
$(ARM)/aarch64/harness-so: $(A64_SO) $(HARNESS_DEPS) targets/common/plat_linux.c
	$(A64_CC) $(C_WARN) -O2 -DPLAT_HOSTED -Iinclude -Itargets/common $(HARNESS_SRC) targets/common/plat_linux.c \
	  -L$(ARM)/aarch64 -lrelcon -o $@

# The same harness on this machine against the x86-64 librelcon.so: it writes the reference embeddings of real
# windows (mkref) that the ARM targets must reproduce.
$(ARM)/x86-64/harness: $(HARNESS_DEPS) targets/common/plat_linux.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(C_WARN) -O2 -DPLAT_HOSTED -Iinclude -Itargets/common $(HARNESS_SRC) targets/common/plat_linux.c \
	  $(LDLIBS) -o $@

# The libraries, then the target's whole suite (test plan below) under QEMU.
cortex-m4: test-cortex-m4
	@echo "cortex-m4: $(ARM)/cortex-m4/librelcon.a, $(ARM)/cortex-m4-int8/librelcon.a (int8-only), test images $(ARM)/cortex-m4*/harness.elf"

aarch64: test-aarch64
	@echo "aarch64: $(A64_SO) (SONAME librelcon.so.$(RELCON_SOVERSION)), $(ARM)/aarch64/librelcon.a"

# ---- test plans ------------------------------------------------------------------------------------------------
# Real windows (UCI HAPT subject 01, 100 Hz) through every shipped blob on x86-64: $(ARM)/ref/<blob>.golden.
ARM_REF_WINDOWS ?= 8
ARM_SHIPPED := $(wildcard models/*.blob)
$(ARM)/recording.csv:
	@mkdir -p $(dir $@)
	@if [ -d "$(RELCON_DATA_DIR)" ]; then $(EXPORT) recording --dataset hapt --subject 01 --fs 100 --max-seconds 60 --out $@; \
	else echo "test-arm: SKIP the real-window comparison: $(RELCON_DATA_DIR) not found"; fi
arm-ref: venv build $(ARM)/x86-64/harness $(ARM)/recording.csv
	@mkdir -p $(ARM)/ref
	@if [ -f $(ARM)/recording.csv ]; then \
	  : > $(ARM)/plan-mkref.txt; \
	  for b in $(ARM_SHIPPED); do echo "mkref $$b $(ARM)/recording.csv $(ARM_REF_WINDOWS) 256 $(ARM)/ref/$$(basename $$b .blob).golden" >> $(ARM)/plan-mkref.txt; done; \
	  $(ARM)/x86-64/harness $(ARM)/plan-mkref.txt; fi

# targets/plan.sh TARGET writes the plan: what each target runs (and how many windows of the big golden sets).
$(ARM)/plan-%.txt: arm-ref fixtures FORCE_PLAN
	@targets/plan.sh $* $(FIX) $(ARM)/ref > $@

FORCE_PLAN:
FORCE_FLAGS:

test-cortex-m4: deps $(ARM)/cortex-m4/harness.elf $(ARM)/cortex-m4-int8/harness.elf $(ARM)/plan-cortex-m4.txt $(ARM)/plan-cortex-m4-int8.txt
	targets/check_lib.sh cortex-m4 $(ARM)/cortex-m4/librelcon.a
	targets/check_lib.sh cortex-m4 $(ARM)/cortex-m4-int8/librelcon.a
	$(QEMU_M4),arg=harness,arg=$(ARM)/plan-cortex-m4.txt -kernel $(ARM)/cortex-m4/harness.elf
	$(QEMU_M4),arg=harness,arg=$(ARM)/plan-cortex-m4-int8.txt -kernel $(ARM)/cortex-m4-int8/harness.elf

# The full plan on -cpu max (the dotprod level), the other levels in test-aarch64-isa (mk/arm-a64.mk).
test-aarch64: deps $(ARM)/aarch64/harness $(ARM)/aarch64/harness-so $(ARM)/plan-aarch64.txt $(ARM)/plan-aarch64-so.txt \
		test-aarch64-isa
	targets/check_lib.sh aarch64 $(ARM)/aarch64/librelcon.a $(A64_SO)
	$(QEMU_A64) -cpu max $(ARM)/aarch64/harness $(ARM)/plan-aarch64.txt
	@echo "test-aarch64: again through the shared library (librelcon.so.$(RELCON_SOVERSION), dynamic link)"
	QEMU_LD_PREFIX=/usr/aarch64-linux-gnu LD_LIBRARY_PATH=$(abspath $(ARM)/aarch64) \
	  $(QEMU_A64) -cpu max $(ARM)/aarch64/harness-so $(ARM)/plan-aarch64-so.txt

test-arm: test-aarch64 test-cortex-m4 firmware-sim-m4 test-blob2c
	@echo "test-arm: aarch64 and cortex-m4 suites passed"

# ---- tools: blob -> C, recording slice -> C (host programs) ---------------------------------------------------
BLOB2C := $(ARM)/tools/blob2c
REC2C := $(ARM)/tools/rec2c
$(BLOB2C): tools/blob2c.c include/relcon.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(C_WARN) -O2 -Iinclude $< -o $@ $(LDLIBS)
$(REC2C): tools/rec2c.c
	@mkdir -p $(dir $@)
	$(CC) $(C_WARN) -O2 $< -o $@
blob2c: build $(BLOB2C)

# ---- the bare-metal firmware_sim (examples/firmware_sim/firmware_sim_baremetal.c) -----------------------------
# The shipped int8 model and FW_M4_SECONDS of a real recording (UCI HAPT subject 01 at 100 Hz, from FW_M4_START)
# as C arrays in flash; built for Cortex-M4F (run under QEMU) and for x86-64, whose prediction lines must agree.
FWM := $(ARM)/firmware_sim
FW_M4_MODEL ?= models/relcon-compact-int8.blob
FW_M4_START ?= 2000
FW_M4_SECONDS ?= 30
FW_M4_HOP ?= 256
$(FWM)/recording.csv:
	@mkdir -p $(dir $@)
	@[ -d "$(RELCON_DATA_DIR)" ] || { echo "firmware-sim-m4: needs the real recordings in $(RELCON_DATA_DIR)" >&2; exit 2; }
	$(EXPORT) recording --dataset hapt --subject 01 --fs 100 --max-seconds 120 --out $@
$(FWM)/fw_model.c: $(FW_M4_MODEL) $(BLOB2C)
	@mkdir -p $(dir $@)
	$(BLOB2C) $< --name fw_model --out-c $@ --out-h $(FWM)/fw_model.h
$(FWM)/fw_rec.c: $(FWM)/recording.csv $(REC2C) mk/arm.mk
	$(REC2C) $< --name fw_rec --start $(FW_M4_START) --count $$(( $(FW_M4_SECONDS) * 100 )) --out-c $@ --out-h $(FWM)/fw_rec.h
FWM_SRC := examples/firmware_sim/firmware_sim_baremetal.c $(FWM)/fw_model.c $(FWM)/fw_rec.c targets/common/out.c
$(FWM)/firmware_sim.elf: $(FWM_SRC) $(ARM)/cortex-m4-int8/librelcon.a $(M4_RT) targets/cortex-m4/mps2-an386.ld
	$(M4_CC) $(M4_CFLAGS) $(C_WARN) -O2 -ffunction-sections -fdata-sections -DFW_HOP=$(FW_M4_HOP) -Iinclude \
	  -Itargets/common -I$(FWM) $(FWM_SRC) $(M4_RT) $(ARM)/cortex-m4-int8/librelcon.a $(M4_LD) -lc -lgcc -o $@
$(FWM)/firmware_sim-x86-64: $(FWM_SRC) targets/common/plat_linux.c $(LIB)
	$(CC) $(C_WARN) -O2 -DFW_HOP=$(FW_M4_HOP) -Iinclude -Itargets/common -I$(FWM) $(FWM_SRC) targets/common/plat_linux.c \
	  $(LDLIBS) -o $@
firmware-sim-m4: deps venv build $(FWM)/firmware_sim.elf $(FWM)/firmware_sim-x86-64
	$(FWM)/firmware_sim-x86-64 > $(FWM)/x86-64.txt
	$(QEMU_M4),arg=firmware_sim -icount shift=0 -kernel $(FWM)/firmware_sim.elf | tee $(FWM)/cortex-m4.txt
	@arm-none-eabi-size -A $(FWM)/firmware_sim.elf | awk '$$1 ~ /^\.(text|rodata|data|bss)$$/ {printf "%s %s B  ", $$1, $$2} END {print "(firmware_sim.elf)"}'
	@if diff <(grep -v '^#' $(FWM)/x86-64.txt) <(grep -v '^#' $(FWM)/cortex-m4.txt) > $(FWM)/diff.txt; then \
	  echo "firmware-sim-m4: the Cortex-M4F predictions equal the x86-64 ones ($$(grep -c ' s  ' $(FWM)/x86-64.txt) windows)"; \
	else echo "firmware-sim-m4: FAIL [cortex-m4] $(FW_M4_MODEL): predictions differ from x86-64:" >&2; cat $(FWM)/diff.txt >&2; exit 1; fi

# ---- docs/embedded.md figures -----------------------------------------------------------------------------------
# Sizes of every Cortex-M4F build option, and per model: arena, stack high-water, QEMU instruction counts per
# relcon_embed / relcon_session_init / relcon_inspect. Rewrites the tables between the markers in docs/embedded.md.
FIG_VARIANTS := cortex-m4 cortex-m4-int8 cortex-m4-O cortex-m4-int8-O
FIG_BLOBS ?= models/relcon-compact-int8.blob models/relcon-compact-f16.blob models/relcon-compact-f32.blob \
	$(wildcard $(FIX)/reference_int8.blob)
embedded-figures: deps venv build fixtures $(foreach v,$(FIG_VARIANTS),$(ARM)/$(v)/librelcon.a) $(BLOB2C) $(REC2C) \
		$(FWM)/recording.csv
	M4_CC="$(M4_CC)" M4_CFLAGS="$(M4_CFLAGS)" M4_LD="$(M4_LD)" M4_RT="$(M4_RT)" BLOB2C=$(BLOB2C) REC2C=$(REC2C) \
	  QEMU_M4="$(QEMU_M4)" ARM=$(ARM) targets/figures.sh $(FWM)/recording.csv "$(FIG_VARIANTS)" $(FIG_BLOBS)

# blob2c refuses a damaged blob with one line on stderr and leaves no file behind; on a good one its arena constant
# is relcon_inspect's (the bare-metal firmware_sim re-checks it on the target).
test-blob2c: cli $(BLOB2C)
	@d=$$(mktemp -d); trap 'rm -rf $$d' EXIT; \
	if $(BLOB2C) Tests/Fixtures/bad/RELCON_E_BLOB_CHECKSUM__data_byte_flipped.blob --name m --out-c $$d/m.c --out-h $$d/m.h 2> $$d/err; then \
	  echo "test-blob2c: FAIL: a damaged blob was accepted" >&2; exit 1; fi; \
	[ "$$(wc -l < $$d/err)" = 1 ] && [ -z "$$(ls $$d | grep -v err)" ] || { echo "test-blob2c: FAIL: not one line / files left" >&2; exit 1; }; \
	$(BLOB2C) Tests/Fixtures/tiny_int8.blob --name tiny_model --max-samples 512 --out-c $$d/m.c --out-h $$d/m.h; \
	want=$$(.build/release/relcon-cli inspect Tests/Fixtures/tiny_int8.blob --samples 512 2>/dev/null | sed -n 's/^ *arena bytes *\([0-9]*\).*/\1/p'); \
	got=$$(sed -n 's/^#define TINY_MODEL_ARENA_BYTES \([0-9]*\)u/\1/p' $$d/m.h); \
	[ -n "$$got" ] && [ "$$got" = "$$want" ] || { echo "test-blob2c: FAIL: TINY_MODEL_ARENA_BYTES '$$got', relcon inspect says '$$want'" >&2; exit 1; }; \
	$(CC) $(C_WARN) -c -I$$d $$d/m.c -o $$d/m.o && \
	echo "test-blob2c: OK ($$(cat $$d/err)); tiny_int8 at 512 samples: TINY_MODEL_ARENA_BYTES $$got (relcon-cli inspect: $${want:-?})"

# Cortex-M int8 kernel variants, their tests and the lane benchmark (make arm-bench).
include mk/arm-m.mk
