"""Digital constellations at unit average power, indexed by bit label.

``constellation(name)[label]`` is the complex point that carries the bits of ``label`` (most
significant bit first). Every constellation is scaled so that ``mean(|point|^2) == 1`` over its points.

Families and the choices made:

- ASK (``OOK``, ``4ASK``, ``8ASK``): unipolar amplitude levels ``0, 1, ..., M-1`` on the real axis,
  Gray-labelled (neighbouring levels differ in one bit). Unipolar because on-off keying, their M = 2
  member, is unipolar; RadioML 2018 does not document its levels.
- ``PAM4``: bipolar levels ``-3, -1, 1, 3``, Gray-labelled, as RadioML 2016.10a uses it.
- PSK (``BPSK`` ... ``32PSK``): ``M`` points on the unit circle, Gray-labelled around the circle
  (neighbours differ in one bit). QPSK sits at odd multiples of pi/4, the others start at 0 rad.
- Square QAM (``16QAM``, ``64QAM``, ``256QAM``): odd-integer grids, Gray-labelled per axis (upper half
  of the bits picks the in-phase level, lower half the quadrature level), so horizontal and vertical
  neighbours differ in one bit.
- Cross QAM (``32QAM``, ``128QAM``): the 6x6 (12x12) odd-integer grid with its 1x1 (2x2) corners
  removed. A cross has no Gray labelling; labels follow raster order (quadrature level major, in-phase
  level minor). Labels only matter for bit mappings, not for the shape of the signal.
- APSK: concentric rings, ``APSK_RINGS`` gives points per ring, radius of each ring relative to the
  innermost, and the phase of each ring's first point; points are spread evenly around each ring and
  labelled ring by ring from the inside out (the standards' bit-mapping tables are not reproduced).

  - ``16APSK`` 4+12 and ``32APSK`` 4+12+16: DVB-S2, ETSI EN 302 307 V1.2.1, tables for code rate 3/4
    (gamma = 2.85; gamma1 = 2.84, gamma2 = 5.27).
  - ``64APSK`` 8+16+20+20: DVB-S2X, ETSI EN 302 307-2, code rate 7/9 (radii 1 : 2.2 : 3.6 : 5.2).
  - ``128APSK`` 16+16+16+16+16+48: DVB-S2X ring counts and radii for code rate 135/180
    (1 : 1.715 : 2.118 : 2.681 : 2.75 : 3.819). The standard places the points of each ring at
    irregular phases; here they are evenly spaced, each ring turned by half a step against the one
    inside it.
"""

from __future__ import annotations

import functools
import math

import torch

__all__ = ["CONSTELLATIONS", "APSK_RINGS", "constellation", "map_symbols", "gray_code"]

#: APSK layouts: name -> (points per ring, radius relative to the inner ring, first point's phase in rad).
APSK_RINGS: dict[str, tuple[tuple[int, ...], tuple[float, ...], tuple[float, ...]]] = {
    "16APSK": ((4, 12), (1.0, 2.85), (math.pi / 4, math.pi / 12)),
    "32APSK": ((4, 12, 16), (1.0, 2.84, 5.27), (math.pi / 4, math.pi / 12, 0.0)),
    "64APSK": ((8, 16, 20, 20), (1.0, 2.2, 3.6, 5.2),
               (math.pi / 8, math.pi / 16, math.pi / 20, 0.0)),
    "128APSK": ((16, 16, 16, 16, 16, 48), (1.0, 1.715, 2.118, 2.681, 2.75, 3.819),
                (0.0, math.pi / 16, 0.0, math.pi / 16, 0.0, math.pi / 48)),
}

_ASK_ORDERS = {"OOK": 2, "4ASK": 4, "8ASK": 8}
_PSK_ORDERS = {"BPSK": 2, "QPSK": 4, "8PSK": 8, "16PSK": 16, "32PSK": 32}
_SQUARE_QAM_ORDERS = {"16QAM": 16, "64QAM": 64, "256QAM": 256}
_CROSS_QAM_ORDERS = {"32QAM": 32, "128QAM": 128}

CONSTELLATIONS: tuple[str, ...] = (
    *_ASK_ORDERS, "PAM4", *_PSK_ORDERS, *APSK_RINGS, "16QAM", "32QAM", "64QAM", "128QAM", "256QAM",
)


def gray_code(index: torch.Tensor) -> torch.Tensor:
    """Binary-reflected Gray code of non-negative integers (int64 tensor, any shape)."""
    return index ^ (index >> 1)


def _gray_labelled(values: torch.Tensor) -> torch.Tensor:
    """Points listed by position (``values[k]`` is the k-th along a line or circle) re-indexed by label,
    so that the points at positions k and k+1 carry labels one bit apart."""
    labels = gray_code(torch.arange(values.numel()))
    points = torch.empty_like(values)
    points[labels] = values
    return points


