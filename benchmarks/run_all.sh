#!/usr/bin/env bash
# Runs every benchmark and its Python peer in the same session, writes benchmarks/results/<name>.json (C++ result,
# peer result and machine description together) and prints a summary table (benchmarks/summarise.py).
#
#   benchmarks/run_all.sh                 # closed_form, modewise, full_matrix, depth (the numerics benchmarks)
#   benchmarks/run_all.sh modewise        # a subset, by name
#   benchmarks/run_all.sh conv            # (g) full-width convolution, FFT vs dense (not in the default set)
#   benchmarks/run_all.sh train           # trainer vs PyTorch eager (needs python3-torch; not in the default set)
#
# Environment: BUILD_DIR (default build/bench, configured Release, CUDA off, if missing), PYTHON (default
# /usr/bin/python3: Debian's, with NumPy/SciPy), RESULTS_DIR (default benchmarks/results), QUICK=1 (fewer
# repetitions, no bsimp run; for trying the harness, not for docs), TRAIN_ROUNDS (default 3: interleaved rounds
# of the train benchmark), THREADS (default 2: threads of both sides of the train benchmark, and specbias's batch
# shards). Timings are the best of several repetitions
# because the reference machine is shared; each result records the load average before it ran.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build/bench}"
PYTHON="${PYTHON:-/usr/bin/python3}"
RESULTS_DIR="${RESULTS_DIR:-$ROOT/benchmarks/results}"
QUICK="${QUICK:-0}"
NAMES=("$@")
[ ${#NAMES[@]} -eq 0 ] && NAMES=(closed_form modewise full_matrix depth)
for n in "${NAMES[@]}"; do
  case "$n" in
    closed_form | modewise | full_matrix | depth | conv | noncentred) ;;
    train) "$PYTHON" -c "import torch" 2>/dev/null || { echo "run_all.sh: train needs PyTorch in $PYTHON" >&2; exit 1; } ;;
    *) echo "run_all.sh: unknown benchmark '$n' (known: closed_form modewise full_matrix depth conv noncentred train)" >&2; exit 1 ;;
  esac
done

"$PYTHON" -c "import numpy, scipy" 2>/dev/null || { echo "run_all.sh: $PYTHON lacks numpy/scipy (set PYTHON=...)" >&2; exit 1; }

# ---- build (Release) ------------------------------------------------------------------------------------------
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DSPECBIAS_CUDA=OFF >/dev/null
fi
build_type="$(grep -E '^CMAKE_BUILD_TYPE:' "$BUILD_DIR/CMakeCache.txt" | cut -d= -f2)"
if [ "$build_type" != "Release" ]; then
  echo "run_all.sh: $BUILD_DIR is configured as '$build_type'; benchmarks need Release (set BUILD_DIR)" >&2
  exit 1
fi
targets=()
for n in "${NAMES[@]}"; do targets+=(--target "bench_$n"); done
cmake --build "$BUILD_DIR" -j"$(nproc)" "${targets[@]}" >/dev/null
BIN="$BUILD_DIR/benchmarks"

mkdir -p "$RESULTS_DIR"
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT

# ---- machine description (shared by every result file) ----------------------------------------------------------
ROOT="$ROOT" "$PYTHON" - "$SCRATCH/machine.json" <<'EOF'
import json, os, platform, subprocess, sys
import numpy, scipy
def lscpu(field):
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.split(":")[0].strip() == field:
            return line.split(":", 1)[1].strip()
    return None
