"""Task families and streams (l2l_lib.tasks)."""

import pytest
import torch

from l2l_lib import tasks
from l2l_lib.tasks import beta_values, make_batch, table_pool, truth_table


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_truth_table_matches_definition_for_every_function():
    for k in range(16):
        table = truth_table(k)
        for x1 in (0, 1):
            for x2 in (0, 1):
                assert table[2 * x1 + x2] == (k >> (2 * x1 + x2)) & 1


def test_named_functions():
    assert truth_table(tasks.XOR) == (0, 1, 1, 0)
    assert truth_table(tasks.XNOR) == (1, 0, 0, 1)
    assert truth_table(0) == (0, 0, 0, 0) and truth_table(15) == (1, 1, 1, 1)
    assert truth_table(8) == (0, 0, 0, 1)  # AND


@pytest.mark.parametrize("bad", [-1, 16, 2.0, True, "3"])
def test_truth_table_rejects_bad_ids(bad):
    with pytest.raises(ValueError, match="0..15"):
        truth_table(bad)


def test_family_functions():
    assert tasks.family_functions("boolean16") == tuple(range(16))
    b14 = tasks.family_functions("boolean14")
    assert len(b14) == 14 and 6 not in b14 and 9 not in b14
    with pytest.raises(ValueError, match="continuous"):
        tasks.family_functions("semilinear")


@pytest.mark.parametrize("family", tasks.FAMILIES)
def test_batch_shapes_and_feedback_of_previous_target(family):
    batch = make_batch(family, 5, 17, generator=gen())
    assert batch.inputs.shape == (5, 17, 3) and batch.inputs.dtype == torch.float32
    assert batch.targets.shape == (5, 17, 1) and batch.targets.dtype == torch.float32
    assert torch.all(batch.inputs[:, 0, 2] == 0)
    assert torch.equal(batch.inputs[:, 1:, 2], batch.targets[:, :-1, 0])
    assert batch.segment_starts[:, 0].all() and not batch.segment_starts[:, 1:].any()


@pytest.mark.parametrize("family", tasks.BOOLEAN_FAMILIES)
def test_boolean_targets_follow_the_truth_table(family):
    batch = make_batch(family, 64, 20, generator=gen(1))
    assert set(batch.inputs[..., :2].unique().tolist()) == {0.0, 1.0}
    for b in range(64):
        for t in range(20):
            k = int(batch.function_ids[b, t])
            x1, x2 = int(batch.inputs[b, t, 0]), int(batch.inputs[b, t, 1])
            assert batch.targets[b, t, 0] == truth_table(k)[2 * x1 + x2]
    assert set(batch.function_ids.unique().tolist()) <= set(tasks.family_functions(family))
    assert batch.coefficients is None
    assert torch.equal(batch.patterns(), (2 * batch.inputs[..., 0] + batch.inputs[..., 1]).long())


def test_functions_restricts_the_draw():
    batch = make_batch("boolean16", 200, 8, functions=[6, 9], generator=gen())
    assert set(batch.function_ids.unique().tolist()) == {6, 9}


def test_switches_bring_a_different_function_at_each_boundary():
    batch = make_batch("boolean16", 50, 40, switch_every=8, generator=gen(2))
    ids = batch.function_ids
    for start in range(8, 40, 8):
        assert torch.all(ids[:, start] != ids[:, start - 1])
        assert torch.all(ids[:, start:start + 8] == ids[:, start:start + 1])
    assert batch.segment_starts[0].nonzero().flatten().tolist() == [0, 8, 16, 24, 32]
    assert batch.steps_since_switch()[0, :10].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 0, 1]
    cont = make_batch("semilinear", 4, 30, switch_every=10, generator=gen())
    assert torch.all(cont.coefficients[:, 10] != cont.coefficients[:, 9])
    assert torch.equal(cont.coefficients[:, 10], cont.coefficients[:, 19])


def test_continuous_inputs_coefficients_and_outputs_stay_in_range():
    batch = make_batch("semilinear", 100, 50, generator=gen(), input_range=(-2.0, -1.0), coefficient_range=(0.0, 0.5))
    x = batch.inputs[..., :2]
    assert x.min() >= -2 and x.max() <= -1
    assert batch.coefficients.min() >= 0 and batch.coefficients.max() <= 0.5
    w = batch.coefficients
    expected = 0.5 * (1 + torch.tanh(w[..., 0] * x[..., 0] + w[..., 1] * x[..., 1] + w[..., 2]))
    torch.testing.assert_close(batch.targets[..., 0], expected)


