"""The experiments layer: library functions that run a study and return frozen dataclasses.

:mod:`~l2l_lib.experiments.common` trains a named recipe's seeds and evaluates networks; one module per
study (a chapter's computations) sits beside it. Chapters call these in short visible cells.
"""

from .common import evaluate_runs, train_recipe

__all__ = ["evaluate_runs", "train_recipe"]
