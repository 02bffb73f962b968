"""Full-size checks (marker ``slow``, left out of the default run): ``pytest -m slow``.

They train at the book's real sizes and assert the results the book's prose relies on.
"""

import json

import pytest

from l2l_lib import cli
from l2l_lib.baselines import ideal_boolean16_sequence_mse
from l2l_lib.evaluate import evaluate
from l2l_lib.train import TrainConfig, train

pytestmark = pytest.mark.slow


def test_boolean16_preset_reaches_the_ideal_learner_on_its_training_functions():
    config = TrainConfig.preset("boolean16")
    result = train(config, progress=False)
    on_training = evaluate(result.model, "boolean16", functions=config.train_functions, seq_len=config.seq_len)
    # the prototype reached the floor (0.0039 at 256 steps) on training functions in almost every run
    assert on_training.mse < 1.25 * ideal_boolean16_sequence_mse(config.seq_len)


def test_first_run_at_full_size_gets_within_twice_the_floor(tmp_path):
    output = cli.run_chapter("first_run", {}, tmp_path / "first_run.ipynb")
    glued = {}
    for cell in json.loads(output.read_text())["cells"]:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                glued[name] = out["data"].get("application/papermill.record/text/plain")
    assert float(glued["fr_ratio"]) < 2.0
