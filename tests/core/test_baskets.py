"""corrlev_xl.core.baskets: correlation baskets (rule ①) and per-basket leverage.

Tied to: SciPy's hierarchical clustering (``scipy.cluster.hierarchy.linkage``
with ``method="complete"`` / ``"single"`` on the distance ``1 − ρ``, cut with
``fcluster(t=1 − threshold, criterion="distance")``), the chaining pitfall of
threshold clustering named in docs/figures.md, the first document's rule ① examples
(indices NAS/SP/DOW; EURUSD & GBPUSD; AUDUSD & NZDUSD), and ``leverage()``
on each basket's sub-book.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from corrlev_xl.core import CorrLevError, basket_leverage, baskets, leverage
from corrlev_xl.sample import SYMBOLS, target_correlation

from ._helpers import random_corr


def _partition(labels):
    """A partition as a set of frozensets of indices: equal up to relabelling."""
    labels = np.asarray(labels)
    return {frozenset(np.flatnonzero(labels == b).tolist()) for b in np.unique(labels)}


def _scipy_baskets(corr, threshold, method):
    dist = 1.0 - corr
    np.fill_diagonal(dist, 0.0)
    Z = linkage(squareform(dist, checks=False), method=method)
    return fcluster(Z, t=1.0 - threshold, criterion="distance")


def _random_case(rng):
    N = int(rng.integers(2, 16))
    corr = random_corr(rng, N, k=int(rng.integers(1, 4)))
    threshold = float(rng.uniform(0.2, 0.9))
    # The core joins at ρ > threshold, SciPy at 1 − ρ <= 1 − threshold: keep
    # every correlation (and so every complete-linkage merge height) away from
    # the threshold, where the two could only differ by rounding.
    gap = np.abs(corr[np.triu_indices(N, 1)] - threshold).min()
    return corr, threshold, gap


@pytest.mark.parametrize("method", ["complete", "single"])
def test_baskets_equal_scipy_hierarchical_clustering(method):
    rng = np.random.default_rng(2024)
    checked = 0
    while checked < 300:
        corr, threshold, gap = _random_case(rng)
        if gap < 1e-9:
            continue
        vol = rng.uniform(0.005, 0.03, corr.shape[0])
        cov = corr * np.outer(vol, vol)  # baskets accept a covariance matrix too
        got = baskets(cov, threshold=threshold, linkage=method)
        want = _scipy_baskets(corr, threshold, method)
        assert _partition(got) == _partition(want), (corr, threshold)
        checked += 1


def test_complete_baskets_have_every_pair_above_the_threshold():
    rng = np.random.default_rng(7)
    for _ in range(100):
        corr, threshold, _ = _random_case(rng)
        labels = baskets(corr, threshold=threshold)
        for b in np.unique(labels):
            idx = np.flatnonzero(labels == b)
            block = corr[np.ix_(idx, idx)]
            assert (block[~np.eye(idx.size, dtype=bool)] > threshold).all()


def test_single_linkage_chains_and_complete_does_not():
    # docs/figures.md: "Plain connected components chain unrelated names together
    # through intermediaries ... the default must not do that."
    # A~B 0.8, B~C 0.8, A~C 0.3 at the default threshold 0.75.
    corr = np.array([[1.0, 0.8, 0.3], [0.8, 1.0, 0.8], [0.3, 0.8, 1.0]])
    assert_array_equal(baskets(corr, linkage="single"), [1, 1, 1])
    complete = baskets(corr)
    assert len(set(complete)) == 2
    assert complete[0] != complete[2]  # A and C are never together
    assert complete[1] in (complete[0], complete[2])  # B joins one of them


def test_position_aware_hedge_is_not_a_basket():
    # docs/figures.md: "correlation multiplied by the signs of the two positions, so a
    # long/short hedge is not a cluster".
    corr = np.array([[1.0, 0.9], [0.9, 1.0]])
    assert_array_equal(baskets(corr), [1, 1])
    assert_array_equal(baskets(corr, positions=[1e5, 2e5]), [1, 1])
    assert_array_equal(baskets(corr, positions=[-1e5, -2e5]), [1, 1])
    assert_array_equal(baskets(corr, positions=[1e5, -2e5]), [1, 2])
    assert_array_equal(baskets(corr, positions=[1e5, 0.0]), [1, 2])  # flat joins nothing
    # And an anti-correlated pair held long/short moves as one.
    anti = np.array([[1.0, -0.9], [-0.9, 1.0]])
    assert_array_equal(baskets(anti), [1, 2])
    assert_array_equal(baskets(anti, positions=[1e5, -1e5]), [1, 1])


def test_position_aware_equals_scipy_on_signed_correlation():
    rng = np.random.default_rng(3)
    for _ in range(100):
        corr, threshold, _ = _random_case(rng)
        s = rng.choice([-1.0, 1.0], corr.shape[0])
        signed = corr * np.outer(s, s)
        gap = np.abs(signed[np.triu_indices(corr.shape[0], 1)] - threshold).min()
        if gap < 1e-9:
            continue
        got = baskets(corr, threshold=threshold, positions=s * rng.uniform(1, 10, s.size))
        assert _partition(got) == _partition(_scipy_baskets(signed, threshold, "complete"))


def test_rule_one_examples_from_the_document():
    # the source notes rule ①: correlation > 0.75 => same basket (indices
    # NAS/SP/DOW; EURUSD & GBPUSD; AUDUSD & NZDUSD), on the sample book's
    # target correlations (the documents' stated values).
    labels = dict(zip(SYMBOLS, baskets(target_correlation(), threshold=0.75)))
    assert labels["NAS100"] == labels["SP500"] == labels["US30"]
    assert labels["EURUSD"] == labels["GBPUSD"]
    assert labels["AUDUSD"] == labels["NZDUSD"]
    groups = _partition(list(labels.values()))
    sizes = sorted(len(g) for g in groups)
    assert sizes == [1] * 6 + [2, 2, 3]  # 13 instruments: six stand alone


def test_baskets_are_numbered_by_first_appearance():
    corr = np.eye(5)
    corr[1, 3] = corr[3, 1] = 0.9
    corr[0, 4] = corr[4, 0] = 0.9
    assert_array_equal(baskets(corr), [1, 2, 3, 2, 1])
    assert baskets(np.eye(1)).tolist() == [1]


# --------------------------------------------------------------------------- #
# Per-basket leverage


def test_basket_leverage_is_leverage_of_each_sub_book():
    rng = np.random.default_rng(5)
    corr = random_corr(rng, 6, k=2)
    vol = rng.uniform(0.005, 0.02, 6)
    cov = corr * np.outer(vol, vol)
    n = rng.normal(0, 1e5, 6)
    labels = np.array([2, 1, 2, 3, 1, 2])
    fig = basket_leverage(n, cov, 1e5, labels, caps=[1.0, 0.5, 2.0])
    assert_array_equal(fig.basket, [1, 2, 3])
    assert_array_equal(fig.size, [2, 3, 1])
    for k, b in enumerate(fig.basket):
        m = labels == b
        lev = leverage(n[m], cov[np.ix_(m, m)], 1e5)
        assert_allclose(
            [fig.nomlev[k], fig.efflev[k], fig.clm[k]], [lev.nomlev, lev.efflev, lev.clm], rtol=1e-12
        )
    assert_allclose(fig.cap, [1.0, 0.5, 2.0])
    assert_array_equal(fig.over_cap, fig.efflev > fig.cap)
    # One cap for all; no caps -> inf.
    assert_allclose(basket_leverage(n, cov, 1e5, labels, caps=0.7).cap, [0.7] * 3)
    assert np.isinf(basket_leverage(n, cov, 1e5, labels).cap).all()


# --------------------------------------------------------------------------- #
# Bad input

CORR = np.array([[1.0, 0.9], [0.9, 1.0]])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: baskets(CORR, threshold=1.0), r"threshold must be a correlation in \[-1, 1\); got 1"),
        (lambda: baskets(CORR, threshold=-1.5), r"threshold must be a correlation in \[-1, 1\); got -1.5"),
        (
            lambda: baskets(CORR, threshold="high"),
            r"threshold must be a correlation in \[-1, 1\); got 'high'",
        ),
        (lambda: baskets(CORR, threshold=None), r"threshold must be a correlation in \[-1, 1\)"),
        (lambda: baskets(CORR, threshold=float("nan")), r"threshold must be a correlation"),
        (lambda: baskets(CORR, linkage="ward"), r"linkage must be one of 'complete', 'single'; got 'ward'"),
        (
            lambda: baskets(CORR, positions=[1, 2, 3]),
            r"positions has 3 values but the covariance matrix is 2×2",
        ),
        (lambda: baskets([[1, 0.9], [0.8, 1]]), r"cov is not symmetric: row 1, column 2"),
        (lambda: baskets([[1, 0.9, 0.1], [0.9, 1, 0.2]]), r"cov must be a square matrix"),
        (lambda: baskets([[1, 0.9], [0.9]]), r"cov must be numbers only"),
        (lambda: basket_leverage([1, 2], CORR, 1.0, [1]), r"baskets has 1 values but there are 2 positions"),
        (
            lambda: basket_leverage([1, 2], CORR, 1.0, [1.5, 2]),
            r"baskets must be whole basket numbers.*1.5 at item 1",
        ),
        (
            lambda: basket_leverage([1, 2], CORR, 1.0, [1, 2], caps=[1.0, 0.0]),
            r"basket caps must be positive",
        ),
        (
            lambda: basket_leverage([1, 2], CORR, 1.0, [1, 2], caps=[1.0, np.nan]),
            r"basket caps must be numbers without blanks",
        ),
        (
            lambda: basket_leverage([1, 2, 3], np.eye(3), 1.0, [1, 2, 3], caps=[1.0, 2.0]),
            r"basket caps has 2 values but there are 3 baskets; give one cap or one per basket",
        ),
        (lambda: basket_leverage([1, 2], CORR, 0.0, [1, 2]), r"equity must be a positive number"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(CorrLevError, match=match):
        call()