@pytest.mark.parametrize("quadratic_map", tasks.QUADRATIC_MAPS)
def test_quadratic_outputs_lie_in_0_2_to_0_8(quadratic_map):
    batch = make_batch("quadratic", 300, 100, generator=gen(), quadratic_map=quadratic_map)
    assert batch.targets.min() >= 0.2 - 1e-6 and batch.targets.max() <= 0.8 + 1e-6
    assert batch.coefficients.shape == (300, 100, 6)


def test_fixed_quadratic_map_is_the_affine_map_of_minus_6_to_6():
    c = torch.ones(1, 6)
    one = torch.ones(1)
    assert torch.allclose(tasks.quadratic_values(c, one, one, "fixed"), torch.tensor([0.8]))
    assert torch.allclose(tasks.quadratic_values(-c, one, one, "fixed"), torch.tensor([0.2]))


def test_quadratic_bounds_are_exact_against_a_fine_grid():
    c = torch.rand(300, 6, generator=gen(3)) * 2 - 1
    lo, hi = tasks.quadratic_bounds(c)
    grid = torch.linspace(-1, 1, 161)
    x1, x2 = torch.meshgrid(grid, grid, indexing="ij")
    q = tasks.quadratic_raw(c[:, None, None, :].double(), x1.double(), x2.double())
    # the grid can only miss an extreme, never exceed it, and misses it by little
    assert torch.all(q.amin((1, 2)) >= lo.double() - 1e-5) and torch.all(q.amax((1, 2)) <= hi.double() + 1e-5)
    assert (q.amin((1, 2)) - lo.double()).abs().max() < 1e-3
    assert (q.amax((1, 2)) - hi.double()).abs().max() < 1e-3


def test_per_function_map_spans_the_whole_output_range():
    c = torch.rand(200, 6, generator=gen(4)) * 2 - 1
    grid = torch.linspace(-1, 1, 201)
    x1, x2 = torch.meshgrid(grid, grid, indexing="ij")
    y = tasks.quadratic_values(c[:, None, None, :], x1, x2, "per_function")
    assert torch.allclose(y.amin((1, 2)), torch.full((200,), 0.2), atol=2e-3)
    assert torch.allclose(y.amax((1, 2)), torch.full((200,), 0.8), atol=2e-3)


@pytest.mark.parametrize("family", tasks.FAMILIES)
def test_family_mean_is_the_mean_target(family):
    batch = make_batch(family, 4000, 16, generator=gen(5))
    assert abs(float(batch.targets.mean()) - tasks.family_mean(family)) < 0.01


def test_same_generator_seed_same_batch_and_different_seed_different_batch():
    a = make_batch("quadratic", 3, 10, generator=gen(7), switch_every=4)
    b = make_batch("quadratic", 3, 10, generator=gen(7), switch_every=4)
    c = make_batch("quadratic", 3, 10, generator=gen(8), switch_every=4)
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.coefficients, b.coefficients)
    assert not torch.equal(a.inputs, c.inputs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(family="boolean15"), "family"),
    (dict(batch_size=0), "batch_size"),
    (dict(seq_len=2.5), "seq_len"),
    (dict(switch_every=0), "switch_every"),
    (dict(switch_every=11), "switch_every"),
    (dict(functions=[6, 16]), "functions"),
    (dict(family="boolean14", functions=[6]), "functions"),
    (dict(functions=[]), "functions"),
    (dict(family="semilinear", functions=[1]), "functions"),
    (dict(family="semilinear", input_range=(1.0, -1.0)), "input_range"),
    (dict(family="quadratic", coefficient_range=(0.0, float("inf"))), "coefficient_range"),
    (dict(family="quadratic", quadratic_map="log"), "quadratic_map"),
])
def test_bad_arguments_name_the_parameter(kwargs, match):
    args = dict(family="boolean16", batch_size=2, seq_len=10)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        make_batch(args.pop("family"), args.pop("batch_size"), args.pop("seq_len"), **args)


def test_random_tables_are_real_valued_lookups_and_never_boolean_functions():
    plain = make_batch("boolean16", 400, 30, functions=[1, 2], generator=gen(9))
    none = make_batch("boolean16", 400, 30, functions=[1, 2], generator=gen(9), table_fraction=0.0)
    assert torch.equal(plain.inputs, none.inputs)  # fraction 0 draws nothing extra
    batch = make_batch("boolean16", 400, 30, functions=[1, 2], generator=gen(9), table_fraction=0.5,
                       switch_every=15)
    table = batch.function_ids == tasks.TABLE_ID
    assert 0.4 < table.float().mean() < 0.6
    assert set(batch.function_ids[~table].unique().tolist()) <= {1, 2}
    y = batch.targets[..., 0]
    pattern = (2 * batch.inputs[..., 0] + batch.inputs[..., 1]).long()
    assert not torch.all((y[table] == 0) | (y[table] == 1))  # real values, not Boolean answers
    for b in range(40):  # within a table segment, a pattern always gets the same answer
        for seg in (slice(0, 15), slice(15, 30)):
            if table[b, seg].all():
                for p in range(4):
                    values = y[b, seg][pattern[b, seg] == p]
                    assert values.numel() == 0 or torch.all(values == values[0])
    assert torch.equal(batch.inputs[:, 1:, 2], batch.targets[:, :-1, 0])


