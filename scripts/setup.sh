#!/usr/bin/env bash
# Install specbias's build and run dependencies from Debian 12 packages.
# Idempotent and non-interactive: packages already present are skipped, so this is cheap to re-run.
# Usage: scripts/setup.sh [--peers]   (--peers adds the Python peers used by benchmarks/)
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libboost-dev libeigen3-dev libfftw3-dev libgsl-dev zlib1g-dev
  catch2 libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev
  gnuplot-nox
)
if [[ "${1:-}" == "--peers" ]]; then
  # PyTorch for the trainer benchmark and parity peer; OpenBLAS so torch and NumPy are a fair CPU peer.
  packages+=(python3-numpy python3-scipy python3-torch libopenblas0-pthread)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
