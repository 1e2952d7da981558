"""Which spectrogram settings should be the defaults? A small ablation on synthetic RadioML-style data.

For one signal length it generates a labelled data set with ``rfnet.dsp.modulations.modulate`` and
``rfnet.dsp.channel.apply_channel`` (``--length 128``: the 11 RadioML 2016 classes through
``ChannelConfig.rml2016()``; ``--length 1024``: the 24 RadioML 2018 classes through
``ChannelConfig.rml2018()``), at a few SNRs >= 0 dB, then for each front-end setting trains the same small
fixed CNN (``ProxyCNN``, a stand-in for AlexNet that a 2-core CPU trains in seconds) on the images for
a fixed number of epochs and reports validation accuracy. Settings vary one factor at a time around a
base (n_fft / hop, window, channel mapping, image size); ``--setting`` runs chosen combinations only.

    python benchmarks/frontend_ablation.py --length 128
    python benchmarks/frontend_ablation.py --length 1024

Prints a markdown table (setting, image shape, validation accuracy, training seconds).
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import torch
import torch.nn.functional as F
from torch import nn

from rfnet.dsp.channel import ChannelConfig, apply_channel
from rfnet.dsp.classes import RML2016_CLASSES, RML2018_CLASSES
from rfnet.dsp.modulations import modulate
from rfnet.dsp.spectrogram import Spectrogram, SpectrogramConfig

# (length) -> classes, channel, SNRs in dB, train / validation examples per (class, SNR)
DATASETS = {
    128: (RML2016_CLASSES, ChannelConfig.rml2016, (0.0, 6.0, 12.0, 18.0), 60, 40),
    1024: (RML2018_CLASSES, ChannelConfig.rml2018, (6.0, 14.0, 22.0), 30, 20),
}

BASE = {
    128: SpectrogramConfig(n_fft=16, hop_length=2, image_size=(64, 64)),
    1024: SpectrogramConfig(n_fft=64, hop_length=8, image_size=(64, 64)),
}

VARIANTS = {
    128: [dict(n_fft=8, hop_length=1), dict(n_fft=16, hop_length=4), dict(n_fft=32, hop_length=2),
          dict(n_fft=32, hop_length=4), dict(n_fft=64, hop_length=8),
          dict(window="rectangular"), dict(window="blackman"), dict(center=False),
          dict(channel_mapping="db_ranges"), dict(channel_mapping="power_instfreq"),
          dict(floor_db=-30.0), dict(image_size=(32, 32)), dict(image_size=(96, 96))],
    1024: [dict(n_fft=32, hop_length=4), dict(n_fft=128, hop_length=16), dict(n_fft=64, hop_length=16),
           dict(window="blackman"), dict(channel_mapping="db_ranges"),
           dict(channel_mapping="power_instfreq"), dict(image_size=(96, 96))],
}


def make_data(length: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(train IQ, train labels, validation IQ, validation labels): complex64 ``[n, length]`` and int64."""
    classes, channel, snrs, n_train, n_val = DATASETS[length]
    generator = torch.Generator().manual_seed(seed)
    splits = {"train": ([], []), "val": ([], [])}
    for label, name in enumerate(classes):
        for snr in snrs:
            for split, count in (("train", n_train), ("val", n_val)):
                clean = modulate(name, count, length, generator=generator)
                splits[split][0].append(apply_channel(clean, snr, channel(), generator=generator))
                splits[split][1].append(torch.full((count,), label))
    return (torch.cat(splits["train"][0]), torch.cat(splits["train"][1]),
            torch.cat(splits["val"][0]), torch.cat(splits["val"][1]))


class ProxyCNN(nn.Module):
    """Three conv blocks (8, 16, 32 maps; 3x3; batch norm on batch statistics, also when evaluating, in
    batches of 512, which is stabler here than running averages; ReLU; 2x2 max-pool) -> 4x4 average pool -> linear. Keeps the 4x4 layout of the image (frequency position matters) at any input size."""

    def __init__(self, in_chans: int, num_classes: int) -> None:
        super().__init__()
        blocks, width = [], in_chans
        for out in (8, 16, 32):
            blocks += [nn.Conv2d(width, out, 3, padding=1),
                       nn.BatchNorm2d(out, track_running_stats=False), nn.ReLU(), nn.MaxPool2d(2)]
            width = out
        self.features = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(4), nn.Flatten())
        self.head = nn.Linear(width * 16, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


def evaluate_setting(config: SpectrogramConfig, data, num_classes: int, epochs: int, batch: int,
                     seed: int) -> tuple[tuple[int, ...], float, float]:
    """Train ``ProxyCNN`` on the images of ``config``; return (image shape, val accuracy, train s)."""
    train_iq, train_y, val_iq, val_y = data
    frontend = Spectrogram(config)
    with torch.no_grad():
        train_x, val_x = frontend(train_iq), frontend(val_iq)
    torch.manual_seed(seed)
    model = ProxyCNN(config.channels, num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    order_rng = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(train_x), generator=order_rng).split(batch):
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model(chunk).argmax(1) for chunk in val_x.split(512)])
    return tuple(train_x.shape[1:]), (predicted == val_y).float().mean().item(), seconds


def describe(config: SpectrogramConfig, base: SpectrogramConfig) -> str:
    changed = [f"{f.name}={getattr(config, f.name)}" for f in dataclasses.fields(config)
               if getattr(config, f.name) != getattr(base, f.name)]
    return ", ".join(changed) or "base"


def parse_overrides(text: str, base: SpectrogramConfig) -> dict:
    """``"n_fft=32,window=rectangular,image_size=96x96"`` -> field overrides, typed like ``base``."""
    overrides = {}
    for item in text.split(","):
        key, value = item.split("=")
        if key == "image_size":
            overrides[key] = tuple(int(side) for side in value.split("x"))
        elif key == "center":
            overrides[key] = value == "True"
        else:
            overrides[key] = type(getattr(base, key))(value)
    return overrides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--length", type=int, choices=sorted(DATASETS), default=128)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--setting", action="append", default=[],
                        help="run only these settings (repeatable): overrides of the base as "
                             "key=value,... (image_size=HxW), e.g. n_fft=32,window=rectangular")
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())

    base = BASE[args.length]
    if args.setting:
        configs = [dataclasses.replace(base, **parse_overrides(text, base)) for text in args.setting]
    else:
        configs = [base] + [dataclasses.replace(base, **variant) for variant in VARIANTS[args.length]]

    classes, _, snrs, n_train, n_val = DATASETS[args.length]
    start = time.perf_counter()
    data = make_data(args.length, args.seed)
    print(f"length {args.length}: {len(classes)} classes, SNR {snrs} dB, {n_train}/{n_val} train/val per "
          f"(class, SNR); data made in {time.perf_counter() - start:.1f} s; ProxyCNN, Adam 2e-3, "
          f"batch {args.batch}, {args.epochs} epochs, seed {args.seed}\n")
    print(f"base: n_fft={base.n_fft}, hop_length={base.hop_length}, window={base.window}, "
          f"center={base.center}, floor_db={base.floor_db}, image_size={base.image_size}, "
          f"channel_mapping={base.channel_mapping}\n")
    print("| setting | STFT image (C, F, T) | val accuracy | train s |")
    print("|---|---|---|---|")
    for config in configs:
        shape, accuracy, seconds = evaluate_setting(config, data, len(classes), args.epochs, args.batch,
                                                    args.seed)
        native = (config.channels, config.n_fft, config.num_frames(args.length))
        print(f"| {describe(config, base)} | {native} -> {shape} | {accuracy:.3f} | {seconds:.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
