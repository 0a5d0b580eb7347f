#!/usr/bin/env bash
# Downloads, into .whl/, the wheels of stemrestore's dependencies that the lent GPU
# machine's image lacks (Python 3.12, x86-64; it has torch, numpy, scipy, scikit-image, matplotlib,
# safetensors, pyyaml, tqdm, scikit-learn, numba, tensorboard). Run here, where the package
# registry is reachable (.whl/ is git-ignored: the device tool carries it when told, carry=[".whl"]);
# scripts/device_train.sh installs them there. About 13 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
    platforms+=(--platform "$p")
done
# The versions this project is tested with; pure-Python wheels and abi3/cp312 builds.
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    "${platforms[@]}" -d .whl \
    soundfile==0.14.0 cffi==2.1.1 pycparser==3.12 soxr==1.1.0 librosa==0.11.0 audioread==3.1.0 \
    decorator==5.3.1 pooch==1.9.0 platformdirs==4.14.9 pedalboard==0.9.26 pyloudnorm==0.2.0 \
    pretty-midi==0.2.11.post0 mido==1.3.3 tinysoundfont==0.3.7
ls .whl
