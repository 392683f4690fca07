#!/usr/bin/env bash
# Build llama-cpp-python once per machine as a portable wheel and print its path.
#
# Why not a plain `pip install llama-cpp-python`: it compiles with the compiler's native CPU
# flags, and on AVX-512 Xeons (avx512fp16/bf16) that build dies with SIGSEGV at the first
# decode. This build targets any x86-64 CPU with AVX2 (GGML_NATIVE=OFF). pip's wheel cache
# keys a wheel built from an sdist by the sdist alone, not by CMAKE_ARGS, so a machine that
# once built natively would silently reuse that wheel: we build with --no-cache-dir into our
# own cache folder whose name carries the flags.
set -euo pipefail
PIP=${1:?usage: llama-cpp-wheel.sh PIP [VERSION]}
VERSION=${2:-0.3.36}
ARCH=$(uname -m)
if [ "$ARCH" = x86_64 ]; then
  FLAGS=${QA_LLAMA_CMAKE_ARGS:-"-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF"}
else
  FLAGS=${QA_LLAMA_CMAKE_ARGS:-"-DGGML_NATIVE=OFF"}
fi
KEY=$(printf '%s %s %s' "$VERSION" "$ARCH" "$FLAGS" | sha256sum | cut -c1-12)
CACHE=${QA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qa}/wheels/llama-cpp-python-$VERSION-$KEY
shopt -s nullglob
wheels=("$CACHE"/llama_cpp_python-*.whl)
if [ ${#wheels[@]} -eq 0 ]; then
  echo "building llama-cpp-python $VERSION (portable: $FLAGS); about 7 minutes on 2 cores" >&2
  mkdir -p "$CACHE.tmp"
  CMAKE_ARGS="$FLAGS" FORCE_CMAKE=1 "$PIP" wheel -q --no-cache-dir --no-deps \
    --no-binary llama-cpp-python -w "$CACHE.tmp" "llama-cpp-python==$VERSION" >&2
  printf '%s\n' "$FLAGS" > "$CACHE.tmp/CMAKE_ARGS"
  rm -rf "$CACHE" && mv "$CACHE.tmp" "$CACHE"
  wheels=("$CACHE"/llama_cpp_python-*.whl)
fi
echo "${wheels[0]}"
