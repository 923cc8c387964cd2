#!/usr/bin/env bash
# The one-shot GPU verification kit's runner (made by bench/gpu/pack.sh; docs/djl.md, "GPU verification kit").
# Runs on the borrowed GPU machine (x86-64 Linux, NVIDIA GPU, CUDA toolkit, CMake, Python 3 with a CUDA
# PyTorch; no Java, no internet), in one command, in under 9 minutes:
#
#   bash KIT/run.sh [--out DIR] [--cpu] [--dry-run] [--help]
#
#   --out DIR   result folder (default: $OUT if set, else KIT/results); at most 8 files are written there
#   --cpu       CPU fallback (or DPSGD_KIT_CPU=1): every step, on the CPU, with small sizes; for testing the kit
#               where there is no GPU. The libtorch is the local Python's torch, or KIT_TORCH_CMAKE / KIT_TORCH_LIB /
#               KIT_TORCH_VERSION when there is none (e.g. Debian's libtorch-dev). KIT_BUDGET_SCALE=N stretches every
#               budget N times (slow machines); KIT_JNI_PREBUILT=FILE installs an already built libdjl_torch.so
#   --dry-run   print every step with what it does and its time budget, and check the kit (only the setup
#               step runs: file checks, unpacking the JRE into KIT_WORK); nothing is built or measured
#
# Steps (budget in seconds): setup 15, torch 20, jni 165, backends 25, parity 50, bench 190, train 45,
# compare 20; all together at most KIT_TOTAL_S (default 530). A step that fails is reported by name with its
# exit status and the run goes on with the steps that do not depend on it (no JNI library: nothing else can
# run); the exit status is 1 if any step failed or ran out of time.
#
# Results: run.log (everything printed), summary.txt (one line per step, versions), jni-build.log,
# parity.txt (GpuParity: float64, float32, bf16, fp16), bench.jsonl (one `dpsgd bench --json` line per model
# and batch, peer rows included, then one for the first model and batch in each of KIT_PRECISIONS, default
# fp32,bf16,fp16 on a GPU and fp32,bf16 with --cpu, whose usual libtorch, Debian 1.13, has no fp16 CPU
# convolution; empty = none),
# gpu-run.tar.gz (the training run folder) and compare.tar.gz (the `dpsgd compare` report of the GPU run
# against the CPU run made at pack time, with its PNG charts).
set -euo pipefail
kit="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# ---------------------------------------------------------------- one step (run.sh re-invokes itself per step,
# so that `timeout` can bound a whole step)
if [[ "${1:-}" == __step ]]; then
  name="$2"
  # DJL counts GPUs through JNA's dlopen("cudart") (CudaUtils), not through libtorch: point JNA at the
  # libcudart that PyTorch itself loaded (the torch step finds it), which need not be on the system path.
  jextra=()
  cudart="$(sed -n 's/^cudart=//p' "$KIT_WORK/torch.env" 2>/dev/null || true)"
  [[ -n "$cudart" ]] && jextra=(-Djna.library.path="$KIT_WORK/cudart")
  java_cmd() {
    "$KIT_WORK/jre/bin/java" "${jextra[@]}" -Xmx16g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$KIT_THREADS" \
      -Dai.djl.pytorch.num_interop_threads=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
      -Dorg.slf4j.simpleLogger.log.ai.djl=error \
      -cp "$kit/app/dpsgd-experiments.jar:$kit/app/lib/*:$kit/app/dpsgd-gpukit.jar" "$@"
  }
  dpsgd() { java_cmd org.dpsgd.cli.Main "$@"; }
  case "$name" in
    setup)
      for f in jre.tar.gz app/dpsgd-experiments.jar app/dpsgd-gpukit.jar build-jni.sh jni-include/jni.h \
               djl/jni-header/ai_djl_pytorch_jni_PyTorchLibrary.h djl/engines/pytorch/pytorch-native/CMakeLists.txt \
               bench/peers/torch_peer.py config/fmnist-short.yaml data/fashion-mnist/train-images-idx3-ubyte.gz; do
        [[ -e "$kit/$f" ]] || { echo "setup: $kit/$f is missing: the kit is incomplete (re-run bench/gpu/pack.sh)"; exit 2; }
      done
      [[ -d "$kit/cpu-run" ]] || echo "setup: warning: no cpu-run in the kit (packed with KIT_SKIP_CPU_RUN=1): the compare step will be skipped"
      echo "setup: unpacking the JRE into $KIT_WORK"
      rm -rf "$KIT_WORK/jre" && mkdir -p "$KIT_WORK" && tar -C "$KIT_WORK" -xzf "$kit/jre.tar.gz"
      "$KIT_WORK/jre/bin/java" -version 2>&1 | head -1
      for t in cmake python3; do command -v $t >/dev/null || { echo "setup: $t not found on PATH"; exit 2; }; done
      echo "setup: cmake $(cmake --version | head -1 | awk '{print $3}'), ninja $(ninja --version 2>/dev/null || echo absent), $(python3 --version)"
      command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "setup: no nvidia-smi"
      ;;
    torch)
      if [[ -n "${KIT_TORCH_CMAKE:-}" ]]; then
        echo "torch: using KIT_TORCH_CMAKE=$KIT_TORCH_CMAKE KIT_TORCH_LIB=$KIT_TORCH_LIB KIT_TORCH_VERSION=${KIT_TORCH_VERSION:?KIT_TORCH_VERSION is needed with KIT_TORCH_CMAKE}"
        printf 'version=%s\ncmake=%s\nlib=%s\ncuda=\ncuda_available=0\n' "$KIT_TORCH_VERSION" "$KIT_TORCH_CMAKE" "$KIT_TORCH_LIB" > "$KIT_WORK/torch.env"
      else
        python3 -c 'import torch' 2>/dev/null || { echo "torch: python3 ($(command -v python3)) cannot import torch;" \
          "on a machine without one, set KIT_TORCH_CMAKE, KIT_TORCH_LIB and KIT_TORCH_VERSION to a local libtorch"; exit 2; }
        python3 - > "$KIT_WORK/torch.env" <<'EOF'