flags = lscpu("Flags") or ""
simd = [f for f in ("avx2", "fma", "avx512f") if f in flags.split()]
cxx = subprocess.run(["c++", "--version"], capture_output=True, text=True).stdout.splitlines()
info = {
    "cpu_model": lscpu("Model name"), "cpus": os.cpu_count(), "threads_per_core": lscpu("Thread(s) per core"),
    "hypervisor": lscpu("Hypervisor vendor"), "simd": simd, "kernel": platform.release(),
    "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    "python": platform.python_version(), "numpy": numpy.__version__, "scipy": scipy.__version__,
    "cxx": cxx[0] if cxx else None,
    "source": subprocess.run(["git", "-C", os.environ["ROOT"], "describe", "--always", "--dirty"],
                             capture_output=True, text=True).stdout.strip() or None,
}
json.dump(info, open(sys.argv[1], "w"), indent=2)
EOF

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# run_one NAME CPP_ARGS... -- PEER_COMMANDS (each peer command: a quoted string, run with $PYTHON)
merge() {  # merge NAME: combine $SCRATCH/NAME.{cpp,peer*}.json into $RESULTS_DIR/NAME.json
  "$PYTHON" - "$1" "$SCRATCH" "$RESULTS_DIR" <<'EOF'
import glob, json, os, sys
name, scratch, results = sys.argv[1:4]
out = {"benchmark": name, "machine": json.load(open(os.path.join(scratch, "machine.json"))),
       "load_average_before": open(os.path.join(scratch, name + ".load")).read().strip(),
       "specbias": json.load(open(os.path.join(scratch, name + ".cpp.json")))}
peers = {}
for f in sorted(glob.glob(os.path.join(scratch, name + ".peer*.json"))):
    key = os.path.basename(f)[len(name) + 1:-5]
    peers[key] = json.load(open(f))
out["peer"] = peers["peer"] if list(peers) == ["peer"] else peers
json.dump(out, open(os.path.join(results, name + ".json"), "w"), indent=1)
EOF
}

