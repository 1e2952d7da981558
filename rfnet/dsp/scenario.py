"""One received signal described in a few numbers: a modulation through a channel, with an optional
interferer, at a given SNR and JSR.

>>> from rfnet.dsp.scenario import Scenario, make_signal
>>> iq = make_signal(Scenario("QPSK", num_samples=128, snr_db=10.0, interference="tone", jsr_db=-5.0))
>>> iq.shape, iq.dtype                     # (torch.Size([1, 128]), torch.complex64)

The pieces are ``rfnet.dsp``'s (``modulate``, ``apply_impairments``, ``awgn``, ``add_interference``), in
the order a receiver meets them: the transmitted signal goes through the channel's impairments; thermal
noise and the jammer then add to the received signal. Both ratios are measured against that received
signal's power (``rfnet.dsp.power``), so ``snr_db`` and ``jsr_db`` are what the receiver sees even in a
fade, and adding a jammer does not change the noise. Every random draw comes from one generator seeded
with ``seed``: the same scenario gives the same samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from rfnet.dsp.channel import ChannelConfig, apply_impairments, awgn
from rfnet.dsp.interference import add_interference
from rfnet.dsp.modulations import modulate

__all__ = ["Scenario", "make_signal"]


@dataclass(frozen=True)
class Scenario:
    """What to generate.

    modulation: a name of ``rfnet.dsp.classes.MODULATIONS``.
    num_samples: samples per example.
    snr_db: received signal to noise power ratio, dB.
    channel: impairments before the noise (``ChannelConfig()``: none, so AWGN only).
    interference: a kind of ``rfnet.dsp.interference.INTERFERENCE``, or None for no jammer.
    jsr_db: jammer to received signal power ratio, dB (used when ``interference`` is set).
    interference_params: the jammer's own parameters (``frequency=0.1`` for a tone, ...); unset ones
        are drawn per example.
    seed: seed of every random draw.
    """

    modulation: str
    num_samples: int = 128
    snr_db: float = 10.0
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    interference: str | None = None
    jsr_db: float = 0.0
    interference_params: dict = field(default_factory=dict)
    seed: int = 0


def make_signal(scenario: Scenario, num: int = 1) -> torch.Tensor:
    """``num`` received examples of ``scenario``: complex64 ``[num, scenario.num_samples]`` on the CPU.

    Raises ``ValueError`` (from the ``rfnet.dsp`` function concerned) for an unknown modulation or
    interference kind, a bad jammer parameter or a channel that does not validate.
    """
    if not isinstance(scenario, Scenario):
        raise ValueError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    generator = torch.Generator().manual_seed(scenario.seed)
    transmitted = modulate(scenario.modulation, num, scenario.num_samples, generator=generator)
    received = apply_impairments(transmitted, scenario.channel, generator=generator)
    noisy = awgn(received, scenario.snr_db, generator=generator)
    if scenario.interference is None:
        return noisy
    jammed = add_interference(received, scenario.interference, scenario.jsr_db, generator=generator,
                              **scenario.interference_params)
    return noisy + (jammed - received)
