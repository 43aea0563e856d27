"""`relcon-export ship`: the shipped default model (three blobs with heads, metrics, model card) from a checkpoint
(relcon_export.deploy.ship).

    relcon-export ship --checkpoint .build/train/relcon-compact/best.pt --out-dir models --name relcon-compact
"""

from __future__ import annotations

import argparse

from relcon_export.cli.blob import add_act_bits_arg, add_input_clip_arg
from relcon_export.deploy.ship import ship


def _run(args: argparse.Namespace) -> int:
    rep = ship(args.checkpoint, args.out_dir, args.name, seed=args.seed, data_dir=args.data_dir,
               max_windows=args.max_windows, act_bits=args.act_bits, trust_checkpoint=args.trust_checkpoint,
               own_heads=[_head_spec(h) for h in args.head or ()], public_heads=args.public_heads,
               check_device=args.device_check, full_scale_g=args.input_clip)
    for h, r in rep["heads"].items():
        if "macro_f1" in r["relcon"]:
            val = r["relcon"].get("val_f1")
            print(f"{h:16s} macro-F1 held-out ({r['relcon']['kind']} head): relcon {r['relcon']['macro_f1']:.3f}  "
                  f"random-init {r['random_init']['macro_f1']:.3f}  (validation subjects: "
                  f"{'-' if val is None else f'{val:.3f}'}; {r['dataset']})")
        else:
            print(f"{h:16s} LOSO MAE ({r['unit']}): relcon {r['relcon']['loso_mae']:.3f}  random-init "
                  f"{r['random_init']['loso_mae']:.3f}  constant (training mean) "
                  f"{r['relcon']['loso_mae_predicting_training_mean']:.3f}")
    for p, b in rep["blobs"].items():
        print(f"wrote {args.out_dir}/{b['file']} ({b['bytes']} bytes)")
        dc = b.get("device_check")
        if dc:
            parts = [f"{h} top class = probe's on {r['top_class_agreement']:.1%} of {r['windows']}"
                     if "top_class_agreement" in r else f"{h} max |diff| {r['max_abs_diff']:.3g}"
                     for h, r in dc["heads"].items()]
            print(f"  librelcon.so: self-test ok (max rel. error {dc['selftest_max_rel_error']:.2g}); "
                  + "; ".join(parts))
    return 0


def _head_spec(spec: str) -> tuple[str, str]:
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise ValueError(f"--head wants NAME=CORPUS (e.g. my_activity=corpus), got '{spec}'")
    return name, path


def register(sub) -> None:
    p = sub.add_parser("ship", help="build the shipped default model (blobs with heads + metrics) from a checkpoint",
                       description="`relcon-export ship`: turn a pretrained encoder checkpoint into the shipped "
                                   "default model.")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="load the checkpoint with full unpickling (weights_only=False); only for files you trust")
    p.add_argument("--head", action="append", metavar="NAME=CORPUS",
                   help="a classifier head fitted on your labelled corpus (data ingest --labels); repeatable; the int8 "
                        "blob is then calibrated on the first one")
    p.add_argument("--public-heads", action=argparse.BooleanOptionalAction, default=True,
                   help="also ship the public activity and gait heads (default; needs the public data)")
    p.add_argument("--out-dir", default="models")
    p.add_argument("--name", default="relcon-compact")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--max-windows", type=int, default=12000,
                   help="labelled windows per activity benchmark used for the heads (seeded subsample)")
    p.add_argument("--device-check", action=argparse.BooleanOptionalAction, default=True,
                   help="run every written blob in librelcon.so (self-test vector, heads vs the fitted probes on "
                        "held-out windows); default on, needs `swift build -c release`")
    add_act_bits_arg(p)
    add_input_clip_arg(p)
    p.set_defaults(func=_run)
