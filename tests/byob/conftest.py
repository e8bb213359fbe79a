from __future__ import annotations

import pytest

from . import layouts


@pytest.fixture(scope="session")
def byob_layouts(tmp_path_factory):
    """The six foreign workbooks, built once, and their bytes as built (the input must stay so)."""
    built = layouts.build_all(tmp_path_factory.mktemp("byob_books"))
    return built, {name: lay.path.read_bytes() for name, lay in built.items()}
