# Benchmarks of the kernel modules (examples/bench; included by the Makefile). Figures only, never part of `make test`.
#
#   make bench-shapes [SHAPES_ARGS="--iters 400 --only int8"]   per-shape paired v3 vs v4 CONV1D timing (shapes.swift)
#   make bench-peers-venv                                      the optional LiteRT / ExecuTorch environment for
#                                                               bench-compare (examples/bench/requirements-peers.txt)

SHAPES := .build/bench/shapes
SHAPES_R := .build/release
$(SHAPES): examples/bench/shapes.swift $(wildcard Sources/RelConKernelsV3/*.swift Sources/RelConKernelsV4/*.swift)
	swift build -c release --target RelConKernelsV3Hosted
	swift build -c release --target RelConKernelsV4Hosted
	@mkdir -p $(dir $@)
	swiftc -O -wmo $< -I $(SHAPES_R)/Modules -Xcc -fmodule-map-file=$(SHAPES_R)/CRelConKernels.build/module.modulemap \
	  -Xcc -ISources/CRelConKernels/include $(SHAPES_R)/RelConKernelsV3Hosted.build/*.o \
	  $(SHAPES_R)/RelConKernelsV4Hosted.build/*.o -o $@
bench-shapes: $(SHAPES)
	$(SHAPES) $(SHAPES_ARGS)

PEERS_VENV := .build/venv-peers
$(PEERS_VENV)/.stamp: export/requirements.txt examples/bench/requirements-peers.txt
	python3 -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install -q --upgrade pip
	$(PEERS_VENV)/bin/python -m pip install -q -r export/requirements.txt -r examples/bench/requirements-peers.txt -e export
	touch $@
bench-peers-venv: $(PEERS_VENV)/.stamp

.PHONY: bench-shapes bench-peers-venv
