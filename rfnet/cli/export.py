"""``rfnet export``: a saved classifier as an ONNX or TorchScript file, checked against PyTorch."""

from __future__ import annotations

import argparse

from .defaults import job_help
from .options import add_num_samples, check_output_file, non_negative_float

JOB = "rfnet.deploy.export:export_model"
"""The function that writes the file; its parameters' defaults are the options' defaults."""


def add_parser(commands) -> None:
    export = commands.add_parser(
        "export",
        formatter_class=job_help(JOB),
        help="export a saved classifier to ONNX or TorchScript, checked against the PyTorch outputs",
        description="Write a deployable model file. TorchScript holds the whole model (complex64 IQ in). ONNX "
        "has no complex tensors: a raw-IQ model takes float32 [batch, samples, 2]; a spectrogram classifier's "
        "front end does not export, so its ONNX file is the backbone on spectrogram images (compute them "
        "with the rfnet front end). The file is written only if its outputs match PyTorch's.",
    )
    export.add_argument("--model", required=True, metavar="FOLDER",
                        help="a finetune run folder (run/) or a saved model folder")
    export.add_argument("--format", required=True, choices=["onnx", "torchscript"], dest="fmt",
                        help="onnx (float32 IQ or spectrogram images in) or torchscript (complex64 IQ in)")
    export.add_argument("--out", required=True, help="output file (e.g. model.onnx, model.pt)")
    add_num_samples(export, "num_samples", "IQ samples per example (default: the model's own)", old=())
    export.add_argument("--tolerance", type=non_negative_float,
                        help="largest absolute difference of logits from PyTorch allowed")
    export.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_output_file(args.out)
    from rfnet.deploy.export import DEFAULT_TOLERANCE, export_model
    from rfnet.jobs.run_folder import open_model

    tolerance = DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance
    saved = open_model(args.model)
    num_samples = saved.input_length(args.num_samples)
    for note in saved.notes if args.num_samples is None else ():
        print(f"rfnet export: note: {note}")
    try:
        result = export_model(saved.model, args.out, args.fmt, num_samples, tolerance=tolerance)
    except ImportError as err:
        raise ValueError(f"--format onnx needs the onnx extra (pip install 'rfnet[onnx]'): {err}") from None
    print(f"wrote {result.path} ({result.format}) from {saved.folder}")
    print(f"input: {result.input_description}; output: float32 logits [batch, {len(saved.model.classes)}] "
          f"for classes {list(saved.model.classes)}")
    if not result.front_end_included:
        print("note: the spectrogram front end is not in this file (torch.stft on complex IQ does not export to "
              "ONNX); run rfnet.models.load(...).frontend(iq) first, or use --format torchscript")
    print(f"max abs difference from PyTorch: {result.max_abs_diff:.3g} (tolerance {tolerance:g})")
    return 0
