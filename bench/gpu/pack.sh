#!/usr/bin/env bash
# Packs the one-shot GPU verification kit (docs/djl.md, "GPU verification kit") into OUT_DIR:
#
#   bench/gpu/pack.sh DJL_SRC OPACUS_SRC OUT_DIR
#
# DJL_SRC: a checkout (or `git archive`) of github.com/deepjavalibrary/djl at tag v0.36.0, holding at least
#   engines/pytorch/pytorch-native, engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni and
#   api/src/main/native. OPACUS_SRC: github.com/pytorch/opacus at tag v1.4.0 (its opacus/ package is carried).
# Neither is ever committed to this repository. OUT_DIR must be empty or absent; put it under /.gpukit/
# of the repository (ignored by git) to carry it to the GPU machine.
#
# What goes in: a jlink-ed JRE (jre.tar.gz: only the modules jdeps finds, plus a few used reflectively),
# the project's jars and their dependencies without pytorch-native-* and pytorch-jni (the JNI library is
# built there), DJL's JNI C++ sources plus the JNI header made here with javac -h, jni.h, the Opacus
# package, the torch peer, a Fashion-MNIST subset (10k train / 2k test, IDX), the kit's config, a CPU
# reference run of that config made here, and run.sh / build-jni.sh / patches. Prints the size; fails
# above KIT_LIMIT_MB (default 60: the working tree, about 2 MB, travels in the same 64 MiB).
#
# Opacus 1.4.0 imports opt_einsum (pure Python, not part of PyTorch): OPT_EINSUM_SRC=DIR (github.com/dgasmith/
# opt_einsum at v3.3.0) carries it too; without it the peer runs only where the GPU machine has opt_einsum.
#
# Needs: a built project (`mvn -o -DskipTests package`: experiments/target/lib), a JDK 17 (jlink, jdeps,
# javac), /usr/share/datasets/fashion-mnist. KIT_SKIP_CPU_RUN=1 skips the reference run (tests);
# KIT_TRAIN_LIMIT / KIT_TEST_LIMIT change the subset (default 10000 / 2000).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
die() { echo "pack: error: $*" >&2; exit 2; }
step() { echo "pack: $*"; }

