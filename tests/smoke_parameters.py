"""Smoke-size parameter values for every chapter that has a `parameters` cell.

The tests execute each chapter with these values (tests/test_notebooks.py,
tests/test_book_build.py, tests/test_cli.py), and `python -m l2l_lib build
--smoke` builds the whole book with them.  Every chapter with a parameters cell
must have an entry here (tests/test_notebooks.py checks): keep the values small
enough that a chapter runs in seconds on 2 CPU cores, yet large enough that
each figure and glued value it makes is still produced.
"""

SMOKE_PARAMETERS: dict[str, dict[str, object]] = {
    "first_run": {"overrides": {"n_steps": 60, "seq_len": 16, "batch_size": 4, "eval_every": 10},
                  "n_test_sequences": 50},
    "boolean": {"n_sets": 2, "n_seeds": 2,
                "overrides": {"n_steps": 40, "seq_len": 16, "batch_size": 4, "eval_every": 10},
                "n_test_sequences": 40},
    # the Boolean chapter's smoke networks (same recipe, seeds and overrides): surgery loads them from the cache
    "surgery": {"n_sets": 2, "n_seeds": 2, "overrides": {"n_steps": 40, "seq_len": 16, "batch_size": 4, "eval_every": 10},
                "n_test_sequences": 40, "probe_sequences": 64, "probe_seq_len": 16},
    "semilinear": {"n_seeds": 2, "overrides": {"n_steps": 30, "seq_len": 40, "batch_size": 4, "eval_every": 10},
                   "n_test_sequences": 20, "test_seq_len": 40},
    "quadratic": {"n_seeds": 2, "per_function_n_seeds": 1, "paper_net_n_seeds": 1, "cross_n_seeds": 1,
                  "overrides": {"n_steps": 20, "seq_len": 20, "batch_size": 4, "eval_every": 10},
                  "paper_net_overrides": {"n_steps": 10},
                  "test_seq_len": 40, "n_test_sequences": 10, "n_functions": 12},
    "learners": {"n_seeds": 2, "family_n_seeds": 2,
                 "overrides": {"n_steps": 20, "seq_len": 16, "batch_size": 4, "eval_every": 10},
                 "n_test_sequences": 12, "test_seq_len": 24, "max_examples": 20, "switch_every": 8},
    "then_and_now": {"n_seeds": 2, "overrides": {"n_steps": 4, "seq_len": 16, "batch_size": 4, "eval_every": 2},
                     "n_test_sequences": 12, "test_seq_len": 16, "max_examples": 12, "table_pools": [0, 16],
                     "sweep_n_seeds": 2, "sweep_test_sequences": 20},
    "diversity": {"table_pools": [0, 4], "n_seeds": 2,
                  "overrides": {"n_steps": 40, "seq_len": 16, "batch_size": 4, "eval_every": 10},
                  "switch_overrides": {"switch_every": 8}, "n_test_sequences": 40, "switch_every": 8},
}
