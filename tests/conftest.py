"""Test-wide settings: trained models go to a throw-away cache, never to the user's."""

import os
import tempfile

# Set at import time, before any test (or any kernel a test starts) reads it: kernels inherit it.
os.environ["L2L_CACHE_DIR"] = tempfile.mkdtemp(prefix="l2l-test-cache-")
os.environ.setdefault("MPLBACKEND", "Agg")