import os, torch, torch.utils
print("version=" + torch.__version__.split("+")[0])
print("cmake=" + torch.utils.cmake_prefix_path)
print("lib=" + os.path.join(os.path.dirname(torch.__file__), "lib"))
print("cuda=" + (torch.version.cuda or ""))
print("cuda_available=%d" % int(torch.cuda.is_available()))
print("full_version=" + torch.__version__)
print("cxx11_abi=%d" % int(torch._C._GLIBCXX_USE_CXX11_ABI))
if torch.cuda.is_available():
    print("gpu=" + torch.cuda.get_device_name(0))
    torch.zeros(1, device="cuda")  # loads the CUDA runtime, so that its path shows in the memory map
    with open("/proc/self/maps") as maps:
        paths = sorted({l.split()[-1] for l in maps if "/libcudart.so" in l})
    print("cudart=" + (paths[0] if paths else ""))
EOF
      fi
      sed 's/^/torch: /' "$KIT_WORK/torch.env"
      # shellcheck disable=SC1091
      . "$KIT_WORK/torch.env"
      if [[ "$KIT_MODE" == gpu && "${cuda_available:-0}" != 1 ]]; then
        echo "torch: this PyTorch sees no CUDA device; use --cpu to test the kit without a GPU"; exit 2
      fi
      [[ -f "$lib/libtorch.so" ]] || { echo "torch: $lib/libtorch.so not found"; exit 2; }
      if [[ -n "${cudart:-}" ]]; then
        # JNA asks for "libcudart.so"; wheels ship only libcudart.so.NN: link the one torch loaded.
        mkdir -p "$KIT_WORK/cudart" && ln -sf "$cudart" "$KIT_WORK/cudart/libcudart.so"
        echo "torch: DJL's GPU count will use $cudart (-Djna.library.path=$KIT_WORK/cudart)"
      elif [[ "$KIT_MODE" == gpu ]]; then
        echo "torch: warning: libcudart not found in torch's memory map; DJL may count 0 GPUs"
      fi
      ;;
    jni)
      . "$KIT_WORK/torch.env"
      flavor=cpu
      [[ "$KIT_MODE" == gpu && -n "${cuda:-}" ]] && flavor="cu${cuda//./}"
      echo "PYTORCH_LIBRARY_PATH=$lib" > "$KIT_WORK/djl.env"
      echo "PYTORCH_VERSION=$version" >> "$KIT_WORK/djl.env"
      echo "PYTORCH_FLAVOR=$flavor" >> "$KIT_WORK/djl.env"
      echo "DJL_CACHE_DIR=$KIT_WORK/djl-cache" >> "$KIT_WORK/djl.env"
      if [[ "$flavor" == cu* ]] && ! command -v nvcc >/dev/null; then
        for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [[ -x "$d/nvcc" ]] && { export PATH="$d:$PATH"; break; }; done
      fi
      [[ "$flavor" == cu* ]] && echo "jni: nvcc $(command -v nvcc || echo 'not found (CMake may not find CUDA)')"
      if [[ -n "${KIT_JNI_PREBUILT:-}" ]]; then
        # A libdjl_torch.so built earlier for this same libtorch (tests on slow machines, a second attempt).
        [[ -f "$KIT_JNI_PREBUILT" ]] || { echo "jni: KIT_JNI_PREBUILT=$KIT_JNI_PREBUILT does not exist"; exit 2; }
        dest="$KIT_WORK/djl-cache/pytorch/$version-$flavor-linux-x86_64"
        mkdir -p "$dest" && cp "$KIT_JNI_PREBUILT" "$dest/0.36.0-libdjl_torch.so"
        echo "jni: not built: installed KIT_JNI_PREBUILT=$KIT_JNI_PREBUILT as $dest/0.36.0-libdjl_torch.so"
        exit 0
      fi
      # The arch of the GPU only matters for CUDA kernels, and DJL's JNI has none; fixing it skips detection.
      TORCH_CXX11_ABI="${cxx11_abi:-1}" TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}" BUILD_JNI_WORK="$KIT_WORK/jni-build" \
        bash "$kit/build-jni.sh" --djl "$kit/djl" --jni-header "$kit/djl/jni-header" --java-include "$kit/jni-include" \
        --torch-cmake "$cmake" --torch-lib "$lib" --version "$version" --flavor "$flavor" \
        --cache "$KIT_WORK/djl-cache" --jobs "$KIT_THREADS"
      ;;
    backends)
      set -a; . "$KIT_WORK/djl.env"; set +a
      dpsgd backends | tee "$KIT_WORK/backends.txt"
      if [[ "$KIT_MODE" == gpu ]] && ! grep -q "djl *available.*cuda" "$KIT_WORK/backends.txt"; then
        echo "backends: DJL does not report a CUDA device: the JNI library or PYTORCH_FLAVOR is wrong"; exit 1
      fi
      grep -q "djl *available" "$KIT_WORK/backends.txt" || { echo "backends: the djl backend is not available"; exit 1; }
      ;;
    parity)
      set -a; . "$KIT_WORK/djl.env"; set +a
      args=(--device "$KIT_DEVICE")
      [[ "$KIT_MODE" == cpu ]] && args+=(--quick)
      java_cmd org.dpsgd.kit.GpuParity "${args[@]}" | tee "$KIT_OUT/parity.txt"
      ;;
    bench)
      set -a; . "$KIT_WORK/djl.env"; set +a
      peer=(--peer torch --peer-python python3 --peer-script "$kit/bench/peers/torch_peer.py")
      export PYTHONPATH="$kit/opacus${KIT_PYTHONPATH_EXTRA:+:$KIT_PYTHONPATH_EXTRA}${PYTHONPATH:+:$PYTHONPATH}"
      export TORCH_PEER_DEVICE="$KIT_PEER_DEVICE"
      failed=0
      if ! python3 "$kit/bench/peers/torch_peer.py" --model small-cnn --check 2>&1; then
        peer=()
        if [[ "$KIT_MODE" == gpu ]]; then
          # Our numbers are still worth having: bench without the peer, and fail the step at the end.
          echo "bench: the torch peer cannot run (message above): benchmarking without it; this step will fail"; failed=1
        else
          echo "bench: CPU mode: no usable torch/Opacus here, so the peer is left out"
        fi
      fi
      deadline=$(( $(date +%s) + KIT_STEP_BUDGET - 5 ))
      for model in $KIT_BENCH_MODELS; do
        for b in $KIT_BENCH_BATCHES; do
          left=$(( deadline - $(date +%s) ))
          if (( left < 10 )); then echo "bench: out of time before $model batch $b"; failed=1; continue; fi
          echo "bench: $model input $KIT_BENCH_INPUT batch $b, strategies nonprivate,auto,microbatch${peer:+ + torch peer} (at most ${left}s)"
          if timeout -k 5 "$left" "$KIT_WORK/jre/bin/java" "${jextra[@]}" -Xmx16g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$KIT_THREADS" \
              -Dai.djl.pytorch.num_interop_threads=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
              -Dorg.slf4j.simpleLogger.log.ai.djl=error -cp "$kit/app/dpsgd-experiments.jar:$kit/app/lib/*" \
              org.dpsgd.cli.Main bench --model "$model" --input "$KIT_BENCH_INPUT" --batch "$b" --device "$KIT_DEVICE" \
              --strategies nonprivate,auto,microbatch --steps "$KIT_BENCH_STEPS" --warmup 1 --json "${peer[@]}" \
              > "$KIT_WORK/bench.line" ; then
            cat "$KIT_WORK/bench.line" | tee -a "$KIT_OUT/bench.jsonl"
          else
            rc=$?
            echo "bench: $model batch $b failed (exit $rc$( ((rc == 124)) && echo ', out of time'))"
            echo "{\"model\":\"$model\",\"batch\":$b,\"error\":\"exit $rc\"}" >> "$KIT_OUT/bench.jsonl"
            failed=1
          fi
        done
      done
      # Precision as a dimension: the first model and batch again, nonprivate and auto in each of
      # $KIT_PRECISIONS (no peer: it compares default-precision steps only). bf16 needs the JNI built above.
      model="${KIT_BENCH_MODELS%% *}" b="${KIT_BENCH_BATCHES%% *}"
      left=$(( deadline - $(date +%s) ))
      if [[ -z "$KIT_PRECISIONS" ]]; then
        echo "bench: no precision row (KIT_PRECISIONS is empty)"
      elif (( left < 10 )); then
        echo "bench: out of time before the precision row ($KIT_PRECISIONS)"; failed=1
      else
        echo "bench: $model batch $b, strategies nonprivate,auto in precisions $KIT_PRECISIONS (at most ${left}s)"
        if timeout -k 5 "$left" "$KIT_WORK/jre/bin/java" "${jextra[@]}" -Xmx16g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$KIT_THREADS" \
            -Dai.djl.pytorch.num_interop_threads=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
            -Dorg.slf4j.simpleLogger.log.ai.djl=error -cp "$kit/app/dpsgd-experiments.jar:$kit/app/lib/*" \
            org.dpsgd.cli.Main bench --model "$model" --input "$KIT_BENCH_INPUT" --batch "$b" --device "$KIT_DEVICE" \
            --strategies nonprivate,auto --precision "$KIT_PRECISIONS" --steps "$KIT_BENCH_STEPS" --warmup 1 --json \
            > "$KIT_WORK/bench.line" ; then
          cat "$KIT_WORK/bench.line" | tee -a "$KIT_OUT/bench.jsonl"
        else
          rc=$?
          echo "bench: $model batch $b precisions $KIT_PRECISIONS failed (exit $rc$( ((rc == 124)) && echo ', out of time'))"
          echo "{\"model\":\"$model\",\"batch\":$b,\"precision\":\"$KIT_PRECISIONS\",\"error\":\"exit $rc\"}" >> "$KIT_OUT/bench.jsonl"
          failed=1
        fi
      fi
      exit $failed
      ;;
    train)
      set -a; . "$KIT_WORK/djl.env"; set +a
      rm -rf "$KIT_WORK/gpu-run"
      dpsgd train --config "$kit/config/fmnist-short.yaml" --device "$KIT_DEVICE" --out "$KIT_WORK/gpu-run" \
        --set data.path="$kit/data/fashion-mnist" $KIT_TRAIN_SETS
      rm -rf "$KIT_WORK/gpu-run/checkpoints"
      tar -C "$KIT_WORK" -czf "$KIT_OUT/gpu-run.tar.gz" gpu-run
      ;;
    compare)
      [[ -d "$kit/cpu-run" ]] || { echo "compare: no cpu-run in the kit; skipped"; exit 1; }
      [[ -d "$KIT_WORK/gpu-run" ]] || { echo "compare: no run from the train step"; exit 1; }
      rm -rf "$KIT_WORK/compare" && mkdir -p "$KIT_WORK/compare"
      dpsgd compare "$kit/cpu-run" "$KIT_WORK/gpu-run" --out "$KIT_WORK/compare/report.html"
      tar -C "$KIT_WORK" -czf "$KIT_OUT/compare.tar.gz" compare
      ;;
    *) echo "unknown step $name"; exit 2 ;;
  esac
  exit 0
