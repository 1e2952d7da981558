import pytest
import torch

from rfnet.models import TowerLocalResponseNorm


def lrn_by_the_formula(a, n, k, alpha_prime, beta):
    """b[c] = a[c] / (k + alpha' * sum_{j=max(0,c-n//2)}^{min(N-1,c+n//2)} a[j]^2)^beta, one loop per map."""
    maps = a.shape[1]
    out = torch.empty_like(a)
    for c in range(maps):
        lo, hi = max(0, c - n // 2), min(maps - 1, c + n // 2)
        window = (a[:, lo : hi + 1] ** 2).sum(dim=1)
        out[:, c] = a[:, c] / (k + alpha_prime * window) ** beta
    return out


@pytest.mark.parametrize("alpha_over_n", [True, False])
def test_lrn_matches_the_formula_in_both_conventions(alpha_over_n):
    # large activations, so that the alpha term matters and the two conventions differ
    a = torch.randn(2, 12, 4, 5, dtype=torch.float64) * 30
    lrn = TowerLocalResponseNorm(towers=1, size=5, alpha=1e-4, beta=0.75, k=2.0, alpha_over_n=alpha_over_n)
    alpha_prime = 1e-4 / 5 if alpha_over_n else 1e-4
    torch.testing.assert_close(lrn(a), lrn_by_the_formula(a, 5, 2.0, alpha_prime, 0.75))


def test_the_two_conventions_differ():
    a = torch.randn(1, 8, 3, 3, dtype=torch.float64) * 30
    code = TowerLocalResponseNorm(towers=1, alpha_over_n=True)(a)
    text = TowerLocalResponseNorm(towers=1, alpha_over_n=False)(a)
    assert (code - text).abs().max() > 1e-3


def test_lrn_windows_stay_inside_each_tower():
    a = torch.randn(2, 96, 5, 5, dtype=torch.float64) * 30
    lrn = TowerLocalResponseNorm(towers=2)
    expected = torch.cat([lrn_by_the_formula(half, 5, 2.0, 1e-4 / 5, 0.75) for half in a.split(48, dim=1)], 1)
    torch.testing.assert_close(lrn(a), expected)
    # changing tower 1's first map leaves tower 0's last map alone
    b = a.clone()
    b[:, 48] *= 10
    torch.testing.assert_close(lrn(b)[:, :48], lrn(a)[:, :48])
    assert not torch.allclose(lrn(b)[:, 49], lrn(a)[:, 49])


def test_lrn_rejects_channels_that_do_not_split_into_towers():
    with pytest.raises(ValueError, match="cannot be split into 2 towers"):
        TowerLocalResponseNorm(towers=2)(torch.randn(1, 5, 3, 3))
