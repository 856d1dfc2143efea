#!/usr/bin/env bash
# minigan on a real GPU, in one go (under 8 minutes on one H200 with 16 cores):
#
#   bash benchmarks/gpu_check.sh [OUTDIR]
#
# Output: under $OUT if it is set, else under OUTDIR (default: gpu_check_out/ in the checkout):
#   summary.md / summary.tsv     stage, exit code, seconds, what it found, its log
#   NN-<stage>.log               each stage's whole output
#   compare/compare.md           the first 20 losses on NumPy and on CuPy, side by side (stage 2)
#   launches/launches.md         kernels per dcgan iteration, minigan and PyTorch (stage 4)
#   lesson15/                    lesson 15's figures (stage 5)
#
# Stages (each under `timeout`; a failing stage is recorded and the next one runs):
#   0 env        versions, the GPU, where MNIST's test files are
#   1 pytest     python -m pytest -m gpu -q: the GPU tests on real CuPy, in 4 concurrent processes
#                (by test file) so that CuPy's first-use kernel compiles overlap; GPU_CHECK_SHARDS=1:
#                one process
#   2 compare    benchmarks/compare_backends.py: the trainer on NumPy and on CuPy, the same 20
#                steps from one seed (mlp on ring8, dcgan on MNIST's test files)
#   3 bench      benchmarks/bench_train.py --backend cupy: ms per iteration beside PyTorch CUDA
#   4 launches   benchmarks/count_launches.py: CUDA kernels per dcgan (and mlp) iteration (CUPTI)
#   5 lesson15   python lessons/15_numpy_vs_cupy.py, in full
#
# Installs nothing; runs minigan from this working tree (PYTHONPATH=.). MNIST's test files are
# looked for in $MINIGAN_DATA, ./shared/data/mnist, ../shared/data/mnist (in that order). On a
# machine that gets only the working tree: `mkdir -p gpu_data && cp ../shared/data/mnist/t10k-* gpu_data/`
# (gpu_data/ is git-ignored: send it along), then `MINIGAN_DATA=gpu_data bash benchmarks/gpu_check.sh`.
#
# GPU_CHECK_STANDIN=1: a dry run on a CPU machine, every stage on the strict CuPy stand-in
# (tests/run_on_standin.py) with small sizes: the script checked end to end in a few minutes.
# GPU_CHECK_BUDGET: seconds for all stages together (default 450); each stage's timeout is cut
# to what is left, and a stage with under 15 s left is skipped (exit code "skip").
# Exit status: 0 when every stage exited 0, else 1.

set -u

