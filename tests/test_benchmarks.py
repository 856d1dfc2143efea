"""The benchmark scripts run (one iteration each, so they never rot) and count FLOPs as documented.

No timing is asserted here: a benchmark writes a table, the test suite checks values.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import bench_train, harness  # noqa: E402


def _run(script, *args):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick", "--threads", "1", *args],
                          capture_output=True, text=True, timeout=300, env=harness.thread_env(1))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.parametrize("torch_flag", [[], ["--no-torch"]])
def test_bench_train_quick_prints_a_table(torch_flag):
    out = _run("bench_train.py", "--models", "mlp", *torch_flag)
    row = next(line for line in out.splitlines() if line.startswith("| mlp |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:3] == ["mlp", "128", "1"]
    assert float(cells[3]) > 0  # minigan ms
    if torch_flag or not harness.have_torch():
        assert cells[4] == "-" and "PyTorch columns are empty" in out
    else:
        assert float(cells[4]) > 0 and float(cells[5]) > 0


def test_bench_ops_quick_prints_every_op():
    out = _run("bench_ops.py", "--no-torch")
    for op in ("linear", "conv2d", "conv_transpose2d", "batch_norm"):
        assert f"| {op} " in out
    assert "PyTorch columns are empty" in out


def test_flop_count_of_the_mlp_by_hand():
    # Multiply-adds per sample: G 64*256 + 256*256 + 256*784, D 784*256 + 256*256 + 256*1.
    g = 64 * 256 + 256 * 256 + 256 * 784
    d1, d_rest = 784 * 256, 256 * 256 + 256
    d_step = g + 2 * ((d1 + d_rest) * 2 + d_rest)  # fwd + weight grads + input grads but the first layer's
    g_step = g + (d1 + d_rest) * 2 + g + (g - 64 * 256)
    assert bench_train.iteration_flops("mlp") == 2 * 128 * (d_step + g_step)


def test_torch_twin_has_the_same_weights():
    torch = pytest.importorskip("torch")
    import numpy as np

    import minigan
    from minigan import models

    G, _ = models.build("dcgan", (1, 28, 28))
    twin = bench_train.torch_twin(G.body).eval()
    G.eval()
    z = np.random.default_rng(0).standard_normal((2, 64)).astype(np.float32)
    with minigan.no_grad():
        ours = G(minigan.tensor(z)).numpy()
    with torch.no_grad():
        theirs = twin(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
