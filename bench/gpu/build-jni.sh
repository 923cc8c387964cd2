#!/usr/bin/env bash
# Builds DJL's PyTorch JNI library (libdjl_torch.so) from the DJL sources carried in the kit, against a
# libtorch that is already on the machine, and installs it where DJL 0.36's LibUtils looks for it offline.
#
#   build-jni.sh --djl DJL_SRC --jni-header DIR --java-include DIR --torch-cmake PREFIX \
#                --torch-lib DIR --version X.Y.Z --flavor cpu|cuNNN --cache DJL_CACHE_DIR [--jobs N]
#                [--torch-include DIR] [--work DIR]
#
# BUILD_JNI_MODE=auto (default: DJL's CMakeLists, and if CMake cannot configure, a direct g++ build with
# torch's headers and libraries, as torch.utils.cpp_extension does), cmake, or direct.
#
# DJL_SRC holds engines/pytorch/pytorch-native (CMakeLists.txt, src/main/native) and api/src/main/native
# (djl/utils.h) from DJL's tag v0.36.0. The JNI header (ai_djl_pytorch_jni_PyTorchLibrary.h) is made by
# `javac -h` at pack time, because the GPU machine has no Java; --java-include holds jni.h and linux/jni_md.h.
# Patches in patches/*.patch next to this script (or in $BUILD_JNI_PATCHES) are applied to a scratch copy (never to DJL_SRC).
#
# Where DJL looks (LibUtils.findJniLibrary, DJL 0.36.0), with PYTORCH_LIBRARY_PATH=<torch lib>:
#   1. <torch lib>/0.36.0-libdjl_torch.so, 2. <torch lib>/libdjl_torch.so,
#   3. <ENGINE_CACHE_DIR or DJL_CACHE_DIR>/pytorch/<PYTORCH_VERSION>-<PYTORCH_FLAVOR>-linux-x86_64/0.36.0-libdjl_torch.so
# then the pytorch-jni jar / a download. The torch lib folder may be read-only (site-packages), so this
# script installs into 3 and prints the exact path.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { echo "build-jni: error: $*" >&2; exit 2; }

torch_include="" djl="" header="" javainc="" cmake_prefix="" torchlib="" version="" flavor="" cache="" jobs="$(nproc 2>/dev/null || echo 2)"
work="${BUILD_JNI_WORK:-${TMPDIR:-/tmp}/djl-jni-build}"
djl_version=0.36.0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --djl) djl="$2"; shift 2 ;;
    --jni-header) header="$2"; shift 2 ;;
    --java-include) javainc="$2"; shift 2 ;;
    --torch-cmake) cmake_prefix="$2"; shift 2 ;;
    --torch-lib) torchlib="$2"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    --flavor) flavor="$2"; shift 2 ;;
    --cache) cache="$2"; shift 2 ;;
    --torch-include) torch_include="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^set -euo/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
for v in djl header javainc cmake_prefix torchlib version flavor cache; do
  [[ -n "${!v}" ]] || die "missing --${v//_/-} (see --help)"
done
native="$djl/engines/pytorch/pytorch-native"
[[ -f "$native/CMakeLists.txt" ]] || die "$native/CMakeLists.txt not found: --djl must be DJL's source tree at v$djl_version"
[[ -f "$djl/api/src/main/native/djl/utils.h" ]] || die "$djl/api/src/main/native/djl/utils.h not found (DJL api sources missing)"
[[ -f "$header/ai_djl_pytorch_jni_PyTorchLibrary.h" ]] || die "JNI header missing in $header (pack.sh makes it with javac -h)"
[[ -f "$javainc/jni.h" && -f "$javainc/linux/jni_md.h" ]] || die "jni.h / linux/jni_md.h missing in $javainc"
[[ -f "$torchlib/libtorch.so" ]] || die "libtorch.so not found in --torch-lib $torchlib"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "--version must be X.Y.Z (PyTorch's version without +local), got '$version'"
[[ "$flavor" =~ ^(cpu|cu[0-9]+)$ ]] || die "--flavor must be cpu or cuNNN, got '$flavor'"
if [[ -z "$torch_include" ]]; then
  # pip wheels: torch/share/cmake -> torch/include; system packages: /usr/include
  for d in "$(dirname "$(dirname "$cmake_prefix")")/include" /usr/include; do
    [[ -f "$d/torch/script.h" ]] && { torch_include="$d"; break; }
  done
