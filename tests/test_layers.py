import io

import pytest
import torch
import torch.nn.functional as F

from rfnet.models import TowerLocalResponseNorm
from rfnet.models.layers import adaptive_pool_matrix, fold_adaptive_pool, folded_pool_linear, pool_fold_pays


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


@pytest.mark.parametrize("size", [5, 4])  # an even window is lopsided: the backward must mirror it
def test_lrn_gradient_is_autograds_through_torchs_lrn_tower_by_tower(size):
    a = (torch.randn(2, 12, 3, 4, dtype=torch.float64) * 30).requires_grad_()
    lrn = TowerLocalResponseNorm(towers=2, size=size)
    assert torch.autograd.gradcheck(lrn, (a,))
    torchs = torch.cat([F.local_response_norm(half, size, alpha=1e-4, beta=0.75, k=2.0) for half in a.split(6, 1)], 1)
    weights = torch.randn_like(a)
    expected = torch.autograd.grad((torchs * weights).sum(), a)[0]
    torch.testing.assert_close(lrn(a), torchs)
    torch.testing.assert_close(torch.autograd.grad((lrn(a) * weights).sum(), a)[0], expected)
    with torch.no_grad():
        inference = lrn(a)
    torch.testing.assert_close(inference, lrn(a).detach(), rtol=0, atol=0)  # one forward, with or without autograd


@pytest.mark.filterwarnings("ignore")  # torch.jit's deprecation and tracer notes
def test_lrn_traces_and_saves_as_torchscript_even_with_gradients_on():
    lrn = TowerLocalResponseNorm(towers=2)
    a = torch.randn(2, 8, 3, 3, requires_grad=True)
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.trace(lrn, (a,)), buffer)  # a Python autograd function could not be saved
    buffer.seek(0)
    torch.testing.assert_close(torch.jit.load(buffer)(a), lrn(a))


def test_lrn_rejects_channels_that_do_not_split_into_towers():
    with pytest.raises(ValueError, match="cannot be split into 2 towers"):
        TowerLocalResponseNorm(towers=2)(torch.randn(1, 5, 3, 3))


@pytest.mark.parametrize("height, width", [(1, 1), (2, 3), (4, 5), (9, 7)])
def test_pool_matrix_is_the_adaptive_average_pool(height, width):
    maps = torch.randn(2, 3, height, width, dtype=torch.float64)
    matrix = adaptive_pool_matrix(height, width, 6, dtype=torch.float64)
    assert matrix.shape == (36, height * width)
    pooled = (maps.flatten(2) @ matrix.T).view(2, 3, 6, 6)
    torch.testing.assert_close(pooled, F.adaptive_avg_pool2d(maps, 6), rtol=0, atol=1e-15)


def test_a_copying_pools_matrix_picks_one_cell_per_pooled_cell():
    matrix = adaptive_pool_matrix(2, 2, 6)
    assert set(matrix.unique().tolist()) == {0.0, 1.0} and torch.all(matrix.sum(1) == 1)
    assert matrix[0].tolist() == [1, 0, 0, 0] and matrix[35].tolist() == [0, 0, 0, 1]
    assert torch.all(adaptive_pool_matrix(1, 1, 6) == 1)


def test_the_fold_pays_up_to_a_quarter_of_the_pooled_cells_and_only_where_autograd_records():
    assert [pool_fold_pays(n, n, 6) for n in range(1, 8)] == [True, True, True, False, False, False, False]
    assert pool_fold_pays(1, 9, 6) and not pool_fold_pays(2, 5, 6)
    with torch.no_grad():
        assert not pool_fold_pays(1, 1, 6)


@pytest.mark.parametrize("height, width", [(1, 1), (2, 2), (3, 1), (5, 5)])
def test_folded_linear_equals_pool_then_linear_and_gradients_reach_the_full_weight(height, width):
    torch.manual_seed(0)
    linear = torch.nn.Linear(4 * 36, 7).double()
    maps = torch.randn(3, 4, height, width, dtype=torch.float64, requires_grad=True)
    folded = folded_pool_linear(maps, linear, 6)
    folded_grads = torch.autograd.grad(folded.square().sum(), [maps, linear.weight, linear.bias])
    pooled = linear(F.adaptive_avg_pool2d(maps, 6).flatten(1))
    pooled_grads = torch.autograd.grad(pooled.square().sum(), [maps, linear.weight, linear.bias])
    torch.testing.assert_close(folded, pooled, rtol=1e-12, atol=1e-12)
    for mine, reference in zip(folded_grads, pooled_grads):
        torch.testing.assert_close(mine, reference, rtol=1e-12, atol=1e-12)
    assert fold_adaptive_pool(linear.weight, height, width, 6).shape == (7, 4 * height * width)
