#!/usr/bin/env bash
# Install Topaz for benchmarks/compare.py in its own venv (default .venv-topaz); never a dependency of drpnet.
#   bash benchmarks/topaz/setup.sh [VENV]
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${1:-.venv-topaz}
python3 -m venv "$venv"
. "$venv/bin/activate"
pip install -q torch==2.13.0                    # the CPU build; Topaz asks for any torch
pip install -q --no-deps topaz-em==0.3.20       # its own requirements would pull torchvision
pip install -q "setuptools<81" "tqdm>=4.65" "h5py>=3.7" numpy pandas psutil scikit-learn scipy pillow future
# PyPI's torchvision wheels are CUDA builds that fail to import beside CPU torch: a stand-in with the three
# functions Topaz uses.
cp -r benchmarks/topaz/torchvision "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/"
topaz --help >/dev/null
echo "Topaz is ready: $venv/bin/topaz"
