"""Regenerate the bundled SigMF sample ``datasets/samples/rfnet_sample.sigmf-{meta,data}``.

Six modulations (BPSK, QPSK, 16QAM, GMSK, FM, AM-DSB-WC) at SNR 0, 10 and 20 dB, one 1024-sample example
each, from the ``rml2018`` preset with seed 0: 18 annotated examples back to back in one ``cf32_le``
recording (144 KiB), each annotation carrying ``core:label`` and ``rfnet:snr_db``. The same torch build
gives the same bytes.

    python datasets/make_sample_sigmf.py [--out datasets/samples/rfnet_sample.sigmf-meta]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from rfnet.data.synthetic import SynthConfig, write_synthetic

SAMPLE_CONFIG = dataclasses.replace(
    SynthConfig.rml2018(),
    classes=("BPSK", "QPSK", "16QAM", "GMSK", "FM", "AM-DSB-WC"),
    snr_min_db=0,
    snr_max_db=20,
    snr_step_db=10,
    examples_per_cell=1,
)
SAMPLE_SEED = 0
DEFAULT_OUT = Path(__file__).resolve().parent / "samples" / "rfnet_sample.sigmf-meta"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .sigmf-meta path")
    args = parser.parse_args(argv)
    print(write_synthetic(args.out, SAMPLE_CONFIG, seed=SAMPLE_SEED, workers=1))


if __name__ == "__main__":
    main()