fi
command -v cmake >/dev/null || [[ "${BUILD_JNI_MODE:-}" == direct ]] || die "cmake not found on PATH"

echo "build-jni: DJL $djl_version JNI against libtorch $version ($flavor) from $cmake_prefix"
rm -rf "$work" && mkdir -p "$work/djl/engines/pytorch" "$work/djl/api/src/main"
cp -r "$native" "$work/djl/engines/pytorch/"
cp -r "$djl/api/src/main/native" "$work/djl/api/src/main/"
src="$work/djl/engines/pytorch/pytorch-native"
shopt -s nullglob
for p in "${BUILD_JNI_PATCHES:-$here/patches}"/*.patch; do
  echo "build-jni: applying $(basename "$p")"
  (cd "$work/djl" && patch -p1 --forward --batch --quiet < "$p") || die "patch $(basename "$p") does not apply to the DJL sources (wrong DJL version?)"
done
shopt -u nullglob
# DJL 0.36's iValueTo*Array functions write into vectors that were only reserve()d (undefined
# behaviour; fixed upstream after v0.36.0, DJL commit a82f2a9e5): size them instead.
ivalue="$src/src/main/native/ai_djl_pytorch_jni_PyTorchLibrary_ivalue.cc"
if [[ -f "$ivalue" ]] && grep -q 'jptrs.reserve(len);' "$ivalue"; then
  echo "build-jni: sizing the iValue array buffers (resize, not reserve)"
  sed -i 's/jptrs\.reserve(len);/jptrs.resize(len);/' "$ivalue"
fi
# DJL 0.36's dtype mapping knows no bfloat16 (DataType.BFLOAT16 is ordinal 11) and answers an unknown dtype
# with a bare `throw;`, which terminates the JVM. Map 11 <-> kBFloat16 both ways (precision: bf16 needs it)
# and make an unknown dtype a catchable exception (DJL turns it into an EngineException).
utils_h="$src/src/main/native/djl_pytorch_utils.h"
if [[ -f "$utils_h" ]] && ! grep -q 'kBFloat16' "$utils_h"; then
  echo "build-jni: mapping DJL dtype 11 (BFLOAT16) to torch::kBFloat16; unknown dtypes throw instead of terminating"
  sed -i -e 's/^\(  \)} else if (torch::kComplexFloat == type) {$/\1} else if (torch::kBFloat16 == type) {\n\1  return 11;\n&/' \
    -e 's/^\(    \)case 8:$/\1case 11:\n\1  return torch::kBFloat16;\n&/' \
    -e '/GetScalarTypeFromDType(jint dtype)/,/^}/ s/^\(      \)throw;$/\1throw std::invalid_argument("unsupported DJL data type " + std::to_string(dtype));/' \
    "$utils_h"
  grep -q 'return torch::kBFloat16;' "$utils_h" && grep -q 'return 11;' "$utils_h" \
    && grep -q 'unsupported DJL data type' "$utils_h" || die "the bfloat16 mapping did not apply to $utils_h (wrong DJL version?)"
fi
mkdir -p "$src/build/include"
cp "$header/ai_djl_pytorch_jni_PyTorchLibrary.h" "$src/build/include/"

# PT_VERSION: DJL's build.sh sets V1_13_X for 1.13.1, 2.0.1 and 2.1.x (c10::variant instead of std::variant).
pt=""
[[ "$version" =~ ^(1\.13\.|2\.0\.|2\.1\.) ]] && pt=V1_13_X
use_cuda=""
[[ "$flavor" == cu* ]] && use_cuda=1
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
# FindJNI cannot find a JDK here (none on the GPU machine): give it the carried headers; the JNI library
# needs no libjvm at link time (the JVM that loads it provides the symbols).
# Without CMake: the compile and link lines torch.utils.cpp_extension would use. The fallback when CMake
# cannot configure (e.g. it does not find the CUDA toolkit the way the wheel's Caffe2 config expects).
direct_build() {
  local inc="$torch_include" out="$src/build" cuda_inc=() libs=(-ltorch -ltorch_cpu -lc10) objs=() pids=() f o rc=0
  [[ -f "$inc/torch/script.h" ]] || { echo "build-jni: direct: torch/script.h not in $inc (give --torch-include)" >&2; return 2; }
  if [[ -n "$use_cuda" ]]; then
    local cuda_home="${CUDA_HOME:-$(dirname "$(dirname "$(command -v nvcc 2>/dev/null || echo /usr/local/cuda/bin/nvcc)")")}"
    cuda_inc=(-I"$cuda_home/include")
    libs+=(-ltorch_cuda -lc10_cuda)
  fi
  local flags=(-O2 -fPIC -std=c++17 -D_GLIBCXX_USE_CXX11_ABI="${TORCH_CXX11_ABI:-1}" ${pt:+-D$pt} ${use_cuda:+-DUSE_CUDA}
    -I"$out/include" -I"$javainc" -I"$javainc/linux" -I"$djl/api/src/main/native" -I"$work/djl/api/src/main/native"
    -I"$inc" -I"$inc/torch/csrc/api/include" "${cuda_inc[@]}")
  mkdir -p "$out/direct"
  echo "build-jni: direct: g++ ${flags[*]}"
  for f in "$src"/src/main/native/*.cc; do
    o="$out/direct/$(basename "$f" .cc).o"
    objs+=("$o")
    g++ "${flags[@]}" -c "$f" -o "$o" > "$o.log" 2>&1 &
    pids+=($!)
    while (( $(jobs -rp | wc -l) >= jobs )); do sleep 0.5; done
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  cat "$out"/direct/*.o.log >> "$work/cmake-build.log"
  (( rc == 0 )) || return 1
  g++ -shared -o "$out/libdjl_torch.so" "${objs[@]}" -Wl,--as-needed -L"$torchlib" "${libs[@]}" -Wl,-rpath,'$ORIGIN' >> "$work/cmake-build.log" 2>&1
}

mode="${BUILD_JNI_MODE:-auto}"
[[ "$mode" =~ ^(auto|cmake|direct)$ ]] || die "BUILD_JNI_MODE must be auto, cmake or direct, got '$mode'"
: > "$work/cmake-configure.log"
: > "$work/cmake-build.log"
configured=0
if [[ "$mode" != direct ]]; then
  echo "build-jni: cmake configure (USE_CUDA=${use_cuda:-0}, PT_VERSION=${pt:-none}, ${gen[*]:-make})"
  if cmake -S "$src" -B "$src/build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$cmake_prefix" -DPT_VERSION="$pt" -DUSE_CUDA="$use_cuda" \
      -DJAVA_INCLUDE_PATH="$javainc" -DJAVA_INCLUDE_PATH2="$javainc/linux" \
      -DJAVA_AWT_INCLUDE_PATH=NotNeeded -DJAVA_AWT_LIBRARY=NotNeeded -DJAVA_JVM_LIBRARY=NotNeeded \
      -DJNI_INCLUDE_DIRS="$javainc;$javainc/linux" \
      -DCMAKE_SHARED_LINKER_FLAGS="-Wl,--as-needed" \
      > "$work/cmake-configure.log" 2>&1; then
    configured=1
  else
    tail -40 "$work/cmake-configure.log" >&2
    [[ "$mode" == cmake ]] && die "cmake configure failed (log above; full log $work/cmake-configure.log)"
    echo "build-jni: cmake configure failed (log above); trying the direct g++ build instead" >&2
  fi
fi
if (( configured )); then
  echo "build-jni: compiling with $jobs jobs (every file is tried even if one fails, so one run shows all errors)"
  keep=()
  [[ ${#gen[@]} -gt 0 ]] && keep=(-k 0)
  cmake --build "$src/build" -j "$jobs" -- "${keep[@]}" > "$work/cmake-build.log" 2>&1 || build_failed=1
else
  echo "build-jni: direct g++ build with $jobs jobs (headers from $torch_include)"
  direct_build || build_failed=1
fi
if [[ "${build_failed:-0}" == 1 ]]; then
  echo "build-jni: compile errors (first 60 lines with 'error'):" >&2
  grep -n -E "error|Error" "$work/cmake-build.log" | head -60 >&2 || true
  die "the DJL JNI sources do not compile against libtorch $version (full log $work/cmake-build.log); add a patch under bench/gpu/patches"
fi
so="$src/build/libdjl_torch.so"
[[ -f "$so" ]] || die "build finished but $so is missing"
dest="$cache/pytorch/$version-$flavor-linux-x86_64"
mkdir -p "$dest"
cp "$so" "$dest/$djl_version-libdjl_torch.so"
echo "build-jni: installed $dest/$djl_version-libdjl_torch.so"
echo "build-jni: run java with PYTORCH_LIBRARY_PATH=$torchlib PYTORCH_VERSION=$version PYTORCH_FLAVOR=$flavor DJL_CACHE_DIR=$cache"