@pytest.mark.parametrize("family, fraction", [("semilinear", 0.5), ("boolean16", 1.5), ("boolean16", True)])
def test_table_fraction_is_checked(family, fraction):
    with pytest.raises(ValueError, match="table_fraction"):
        make_batch(family, 2, 5, table_fraction=fraction)


def test_a_finite_table_pool_shows_only_its_own_tables():
    pool = table_pool(3, seed=5)
    batch = make_batch("boolean16", 300, 40, functions=[1, 2], generator=gen(2), table_fraction=1.0, table_pool=pool)
    tables = table_rows(batch)
    # every stream's four answers are one row of the pool, and every row is used
    matches = (tables[:, None, :] - pool[None]).abs().amax(-1) < 1e-7  # [streams, K]
    assert bool(matches.any(1).all())
    assert bool(matches.any(0).all())
    assert torch.equal(table_pool(3, seed=5), pool) and not torch.equal(table_pool(3, seed=6), pool)


def table_rows(batch):
    """Each stream's table, read off its steps (pattern p's target at any step showing p); streams that
    miss a pattern are dropped."""
    rows = []
    for b in range(batch.batch_size):
        row = [batch.targets[b, batch.patterns()[b] == p, 0] for p in range(4)]
        if all(len(r) for r in row):
            assert all(torch.allclose(r, r[0].expand_as(r)) for r in row)
            rows.append(torch.stack([r[0] for r in row]))
    return torch.stack(rows)


def test_beta_tables_are_near_binary_for_small_a_and_their_moments_match_beta():
    a = 0.3
    values = beta_values(a, (200_000,), gen(1))
    # Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1))
    assert abs(float(values.mean()) - 0.5) < 0.005
    assert abs(float(values.var()) - 1 / (4 * (2 * a + 1))) < 0.003
    assert torch.equal(beta_values(a, (50,), gen(3)), beta_values(a, (50,), gen(3)))
    batch = make_batch("boolean16", 400, 30, functions=[1], generator=gen(4), table_fraction=1.0, table_beta=a)
    near = ((batch.targets < 0.05) | (batch.targets > 0.95)).float().mean()
    uniform = make_batch("boolean16", 400, 30, functions=[1], generator=gen(4), table_fraction=1.0)
    near_uniform = ((uniform.targets < 0.05) | (uniform.targets > 0.95)).float().mean()
    assert float(near) > 3 * float(near_uniform)


@pytest.mark.parametrize("kwargs, match", [
    (dict(table_pool=torch.zeros(0, 4)), "table_pool"),
    (dict(table_pool=torch.zeros(3, 2)), "table_pool"),
    (dict(table_beta=0.0), "table_beta"),
    (dict(table_beta=-1.0), "table_beta"),
])
def test_table_options_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_batch("boolean16", 2, 5, table_fraction=0.5, **kwargs)


@pytest.mark.parametrize("family, quadratic_map", [("semilinear", "fixed"), ("quadratic", "per_function"),
                                                   ("quadratic", "fixed"), ("boolean16", "fixed")])
def test_target_moments_match_a_fresh_monte_carlo_draw(family, quadratic_map):
    from l2l_lib.tasks import target_moments
    batch = make_batch(family, 4096, 64, generator=torch.Generator().manual_seed(123), quadratic_map=quadratic_map)
    mean, sd = target_moments(family, quadratic_map)
    targets = batch.targets.double()
    # 4096 functions: the mean over functions has a standard error below sd / 64; the sd is checked to 2%
    assert abs(targets.mean().item() - mean) < 4 * sd / 64
    assert abs(targets.std().item() / sd - 1) < 0.02


def test_fixed_map_moments_by_hand():
    from l2l_lib.tasks import target_moments
    # y = 0.5 + q/20; Var q = sum over the six terms of E[coef^2] E[monomial^2] = (1/3)(1/5+1/5+1/9+1/3+1/3+1)
    assert target_moments("quadratic", "fixed") == pytest.approx((0.5, (2.177777 / 3) ** 0.5 / 20), rel=1e-5)
    with pytest.raises(ValueError, match="quadratic_map"):
        target_moments("quadratic", "cubic")