[[ $# -eq 3 ]] || die "usage: bench/gpu/pack.sh DJL_SRC OPACUS_SRC OUT_DIR (DJL at v0.36.0, Opacus at v1.4.0)"
djl="$(cd "$1" 2>/dev/null && pwd)" || die "DJL_SRC '$1' is not a folder"
opacus="$(cd "$2" 2>/dev/null && pwd)" || die "OPACUS_SRC '$2' is not a folder"
out="$3"
limit_mb="${KIT_LIMIT_MB:-60}"
train_n="${KIT_TRAIN_LIMIT:-10000}"
test_n="${KIT_TEST_LIMIT:-2000}"
fmnist="${KIT_FMNIST:-/usr/share/datasets/fashion-mnist}"
djl_version=0.36.0

native="$djl/engines/pytorch/pytorch-native"
jnisrc="$djl/engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java"
[[ -f "$native/CMakeLists.txt" && -d "$native/src/main/native" ]] || die "$native has no CMakeLists.txt/src/main/native: DJL_SRC must be DJL at v$djl_version"
[[ -f "$jnisrc" ]] || die "$jnisrc missing: the JNI header is generated from it (DJL_SRC at v$djl_version)"
[[ -f "$djl/api/src/main/native/djl/utils.h" ]] || die "$djl/api/src/main/native/djl/utils.h missing (DJL_SRC at v$djl_version)"
grep -q "^djl = \"$djl_version\"" "$djl/gradle/libs.versions.toml" 2>/dev/null \
  || echo "pack: note: no gradle/libs.versions.toml saying djl = $djl_version in DJL_SRC; the JNI declarations are compared with the jar below"
[[ -f "$opacus/opacus/__init__.py" ]] || die "$opacus/opacus/__init__.py missing: OPACUS_SRC must be Opacus's repository at v1.4.0"
opacus_version="$(sed -n 's/^__version__ *= *"\(.*\)"/\1/p' "$opacus/opacus/version.py" 2>/dev/null || true)"
[[ "$opacus_version" == 1.4.0 ]] || echo "pack: warning: Opacus version is '${opacus_version:-unknown}', the peer was written for 1.4.0"
lib="$root/experiments/target/lib"
jar="$root/experiments/target/dpsgd-experiments.jar"
[[ -f "$jar" && -d "$lib" ]] || die "$jar or $lib missing: build first (mvn -o -B -q -DskipTests package)"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  [[ -f "$fmnist/$f.gz" || -f "$fmnist/$f" ]] || die "Fashion-MNIST file $fmnist/$f[.gz] missing (apt-get install dataset-fashion-mnist, or KIT_FMNIST=DIR)"
done
for t in jlink jdeps javac jar; do command -v $t >/dev/null || die "$t not found: a JDK 17 is needed"; done
if [[ -e "$out" ]]; then
  [[ -d "$out" && -z "$(ls -A "$out")" ]] || die "OUT_DIR '$out' exists and is not empty; remove it or pick another"
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

step "1/8 jars: the project and its dependencies, without pytorch-native-* and pytorch-jni"
mkdir -p "$out/app/lib"
cp "$jar" "$out/app/"
for j in "$lib"/*.jar; do
  case "$(basename "$j")" in pytorch-native-*|pytorch-jni-*) continue ;; esac
  cp "$j" "$out/app/lib/"
done
# The peer script is looked up next to the repository layout (bench/peers) by dpsgd bench; carry it too.
mkdir -p "$out/bench/peers"
cp "$root/bench/peers/torch_peer.py" "$out/bench/peers/"

step "2/8 kit tools: compile GpuParity against the jars"
mkdir -p "$scratch/kitclasses"
javac --release 17 -d "$scratch/kitclasses" -cp "$out/app/dpsgd-experiments.jar:$out/app/lib/*" "$here"/java/org/dpsgd/kit/*.java
jar --create --file "$out/app/dpsgd-gpukit.jar" -C "$scratch/kitclasses" .

step "3/8 JRE: jdeps over every jar, then jlink"
modules="java.base"
for j in "$out"/app/*.jar "$out"/app/lib/*.jar; do
  m="$(jdeps --multi-release 17 --ignore-missing-deps --print-module-deps "$j" 2>/dev/null | tail -1 || true)"
  # Jars whose module-info names a module that is not here (commons-compress -> commons-lang3) make jdeps
  # fail: take their platform requirements from the module descriptor instead.
  if [[ -z "$m" || "$m" == *Exception* || "$m" == *" "* ]]; then
    m="$(jar --describe-module --file "$j" --release 17 2>/dev/null | sed -n 's/^requires \(static \|transitive \)*\(\(java\|jdk\)\.[a-z.]*\).*/\2/p' | tr '\n' ',')"
  fi
  modules="$modules,$m"
done
# Reflective / service-loaded uses jdeps cannot see: jackson's java.sql types, JNDI lookups in logging,
# sun.misc.Unsafe (JNA, JavaCPP, gson), the EC provider for SecureRandom/DRBG seeding paths, zipfs for jars,
# and the Vector API, so the secure noise's opt-in vector fast path can be tried on the GPU host
# (java --add-modules jdk.incubator.vector -Ddpsgd.noise.vector=on; run.sh does not turn it on).
modules="$modules,java.sql,java.naming,java.xml,jdk.unsupported,jdk.crypto.ec,jdk.zipfs,java.logging,java.management,jdk.incubator.vector"
modules="$(echo "$modules" | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd, -)"
step "    modules: $modules"
jlink --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=2 --output "$scratch/jre"
# jni.h for the JNI build there (the GPU machine has no JDK); jlink leaves headers out.
jhome="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
mkdir -p "$out/jni-include/linux"
cp "$jhome/include/jni.h" "$out/jni-include/"
cp "$jhome/include/linux/jni_md.h" "$out/jni-include/linux/"
tar -C "$scratch" -czf "$out/jre.tar.gz" jre
step "    jre: $(du -sh "$scratch/jre" | cut -f1) on disk, $(du -sh "$out/jre.tar.gz" | cut -f1) as jre.tar.gz"
"$scratch/jre/bin/java" -cp "$out/app/dpsgd-experiments.jar:$out/app/lib/*" org.dpsgd.cli.Main --version >/dev/null \
  || die "the jlink-ed JRE cannot start the CLI (missing module?)"

step "4/8 DJL $djl_version JNI sources and header (javac -h), Opacus package"
mkdir -p "$out/djl/engines/pytorch" "$out/djl/api/src/main" "$out/djl/jni-header"
cp -r "$native" "$out/djl/engines/pytorch/"
rm -rf "$out/djl/engines/pytorch/pytorch-native/build" "$out/djl/engines/pytorch/pytorch-native/libtorch"
cp -r "$djl/api/src/main/native" "$out/djl/api/src/main/"
javac -cp "$out/app/lib/*" -h "$out/djl/jni-header" -d "$scratch/jniclasses" "$jnisrc"
# The C++ sources must implement exactly the native methods that the pytorch-engine jar we carry declares.
engine_jar="$(ls "$out"/app/lib/pytorch-engine-*.jar)"
javap -cp "$engine_jar" ai.djl.pytorch.jni.PyTorchLibrary | grep ' native ' | sort > "$scratch/natives.jar.txt"
javap -cp "$scratch/jniclasses" ai.djl.pytorch.jni.PyTorchLibrary | grep ' native ' | sort > "$scratch/natives.src.txt"
diff -q "$scratch/natives.jar.txt" "$scratch/natives.src.txt" >/dev/null \
  || die "DJL_SRC's PyTorchLibrary declares other native methods than $(basename "$engine_jar") ($(diff "$scratch/natives.jar.txt" "$scratch/natives.src.txt" | grep -c '^[<>]') differ): use DJL at v$djl_version"
step "    JNI declarations match $(basename "$engine_jar") ($(wc -l < "$scratch/natives.jar.txt") native methods)"
mkdir -p "$out/opacus"
cp -r "$opacus/opacus" "$out/opacus/"
find "$out/opacus" -name '__pycache__' -prune -exec rm -rf {} + 2>/dev/null || true
rm -rf "$out/opacus/opacus/tests"
[[ -f "$opacus/LICENSE" ]] && cp "$opacus/LICENSE" "$out/opacus/LICENSE.opacus"
if [[ -n "${OPT_EINSUM_SRC:-}" ]]; then
  [[ -f "$OPT_EINSUM_SRC/opt_einsum/__init__.py" ]] || die "OPT_EINSUM_SRC=$OPT_EINSUM_SRC has no opt_einsum/__init__.py"
  cp -r "$OPT_EINSUM_SRC/opt_einsum" "$out/opacus/"
  rm -rf "$out/opacus/opt_einsum/tests"
  [[ -f "$OPT_EINSUM_SRC/LICENSE" ]] && cp "$OPT_EINSUM_SRC/LICENSE" "$out/opacus/LICENSE.opt_einsum"
else
  echo "pack: warning: OPT_EINSUM_SRC not set: Opacus needs opt_einsum, so the peer runs only if the GPU machine has it"
fi
cp "$here/build-jni.sh" "$here/run.sh" "$out/"
mkdir -p "$out/patches"
cp "$here"/patches/*.patch "$out/patches/" 2>/dev/null || true
# Check the patches apply to exactly these sources now, not first on the GPU machine.
for p in "$out"/patches/*.patch; do
  [[ -f "$p" ]] || continue
  (cd "$out/djl" && patch -p1 --dry-run --forward --batch --quiet < "$p" >/dev/null) || die "patch $(basename "$p") does not apply to $djl"
done

step "5/8 Fashion-MNIST subset: $train_n train / $test_n test (IDX, first examples in file order)"
mkdir -p "$out/data/fashion-mnist"
python3 "$here/idx_subset.py" "$fmnist" "$out/data/fashion-mnist" "$train_n" "$test_n"

step "6/8 config and provenance"
mkdir -p "$out/config"
cp "$here/fmnist-short.yaml" "$out/config/"
{
  echo "kit made $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm)"
  echo "repository commit $(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (uncommitted changes)')"
  echo "djl sources $djl (expected tag v$djl_version)"
  echo "opacus sources $opacus (version ${opacus_version:-unknown})"
  echo "jre modules $modules"
  echo "java $(java -version 2>&1 | head -1)"
} > "$out/MANIFEST.txt"

step "7/8 CPU reference run of config/fmnist-short.yaml (for the cross-hardware compare there)"
if [[ "${KIT_SKIP_CPU_RUN:-0}" == 1 ]]; then
  step "    skipped (KIT_SKIP_CPU_RUN=1)"
else
  threads="$(nproc 2>/dev/null || echo 2)"
  "$scratch/jre/bin/java" -Xmx4g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$threads" -Dai.djl.pytorch.num_interop_threads=1 \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dorg.slf4j.simpleLogger.log.ai.djl=error \
    -cp "$jar:$lib/*" org.dpsgd.cli.Main train --config "$out/config/fmnist-short.yaml" --device cpu \
    --set data.path="$out/data/fashion-mnist" --out "$scratch/cpu-run" \
    || die "the CPU reference run failed (output above)"
  # Checkpoints are not needed for the compare; keep the folder small.
  rm -rf "$scratch/cpu-run/checkpoints"
  mv "$scratch/cpu-run" "$out/cpu-run"
fi

step "8/8 size"
bytes="$(du -sb "$out" | cut -f1)"
mb=$(( (bytes + 1048575) / 1048576 ))
echo "pack: kit $out is $mb MiB ($bytes bytes), limit $limit_mb MiB"
du -sh "$out"/* | sed 's/^/pack:   /'
if (( bytes > limit_mb * 1048576 )); then
  die "the kit is $mb MiB, over the $limit_mb MiB limit (the GPU machine takes 64 MiB with the working tree): drop something"
fi
echo "pack: done. Carry $out and run: bash $out/run.sh --out DIR (paths relative to the repository root there; docs/djl.md, GPU verification kit)"
