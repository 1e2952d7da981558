"""Constellations: power, point counts, Gray labelling, APSK ring geometry, symbol mapping."""

import math

import pytest
import torch

from rfnet.dsp.constellations import APSK_RINGS, CONSTELLATIONS, constellation, map_symbols

ORDERS = {"OOK": 2, "4ASK": 4, "8ASK": 8, "PAM4": 4, "BPSK": 2, "QPSK": 4, "8PSK": 8, "16PSK": 16,
          "32PSK": 32, "16APSK": 16, "32APSK": 32, "64APSK": 64, "128APSK": 128, "16QAM": 16,
          "32QAM": 32, "64QAM": 64, "128QAM": 128, "256QAM": 256}


def _bits_apart(a: int, b: int) -> int:
    return bin(a ^ b).count("1")


def test_every_constellation_is_listed():
    assert set(CONSTELLATIONS) == set(ORDERS)


@pytest.mark.parametrize("name", CONSTELLATIONS)
def test_unit_average_power_and_distinct_points(name):
    points = constellation(name)
    assert points.dtype == torch.complex128 and points.shape == (ORDERS[name],)
    assert float(points.abs().square().mean()) == pytest.approx(1.0, abs=1e-12)
    distances = (points[:, None] - points[None, :]).abs()
    distances.fill_diagonal_(math.inf)
    assert float(distances.min()) > 1e-3          # M distinct points


@pytest.mark.parametrize("name", ["BPSK", "QPSK", "8PSK", "16PSK", "32PSK"])
def test_psk_is_gray_coded_around_the_circle(name):
    points = constellation(name)
    assert torch.allclose(points.abs(), torch.ones(points.numel(), dtype=torch.float64))
    order = torch.argsort(torch.remainder(points.angle(), 2 * math.pi)).tolist()
    for here, there in zip(order, order[1:] + order[:1]):
        assert _bits_apart(here, there) == 1


@pytest.mark.parametrize("name", ["16QAM", "64QAM", "256QAM"])
def test_square_qam_neighbours_differ_in_one_bit(name):
    points = constellation(name)
    distances = (points[:, None] - points[None, :]).abs()
    spacing = float(distances[distances > 1e-9].min())
    neighbours = ((distances - spacing).abs() < 1e-9).nonzero().tolist()
    side = math.isqrt(points.numel())
    assert len(neighbours) == 2 * 2 * side * (side - 1)     # every horizontal and vertical pair, both ways
    assert all(_bits_apart(a, b) == 1 for a, b in neighbours)


@pytest.mark.parametrize("name,side", [("32QAM", 6), ("128QAM", 12)])
def test_cross_qam_is_a_square_grid_without_corners(name, side):
    points = constellation(name)
    spacing = float((points[0] - points[1:]).abs().min())
    levels_i = torch.unique(torch.round(points.real / spacing * 2))
    levels_q = torch.unique(torch.round(points.imag / spacing * 2))
    assert levels_i.numel() == side and levels_q.numel() == side
    corner = points.real.abs().max() + 1j * points.imag.abs().max()
    assert float((points - corner).abs().min()) > spacing / 2        # the corners are cut away


@pytest.mark.parametrize("name", list(APSK_RINGS))
def test_apsk_rings_have_the_specified_radii_and_counts(name):
    counts, ratios, _ = APSK_RINGS[name]
    radii = constellation(name).abs()
    rings = torch.unique(torch.round(radii * 1e9)) / 1e9
    assert rings.numel() == len(counts)
    assert torch.allclose(rings / rings[0], torch.tensor(ratios, dtype=torch.float64), atol=1e-6)
    for ring, count in zip(rings, counts):
        assert int(((radii - ring).abs() < 1e-6).sum()) == count


def test_dvb_s2_ring_ratios():
    """The DVB-S2 (code rate 3/4) and DVB-S2X values the module documents."""
    assert APSK_RINGS["16APSK"][1] == (1.0, 2.85)
    assert APSK_RINGS["32APSK"][1] == (1.0, 2.84, 5.27)
    assert APSK_RINGS["64APSK"][:2] == ((8, 16, 20, 20), (1.0, 2.2, 3.6, 5.2))
    assert APSK_RINGS["128APSK"][0] == (16, 16, 16, 16, 16, 48)


@pytest.mark.parametrize("name,bipolar", [("OOK", False), ("4ASK", False), ("8ASK", False), ("PAM4", True)])
def test_amplitude_keying_levels(name, bipolar):
    points = constellation(name)
    assert torch.all(points.imag == 0)
    levels = torch.sort(points.real).values
    steps = levels.diff()
    assert torch.allclose(steps, steps[0].expand_as(steps))              # evenly spaced
    if bipolar:
        assert torch.allclose(levels, -levels.flip(0))
    else:
        assert float(levels[0]) == 0.0
    order = torch.argsort(points.real).tolist()
    assert all(_bits_apart(a, b) == 1 for a, b in zip(order, order[1:]))   # Gray along the line


def test_map_symbols_looks_up_points():
    indices = torch.tensor([[0, 3], [2, 1]])
    mapped = map_symbols("QPSK", indices)
    assert mapped.dtype == torch.complex64 and mapped.shape == (2, 2)
    assert torch.equal(mapped, constellation("QPSK", torch.complex64)[indices])


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match="unknown constellation"):
        constellation("17QAM")
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        map_symbols("QPSK", torch.tensor([4]))
    with pytest.raises(ValueError, match="integer"):
        map_symbols("QPSK", torch.tensor([0.0]))
    with pytest.raises(ValueError, match="dtype"):
        constellation("QPSK", torch.float32)


def test_returned_points_are_a_copy():
    points = constellation("BPSK")
    points[0] = 5
    assert float(constellation("BPSK").abs().max()) == pytest.approx(1.0)
