"""Slow tier: retraining a sample of stored networks, one pack per family, gives the stored weights.

Bit for bit on a machine of the kind that trained the store (same CPU model and instruction set); on
another CPU, PyTorch's kernels may round differently and 30k steps amplify that into other networks (the
reproducing chapter says so), so the test is skipped there with the reason.
"""

import pytest
import torch

from l2l_lib.networks import book_packs
from l2l_lib.store import entry_state, provenance, read_pack, stored_provenance
from l2l_lib.train import train_packed

# One pack per family, the cheapest of each (minutes on one core).
SAMPLE = {"boolean16": "first_run", "boolean14": "boolean14", "semilinear": "semilinear",
          "quadratic": "quadratic"}


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(SAMPLE))
def test_a_stored_pack_retrains_bit_for_bit(family, tmp_path):
    pack = book_packs([SAMPLE[family]])[0]
    assert pack.configs[0].family == family
    state = entry_state(pack)
    assert state.state == "current", f"{pack.name}: {state.state} ({state.why})"
    stored_on, here = stored_provenance(pack), provenance()
    if (stored_on["cpu"], stored_on["cpu_capability"]) != (here["cpu"], here["cpu_capability"]):
        pytest.skip(f"stored on {stored_on['cpu']} ({stored_on['cpu_capability']}), this is {here['cpu']} "
                    f"({here['cpu_capability']}): only agreement in distribution is expected")
    retrained = train_packed(list(pack.configs), checkpoint_dir=tmp_path, progress=False)
    for stored, again in zip(read_pack(pack), retrained):
        a, b = stored.model.state_dict(), again.model.state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), f"{pack.name} seed {stored.config.seed} differs"
        assert stored.history.val_mse == again.history.val_mse