def _ask(order: int, bipolar: bool) -> torch.Tensor:
    levels = torch.arange(order, dtype=torch.float64)
    if bipolar:
        levels = 2 * levels - (order - 1)
    return _gray_labelled(levels.to(torch.complex128))


def _psk(order: int) -> torch.Tensor:
    offset = math.pi / 4 if order == 4 else 0.0
    angles = offset + 2 * math.pi * torch.arange(order, dtype=torch.float64) / order
    return _gray_labelled(torch.polar(torch.ones_like(angles), angles))


def _square_qam(order: int) -> torch.Tensor:
    side = math.isqrt(order)
    bits_per_axis = side.bit_length() - 1
    position = torch.arange(side)
    levels = (2 * position - (side - 1)).to(torch.float64)
    axis_label = gray_code(position)
    labels = (axis_label[:, None] << bits_per_axis) | axis_label[None, :]   # [in-phase, quadrature]
    values = torch.complex(levels[:, None].expand(side, side), levels[None, :].expand(side, side))
    points = torch.empty(order, dtype=torch.complex128)
    points[labels.reshape(-1)] = values.reshape(-1)
    return points


def _cross_qam(order: int) -> torch.Tensor:
    half_bits = (order.bit_length() - 1) // 2            # order = 2 ** (2 * half_bits + 1)
    side = 3 * 2 ** (half_bits - 1)                      # 6 for 32QAM, 12 for 128QAM
    corner = 2 ** (half_bits - 2)                        # 1 for 32QAM, 2 for 128QAM
    inner_max = side - 1 - 2 * corner                    # largest level of the inner square
    levels = torch.arange(-(side - 1), side, 2, dtype=torch.float64)
    quadrature, in_phase = torch.meshgrid(levels.flip(0), levels, indexing="ij")
    keep = (in_phase.abs() <= inner_max) | (quadrature.abs() <= inner_max)
    return torch.complex(in_phase[keep], quadrature[keep])


def _apsk(name: str) -> torch.Tensor:
    counts, radii, phases = APSK_RINGS[name]
    rings = []
    for count, radius, phase in zip(counts, radii, phases):
        angles = phase + 2 * math.pi * torch.arange(count, dtype=torch.float64) / count
        rings.append(torch.polar(torch.full_like(angles, radius), angles))
    return torch.cat(rings)


@functools.lru_cache(maxsize=None)
def _unit_power_points(name: str) -> torch.Tensor:
    if name in _ASK_ORDERS:
        points = _ask(_ASK_ORDERS[name], bipolar=False)
    elif name == "PAM4":
        points = _ask(4, bipolar=True)
    elif name in _PSK_ORDERS:
        points = _psk(_PSK_ORDERS[name])
    elif name in _SQUARE_QAM_ORDERS:
        points = _square_qam(_SQUARE_QAM_ORDERS[name])
    elif name in _CROSS_QAM_ORDERS:
        points = _cross_qam(_CROSS_QAM_ORDERS[name])
    elif name in APSK_RINGS:
        points = _apsk(name)
    else:
        raise ValueError(f"unknown constellation {name!r}; known: {', '.join(CONSTELLATIONS)}")
    return points / points.abs().square().mean().sqrt()


def constellation(name: str, dtype: torch.dtype = torch.complex128,
                  device: torch.device | str | None = None) -> torch.Tensor:
    """The ``M`` points of constellation ``name`` in bit-label order, at unit average power.

    Returns a new complex tensor ``[M]`` of ``dtype`` (complex128 or complex64) on ``device``.
    Unknown name -> ``ValueError``.
    """
    if dtype not in (torch.complex64, torch.complex128):
        raise ValueError(f"dtype must be torch.complex64 or torch.complex128, got {dtype}")
    return _unit_power_points(name).to(dtype=dtype, device=device, copy=True)


def map_symbols(name: str, indices: torch.Tensor) -> torch.Tensor:
    """Constellation points for symbol indices (= bit labels) of any shape.

    indices: integer tensor with values in ``[0, M)``. Returns complex64 of the same shape and device.
    """
    if indices.dtype.is_floating_point or indices.is_complex() or indices.dtype == torch.bool:
        raise ValueError(f"indices must be an integer tensor, got dtype {indices.dtype}")
    points = constellation(name, torch.complex64, indices.device)
    if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= points.numel()):
        raise ValueError(f"indices for {name} must lie in [0, {points.numel()}), got "
                         f"[{int(indices.min())}, {int(indices.max())}]")
    return points[indices]
