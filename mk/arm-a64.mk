# The aarch64 kernel modules (issue 17): baseline NEON (Sources/RelConKernelsA64) and the dot-product module
# (Sources/RelConKernelsA64Dot, -march=armv8.2-a+dotprod), each its own Embedded Swift module and object like the
# x86 v3/v4 modules, linked into the aarch64 librelcon (mk/arm.mk's aarch64 variant imports them through
# A64K_SWIFT and links A64K_OBJS). Included from mk/arm.mk before its variants are defined (so only $(ARM) and
# the A64_* flags are known here: paths of mk/arm.mk are spelled out).
#
#   make test-aarch64-isa   the kernel test (targets/aarch64/test_kernels.c: every aarch64 level's CONV1D against
#                           an Int64 / double reference, edge operands) and the harness's golden sets under
#                           qemu-aarch64 -cpu cortex-a53 (no dot product: must pick neon and not SIGILL), -cpu max
#                           (dotprod), and RELCON_ISA=portable / neon caps (part of test-aarch64)
#   make a64-figures        instructions per relcon_embed under qemu-aarch64 per level (portable / neon / dotprod)
#                           for the shipped models, written into docs/embedded.md

A64K := $(ARM)/aarch64-kernels
A64K_SHARED := Sources/KernelsShared/ConvDriver.swift Sources/KernelsShared/LanesA64.swift
A64K_DEPS := $(A64K_SHARED) Sources/CRelConA64/rlck_a64.h Sources/CRelConKernels/include/relcon_kernels.h \
	$(A64K)/include/module.modulemap $(ARM)/modules/module.modulemap mk/arm-a64.mk
A64K_OBJS := $(A64K)/RelConKernelsA64.o $(A64K)/RelConKernelsA64Dot.o
# What the aarch64 runtime build adds to its swiftc line: the two modules' interfaces, their C header's module,
# and the condition that turns on their branch of Kernels/Dispatch.swift.
A64K_SWIFT := -I $(A64K) -I $(A64K)/include -D RELCON_A64_KERNELS

$(A64K)/include/module.modulemap:
	@mkdir -p $(dir $@)
	@printf 'module CRelConA64 {\n    header "%s"\n    export *\n}\n' "$(abspath Sources/CRelConA64/rlck_a64.h)" > $@.tmp && mv $@.tmp $@

# $(call a64_kernel_module,NAME,EXTRA_SWIFT_FLAGS)
define a64_kernel_module
$(A64K)/$(1).o: Sources/$(1)/ISA.swift $(A64K_DEPS)
	@mkdir -p $$(dir $$@)
	nice $(SWIFTC) $(A64_SWIFT) $(A64_OPT) $(2) $(SWIFT_EMBEDDED) -I $(ARM)/modules -I $(A64K)/include \
	  -module-name $(1) -emit-module -emit-module-path $(A64K)/$(1).swiftmodule \
	  Sources/$(1)/ISA.swift $(A64K_SHARED) -c -o $$@.tmp.o
	@mv $$@.tmp.o $$@
endef
$(eval $(call a64_kernel_module,RelConKernelsA64,))
$(eval $(call a64_kernel_module,RelConKernelsA64Dot,-Xcc -march=armv8.2-a+dotprod))

# ---- tests ---------------------------------------------------------------------------------------------------------
# The kernel test links the two module objects directly (their rlck_a64_* C entry points; librelcon keeps them
# local). QEMU CPUs: cortex-a53 (Armv8.0-A: no dot product), max (every extension QEMU has, dot product included).
$(A64K)/test_kernels: targets/aarch64/test_kernels.c $(A64K_OBJS) Sources/CRelConKernels/include/relcon_kernels.h
	$(A64_CC) $(C_WARN) -O2 -ISources/CRelConKernels/include $< $(A64K_OBJS) -static -Wl,--gc-sections -lm -o $@

.PHONY: test-aarch64-isa a64-figures
test-aarch64-isa: deps $(A64K)/test_kernels $(ARM)/aarch64/harness $(ARM)/plan-aarch64-isa.txt $(ARM)/aarch64/RelConRuntime.o
	@echo "test-aarch64-isa: the kernel modules on every level, and the level each CPU / RELCON_ISA gets"
	@# Only the dotprod module may hold dot-product / i8mm instructions (the rest runs on any Armv8-A CPU).
	@for o in $(ARM)/aarch64/RelConRuntime.o $(A64K)/RelConKernelsA64.o; do \
	  n=$$(aarch64-linux-gnu-objdump -d $$o | grep -cE '\s(sdot|udot|usdot|sudot|smmla|ummla|usmmla)\s' || true); \
	  [ "$$n" = 0 ] || { echo "test-aarch64-isa: FAIL: $$o has $$n dot-product instructions" >&2; exit 1; }; done
	$(QEMU_A64) -cpu cortex-a53 $(A64K)/test_kernels 1 1
	RELCON_ISA=portable $(QEMU_A64) -cpu cortex-a53 $(A64K)/test_kernels 1 0
	RELCON_ISA=dotprod $(QEMU_A64) -cpu cortex-a53 $(A64K)/test_kernels 1 1
	$(QEMU_A64) -cpu max $(A64K)/test_kernels 2 2
	RELCON_ISA=neon $(QEMU_A64) -cpu max $(A64K)/test_kernels 2 1
	RELCON_ISA=portable $(QEMU_A64) -cpu max $(A64K)/test_kernels 2 0
	@echo "test-aarch64-isa: the harness on Cortex-A53 (no dot product: the neon level)"
	$(QEMU_A64) -cpu cortex-a53 $(ARM)/aarch64/harness $(ARM)/plan-aarch64-isa.txt
	@echo "test-aarch64-isa: the harness at RELCON_ISA=portable"
	RELCON_ISA=portable $(QEMU_A64) -cpu max $(ARM)/aarch64/harness $(ARM)/plan-aarch64-isa.txt

# ---- figures -------------------------------------------------------------------------------------------------------
# The instruction-counting QEMU plugin (a host shared object), the measurement program (static, the aarch64
# librelcon.a, the same real-recording slice as the Cortex-M4F figures), then targets/aarch64/figures.sh.
A64_FIG_BLOBS ?= models/relcon-compact-int8.blob models/relcon-compact-f16.blob models/relcon-compact-f32.blob
$(A64K)/insn_count.so: targets/aarch64/insn_count.c
	@mkdir -p $(dir $@)
	$(CC) $(C_WARN) -O2 -shared -fPIC $< -o $@
$(A64K)/fig/fw_rec.c: $(ARM)/firmware_sim/recording.csv $(ARM)/tools/rec2c
	@mkdir -p $(dir $@)
	$(ARM)/tools/rec2c $< --name fw_rec --start 1500 --count 1000 --out-c $@ --out-h $(A64K)/fig/fw_rec.h
$(A64K)/measure: targets/aarch64/measure.c $(A64K)/fig/fw_rec.c $(ARM)/aarch64/librelcon.a include/relcon.h
	$(A64_CC) $(C_WARN) -O2 -Iinclude -I$(A64K)/fig $< $(A64K)/fig/fw_rec.c -static $(ARM)/aarch64/librelcon.a -o $@
a64-figures: deps $(A64K)/measure $(A64K)/insn_count.so
	QEMU_A64="$(QEMU_A64)" targets/aarch64/figures.sh $(A64K)/measure $(A64K)/insn_count.so $(A64_FIG_BLOBS)
