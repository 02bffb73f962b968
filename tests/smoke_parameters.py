"""Smoke-size parameter values for every chapter that has a `parameters` cell.

The tests execute each chapter with these values (tests/test_notebooks.py,
tests/test_book_build.py, tests/test_cli.py), and `python -m l2l_lib build
--smoke` builds the whole book with them.  Every chapter with a parameters cell
must have an entry here (tests/test_notebooks.py checks): keep the values small
enough that a chapter runs in seconds on 2 CPU cores, yet large enough that
each figure and glued value it makes is still produced.
"""

SMOKE_PARAMETERS: dict[str, dict[str, object]] = {
    "first_run": {"n_epochs": 60, "seq_len": 16, "batch_size": 4, "n_test_sequences": 50},
    "boolean": {"n_seeds": 2, "n_epochs": 40, "seq_len": 16, "batch_size": 4, "b14_n_epochs": 40,
                "b14_seq_len": 12, "n_test_sequences": 40, "eval_every": 10},
    "surgery": {"n_seeds": 2, "n_epochs": 40, "seq_len": 16, "batch_size": 4, "n_test_sequences": 40,
                "eval_every": 10, "probe_sequences": 64, "probe_seq_len": 16},
    "semilinear": {"n_seeds": 2, "n_epochs": 30, "seq_len": 40, "batch_size": 4, "eval_every": 10,
                   "n_test_sequences": 20},
    "quadratic": {"n_seeds": 2, "n_epochs": 20, "train_seq_len": 20, "seq_len": 40, "batch_size": 4,
                  "hidden_size_2": 8, "eval_every": 10, "fixed_map_seeds": 1, "n_test_sequences": 10,
                  "paper_net_seeds": 1, "paper_net_epochs": 10},
    "learners": {"n_seeds": 2, "boolean_chapter_seeds": 2, "continuous_chapter_seeds": 2, "b16_n_epochs": 20,
                 "b16_seq_len": 16, "b14_n_epochs": 20, "b14_seq_len": 12, "sl_n_epochs": 20, "sl_seq_len": 30,
                 "q_n_epochs": 10, "q_train_seq_len": 20, "batch_size": 4, "eval_every": 10,
                 "n_test_sequences": 12, "test_seq_len": 24, "max_examples": 20, "switch_every": 8},
}
