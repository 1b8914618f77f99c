#!/usr/bin/env bash
# The main job: install what is missing, build (Release), index the bundled
# corpus into the default database and search it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
./build/policy-index corpus/
./build/policy-search "${@:-京津产业新城}"
