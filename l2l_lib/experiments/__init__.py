"""The experiments layer: library functions that run a study and return frozen dataclasses.

A chapter is prose plus short cells that call these. :mod:`~l2l_lib.experiments.common` trains a named
recipe's seeds and evaluates networks; one module per study sits beside it:
:mod:`~l2l_lib.experiments.boolean` (held-out Boolean functions on every evaluation triple, the book's recipe,
the near-binary variant and Boolean-only training, the references), :mod:`~l2l_lib.experiments.boolean_search` (the
recipe-search logs), :mod:`~l2l_lib.experiments.diversity` (task diversity and switches),
:mod:`~l2l_lib.experiments.surgery` (learners vs recognisers, what each unit stores),
:mod:`~l2l_lib.experiments.continuous` (semi-linear and quadratic against their reference learners),
:mod:`~l2l_lib.experiments.learners` (every learner on every family),
:mod:`~l2l_lib.experiments.per_function` (per-function errors after k examples, examples to criterion per
sequence, each continuous family's networks on the other's streams). Study modules are imported as modules
(``from l2l_lib.experiments import per_function``), not re-exported here: the book re-runs a chapter when a
library file it imports changes, and this ``__init__`` runs for every chapter. Reference learners come from
:mod:`l2l_lib.reference_learners`, tables from :mod:`l2l_lib.tables`, figures from :mod:`l2l_lib.plots`.
"""

from .common import evaluate_runs, held_out_sets, train_recipe, train_recipe_sets

__all__ = ["evaluate_runs", "held_out_sets", "train_recipe", "train_recipe_sets"]
