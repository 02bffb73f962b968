"""l2l_lib: the library behind the executable replication of Hochreiter, Younger & Conwell (2001),
"Learning to Learn Using Gradient Descent".

One module per concept: :mod:`~l2l_lib.tasks` (function families and example streams),
:mod:`~l2l_lib.model` (the LSTM meta-learner), :mod:`~l2l_lib.train` (meta-training, presets, cache),
:mod:`~l2l_lib.packed` (many seeds as one computation),
:mod:`~l2l_lib.checkpoints` (safe, atomic files), :mod:`~l2l_lib.evaluate` (metrics),
:mod:`~l2l_lib.baselines` (ideal and gradient-descent learners), :mod:`~l2l_lib.plots` (figures),
:mod:`~l2l_lib.cli` (``python -m l2l_lib``).
"""

from .model import MetaLSTM, gate_table, readout_weights
from .tasks import Batch, make_batch, truth_table
from .packed import train_packed, train_seeds
from .train import TrainConfig, TrainResult, load_or_train, train

__all__ = ["Batch", "MetaLSTM", "TrainConfig", "TrainResult", "gate_table", "load_or_train", "make_batch",
           "readout_weights", "train", "train_packed", "train_seeds", "truth_table"]
