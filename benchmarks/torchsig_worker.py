"""TorchSig 2.2 side of ``benchmarks/synth.py``; runs in TorchSig's own interpreter (TorchSig is no
dependency of rfnet), driven over stdin/stdout one JSON line at a time.

It builds TorchSig's narrowband generator the way ``torchsig.utils.defaults.default_dataset`` does
(``TorchSigIterableDataset``, ``Impairments(level).dataset_transforms`` on the whole example and its
``signal_transforms`` on the signal), with the metadata cut down to one signal per example of
``--num-samples`` IQ samples filling the whole example, bandwidth 10-25 % of the sample rate (rfnet's
RRC signals at 8 samples per symbol occupy 17 %), SNR -20..30 dB, classes that rfnet also makes.

Protocol: on start it prints ``{"torchsig": version, "memory_kib": {...}, ...}``; then for each input
line ``{"impairment_level": 0|2, "seconds": S}`` it generates examples one after another for at least
``S`` seconds and prints ``{"examples", "seconds", "rate", "memory_kib"}``. End of input ends it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

CLASSES = ("ook", "4ask", "8ask", "bpsk", "qpsk", "8psk", "16psk", "32psk", "16apsk", "32apsk", "16qam",
           "32qam", "64qam", "256qam", "am-dsb", "am-dsb-sc", "am-usb", "fm", "2gmsk")
"""TorchSig classes with a counterpart among rfnet's RadioML 2018 classes."""


def memory_kib() -> dict[str, int]:
    """This process's resident set now (``VmRSS``) and its peak so far (``VmHWM``), KiB (also used by synth.py)."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
    return fields


def narrowband_dataset(impairment_level: int, num_samples: int, seed: int):
    from torchsig.datasets.datasets import TorchSigIterableDataset
    from torchsig.transforms.impairments import Impairments

    sample_rate = 1e6
    metadata = {
        "num_iq_samples_dataset": num_samples,
        "num_signals_min": 1,
        "num_signals_max": 1,
        "fft_size": 64,
        "fft_stride": 64,
        "sample_rate": sample_rate,
        "noise_power_db": 0.0,
        "snr_db_min": -20.0,
        "snr_db_max": 30.0,
        "cochannel_overlap_probability": 0.0,
        "signal_duration_in_samples_min": num_samples,
        "signal_duration_in_samples_max": num_samples,
        "bandwidth_min": 0.10 * sample_rate,
        "bandwidth_max": 0.25 * sample_rate,
        "signal_center_freq_min": -0.05 * sample_rate,
        "signal_center_freq_max": 0.05 * sample_rate,
        "frequency_min": -sample_rate / 2,
        "frequency_max": sample_rate / 2 - 1,
    }
    impairments = Impairments(impairment_level)
    dataset = TorchSigIterableDataset(signal_generators=list(CLASSES), metadata=metadata,
                                      transforms=[impairments.dataset_transforms],
                                      target_labels=["class_index"])
    for generator in dataset.signal_generators:
        generator["transforms"] = [impairments.signal_transforms]
    dataset.seed(seed)
    return dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-samples", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start = time.perf_counter()
    import torch
    import torchsig
    torch.set_num_threads(1)
    datasets = {level: narrowband_dataset(level, args.num_samples, args.seed + level) for level in (0, 2)}
    data, label = next(datasets[2])
    print(json.dumps({"torchsig": torchsig.__version__, "torch": torch.__version__,
                      "setup_seconds": time.perf_counter() - start, "example_shape": list(data.shape),
                      "example_dtype": str(data.dtype), "classes": list(CLASSES),
                      "memory_kib": memory_kib()}), flush=True)

    for line in sys.stdin:
        request = json.loads(line)
        dataset = datasets[request["impairment_level"]]
        examples, begin = 0, time.perf_counter()
        while True:
            data, label = next(dataset)
            if data.shape != (args.num_samples,):
                raise RuntimeError(f"TorchSig made an example of shape {data.shape}")
            examples += 1
            elapsed = time.perf_counter() - begin
            if elapsed >= request["seconds"]:
                break
        print(json.dumps({"examples": examples, "seconds": elapsed, "rate": examples / elapsed,
                          "memory_kib": memory_kib()}), flush=True)


if __name__ == "__main__":
    main()
