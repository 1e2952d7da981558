"""Spectrogram front end throughput: ``rfnet.dsp.spectrogram.Spectrogram`` against a scipy + numpy
pipeline that produces the same image, side by side in one run.

The reference does every step of the front end with ``scipy.signal.stft`` and numpy, vectorised over
the batch (no Python loop over examples), and is also timed called one example at a time (as a
per-item dataset transform would run it): STFT, fftshift + flip, dB relative to the peak, floor,
normalisation, channel mapping, bilinear resize (as two interpolation matrices) and ImageNet
normalisation. Before timing, the script checks that both produce the same image (max abs difference
printed; it stops if above ``--tolerance``).

    python benchmarks/frontend.py                      # defaults for 128 and 1024 samples, batch 1 and 256
    python benchmarks/frontend.py --compile            # also time torch.compile'd front end
    python benchmarks/frontend.py --device cuda        # the torch side on a GPU

    python benchmarks/frontend.py --end-to-end         # also IQ -> class through the AlexNet classifier

Throughput is examples per second, the best of ``--repeats`` timed blocks of at least ``--seconds``
each. End-to-end rows time ``SpectrogramClassifier`` (front end + the paper AlexNet, eval mode, argmax)
against the scipy front end feeding the same AlexNet, at each ``--image-sizes`` side, and report the
share of our time spent in the front end.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time

import numpy as np
import scipy.signal
import torch

from rfnet.dsp.classes import RML2016_CLASSES
from rfnet.dsp.spectrogram import IMAGENET_MEAN, IMAGENET_STD, Spectrogram, SpectrogramConfig
from rfnet.models import SpectrogramClassifier

SCIPY_WINDOWS = {"hann": "hann", "hamming": "hamming", "blackman": "blackman", "rectangular": "boxcar"}


def bilinear_matrix(size_in: int, size_out: int) -> np.ndarray:
    """``[size_out, size_in]`` float32 weights of bilinear resizing with ``align_corners=False``
    (half-pixel centres, sources below 0 clamped to 0), the rule ``torch.nn.functional.interpolate``
    uses without antialiasing."""
    weights = np.zeros((size_out, size_in), dtype=np.float32)
    source = np.maximum((np.arange(size_out) + 0.5) * size_in / size_out - 0.5, 0.0)
    lower = np.floor(source).astype(int)
    upper = np.minimum(lower + 1, size_in - 1)
    frac = (source - lower).astype(np.float32)
    np.add.at(weights, (np.arange(size_out), lower), 1 - frac)
    np.add.at(weights, (np.arange(size_out), upper), frac)
    return weights


class ScipyFrontend:
    """The front end in scipy + numpy: complex64 ndarray ``[B, N]`` -> float32 ``[B, C, H, W]``."""

    def __init__(self, config: SpectrogramConfig, num_samples: int) -> None:
        self.config = config
        frames = config.num_frames(num_samples)
        height, width = config.image_size if config.image_size is not None else (config.n_fft, frames)
        self.resize_rows = bilinear_matrix(config.n_fft, height)
        self.resize_cols = bilinear_matrix(frames, width).T.copy()
        row_freq = np.fft.fftshift(np.fft.fftfreq(config.n_fft))[::-1]
        self.bin_advance = np.exp(-2j * np.pi * row_freq * config.hop_length).astype(np.complex64)[:, None]

    def __call__(self, iq: np.ndarray) -> np.ndarray:
        cfg = self.config
        _, _, spec = scipy.signal.stft(
            iq, window=SCIPY_WINDOWS[cfg.window], nperseg=cfg.n_fft, noverlap=cfg.n_fft - cfg.hop_length,
            nfft=cfg.n_fft, detrend=False, return_onesided=False,
            boundary="zeros" if cfg.center else None, padded=False, axis=-1)
        spec = np.fft.fftshift(spec, axes=-2)[:, ::-1]
        power_db = 10 * np.log10(np.maximum(spec.real ** 2 + spec.imag ** 2, np.finfo(np.float32).tiny))
        below_peak = power_db - power_db.max(axis=(-2, -1), keepdims=True)
        if cfg.channel_mapping == "repeat":
            planes = [np.maximum(1 - below_peak / cfg.floor_db, 0)]
        elif cfg.channel_mapping == "db_ranges":
            planes = [np.maximum(1 - below_peak / (cfg.floor_db * (k + 1) / cfg.channels), 0)
                      for k in range(cfg.channels)]
        else:
            grey = np.maximum(1 - below_peak / cfg.floor_db, 0)
            cross = spec[..., 1:] * np.conj(spec[..., :-1]) * self.bin_advance
            unit = cross / np.maximum(np.abs(cross), np.finfo(np.float32).tiny)
            unit = np.concatenate([unit[..., :1], unit], axis=-1)
            planes = [grey, (1 + grey * unit.real) / 2, (1 + grey * unit.imag) / 2]
        image = self.resize_rows @ np.stack(planes, axis=1).astype(np.float32) @ self.resize_cols
        if image.shape[1] != cfg.channels:
            image = np.repeat(image, cfg.channels, axis=1)
        if cfg.imagenet_normalize:
            mean = np.array(IMAGENET_MEAN, dtype=np.float32)[:, None, None]
            std = np.array(IMAGENET_STD, dtype=np.float32)[:, None, None]
            image = (image - mean) / std
        return image


def per_example(reference: ScipyFrontend):
    """The reference called one example at a time, as a per-item dataset transform runs it."""
    return lambda iq: np.stack([reference(example[None])[0] for example in iq])


def throughput(fn, iq, *, seconds: float, repeats: int, sync=lambda: None) -> float:
    """Examples per second of ``fn(iq)``: the best of ``repeats`` blocks of at least ``seconds``."""
    for _ in range(3):
        fn(iq)
    sync()
    best = 0.0
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while True:
            fn(iq)
            calls += 1
            sync()
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        best = max(best, calls * len(iq) / elapsed)
    return best


def machine() -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "torch_threads": torch.get_num_threads(),
            "load_average": os.getloadavg(), "torch": torch.__version__, "numpy": np.__version__,
            "scipy": scipy.__version__}


def frontend_rows(args: argparse.Namespace) -> list[dict]:
    """One row per (signal length, batch): torch vs scipy examples/s and their ratio."""
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    rows = []
    for length in args.lengths:
        config = SpectrogramConfig.for_length(length, **({"channel_mapping": args.mapping}
                                                          if args.mapping else {}))
        frontend = Spectrogram(config).to(device)
        compiled = torch.compile(frontend) if args.compile else None
        reference = ScipyFrontend(config, length)
        for batch in args.batches:
            generator = torch.Generator().manual_seed(batch)
            iq = torch.randn(batch, length, dtype=torch.complex64, generator=generator)
            iq_numpy, iq_device = iq.numpy(), iq.to(device)
            with torch.no_grad():
                ours = frontend(iq_device).cpu().numpy()
                difference = float(np.abs(ours - reference(iq_numpy)).max())
                if difference > args.tolerance:
                    raise SystemExit(f"images differ by {difference} > {args.tolerance} at length "
                                     f"{length}, batch {batch}")
                row = {"length": length, "batch": batch, "config": dataclasses.asdict(config),
                       "max_abs_difference": difference,
                       "scipy_per_s": throughput(reference, iq_numpy, seconds=args.seconds,
                                                 repeats=args.repeats),
                       "scipy_loop_per_s": throughput(per_example(reference), iq_numpy,
                                                      seconds=args.seconds, repeats=args.repeats),
                       "torch_per_s": throughput(frontend, iq_device, seconds=args.seconds,
                                                 repeats=args.repeats, sync=sync)}
                if compiled is not None:
                    row["compiled_per_s"] = throughput(compiled, iq_device, seconds=args.seconds,
                                                       repeats=args.repeats, sync=sync)
            rows.append(row)
            compiled_text = (f"  compiled {row['compiled_per_s']:>10.0f}/s "
                             f"({row['compiled_per_s'] / row['scipy_per_s']:.1f}x)" if compiled is not None else "")
            print(f"length {length:>5} batch {batch:>4}: scipy {row['scipy_per_s']:>8.0f}/s  "
                  f"scipy per example {row['scipy_loop_per_s']:>8.0f}/s  "
                  f"torch {row['torch_per_s']:>10.0f}/s ({row['torch_per_s'] / row['scipy_per_s']:.1f}x)"
                  f"{compiled_text}  max|diff| {difference:.1e}", flush=True)
    return rows


def end_to_end_rows(args: argparse.Namespace) -> list[dict]:
    """One row per (signal length, image size, batch): IQ -> class through the AlexNet spectrogram
    classifier against the scipy front end feeding the same network, examples/s and their ratio."""
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    rows = []
    for length in args.lengths:
        for size in args.image_sizes:
            config = SpectrogramConfig.for_length(length, image_size=(size, size))
            model = SpectrogramClassifier(RML2016_CLASSES, config, backbone="alexnet").to(device).eval()
            reference = ScipyFrontend(config, length)

            def ours(iq, model=model):
                return model(iq).argmax(dim=1)

            def theirs(iq, model=model, reference=reference):
                images = torch.from_numpy(reference(iq.cpu().numpy())).to(device)
                return model.backbone(images).argmax(dim=1)

            for batch in args.batches:
                iq = torch.randn(batch, length, dtype=torch.complex64,
                                 generator=torch.Generator().manual_seed(batch)).to(device)
                with torch.no_grad():
                    if not torch.equal(ours(iq), theirs(iq)):
                        raise SystemExit(f"classes differ at length {length}, size {size}, batch {batch}")
                    timed = {name: throughput(fn, iq, seconds=args.seconds, repeats=args.repeats, sync=sync)
                             for name, fn in (("classifier", ours), ("scipy_frontend", theirs),
                                              ("frontend_alone", model.frontend))}
                row = {"length": length, "image_size": size, "batch": batch,
                       "classifier_per_s": timed["classifier"], "scipy_frontend_per_s": timed["scipy_frontend"],
                       "frontend_share": timed["classifier"] / timed["frontend_alone"]}
                rows.append(row)
                print(f"end to end, length {length:>5} image {size:>3} batch {batch:>4}: rfnet "
                      f"{row['classifier_per_s']:>8.1f}/s  scipy front end + same AlexNet "
                      f"{row['scipy_frontend_per_s']:>8.1f}/s ({row['classifier_per_s'] / row['scipy_frontend_per_s']:.2f}x)"
                      f"  front end {100 * row['frontend_share']:.0f}% of rfnet's time", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=int, nargs="+", default=[128, 1024])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 256])
    parser.add_argument("--mapping", default=None, help="channel mapping instead of the default")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile(frontend)")
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--end-to-end", action="store_true",
                        help="also time IQ -> class through the AlexNet spectrogram classifier")
    parser.add_argument("--image-sizes", type=int, nargs="+", default=[227, 67],
                        help="end-to-end: spectrogram image sides (default 227 67)")
    parser.add_argument("--json", default=None, help="also write the rows and the machine here")
    args = parser.parse_args()
    info = machine()
    print(json.dumps(info))
    rows = frontend_rows(args)
    end_to_end = end_to_end_rows(args) if args.end_to_end else []
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as out:
            json.dump({"machine": info, "device": args.device, "rows": rows, "end_to_end": end_to_end},
                      out, indent=1)
        os.replace(tmp, args.json)


if __name__ == "__main__":
    main()
