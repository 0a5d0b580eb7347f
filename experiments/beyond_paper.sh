#!/usr/bin/env bash
# The two experiments of "Beyond the paper" (README): on the synthetic corpus,
#  (A) one conditional U-Former versus one U-Former per class, same size, same total steps;
#  (B) the paper protocol versus the studio protocol, as training data and as test data (2x2).
# Every step is skipped or resumed when its output exists, so the script can be re-run after an
# interruption. Tables: $OUT/tables.md (experiments/tables.py).
#
#   stemrestore synth --songs 80 --seconds 30 --seed 0 --out data/train
#   stemrestore synth --songs 12 --seconds 30 --seed 1 --out data/test
#   bash experiments/beyond_paper.sh
set -euo pipefail

DATA=${DATA:-data}                  # holds train/ and test/ (synthetic songs of different seeds)
OUT=${OUT:-runs/beyond}
CLASSES=${CLASSES:-"Voc Bass Gtr"}  # classes of experiment A; Voc is the demo model's class (B)
STEPS=${STEPS:-600}                 # steps per class; the conditional model gets STEPS x classes
N=${N:-100}                         # test examples per test set (10 s each)
THREADS=${THREADS:-1}               # torch threads per training process
SR=${STEMRESTORE:-stemrestore}  # the CLI (e.g. .venv/bin/stemrestore)

# The tiny U-Former (configs/tiny.yaml, 0.12 M parameters), stage 1 only, cosine decay.
SETTINGS=(schedule.stage2_step=null schedule.warmup_steps=100 schedule.decay=cosine validation.testset=null
          logging.progress=false "runtime.threads=$THREADS" data.num_workers=1 checkpoint.every=250)

testset() {  # name target [extra make-testset args]
    local dir="$OUT/testsets/$1"
    [[ -f "$dir/index.jsonl" ]] || $SR make-testset "$DATA/test" --target "$2" --n "$N" --seed 0 --out "$dir" "${@:3}"
}
train() {  # name steps [overrides]
    $SR train --config configs/tiny.yaml --data "$DATA/train" --out "$OUT/train/$1" --resume \
        --max-steps "$2" "${SETTINGS[@]}" "${@:3}"
    mkdir -p "$OUT/models"
    cp "$OUT/train/$1"/export/final/*.safetensors "$OUT/models/$1.safetensors"
    cp "$OUT/train/$1"/export/final/*.json "$OUT/models/$1.json"
}
evaluate() {  # name testset checkpoints...
    local args=()
    for ck in "${@:3}"; do args+=(--checkpoint "$OUT/models/$ck.safetensors"); done
    [[ -f "$OUT/eval/$1/summary.json" ]] || \
        $SR evaluate --testset "$OUT/testsets/$2" --baseline identity "${args[@]}" --out "$OUT/eval/$1" --no-plots
}

# Test sets: songs of seed 1, never seen in training.
for c in $CLASSES; do testset "$c-paper" "$c"; done
testset Voc-studio Voc --config configs/degradation/studio.yaml

# (A) per-class models, then the conditional model with the same total number of steps.
n_classes=$(wc -w <<< "$CLASSES")
for c in $CLASSES; do train "$c-paper" "$STEPS" "data.target=$c"; done
class_list=$(tr ' ' ',' <<< "$CLASSES")
train conditional "$((STEPS * n_classes))" model.kind=conditional "data.classes=[$class_list]" \
    "data.target=${CLASSES%% *}"
for c in $CLASSES; do evaluate "A-$c" "$c-paper" "$c-paper" conditional; done

# (B) the Voc model trained on studio-protocol data; both Voc models on both test sets.
train Voc-studio "$STEPS" data.target=Voc data.protocol=configs/degradation/studio.yaml
evaluate B-paper-test Voc-paper Voc-paper Voc-studio
evaluate B-studio-test Voc-studio Voc-paper Voc-studio

${PYTHON:-python} experiments/tables.py "$OUT" > "$OUT/tables.md"
cat "$OUT/tables.md"