for name in "${NAMES[@]}"; do
  echo "== $name (load average $(loadavg))" >&2
  loadavg > "$SCRATCH/$name.load"
  case "$name" in
    closed_form)
      reps=5; [ "$QUICK" = 1 ] && reps=2
      "$BIN/bench_closed_form" --reps "$reps" --dump "$SCRATCH/closed_form" > "$SCRATCH/closed_form.cpp.json"
      "$PYTHON" "$ROOT/benchmarks/peers/closed_form.py" --reps "$reps" --compare "$SCRATCH/closed_form" \
        > "$SCRATCH/closed_form.peer.json"
      ;;
    modewise)
      reps=3; bsimp=1; [ "$QUICK" = 1 ] && { reps=1; bsimp=0; }
      "$BIN/bench_modewise" --reps "$reps" --reps-bsimp "$bsimp" --dump "$SCRATCH/modewise" > "$SCRATCH/modewise.cpp.json"
      "$PYTHON" "$ROOT/benchmarks/peers/modewise.py" --subset 0 --reps 2 --compare "$SCRATCH/modewise" \
        > "$SCRATCH/modewise.peer.json"
      ;;
    full_matrix)
      reps=3; reps_e2e=2; [ "$QUICK" = 1 ] && { reps=1; reps_e2e=1; }
      "$BIN/bench_full_matrix" --reps "$reps" --reps-e2e "$reps_e2e" --dump "$SCRATCH/full_matrix" \
        > "$SCRATCH/full_matrix.cpp.json"
      "$PYTHON" "$ROOT/benchmarks/peers/full_matrix.py" --dump "$SCRATCH/full_matrix/d64" --reps 2 \
        > "$SCRATCH/full_matrix.peer.json"
      ;;
    train)
      # Trainer vs PyTorch eager, both on $THREADS threads: every (problem, mode) in its own process per side (so
      # max RSS is that process's alone), interleaved round by round (order reversed on odd rounds) because the
      # machine is shared. PyTorch runs twice: as installed (libgomp's default active wait, whose spinning threads
      # fight OpenBLAS's own pthreads for the cores) and with OMP_WAIT_POLICY=passive (its faster setting here).
      rounds="${TRAIN_ROUNDS:-3}"; steps=10; reps=3; [ "$QUICK" = 1 ] && { rounds=1; steps=3; reps=1; }
      threads="${THREADS:-2}"
      mkdir -p "$SCRATCH/train"
      for ((r = 0; r < rounds; r++)); do
        for problem in gaussian mnist; do
          for mode in train sample; do
            tag="$problem.$mode.$r"
            loadavg > "$SCRATCH/train/load.$tag"
            sides=(cpp torch_passive torch_default)
            [ $((r % 2)) = 1 ] && sides=(torch_default torch_passive cpp)
            for side in "${sides[@]}"; do
              args=(--problem "$problem" --mode "$mode" --threads "$threads" --steps "$steps" --reps "$reps")
              case "$side" in
                cpp) "$BIN/bench_train" "${args[@]}" --shards "$threads" > "$SCRATCH/train/$side.$tag.json" ;;
                torch_passive) OMP_WAIT_POLICY=passive "$PYTHON" "$ROOT/benchmarks/peers/train.py" "${args[@]}" \
                                 > "$SCRATCH/train/$side.$tag.json" ;;
                torch_default) env -u OMP_WAIT_POLICY "$PYTHON" "$ROOT/benchmarks/peers/train.py" "${args[@]}" \
                                 > "$SCRATCH/train/$side.$tag.json" ;;
              esac
            done
            echo "   round $r: $problem $mode done (load average $(loadavg))" >&2
          done
        done
      done
      "$PYTHON" "$ROOT/benchmarks/peers/train.py" --aggregate "$SCRATCH/train" "$SCRATCH/train.cpp.json" \
        "$SCRATCH/train.peer.json"
      ;;
    depth)
      reps=2; ros="1e-8,1e-10,1e-12"; bsimp=1; [ "$QUICK" = 1 ] && { reps=1; ros="1e-10"; bsimp=0; }
      "$BIN/bench_depth" --reps "$reps" --ros-rtol "$ros" --bsimp "$bsimp" --dump "$SCRATCH/depth" \
        > "$SCRATCH/depth.cpp.json"
      "$PYTHON" "$ROOT/benchmarks/peers/depth.py" --dump "$SCRATCH/depth" --rtol 1e-10 --methods lsoda,bdf \
        > "$SCRATCH/depth.peer_rtol1e-10.json"
      [ "$QUICK" = 1 ] || "$PYTHON" "$ROOT/benchmarks/peers/depth.py" --dump "$SCRATCH/depth" --rtol 1e-12 \
        --methods lsoda > "$SCRATCH/depth.peer_rtol1e-12.json"
      ;;
    conv)
      # (g) full-width convolution: FFT path vs dense paths (28×28), FFT path at 64×64, NumPy peer on the 28×28 dump.
      reps=3; reps_dense=2; [ "$QUICK" = 1 ] && { reps=1; reps_dense=1; }
      "$BIN/bench_conv" --reps "$reps" --reps-dense "$reps_dense" --dump "$SCRATCH/conv" > "$SCRATCH/conv.cpp.json"
      "$PYTHON" "$ROOT/benchmarks/peers/conv.py" --compare "$SCRATCH/conv" --reps "$reps" > "$SCRATCH/conv.peer.json"
      ;;
    noncentred)
      reps=3; [ "$QUICK" = 1 ] && reps=1
      "$BIN/bench_noncentred" --reps "$reps" --dump "$SCRATCH/noncentred" > "$SCRATCH/noncentred.cpp.json"
      "$PYTHON" "$ROOT/benchmarks/peers/noncentred.py" --dump "$SCRATCH/noncentred" --reps 2 \
        > "$SCRATCH/noncentred.peer.json"
      ;;
    *) echo "run_all.sh: unknown benchmark '$name' (known: closed_form modewise full_matrix depth conv noncentred train)" >&2; exit 1 ;;
  esac
  merge "$name"
done

"$PYTHON" "$ROOT/benchmarks/summarise.py" "${NAMES[@]/#/$RESULTS_DIR/}"
