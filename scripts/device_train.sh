#!/usr/bin/env bash
# One training run on a lent GPU machine, in one call of the device tool (docs/training.md,
# "On a lent GPU machine"). Here, once: bash scripts/device_wheels.sh. Then, through the tool:
#   run(command="bash scripts/device_train.sh 5 schedule.max_steps=6000 ...", carry=[".whl"], timeout_s=600)
# It synthesizes the training corpus of configs/demo/vocals.yaml's header with every core, times
# the run to be made (benchmarks/train.py: CONFIG plus the KEY=VALUE overrides, and the paper
# config) and, unless the overrides set schedule.max_steps, sizes it to fit MINUTES; it then trains
# for at most MINUTES (--max-minutes) and leaves in $OUT what the tool brings back: final.* (the
# export), average.* (the mean of the last AVERAGE_LAST step checkpoints), train.log,
# benchmark.txt/.json and device.txt (BENCHMARK=0 skips timing and sizing). Run on CPU with
# PYTHON=.venv/bin/python SONGS=5 ... to try it here (tests/test_device_script.py does).
set -euo pipefail
MINUTES=${1:?usage: device_train.sh MINUTES [KEY=VALUE ...]}
shift
: "${OUT:?OUT must name the folder whose files come back}"
PY=${PYTHON:-python3}
WORK=${WORK:-/tmp/stemrestore}
SONGS=${SONGS:-80}
CONFIG=${CONFIG:-configs/demo/vocals.yaml}
AVERAGE_LAST=${AVERAGE_LAST:-5}
CORES=$(nproc)
cd "$(dirname "$0")/.."

if ! "$PY" -c "import soundfile, soxr, librosa, pedalboard, tinysoundfont, pyloudnorm, pretty_midi" 2>/dev/null; then
    if ! compgen -G ".whl/*.whl" > /dev/null; then
        echo "device_train.sh: the audio libraries are missing and .whl/ holds no wheels;" \
            "run scripts/device_wheels.sh here and carry .whl" >&2
        exit 2
    fi
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
stemrestore() { "$PY" -m stemrestore "$@"; }

{
    nvidia-smi -L 2>/dev/null || echo "no NVIDIA GPU"
    "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
    echo "cores $CORES"
} > "$OUT/device.txt"
start=$SECONDS
stemrestore synth --songs "$SONGS" --seconds 30 --seed 0 --out "$WORK/train" --workers "$CORES" --quiet
echo "synth: $SONGS songs in $((SECONDS - start)) s" >> "$OUT/device.txt"

# No validation there (the validation set stays here, where the candidates are scored).
fixed=(validation.testset=null logging.progress=false "data.num_workers=$((CORES > 2 ? CORES - 2 : 1))")
sizing=()
if [ "${BENCHMARK:-1}" = 1 ]; then
    # The exact run, timed: without a schedule.max_steps among the overrides, the run is sized to
    # 90 % of the steps the slower of model and data loader allow in MINUTES.
    if "$PY" benchmarks/train.py --config "$CONFIG" --data "$WORK/train" --steps 20 --items "${BENCH_ITEMS:-200}" \
            --json "$OUT/benchmark.json" "${fixed[@]}" "$@" > "$OUT/benchmark.txt" 2>&1; then
        case " $* " in
            *" schedule.max_steps="*) ;;
            *) steps=$("$PY" -c 'import json, sys
f = json.load(open(sys.argv[1]))
rate = min(f["steps_per_s"]["1"], f["dataset_items_per_s"] / f["batch"]["1"])
print(max(int(0.9 * 60 * float(sys.argv[2]) * rate), 1))' "$OUT/benchmark.json" "$MINUTES")
               sizing=("schedule.max_steps=$steps" "checkpoint.every=$(((steps + 9) / 10))" checkpoint.keep_last=5)
               echo "sized: $steps steps" >> "$OUT/device.txt" ;;
        esac
    else
        echo "benchmark failed (see benchmark.txt); training goes on unsized" >> "$OUT/device.txt"
    fi
fi

start=$SECONDS
# The overrides come last, so they win over the sizing.
stemrestore train --config "$CONFIG" --data "$WORK/train" --out "$WORK/run" --max-minutes "$MINUTES" \
    "${fixed[@]}" "${sizing[@]}" "$@"
echo "train: $((SECONDS - start)) s" >> "$OUT/device.txt"

cp "$WORK/run/train.log" "$OUT/"
for f in "$WORK/run/export/final"/*; do cp "$f" "$OUT/final.${f##*.}"; done
mapfile -t last < <(ls "$WORK/run/checkpoints"/step_*.pt | tail -n "$AVERAGE_LAST")
if [ "${#last[@]}" -ge 2 ]; then
    stemrestore average "${last[@]}" --out "$OUT/average"
fi
ls -l "$OUT"
