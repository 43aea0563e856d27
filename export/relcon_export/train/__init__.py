"""Training: the encoder, the distance model, losses, the self-supervised methods and the pretraining loop.

model              EncoderConfig, ResNet1D, named configs, random encoders
distance           the learnable motif distance and candidate ranking
losses             RelCon, REBAR, NT-Xent, AugPred
methods            one class per self-supervised method (the registry `--method` chooses from)
distributed        torchrun helpers (gather, synchronised BatchNorm)
pretrain           the loop: resumable, data parallel
distance_training  training the distance model; the sparsemax/softmax ablation
checkpoints        the one checkpoint loader; encoder / distance readers; atomic saves
bench_pretrain     step throughput figures
"""
