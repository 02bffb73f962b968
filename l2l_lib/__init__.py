"""l2l_lib: the library behind the executable replication of Hochreiter, Younger & Conwell (2001),
"Learning to Learn Using Gradient Descent".

One module per concept:

* the task and the network: :mod:`~l2l_lib.tasks` (function families and example streams),
  :mod:`~l2l_lib.model` (the LSTM meta-learner), :mod:`~l2l_lib.paper_net` (the 2001 quadratic network),
  :mod:`~l2l_lib.packed` (many seeds as one block-diagonal network);
* training: :mod:`~l2l_lib.config` (``TrainConfig``), :mod:`~l2l_lib.recipes` (the book's named recipes),
  :mod:`~l2l_lib.trainer` (the one training loop), :mod:`~l2l_lib.train` (train, packs, the cache),
  :mod:`~l2l_lib.checkpoints` and :mod:`~l2l_lib.atomic` (safe files);
* the book's networks: :mod:`~l2l_lib.networks` (what the book needs), :mod:`~l2l_lib.store` (the
  shipped trained networks), :mod:`~l2l_lib.stage` (the parallel train stage, local or on Ray);
* measuring: :mod:`~l2l_lib.evaluate`, :mod:`~l2l_lib.baselines`, :mod:`~l2l_lib.reference_learners`,
  :mod:`~l2l_lib.surgery`, :mod:`~l2l_lib.reference` (published numbers), the studies of
  :mod:`~l2l_lib.experiments`, :mod:`~l2l_lib.tables` and :mod:`~l2l_lib.plots`;
* :mod:`~l2l_lib.validation`: every argument check's wording.

The book tooling (chapters, parameters, running and building) is :mod:`l2l_lib.book`, behind
``python -m l2l_lib`` (:mod:`~l2l_lib.cli`); none of the modules above imports it.
"""

from .model import MetaLSTM, gate_table, readout_weights
from .recipes import recipe
from .tasks import Batch, make_batch, truth_table
from .train import TrainConfig, TrainResult, load_or_train, train, train_packed, train_seeds

__all__ = ["Batch", "MetaLSTM", "TrainConfig", "TrainResult", "gate_table", "load_or_train", "make_batch",
           "readout_weights", "recipe", "train", "train_packed", "train_seeds", "truth_table"]