fi

# ---------------------------------------------------------------- the driver
usage() { awk 'NR > 1 && /^set -euo/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
out="${OUT:-$kit/results}"
mode=gpu
[[ "${DPSGD_KIT_CPU:-0}" == 1 ]] && mode=cpu
dry=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) [[ $# -ge 2 ]] || { echo "run.sh: error: --out needs a folder" >&2; exit 2; }; out="$2"; shift 2 ;;
    --cpu) mode=cpu; shift ;;
    --dry-run) dry=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1'; usage: run.sh [--out DIR] [--cpu] [--dry-run] (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out" || { echo "run.sh: error: cannot create the result folder $out" >&2; exit 2; }
out="$(cd "$out" && pwd)"
if [[ -n "$(ls -A "$out")" ]]; then
  echo "run.sh: error: the result folder $out is not empty; give an empty one with --out" >&2; exit 2
fi

export KIT_OUT="$out" KIT_MODE="$mode"
export KIT_WORK="${KIT_WORK:-${TMPDIR:-/tmp}/dpsgd-gpukit-work}"
export KIT_THREADS="${KIT_THREADS:-$(nproc 2>/dev/null || echo 2)}"
if [[ $mode == gpu ]]; then
  export KIT_DEVICE=gpu KIT_PEER_DEVICE=cuda
  export KIT_BENCH_MODELS="${KIT_BENCH_MODELS:-small-cnn resnet18-gn resnet50-gn}" KIT_BENCH_INPUT="${KIT_BENCH_INPUT:-3x224x224}"
  export KIT_BENCH_BATCHES="${KIT_BENCH_BATCHES:-32 64}" KIT_BENCH_STEPS="${KIT_BENCH_STEPS:-3}"
  export KIT_PRECISIONS="${KIT_PRECISIONS-fp32,bf16,fp16}"
  export KIT_TRAIN_SETS="${KIT_TRAIN_SETS:-}"
