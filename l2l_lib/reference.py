"""Published numbers the book compares itself with, each with the protocol it was measured under.

Sources:

* ``"paper"``: Hochreiter, Younger & Conwell (2001), "Learning to Learn Using Gradient Descent",
  ICANN 2001, LNCS 2130, pp. 87-94 (Sec. 3-4).
* ``"report"``: R. Siripurapu, "Advanced Topics in Machine Learning: Meta-Learning", a student report
  that replicated the paper with a modern LSTM (cited as ``siripurapu_report`` in ``book/references.bib``).

Chapters glue these values next to their own results, so that every comparison in the prose shows
both numbers and where they come from. ``None`` marks a number the source does not give.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Published:
    """One published result.

    Attributes:
        source: ``"paper"`` or ``"report"``.
        family: task family.
        mse: mean squared error on test sequences (the source's own protocol).
        train_mse, held_out_mse, train_accuracy, held_out_accuracy: where the source splits functions.
        seq_len: sequence length; epochs: training epochs (the source's meaning of the word);
        batch_size: sequences per weight update (None: not stated or one sequence at a time).
        hidden: the network, in words.
        note: anything needed to read the number right.
    """

    source: str
    family: str
    mse: float | None
    seq_len: int
    hidden: str
    epochs: int | None = None
    batch_size: int | None = None
    train_mse: float | None = None
    held_out_mse: float | None = None
    train_accuracy: float | None = None
    held_out_accuracy: float | None = None
    note: str = ""


PUBLISHED: dict[tuple[str, str], Published] = {
    ("paper", "boolean16"): Published(
        "paper", "boolean16", mse=0.0055, seq_len=256, hidden="6 LSTM units (no forget gate)",
        note="no train/test split of functions is described"),
    ("report", "boolean16"): Published(
        "report", "boolean16", mse=0.0064, seq_len=256, hidden="6 LSTM units with forget gate", batch_size=4,
        train_accuracy=0.993, held_out_accuracy=0.993,
        note="13 training functions, 3 held out including XOR and XNOR; Adam"),
    ("paper", "boolean14"): Published(
        "paper", "boolean14", mse=0.033, seq_len=64, hidden="6 LSTM units (no forget gate)",
        note="no train/test split of functions is described"),
    ("report", "boolean14"): Published(
        "report", "boolean14", mse=0.034, seq_len=64, hidden="6 LSTM units with forget gate", batch_size=16,
        train_mse=0.034, held_out_mse=0.09, train_accuracy=0.96, held_out_accuracy=0.86,
        note="11 training functions, 3 held out; Adam"),
    ("paper", "semilinear"): Published(
        "paper", "semilinear", mse=0.0020, seq_len=1000, hidden="6 LSTM units (no forget gate)", epochs=5000),
    ("report", "semilinear"): Published(
        "report", "semilinear", mse=0.0017, seq_len=1000, hidden="6 LSTM units with forget gate", epochs=1000,
        batch_size=16),
    ("paper", "quadratic"): Published(
        "paper", "quadratic", mse=None, seq_len=1000, epochs=25000,
        hidden="6 LSTM blocks of 2 cells, a 40-unit hidden layer fed back; 5373 weights",
        note="output scaled into [0.2, 0.8]; the scaling is not specified"),
    ("report", "quadratic"): Published(
        "report", "quadratic", mse=0.0005, seq_len=1000, epochs=3000, batch_size=16,
        hidden="6-unit LSTM layer feeding a 40-unit LSTM layer"),
}


def published(source: str, family: str) -> Published:
    """The published result of ``source`` (``"paper"`` or ``"report"``) on ``family``."""
    if (source, family) not in PUBLISHED:
        raise ValueError(f"no published result for (source, family) = {(source, family)!r}; "
                         f"known: {sorted(PUBLISHED)}")
    return PUBLISHED[(source, family)]
