"""Checkpoints and the trained-model cache: safe to load, written atomically, never stale.

* Every file is written to a temporary name in the same folder and moved into place with
  ``os.replace``, so a crash leaves either the old file or the new one, never half of one.
* Every file is read with ``torch.load(..., weights_only=True)``: tensors and plain Python containers
  only, so loading a checkpoint cannot run code.
* The cache folder of a run is named by a hash of its configuration *and* of the code that trains it
  (:func:`code_fingerprint`), so editing the training code retrains instead of reusing a stale model,
  while editing a docstring or a comment does not.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from .atomic import atomic_open

CACHE_ENV = "L2L_CACHE_DIR"
# 2: one format for one seed and for packs ("configs", "models", "histories" are lists; "step", not "epoch").
FORMAT_VERSION = 2
# The modules whose behaviour decides what a trained model is (an architecture outside model.py adds its
# own module to the key of the runs that use it, see TrainConfig.code_modules).
_TRAINING_MODULES = ("tasks.py", "model.py", "config.py", "trainer.py", "train.py", "packed.py", "checkpoints.py")


def default_cache_dir() -> Path:
    """``$L2L_CACHE_DIR`` if set, else ``~/.cache/l2l_lib``: where :func:`l2l_lib.train.load_or_train` keeps runs."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "l2l_lib")


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save(obj, path)`` through :func:`l2l_lib.atomic.atomic_open`: the old file or the new, never half."""
    with atomic_open(path, "wb") as handle:
        torch.save(obj, handle)


def safe_load(path: str | os.PathLike) -> Any:
    """Load a file written by :func:`atomic_save` with ``weights_only=True`` (no arbitrary unpickling)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return tree


def code_fingerprint(extra_modules: tuple[str, ...] = ()) -> str:
    """A hash of the training code's syntax tree (docstrings, comments and layout ignored).

    Args:
        extra_modules: further files of ``l2l_lib`` that a run depends on (e.g. its architecture's module).
    """
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _TRAINING_MODULES + tuple(extra_modules):
        tree = _strip_docstrings(ast.parse((here / name).read_text()))
        digest.update(name.encode())
        digest.update(ast.dump(tree, annotate_fields=False).encode())
    digest.update(torch.__version__.split("+")[0].encode())
    return digest.hexdigest()[:16]


def run_key(config_dicts: list[dict[str, Any]], extra_modules: tuple[str, ...] = ()) -> str:
    """The cache folder name of a run of one or more seeds: a readable prefix, then a hash of the format,
    the training code and the configs (in order).

    Args:
        config_dicts: the runs' ``TrainConfig.to_dict()``, one per seed.
        extra_modules: further files of ``l2l_lib`` the run depends on (see :func:`code_fingerprint`).
    """
    canonical = json.dumps(config_dicts, sort_keys=True, default=list)
    code = code_fingerprint(extra_modules)
    digest = hashlib.sha256(f"{FORMAT_VERSION}|{code}|{canonical}".encode()).hexdigest()[:16]
    family, seeds = config_dicts[0].get("family", "run"), [c.get("seed", 0) for c in config_dicts]
    if len(seeds) == 1:
        return f"{family}-seed{seeds[0]}-{digest}"
    return f"{family}-seeds{seeds[0]}-{seeds[-1]}-pack{len(seeds)}-{digest}"