else
  export KIT_DEVICE=cpu KIT_PEER_DEVICE=cpu
  export KIT_BENCH_MODELS="${KIT_BENCH_MODELS:-small-cnn}" KIT_BENCH_INPUT="${KIT_BENCH_INPUT:-3x32x32}"
  export KIT_BENCH_BATCHES="${KIT_BENCH_BATCHES:-8}" KIT_BENCH_STEPS="${KIT_BENCH_STEPS:-1}"
  export KIT_PRECISIONS="${KIT_PRECISIONS-fp32,bf16}"
  export KIT_TRAIN_SETS="${KIT_TRAIN_SETS:---set training.epochs=1 --set data.train_limit=2048 --set data.test_limit=500}"
fi
total="${KIT_TOTAL_S:-530}"
steps=(setup:15 torch:20 jni:165 backends:25 parity:50 bench:190 train:45 compare:20)
# KIT_BUDGET_SCALE=N multiplies every budget and the total: for testing on a slow or shared machine.
scale="${KIT_BUDGET_SCALE:-1}"
[[ "$scale" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: KIT_BUDGET_SCALE must be a whole number >= 1, got '$scale'" >&2; exit 2; }
if (( scale > 1 )); then
  total=$(( total * scale ))
  for i in "${!steps[@]}"; do steps[$i]="${steps[$i]%%:*}:$(( ${steps[$i]##*:} * scale ))"; done
fi
# What each step needs: a failed step skips the steps that depend on it.
declare -A needs=([torch]=setup [jni]=torch [backends]=jni [parity]=jni [bench]=jni [train]=jni [compare]=train)

log="$out/run.log"
summary="$out/summary.txt"
say() { echo "run.sh: $*" | tee -a "$log"; }
: > "$log"
say "kit $kit, mode $mode, results $out, work $KIT_WORK, $KIT_THREADS threads, time limit ${total}s"
if [[ $dry == 1 ]]; then
  say "dry run: the steps, their budgets and what they do"
  for s in "${steps[@]}"; do
    n="${s%%:*}"; b="${s##*:}"
    case "$n" in
      setup) d="check the kit's files, unpack jre.tar.gz, print cmake/ninja/python/GPU" ;;
      torch) d="find PyTorch (python3: torch.utils.cmake_prefix_path, torch/lib, CUDA version)" ;;
      jni) d="build-jni.sh: DJL 0.36.0's libdjl_torch.so against that libtorch, into \$DJL_CACHE_DIR/pytorch/<ver>-<flavor>-linux-x86_64/" ;;
      backends) d="dpsgd backends with PYTORCH_LIBRARY_PATH/VERSION/FLAVOR set (must show cuda in GPU mode)" ;;
      parity) d="GpuParity --device $KIT_DEVICE: microbatch and bookkeeping, float64/float32 vs CPU float64 -> parity.txt" ;;
      bench) d="dpsgd bench for $KIT_BENCH_MODELS at $KIT_BENCH_INPUT, batch $KIT_BENCH_BATCHES, nonprivate,auto,microbatch + torch peer ($KIT_PEER_DEVICE); then ${KIT_BENCH_MODELS%% *} nonprivate,auto in ${KIT_PRECISIONS:-no other precision} -> bench.jsonl" ;;
      train) d="dpsgd train config/fmnist-short.yaml on $KIT_DEVICE ${KIT_TRAIN_SETS} -> gpu-run.tar.gz" ;;
      compare) d="dpsgd compare cpu-run (made at pack time) with this run -> compare.tar.gz" ;;
    esac
    say "  $n (${b}s): $d"
  done
  bash "$kit/run.sh" __step setup >/dev/null 2>&1 && say "dry run: the kit is complete" || { say "dry run: the kit is incomplete (run the setup step to see what is missing)"; exit 2; }
  rm -f "$log"
  exit 0
