"""Pictures for the Risk report macro: a correlation heatmap, a risk-contribution chart and the stress scenarios.

Needs matplotlib (``pip install "corrlev-xl[charts]"``); imported only when a
report is drawn, so the cell functions never pay for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core import CorrLevError


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CorrLevError(
            'the risk report draws its charts with matplotlib: pip install "corrlev-xl[charts]"'
        ) from None
    return plt


def heatmap_png(corr: np.ndarray, names: Sequence[str], path: Path) -> Path:
    """Correlation heatmap (red +1, white 0, blue −1) with the values printed."""
    plt = _pyplot()
    n = len(names)
    size = max(4.0, 0.45 * n + 1.5)
    fig, ax = plt.subplots(figsize=(size + 1, size), dpi=110)
    im = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(n), labels=names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels=names, fontsize=8)
    if n <= 20:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{corr[i, j]:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if abs(corr[i, j]) > 0.6 else "black")
    ax.set_title("Correlation of daily returns")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def contribution_png(percent: np.ndarray, names: Sequence[str], path: Path) -> Path:
    """Horizontal bars of each position's share of portfolio risk."""
    plt = _pyplot()
    order = np.argsort(percent)
    fig, ax = plt.subplots(figsize=(7, max(3.0, 0.32 * len(names) + 1)), dpi=110)
    colors = ["#c0392b" if p > 0 else "#2e86c1" for p in percent[order]]
    ax.barh([names[i] for i in order], percent[order] * 100, color=colors)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("share of portfolio risk (%) — negative = hedges")
    ax.set_title("Risk contributions")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def stress_png(labels: Sequence[str], efflev: Sequence[float], loss: Sequence[float], cap: float, z: float,
               path: Path) -> Path:
    """EFFLEV of each stress scenario against the cap (bars above it red), its one-day loss written on the bar."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, max(2.6, 0.5 * len(labels) + 1.2)), dpi=110)
    y = np.arange(len(labels))
    colors = ["#c0392b" if e > cap else "#2e86c1" for e in efflev]
    ax.barh(y, efflev, color=colors)
    ax.set_yticks(y, labels=list(labels), fontsize=8)
    ax.invert_yaxis()  # the base scenario on top, as in the table
    ax.axvline(cap, color="black", linestyle="--", linewidth=1, label=f"cap {cap:.2f}x")
    for k, (e, x) in enumerate(zip(efflev, loss)):
        ax.text(e, k, f"  {e:.2f}x, loss {x:,.0f}", va="center", fontsize=7)
    ax.set_xlim(0, max(max(efflev), cap) * 1.45)
    ax.set_xlabel(f"EFFLEV (x equity); loss = one-day loss at z = {z:g}, account currency")
    ax.set_title("Stress: EFFLEV if the correlations break")
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
