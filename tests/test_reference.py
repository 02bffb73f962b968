"""Published numbers (l2l_lib.reference): complete, consistent, and looked up safely."""

import pytest

from l2l_lib.reference import PUBLISHED, published
from l2l_lib.tasks import FAMILIES


def test_every_family_has_the_paper_and_the_report():
    for source in ("paper", "report"):
        for family in FAMILIES:
            entry = published(source, family)
            assert entry.source == source and entry.family == family
            assert entry.seq_len in (64, 256, 1000)
            for value in (entry.mse, entry.train_mse, entry.held_out_mse):
                assert value is None or 0 < value < 0.25
            for value in (entry.train_accuracy, entry.held_out_accuracy):
                assert value is None or 0.5 < value <= 1


def test_sequence_lengths_follow_the_paper():
    assert published("paper", "boolean16").seq_len == 256 and published("paper", "boolean14").seq_len == 64
    assert all(p.seq_len == 1000 for (s, f), p in PUBLISHED.items() if f in ("semilinear", "quadratic"))


def test_unknown_lookup_names_the_known_ones():
    with pytest.raises(ValueError, match="known"):
        published("paper", "cubic")