fi

start=$(date +%s)
declare -A status=()
printf '%-9s %-8s %6s %6s\n' step status secs budget > "$summary"
any_failed=0
for s in "${steps[@]}"; do
  n="${s%%:*}"; budget="${s##*:}"
  dep="${needs[$n]:-}"
  if [[ -n "$dep" && "${status[$dep]}" != ok ]]; then
    status[$n]=skipped
    say "step $n: skipped (needs step $dep, which did not succeed)"
    printf '%-9s %-8s %6s %6s\n' "$n" skipped - "$budget" >> "$summary"; any_failed=1; continue
  fi
  left=$(( total - ($(date +%s) - start) ))
  (( budget > left )) && budget=$left
  if (( budget < 5 )); then
    status[$n]=no-time; any_failed=1
    say "step $n: not run, the ${total}s limit is reached"
    printf '%-9s %-8s %6s %6s\n' "$n" no-time - 0 >> "$summary"; continue
  fi
  say "step $n: starting (at most ${budget}s)"
  t0=$(date +%s)
  set +e
  KIT_STEP_BUDGET="$budget" timeout -k 10 "$budget" bash "$kit/run.sh" __step "$n" 2>&1 | sed -u "s/^/[$n] /" | tee -a "$log"
  rc=${PIPESTATUS[0]}
  set -e
  secs=$(( $(date +%s) - t0 ))
  if (( rc == 0 )); then
    status[$n]=ok; say "step $n: ok in ${secs}s"
  else
    any_failed=1
    if (( rc == 124 || rc == 137 )); then status[$n]=timeout; say "step $n: FAILED: out of time after ${secs}s (budget ${budget}s)"
    else status[$n]=failed; say "step $n: FAILED with exit status $rc after ${secs}s (its output is above, prefixed [$n])"; fi
  fi
  printf '%-9s %-8s %6s %6s\n' "$n" "${status[$n]}" "$secs" "$budget" >> "$summary"
done
{
  echo "mode $mode, device $KIT_DEVICE, total $(( $(date +%s) - start ))s of ${total}s"
  [[ -f "$KIT_WORK/torch.env" ]] && sed 's/^/torch /' "$KIT_WORK/torch.env"
  [[ -f "$KIT_WORK/backends.txt" ]] && sed 's/^/backends: /' "$KIT_WORK/backends.txt"
  [[ -f "$kit/MANIFEST.txt" ]] && sed 's/^/kit: /' "$kit/MANIFEST.txt"
} >> "$summary"
if [[ -d "$KIT_WORK/jni-build" ]]; then
  cat "$KIT_WORK"/jni-build/cmake-configure.log "$KIT_WORK"/jni-build/cmake-build.log > "$out/jni-build.log" 2>/dev/null || true
fi
cat "$summary" | tee -a "$log"
files=$(ls -A "$out" | wc -l)
say "results: $files files in $out: $(ls "$out" | tr '\n' ' ')"
if (( any_failed )); then say "FAILED: see the steps marked FAILED above"; exit 1; fi
say "all steps ok"
