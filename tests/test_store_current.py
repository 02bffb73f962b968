"""The shipped store holds every network the book needs, for the current training code and recipes.

A change to the training code or to a recipe makes entries stale; this test then fails, naming them,
until the store is refreshed (``python -m l2l_lib train-all --update-store``) in the same change.
"""

from l2l_lib.networks import book_packs
from l2l_lib.store import STORE_ENV, default_store_dir, entry_state, total_size


def test_every_book_network_is_current_in_the_store(monkeypatch):
    monkeypatch.delenv(STORE_ENV, raising=False)  # the repository's own store
    problems = [f"{state.pack.name}: {state.state} ({state.why})"
                for state in (entry_state(pack) for pack in book_packs()) if state.state != "current"]
    assert not problems, ("the store is not current; run `python -m l2l_lib train-all --update-store` and "
                          "commit store/:\n" + "\n".join(problems))


def test_the_store_stays_small():
    assert total_size(default_store_dir()) < 20e6  # bytes: shipped in the repository
