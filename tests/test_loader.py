"""DataLoader: each example once per epoch, shuffles by seed, resumes to the exact batch."""

import numpy as np
import pytest

import minigan
from minigan import backend
from minigan.data import DataLoader


def host(batch):
    return tuple(backend.to_numpy(b) for b in batch) if isinstance(batch, tuple) else backend.to_numpy(batch)


def take(iterator, k):
    return [host(next(iterator)) for _ in range(k)]


def test_each_example_once_per_epoch_drop_last():
    x = np.arange(103, dtype=np.float32)[:, None]
    loader = DataLoader(x, batch_size=10, generator=np.random.default_rng(0))
    assert len(loader) == 10
    for epoch in range(3):
        assert loader.epoch == epoch
        seen = np.concatenate([host(b)[:, 0] for b in loader])
        assert len(seen) == 100 and len(np.unique(seen)) == 100
    assert loader.epoch == 3


def test_each_example_once_per_epoch_keep_last():
    x = np.arange(103, dtype=np.int64)
    loader = DataLoader(x, batch_size=10, drop_last=False, generator=np.random.default_rng(0))
    batches = [host(b) for b in loader]
    assert len(loader) == len(batches) == 11 and len(batches[-1]) == 3
    assert sorted(np.concatenate(batches).tolist()) == list(range(103))


def test_arrays_stay_aligned_and_dtypes_unchanged():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 1, 4, 4)).astype(np.float32)
    y = np.arange(40, dtype=np.int64)
    for xb, yb in DataLoader(x, y, batch_size=8, generator=rng):
        xb, yb = host((xb, yb))
        assert xb.dtype == np.float32 and yb.dtype == np.int64 and xb.shape == (8, 1, 4, 4)
        np.testing.assert_array_equal(xb, x[yb])  # the very values, no conversion


def test_shuffle_depends_on_seed():
    x = np.arange(64)

    def first_epoch(seed):
        return np.concatenate([host(b) for b in DataLoader(x, batch_size=16, generator=np.random.default_rng(seed))])

    np.testing.assert_array_equal(first_epoch(5), first_epoch(5))
    np.testing.assert_array_equal(first_epoch(5), np.random.default_rng(5).permutation(64))
    assert not np.array_equal(first_epoch(5), first_epoch(6))
    ordered = np.concatenate([host(b) for b in DataLoader(x, batch_size=16, shuffle=False)])
    np.testing.assert_array_equal(ordered, x)


def test_default_generator_is_read_when_the_epoch_starts():
    loader = DataLoader(np.arange(30), batch_size=10)
    minigan.manual_seed(11)  # after construction: still applies
    epoch = np.concatenate([host(b) for b in loader])
    np.testing.assert_array_equal(epoch, np.random.default_rng(11).permutation(30))


def test_epochs_draw_new_permutations():
    it = DataLoader(np.arange(20), batch_size=5, generator=np.random.default_rng(0)).batches()
    e1, e2 = np.concatenate(take(it, 4)), np.concatenate(take(it, 4))
    assert sorted(e1.tolist()) == sorted(e2.tolist()) == list(range(20))
    assert not np.array_equal(e1, e2)


@pytest.mark.parametrize("stop", [0, 3, 6, 9, 13])
def test_resume_gives_the_same_batches(stop):
    x = np.arange(50, dtype=np.float32)[:, None]
    y = np.arange(50) % 10
    rng = np.random.default_rng(42)
    loader = DataLoader(x, y, batch_size=8, generator=rng)  # 6 batches per epoch
    it = loader.batches()
    take(it, stop)
    state, rng_state = loader.state_dict(), rng.bit_generator.state
    assert all(type(state[k]) is int for k in ("epoch", "position", "n", "batch_size"))
    assert isinstance(state["perm"], np.ndarray) and state["perm"].dtype == np.int64
    expected = take(it, 15)

    rng2 = np.random.default_rng(0)
    rng2.bit_generator.state = rng_state
    resumed = DataLoader(x, y, batch_size=8, generator=rng2)
    resumed.load_state_dict(state)
    assert resumed.epoch == stop // 6
    got = take(resumed.batches(), 15)
    for (xa, ya), (xb, yb) in zip(expected, got):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_resume_mid_epoch_with_for_loops():
    x = np.arange(30)
    loader = DataLoader(x, batch_size=5, generator=np.random.default_rng(3))
    first = []
    for i, b in enumerate(loader):
        first.append(host(b))
        if i == 1:
            state = loader.state_dict()
    resumed = DataLoader(x, batch_size=5, generator=np.random.default_rng(99))
    resumed.load_state_dict(state)
    rest = [host(b) for b in resumed]  # the rest of that epoch, from the saved permutation
    assert len(rest) == 4
    np.testing.assert_array_equal(np.concatenate(rest), np.concatenate(first[2:]))
    assert resumed.epoch == 1


def test_state_after_the_last_batch_is_the_next_epoch():
    loader = DataLoader(np.arange(10), batch_size=5, generator=np.random.default_rng(0))
    it = iter(loader)
    take(it, 2)
    state = loader.state_dict()
    assert (state["epoch"], state["position"], len(state["perm"])) == (1, 0, 0)


def test_batches_are_backend_arrays(xp_backend):
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    (b,) = list(DataLoader(x, batch_size=6, shuffle=False))
    assert isinstance(b, xp_backend.xp.ndarray) and b.dtype == np.float32
    np.testing.assert_array_equal(backend.to_numpy(b), x)


def test_bad_input():
    with pytest.raises(ValueError) as err:
        DataLoader(np.zeros((10, 2)), batch_size=16)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg == (
        "batch_size=16 is larger than the dataset (10 examples), so with drop_last=True an epoch would have no "
        "batch: use batch_size <= 10 or drop_last=False."
    )
    assert len(DataLoader(np.zeros((10, 2)), batch_size=16, drop_last=False)) == 1
    with pytest.raises(ValueError, match="same first dimension"):
        DataLoader(np.zeros(10), np.zeros(9), batch_size=2)
    with pytest.raises(ValueError, match="positive integer"):
        DataLoader(np.zeros(10), batch_size=0)
    with pytest.raises(ValueError, match="at least one array"):
        DataLoader(batch_size=2)
    with pytest.raises(TypeError, match="host NumPy arrays, got list"):
        DataLoader([1, 2, 3], batch_size=2)
    state = DataLoader(np.zeros(10), batch_size=2).state_dict()
    with pytest.raises(ValueError, match="for 10 examples in batches of 2, but this loader has 12"):
        DataLoader(np.zeros(12), batch_size=2).load_state_dict(state)
