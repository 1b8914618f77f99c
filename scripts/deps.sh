#!/usr/bin/env bash
# Installs the Debian 12 packages Policy Search needs to build, run and test,
# when any is missing.  Needs root (or sudo).  --bench adds the peers that
# bench/run.py measures against (not needed to build or test).
set -euo pipefail
pkgs=(build-essential g++ cmake pkg-config python3
      libxapian-dev xapian-tools libcjson-dev libutf8proc-dev libxml2-dev
      libopencc-dev opencc
      # PDF input: pdftotext (run by lib/ingest_pdf.c) and the CMaps for
      # Chinese PDFs with non-embedded fonts
      poppler-utils poppler-data
      # tests/test_ingest_formats.py makes its PDFs with pango-view + pdfunite
      pango1.0-tools fontconfig fonts-wqy-microhei
      # policy-serve is built on libmicrohttpd; tests/browser_serve.py drives
      # headless Chromium through chromedriver; bench/serve-load.sh runs wrk
      libmicrohttpd-dev chromium chromium-driver wrk)
# bench/run.py: Groonga, ripgrep, /usr/bin/time -v (SQLite comes with python3)
[ "${1:-}" = "--bench" ] && pkgs+=(groonga-bin ripgrep time)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
