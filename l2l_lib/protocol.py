"""The evaluation protocol, fixed before any recipe is frozen: which seeds and held-out sets judge a recipe.

Hochreiter, Younger & Conwell (2001), Sec. 3 hold out Boolean functions that the network never trains on
and test whether it learns them from examples alone. A held-out result is only evidence if nothing was
chosen by looking at it. So the book splits its seeds and held-out sets once, here, by rules that do not
depend on any result:

* **Seeds.** Recipe searches use seeds below :data:`SEARCH_SEED_LIMIT` (1000). Evaluation uses seeds from
  :data:`EVALUATION_FIRST_SEED` (10 000) on. No search runs an evaluation seed.
* **Held-out triples.** Each Boolean family is evaluated on :data:`N_EVALUATION_TRIPLES` held-out triples:
  the paper's own (Boolean-16: constant 0, XOR, XNOR; Boolean-14: the report's {0, 5, 10}), then triples
  drawn uniformly, without repetition, by a generator seeded with :data:`TRIPLE_DRAW_SEED`. Boolean-16
  draws until at least one drawn triple has neither XOR nor XNOR.
* **Search triples.** Searches hold out other triples, drawn by their own generator and never equal to an
  evaluation triple (:func:`search_triples`). A search may overlap an evaluation triple in a function, not
  in the set.

The rules were written before the book's present Boolean recipes were searched; the triples they give
are listed by ``python -m l2l_lib recipes`` and tested against a second enumeration in the tests.
"""

from __future__ import annotations

import itertools

import torch

from .tasks import XNOR, XOR, family_functions
from .validation import check_choice

SEARCH_SEED_LIMIT = 1_000
EVALUATION_FIRST_SEED = 10_000
N_EVALUATION_SEEDS = 5
N_EVALUATION_TRIPLES = 4
TRIPLE_DRAW_SEED = 2001
SEARCH_DRAW_SEED = 1
_PAPER_TRIPLES = {"boolean16": (0, XOR, XNOR), "boolean14": (0, 5, 10)}
_BOOLEAN = tuple(_PAPER_TRIPLES)


def evaluation_seeds(n: int = N_EVALUATION_SEEDS) -> tuple[int, ...]:
    """The first ``n`` evaluation seeds: ``10000, 10001, ...``."""
    return tuple(range(EVALUATION_FIRST_SEED, EVALUATION_FIRST_SEED + n))


def search_seeds(n: int, first: int = 0) -> tuple[int, ...]:
    """``n`` seeds for a recipe search, all below :data:`SEARCH_SEED_LIMIT`."""
    if first < 0 or first + n > SEARCH_SEED_LIMIT:
        raise ValueError(f"search seeds must lie in 0..{SEARCH_SEED_LIMIT - 1}; got {first}..{first + n - 1}")
    return tuple(range(first, first + n))


def is_search_seed(seed: int) -> bool:
    """True for seeds a recipe search may use."""
    return 0 <= seed < SEARCH_SEED_LIMIT


def _all_triples(family: str) -> list[tuple[int, int, int]]:
    return list(itertools.combinations(family_functions(family), 3))


def _draw(family: str, seed: int) -> list[tuple[int, int, int]]:
    """Every triple of ``family`` in the order of a permutation drawn by a generator seeded with ``seed``."""
    triples = _all_triples(family)
    order = torch.randperm(len(triples), generator=torch.Generator().manual_seed(seed)).tolist()
    return [triples[i] for i in order]


def has_xor(triple: tuple[int, ...]) -> bool:
    """True if the triple holds XOR or XNOR, the two functions that are not linearly separable."""
    return XOR in triple or XNOR in triple


def evaluation_triples(family: str) -> tuple[tuple[int, int, int], ...]:
    """The held-out triples every Boolean recipe of ``family`` is evaluated on (see the module docstring).

    Args:
        family: ``"boolean16"`` or ``"boolean14"``.
    """
    check_choice("family", family, _BOOLEAN)
    chosen = [_PAPER_TRIPLES[family]]
    for triple in _draw(family, TRIPLE_DRAW_SEED):
        if len(chosen) == N_EVALUATION_TRIPLES:
            break
        if triple in chosen:
            continue
        last = len(chosen) == N_EVALUATION_TRIPLES - 1
        if family == "boolean16" and last and all(has_xor(t) for t in chosen[1:]) and has_xor(triple):
            continue  # the last draw must supply a triple without XOR/XNOR if none has come yet
        chosen.append(triple)
    return tuple(chosen)


def search_triples(family: str, n: int = 1) -> tuple[tuple[int, int, int], ...]:
    """``n`` held-out triples for recipe searches: drawn by their own generator, never an evaluation triple.

    Boolean-16 search triples hold XOR or XNOR, the functions that make held-out learning hard there.
    """
    check_choice("family", family, _BOOLEAN)
    excluded = set(evaluation_triples(family))
    chosen = []
    for triple in _draw(family, SEARCH_DRAW_SEED):
        if triple in excluded or (family == "boolean16" and not has_xor(triple)):
            continue
        chosen.append(triple)
        if len(chosen) == n:
            break
    return tuple(chosen)
