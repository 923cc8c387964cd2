#!/usr/bin/env bash
# The slow test of the GPU kit on a machine without a GPU (minutes; not part of `mvn verify`):
#   1. pack.sh into WORK/kit (jlink, jars, sources, subset, CPU reference run) and its size;
#   2. the kit's jlink-ed JRE starting the CLI: `dpsgd --help`, `dpsgd backends`;
#   3. run.sh --cpu: every step (JNI build against a local libtorch, backends, parity, bench, train, compare)
#      on the CPU; then at most 8 result files.
#
#   bench/gpu/test-full.sh DJL_SRC OPACUS_SRC [WORK_DIR]      (OPT_EINSUM_SRC as for pack.sh)
#
# The libtorch: the local Python's torch if it imports, else Debian's libtorch-dev (1.13.1:
# apt-get install libtorch-dev), whose libraries are linked into WORK/libtorch so that DJL, which loads
# every library in PYTORCH_LIBRARY_PATH, loads only libtorch's.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
[[ $# -ge 2 ]] || { echo "usage: bench/gpu/test-full.sh DJL_SRC OPACUS_SRC [WORK_DIR]" >&2; exit 2; }
work="${3:-$root/.gpukit/test-full}"
rm -rf "$work" && mkdir -p "$work"
fail() { echo "test-full: FAIL: $*" >&2; exit 1; }

echo "test-full: 1. pack"
bash "$here/pack.sh" "$1" "$2" "$work/kit" | tee "$work/pack.log"
grep -q "^pack: kit .* MiB" "$work/pack.log" || fail "pack.sh printed no size"

echo "test-full: 2. the kit's JRE starts the CLI"
tar -C "$work" -xzf "$work/kit/jre.tar.gz"
cp=("$work/kit/app/dpsgd-experiments.jar:$work/kit/app/lib/*")
"$work/jre/bin/java" -cp "${cp[@]}" org.dpsgd.cli.Main --help > "$work/help.txt" || fail "dpsgd --help failed"
grep -q "backends" "$work/help.txt" || fail "dpsgd --help does not list backends"
"$work/jre/bin/java" -Dai.djl.offline=true -cp "${cp[@]}" org.dpsgd.cli.Main backends | tee "$work/backends.txt" || fail "dpsgd backends failed"
grep -q "^djl" "$work/backends.txt" || fail "dpsgd backends does not list djl"

echo "test-full: 3. run.sh --cpu"
if ! python3 -c 'import torch' 2>/dev/null; then
  deb=/usr/lib/x86_64-linux-gnu
  [[ -f "$deb/cmake/Torch/TorchConfig.cmake" ]] || fail "no libtorch: python3 has no torch and Debian's libtorch-dev is not installed"
  mkdir -p "$work/libtorch"
  for l in libtorch.so libtorch_cpu.so libc10.so; do ln -sf "$deb/$l" "$work/libtorch/$l"; done
  export KIT_TORCH_CMAKE="$deb/cmake" KIT_TORCH_LIB="$work/libtorch"
  KIT_TORCH_VERSION="$(dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null | sed 's/[+~-].*//')"
  export KIT_TORCH_VERSION
  echo "test-full: using Debian's libtorch $KIT_TORCH_VERSION"
fi
set +e
KIT_WORK="$work/work" bash "$work/kit/run.sh" --cpu --out "$work/results"
rc=$?
set -e
n=$(ls -A "$work/results" | wc -l)
(( n <= 8 )) || fail "run.sh wrote $n files, more than 8"
(( rc == 0 )) || fail "run.sh --cpu exited $rc (summary: $work/results/summary.txt)"
echo "test-full: ok ($n result files in $work/results)"
