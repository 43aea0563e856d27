# The Cortex-M int8 kernel (Sources/RelConRuntime/Kernels/ARM/ConvI8M.swift): its build variants, their test, and
# the lane benchmark. Included from mk/arm.mk (after arm_lib and the harness rules).
#
#   cortex-m4-int8          the shipped int8-only library: the kernel's SMLAD lane (RELCON_ARM_DSP, see M4_DSP)
#   cortex-m4-int8-nodsp    the same kernel's scalar lane (what a core without the DSP extension runs), on the M4
#   cortex-m4-int8-portable ConvDriver's generic portable int8 lanes (RELCON_ARM_PORTABLE): the comparison point
#
#   make test-cortex-m4-nodsp   the int8 suite (short pass, bit-exact) on the scalar lane under QEMU (in test-arm)
#   make arm-bench              QEMU instructions per window, compact int8 on the three lanes side by side, and
#                               the fp32 / f16 compact models on the full library (docs/embedded.md, "Cortex-M int8
#                               kernel"): writes $(ARM)/arm-bench.md and prints it

$(eval $(call arm_lib,cortex-m4-int8-nodsp,$(M4_SWIFT_BASE) $(M4_OPT) -D RELCON_INT8_ONLY,$(M4_CC),$(M4_CFLAGS),arm-none-eabi-))
$(eval $(call arm_lib,cortex-m4-int8-portable,$(M4_SWIFT) $(M4_OPT) -D RELCON_INT8_ONLY -D RELCON_ARM_PORTABLE,$(M4_CC),$(M4_CFLAGS),arm-none-eabi-))

.PHONY: test-cortex-m4-nodsp arm-bench

test-cortex-m4-nodsp: deps $(ARM)/cortex-m4-int8-nodsp/harness.elf $(ARM)/plan-cortex-m4-int8-nodsp.txt
	targets/check_lib.sh cortex-m4 $(ARM)/cortex-m4-int8-nodsp/librelcon.a
	$(QEMU_M4),arg=harness,arg=$(ARM)/plan-cortex-m4-int8-nodsp.txt -kernel $(ARM)/cortex-m4-int8-nodsp/harness.elf

test-arm: test-cortex-m4-nodsp

ARM_BENCH_VARIANTS := cortex-m4-int8 cortex-m4-int8-nodsp cortex-m4-int8-portable cortex-m4
ARM_BENCH_BLOBS := models/relcon-compact-int8.blob models/relcon-compact-f16.blob models/relcon-compact-f32.blob
arm-bench: deps venv build $(foreach v,$(ARM_BENCH_VARIANTS),$(ARM)/$(v)/librelcon.a) $(BLOB2C) $(REC2C) $(FWM)/recording.csv
	M4_CC="$(M4_CC)" M4_CFLAGS="$(M4_CFLAGS)" M4_LD="$(M4_LD)" M4_RT="$(M4_RT)" BLOB2C=$(BLOB2C) REC2C=$(REC2C) \
	  QEMU_M4="$(QEMU_M4)" ARM=$(ARM) targets/arm-bench.sh $(FWM)/recording.csv "$(ARM_BENCH_VARIANTS)" $(ARM_BENCH_BLOBS)
