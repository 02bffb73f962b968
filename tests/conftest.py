"""Test-wide settings: trained models go to a throw-away cache, never to the user's.

Also the session fixture ``html``: the book built once at smoke size, shared by
tests/test_book_build.py and tests/test_browser.py.
"""

import os
import tempfile
from pathlib import Path

import pytest

# Set at import time, before any test (or any kernel a test starts) reads it: kernels inherit it.
os.environ["L2L_CACHE_DIR"] = tempfile.mkdtemp(prefix="l2l-test-cache-")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The html folder of the whole book built with -W at smoke size (tests/smoke_parameters.py)."""
    from book_checks import ROOT
    from l2l_lib.book import build_book
    from smoke_parameters import SMOKE_PARAMETERS

    out = tmp_path_factory.mktemp("book")
    rc = build_book(ROOT, smoke_parameters=SMOKE_PARAMETERS, output_dir=out)
    assert rc == 0, "jupyter-book build -W failed (see the captured output)"
    return out / "_build" / "html"
