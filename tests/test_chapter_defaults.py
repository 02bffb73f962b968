"""Chapters that share trained networks must ask for the same ones by default."""

from l2l_lib import cli


def test_surgery_defaults_are_the_boolean_chapters_recipe():
    """The surgery chapter analyses the Boolean chapter's Boolean-16 networks from the cache: every
    training parameter the two share must have the same default, or the full book would train twice."""
    boolean, surgery = cli.chapter_parameters("boolean"), cli.chapter_parameters("surgery")
    shared = {"n_seeds", "first_seed", "n_epochs", "seq_len", "batch_size", "learning_rate", "hidden_size",
              "held_out", "table_fraction", "tables_until", "decay_fraction", "grad_clip", "keep_best", "eval_every",
              "n_test_sequences"}
    assert shared <= set(boolean) and shared <= set(surgery)
    assert {k: surgery[k] for k in shared} == {k: boolean[k] for k in shared}


def test_boolean_chapter_trains_the_presets():
    """TrainConfig.preset("boolean16"/"boolean14") is the recipe the Boolean chapter reports."""
    from l2l_lib.train import TrainConfig
    p = cli.chapter_parameters("boolean")
    for family, prefix in (("boolean16", ""), ("boolean14", "b14_")):
        preset = TrainConfig.preset(family)
        assert preset.n_epochs == p[f"{prefix}n_epochs"] and preset.seq_len == p[f"{prefix}seq_len"]
        assert preset.held_out == tuple(p[f"{prefix}held_out"])
        assert (preset.learning_rate, preset.table_fraction, preset.tables_until, preset.decay_fraction,
                preset.grad_clip, preset.keep_best, preset.batch_size, preset.hidden_sizes, preset.eval_every) == (
            p["learning_rate"], p["table_fraction"], p["tables_until"], p["decay_fraction"], p["grad_clip"],
            p["keep_best"], p["batch_size"], (p["hidden_size"],), p["eval_every"])


def test_learners_chapter_asks_for_the_family_chapters_networks():
    learners = cli.chapter_parameters("learners")
    boolean, semilinear = cli.chapter_parameters("boolean"), cli.chapter_parameters("semilinear")
    quadratic = cli.chapter_parameters("quadratic")
    pairs = [
        (learners["boolean_chapter_seeds"], boolean["n_seeds"]),
        (learners["boolean_first_seed"], boolean["first_seed"]),
        (learners["b16_n_epochs"], boolean["n_epochs"]), (learners["b16_seq_len"], boolean["seq_len"]),
        (learners["b16_held_out"], boolean["held_out"]),
        (learners["b14_n_epochs"], boolean["b14_n_epochs"]), (learners["b14_seq_len"], boolean["b14_seq_len"]),
        (learners["b14_held_out"], boolean["b14_held_out"]),
        (learners["continuous_chapter_seeds"], semilinear["n_seeds"]),
        (learners["continuous_chapter_seeds"], quadratic["n_seeds"]),
        (learners["continuous_first_seed"], semilinear["first_seed"]),
        (learners["continuous_first_seed"], quadratic["first_seed"]),
        (learners["sl_n_epochs"], semilinear["n_epochs"]), (learners["sl_seq_len"], semilinear["seq_len"]),
        (learners["sl_grad_clip"], semilinear["grad_clip"]), (learners["sl_keep_best"], semilinear["keep_best"]),
        (learners["q_n_epochs"], quadratic["n_epochs"]), (learners["q_train_seq_len"], quadratic["train_seq_len"]),
        (learners["decay_fraction"], semilinear["decay_fraction"]),
        (learners["decay_fraction"], quadratic["decay_fraction"]),
        (learners["eval_every"], semilinear["eval_every"]), (learners["eval_every"], quadratic["eval_every"]),
        (learners["batch_size"], boolean["batch_size"]),
    ]
    assert [a for a, _ in pairs] == [b for _, b in pairs]
    # the continuous chapters' other settings are the presets' (the learners chapter builds on those)
    from l2l_lib.train import TrainConfig
    sl, q = TrainConfig.preset("semilinear"), TrainConfig.preset("quadratic")
    assert (sl.learning_rate, sl.hidden_sizes) == (semilinear["learning_rate"], (semilinear["hidden_size"],))
    assert (q.learning_rate, q.hidden_sizes, q.quadratic_map) == (
        quadratic["learning_rate"], (quadratic["hidden_size"], quadratic["hidden_size_2"]), quadratic["quadratic_map"])
