# A lent GPU (docs/pretraining.md, "A GPU run"): what travels to it, and the command it runs. Included from the
# Makefile.
#
#   make gpu-pack      gpu/corpus.rcpack: the public pool as one 48 MiB pack (corpus first if absent, ~10 min each)
#   make gpu-run-cpu   the same gpu-run command on this CPU for a few steps (what the tests check, from the shell)
#
# On the GPU machine (device tool: carry gpu/, it is ignored by git):
#   PYTHONPATH=export python3 -m relcon_export.cli.train gpu-run --pack gpu/corpus.rcpack --out $OUT/gpu --minutes 9

GPU_DIR := gpu
GPU_CORPUS ?= .build/corpus
GPU_MIB ?= 48

.PHONY: gpu-pack gpu-run-cpu

$(GPU_CORPUS)/.done: | $(VENV)/.stamp
	RELCON_DATA_DIR=$(DATA) nice $(PY) -m relcon_export.cli.train data prepare --out $(GPU_CORPUS)
	touch $@

gpu-pack: $(GPU_CORPUS)/.done
	@mkdir -p $(GPU_DIR)
	nice $(PY) -m relcon_export.cli.train data pack $(GPU_CORPUS) --out $(GPU_DIR)/corpus.rcpack --max-mib $(GPU_MIB)

gpu-run-cpu: $(GPU_CORPUS)/.done
	nice $(PY) -m relcon_export.cli.train gpu-run --corpus $(GPU_CORPUS) --out .build/gpu-run-cpu --device cpu \
	  --max-steps 3 --batch 8 --distance-batch 8 --no-progress
