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