here="$(pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
outdir="${OUT:-${1:-gpu_check_out}}"
case "$outdir" in /*) ;; *) outdir="$here/$outdir" ;; esac
mkdir -p "$outdir"
cd "$root" || exit 2

standin="${GPU_CHECK_STANDIN:-0}"
budget="${GPU_CHECK_BUDGET:-450}"
shards="${GPU_CHECK_SHARDS:-4}"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export MPLBACKEND=Agg
export PYTHONUNBUFFERED=1
py="${PYTHON:-$(command -v python || command -v python3 || echo python)}"
if [ "$standin" = 1 ]; then
    dev=("$py" tests/run_on_standin.py)  # the stand-in plays CuPy (and sets MINIGAN_BACKEND=cupy)
else
    dev=("$py")
fi

# MNIST's test files: $MINIGAN_DATA, then ./shared/data/mnist, then ../shared/data/mnist.
has_mnist() { [ -e "$1/t10k-images-idx3-ubyte.gz" ] || [ -e "$1/t10k-images-idx3-ubyte" ]; }
mnist=""
for d in "${MINIGAN_DATA:-}" "$root/shared/data/mnist" "$root/../shared/data/mnist"; do
    if [ -n "$d" ] && has_mnist "$d"; then mnist="$(cd "$d" && pwd)"; break; fi
done
if [ -n "$mnist" ]; then
    export MINIGAN_DATA="$mnist"
    mnist_note="MNIST test files: $mnist"
else
    mnist_note="NO MNIST test files found in \$MINIGAN_DATA (${MINIGAN_DATA:-unset}), $root/shared/data/mnist or $root/../shared/data/mnist: the dcgan comparison and the tests that need MNIST cannot run"
fi
echo "gpu_check: output in $outdir; stand-in: $standin; budget ${budget}s; $mnist_note"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs_since() { local ms=$(( $(now_ms) - $1 )); printf '%d.%d' $(( ms / 1000 )) $(( ms % 1000 / 100 )); }
t_start=$(now_ms)
summary_tsv="$outdir/summary.tsv"
printf 'stage\texit\tseconds\tnote\tlog\n' > "$summary_tsv"
rm -f "$outdir"/1-pytest.shard*.log  # a previous run's
failed=0

# note_for STAGE LOG: one line of what the stage found, read from its log.
note_for() {
    local log="$2"
    case "$1" in
        0-env) grep -m1 '^gpu:' "$log" ;;
        1-pytest) if ls "$outdir"/1-pytest.shard*.log >/dev/null 2>&1; then tail -q -n 1 "$outdir"/1-pytest.shard*.log
                  else tail -n 1 "$log"; fi \
                      | tr '\n' ' ' ;;
        2-compare) grep -E '^\| (mlp|dcgan) \|' "$log" | cells '{printf "%s: largest rel diff %s, %s; ", $2, $6, $7}' ;;
        3-bench) grep -E '^\| (mlp|dcgan) \|' "$log" | cells '{printf "%s: %s ms, torch %s ms; ", $2, $5, $6}' ;;
        4-launches) grep -E '^\| (mlp|dcgan) \|' "$log" | cells '{printf "%s %s: %s; ", $2, $3, $5}' ;;
        5-lesson15) grep -m1 -E '^checks: ' "$log" ;;
    esac 2>/dev/null | tr -s ' ' | cut -c1-400
}
cells() { awk -F'|' '{ for (i = 1; i <= NF; i++) gsub(/^ +| +$/, "", $i) } '"$1"; }  # markdown rows, cells trimmed

# stage NAME LIMIT CMD...: run CMD under timeout, its output to NAME.log; record exit code and seconds.
stage() {
    local name="$1" limit="$2"; shift 2
    local log="$outdir/$name.log" left t0 rc secs
    left=$(( budget - ($(now_ms) - t_start) / 1000 ))
    [ "$limit" -gt "$left" ] && limit=$left
    if [ "$limit" -lt 15 ]; then
        echo "== $name: skipped, ${left}s of the budget left"
        printf '%s\tskip\t0\tnot run: budget spent\t%s\n' "$name" "$(basename "$log")" >> "$summary_tsv"
        failed=1
        return
    fi
    echo "== $name (timeout ${limit}s): $(printf '%s ' "$@" | tr '\n' ' ' | cut -c1-150)"
    t0=$(now_ms)
    { echo "\$ $*"; echo; } > "$log"
    timeout -k 5 "$limit" "$@" >> "$log" 2>&1
    rc=$?
    secs=$(secs_since "$t0")
    [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && echo "[gpu_check] timed out after ${limit}s" >> "$log"
    [ "$rc" -ne 0 ] && failed=1
    local note; note="$(note_for "$name" "$log")"
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$rc" "$secs" "$note" "$(basename "$log")" >> "$summary_tsv"
    echo "== $name: exit $rc in ${secs}s"
    if [ "$rc" -ne 0 ]; then tail -n 25 "$log"; else tail -n 6 "$log"; fi
    echo
}

# --------------------------------------------------------------------------- 0: the machine
stage 0-env 30 "$py" -c "
import os, platform, shutil, subprocess, sys
import numpy
print('python', platform.python_version(), '| numpy', numpy.__version__, '| cores', os.cpu_count())
try:
    import cupy
    print('cupy', cupy.__version__)
except Exception as e:
    print('cupy: does not import:', type(e).__name__, e)
try:
    import torch
    print('torch', torch.__version__, '| torch.cuda.is_available()', torch.cuda.is_available(),
          '| device', torch.cuda.get_device_name(0) if torch.cuda.is_available() else '-')
except Exception as e:
    print('torch: does not import:', type(e).__name__, e)
from minigan import backend
print('gpu: minigan backend.cupy_available() =', backend.cupy_available(),
      '(stand-in run)' if '$standin' == '1' else '')
if shutil.which('nvidia-smi'):
    print(subprocess.run(['nvidia-smi', '--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'],
                         capture_output=True, text=True).stdout.strip())
print('$mnist_note')
"

# --------------------------------------------------------------------------- 1: the GPU tests
pytest_shards() {  # the GPU tests in $shards concurrent pytest processes, one log each; exit: the worst
    local groups=() pids=() rc=0 i r threads
    if [ "$shards" -le 1 ]; then
        "$py" -m pytest -m gpu -q -p no:cacheprovider
        return
    fi
    groups=("tests/test_ops.py"
            "tests/test_conv.py tests/test_gradcheck.py tests/test_losses.py"
            "tests/test_nn.py tests/test_autograd.py tests/test_optim.py"
            "tests --ignore=tests/test_ops.py --ignore=tests/test_conv.py --ignore=tests/test_gradcheck.py --ignore=tests/test_losses.py --ignore=tests/test_nn.py --ignore=tests/test_autograd.py --ignore=tests/test_optim.py")
    threads=$(( $(nproc 2>/dev/null || echo 4) / ${#groups[@]} )); [ "$threads" -lt 1 ] && threads=1
    for i in "${!groups[@]}"; do  # the CPU cores shared out: NumPy's reference computations in the tests
        # shellcheck disable=SC2086  # the group is a list of paths and options
        OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads MKL_NUM_THREADS=$threads \
            "$py" -m pytest -m gpu -q -p no:cacheprovider ${groups[$i]} > "$outdir/1-pytest.shard$i.log" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}"; r=$?
        echo "--- shard $i (${groups[$i]}): exit $r"
        tail -n 15 "$outdir/1-pytest.shard$i.log"
        [ "$r" -gt "$rc" ] && rc=$r
    done
    return "$rc"
}
if [ "$standin" = 1 ]; then
    stage 1-pytest 120 "$py" -m pytest -q -k cupy-standin -p no:cacheprovider
else
    export -f pytest_shards; export py shards outdir
    stage 1-pytest 150 bash -c pytest_shards
fi

# --------------------------------------------------------------------------- 2: NumPy vs CuPy, the same 20 steps
if [ "$standin" = 1 ]; then
    stage 2-compare 90 "$py" benchmarks/compare_backends.py --standin --tol 0 --steps 20 --out "$outdir/compare"
else
    stage 2-compare 75 "$py" benchmarks/compare_backends.py --steps 20 --out "$outdir/compare"
fi

# --------------------------------------------------------------------------- 3: ms per iteration beside PyTorch CUDA
if [ "$standin" = 1 ]; then
    stage 3-bench 60 "${dev[@]}" benchmarks/bench_train.py --backend cupy --quick --no-torch
else
    stage 3-bench 90 "$py" benchmarks/bench_train.py --backend cupy --threads 1 --rounds 2
fi

# --------------------------------------------------------------------------- 4: kernel launches per iteration
if [ "$standin" = 1 ]; then
    stage 4-launches 60 "${dev[@]}" benchmarks/count_launches.py --models dcgan mlp --out "$outdir/launches"
else
    stage 4-launches 60 "$py" benchmarks/count_launches.py --models dcgan mlp --require-cuda --out "$outdir/launches"
fi

# --------------------------------------------------------------------------- 5: lesson 15 in full
if [ "$standin" = 1 ]; then
    stage 5-lesson15 60 "${dev[@]}" lessons/15_numpy_vs_cupy.py --quick
else
    stage 5-lesson15 75 "$py" lessons/15_numpy_vs_cupy.py
fi
[ -d lessons/out/15 ] && mkdir -p "$outdir/lesson15" && cp -r lessons/out/15/. "$outdir/lesson15/"

# --------------------------------------------------------------------------- the summary
total=$(secs_since "$t_start")
{
    echo "## gpu_check: $( [ "$standin" = 1 ] && echo 'dry run on the strict CuPy stand-in' || echo 'CuPy on the GPU')"
    echo
    echo "$mnist_note. Total ${total} s (budget ${budget} s)."
    echo
    echo "| stage | exit | seconds | found | log |"
    echo "|---|---|---|---|---|"
    tail -n +2 "$summary_tsv" | while IFS=$'\t' read -r s_name s_rc s_secs s_note s_log; do
        echo "| $s_name | $s_rc | $s_secs | ${s_note//|/\\|} | $s_log |"
    done
} > "$outdir/summary.md"
echo "==================================================================== summary"
if command -v column >/dev/null; then column -t -s $'\t' "$summary_tsv" | cut -c1-220; else cat "$summary_tsv"; fi
echo "total ${total}s; written to $outdir/summary.md"
exit "$failed"
