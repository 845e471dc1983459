#!/usr/bin/env bash
# JSTAR recipe template: data -> array simulation -> tokenizer -> MT pre-training -> JSTAR
# -> baselines -> streaming decoding -> scoring (RESULTS.md). Called by egs/<corpus>/jstar1/run.sh.
#
# Usage: ./run.sh [options]          (from egs/<corpus>/jstar1)
#   ./run.sh --scale tiny            # CI-sized end-to-end run
#   ./run.sh --stage 5 --stop_stage 5 --ngpu 1
#
# Common options:
#   --stage N / --stop_stage N   stages to run (1-8)            [1 / 8]
#   --scale tiny|mini|medium|large                               [mini]
#   --nj N      parallel jobs (data, decoding)                   [2]
#   --ngpu N    GPUs for training and ESPnet ST decoding (ESPnet trainer/DDP launcher)  [0]
#   --train_jobs N  trainings of stages 5-6 run at once (e.g. 3 on one GPU); on CPU each
#                   gets nproc/N threads (OMP_NUM_THREADS, unless already set)         [1]
#   --seed N                                                     [0]
# Stage 1 (data):       --corpus mini_bilingual|mc_fleurs  --fleurs_root DIR  --download true|false
# Stage 2 (array sim):  --single_channel true|false  (1 channel instead of the 7-mic array)
# Stage 3 (tokenizer):  --vocab_size N                                        [300]
#                       --asr_tokens bpe|char  ASR-stream targets of JSTAR and the cascade ASR:
#                       the shared BPE model, or characters (sentencepiece char model)  [bpe]
# Stage 4 (MT):         --mt_config FILE  --max_epoch N (all training stages)
#                       --mt_extra_pairs N|auto  extra text-only MT conversations from the
#                       corpus grammar (mini_bilingual; auto: 20000, 0 at scale tiny)
#                       --mt_char_args "ARGS"  extra arguments of the bridge's character MT,
#                       e.g. "--src_substitute 0.1" (random source errors in training)  []
# Stage 5 (JSTAR):      --jstar_config FILE  --jstar_args "EXTRA ARGS"
#                       --bridge true|false  CTC bridge: the slow encoder reads the ASR stream's
#                       CTC posteriors through the source embeddings of exp/mt_char (plus, as a
#                       residual, the fast encoder's output unless --asr_init), an MT from the
#                       ASR stream's characters with blanks, which stage 4 then trains too and
#                       JSTAR is initialised from; needs --asr_tokens char  [false]
#                       --asr_init true|false  every JSTAR system starts its fast encoder and ASR
#                       head from the cascade's streaming ASR (same sizes; ESPnet --init_param),
#                       which stage 5 then trains first, with the other baselines, each as soon
#                       as stage 4's MTs free a slot; JSTAR then starts once its MT and the ASR
#                       are done and fine-tunes with --asr_init_args; the bridge has no residual  [false]
#                       --asr_init_args "ARGS"  [--max_epoch 3 --optim_conf lr=0.0005 --scheduler_conf warmup_steps=50]
#                       --asr_freeze true|false  with --asr_init: the fast encoder and ASR head
#                       stay fixed (ESPnet --freeze_param): JSTAR's ASR stream is the cascade's
#                       ASR, and the ST loss alone trains (λ only scales it)  [false]
#                       --ablations "no_mt_init fast_st lambda0.3 torchaudio_loss beamformer bridge"
#                       (extra systems, each the default "jstar" with one change: no MT init, ST
#                        on the fast encoder (no slow encoder, so no bridge), λ, torchaudio
#                        rnnt_loss on both heads (default: pruned on ASR), 13-beam front-end,
#                        bridge (with --bridge false) or no_bridge (with --bridge true))
#                       --systems "jstar_beamformer"  (exactly these JSTAR systems, stages 4, 5 and 7)
# Stage 6 (baselines):  --cascade_asr_config FILE  --st_config FILE  --baselines "cascade espnet_st"
#                       --st_pretrain true|false  ESPnet ST starts its encoder (and source CTC)
#                       from an ESPnet ASR (exp/espnet_st_asr, CONFIG_asr.yaml beside --st_config)
#                       and its decoder from an ESPnet MT (exp/espnet_st_mt, CONFIG_mt.yaml)  [false]
#                       --st_name NAME  its experiment (exp/NAME, NAME_asr, NAME_mt) and results
#                       row, espnet_st[_SUFFIX]: a second ESPnet ST beside the first  [espnet_st]
# Stage 7 (decoding):   --test_sets "test test_unseen"  --decode_threads N  --slow_chunk_sweep "8 16 32"
#                       --slow_chunk_size N  JSTAR's slow-encoder chunk (its output frames) outside
#                       the sweep; "" = the model's own (chunk_size in --jstar_config)  []
#                       --beam_size N  every transducer search (JSTAR, cascade, MTs); 1 = greedy  [1]
#                       --jstar_decode_args "ARGS" (every JSTAR system)  --cascade_decode_args "ARGS"
#                       extra decoding options, e.g. "--st_blank_penalty 2" / "--mt_blank_penalty 1"  []
#                       --st_decode_config FILE  ESPnet ST's st_inference --config  [conf/decode_st.yaml]
#                       (conf/decode_st_ctc.yaml: for --st_config conf/train_espnet_st_ctc_mini.yaml)
#                       Run with stages 5-6, each system decodes as soon as its training ends,
#                       beside the trainings still running (--stop_stage 6, then --stage 7: RTFs
#                       measured with no training beside them)
# Stage 8 (scoring):    --results FILE (RESULTS.md in the recipe folder, + WER by condition)
# Paths:                --datadir DIR [data]  --expdir DIR [exp]
#
# Each stage writes <stage-dir>/.done when complete, recording its command and inputs. Re-runs
# skip finished data and trainings even with other options (a change is named in a warning;
# delete the dir to redo it), and redo a decoding whose command or inputs changed; stage 8 leaves
# out one whose inputs changed since. An interrupted training resumes from its checkpoint
# (--resume true) once repair_checkpoint has mended a .pth that a kill left truncated.
set -euo pipefail

log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (${BASH_SOURCE[1]##*/}:${BASH_LINENO[0]}) $*" >&2; }
die() { log "ERROR: stage ${current_stage:-?}: $*"; exit 1; }
trap 'rc=$?; [ $rc -ne 0 ] && log "stage ${current_stage:-?} failed (exit $rc); outputs without .done are incomplete"' EXIT

stage=1; stop_stage=8; scale=mini; nj=2; ngpu=0; seed=0; train_jobs=1
corpus=mini_bilingual; fleurs_root=""; download=false; single_channel=false
vocab_size=300; asr_tokens=bpe; max_epoch=""
mt_config=conf/train_mt_mini.yaml; mt_extra_pairs=auto; mt_char_args=""
jstar_config=conf/train_jstar_mini.yaml; jstar_args=""; ablations=""; systems=""; bridge=false
asr_init=false; asr_freeze=false; asr_init_args="--max_epoch 3 --optim_conf lr=0.0005 --scheduler_conf warmup_steps=50"
cascade_asr_config=conf/train_cascade_asr_mini.yaml
st_config=conf/train_espnet_st_mini.yaml; st_decode_config=conf/decode_st.yaml; baselines="cascade espnet_st"; st_pretrain=false; st_name=espnet_st
test_sets="test test_unseen"; decode_threads=1; slow_chunk_sweep=""; slow_chunk_size=""; beam_size=1; jstar_decode_args=""; cascade_decode_args=""
python=${PYTHON:-}
datadir=data; expdir=exp; results=RESULTS.md

while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        --*) name=${1#--}; [ $# -ge 2 ] || die "option $1 needs a value"
             declare -p "$name" >/dev/null 2>&1 || die "unknown option $1 (see --help)"
             printf -v "$name" '%s' "$2"; shift 2 ;;
        *) die "unexpected argument $1 (see --help)" ;;
    esac
done
root=$(cd "$(dirname "$0")/../../.." && pwd)
if [ -z "$python" ]; then
    python=python3; [ -x "${root}/.venv/bin/python" ] && python=${root}/.venv/bin/python
fi
local_dir=${root}/local
bpedir=${datadir}/token_list/bpe${vocab_size}
chardir=${datadir}/token_list/char
# the ASR stream's targets (JSTAR, the cascade ASR, ESPnet ST's source CTC): srcdir; src_tok
# passes them to the tasks that otherwise take the shared BPE for their source side
case $asr_tokens in
    bpe) srcdir=$bpedir; src_tok=() ;;
    char) srcdir=$chardir; src_tok=(--src_token_list "$srcdir/tokens.txt" --src_bpemodel "$srcdir/bpe.model") ;;
    *) die "--asr_tokens must be bpe or char, got $asr_tokens" ;;
esac
# the JSTAR systems of stages 4, 5 and 7: "jstar" plus one per ablation (--systems overrides)
jstar_systems() { if [ -n "$systems" ]; then echo $systems; return; fi
                  echo jstar; for a in $ablations; do echo "jstar_$a"; done; }
case $bridge in true|false) ;; *) die "--bridge must be true or false, got $bridge" ;; esac
case $asr_init in true|false) ;; *) die "--asr_init must be true or false, got $asr_init" ;; esac
case $asr_freeze in true) [ "$asr_init" = true ] || die "--asr_freeze true needs --asr_init true" ;;
    false) ;; *) die "--asr_freeze must be true or false, got $asr_freeze" ;; esac
# uses_bridge SYS: whether a JSTAR system has the CTC bridge; jstar_mt SYS: the MT it is
# initialised from (mt_char with the bridge, else mt; nothing for no_mt_init)
uses_bridge() { case $1 in jstar_bridge) true ;; jstar_no_bridge|jstar_fast_st) false ;;
                           *) [ "$bridge" = true ] ;; esac; }
jstar_mt() { if [ "$1" = jstar_no_mt_init ]; then :; elif uses_bridge "$1"; then echo mt_char
             else echo mt; fi; }
for sys in $(jstar_systems); do
    case $sys in
        jstar_bridge) [ "$bridge" = false ] || die "--ablations bridge needs --bridge false (jstar has it)" ;;
        jstar_no_bridge) [ "$bridge" = true ] || die "--ablations no_bridge needs --bridge true" ;;
    esac
    if uses_bridge "$sys" && [ "$asr_tokens" != char ]; then
        die "the CTC bridge ($sys) needs --asr_tokens char (its MT reads the ASR stream's characters)"
    fi
done
epoch_args=(); [ -n "$max_epoch" ] && epoch_args=(--max_epoch "$max_epoch")
case $st_pretrain in true|false) ;; *) die "--st_pretrain must be true or false, got $st_pretrain" ;; esac
[[ $st_name =~ ^espnet_st(_[A-Za-z0-9]+)*$ && $st_name != *_asr && $st_name != *_mt ]] \
    || die "--st_name must be espnet_st or espnet_st_SUFFIX (letters, digits, _), not ending in _asr or _mt, got $st_name"
# the text pairs the MTs train on (stage 4 writes them; ESPnet ST's MT, stage 6, reads them)
if [ "$mt_extra_pairs" = auto ]; then
    mt_extra_pairs=0; [ "$corpus" = mini_bilingual ] && [ "$scale" != tiny ] && mt_extra_pairs=20000
fi
[[ $mt_extra_pairs =~ ^[0-9]+$ ]] || die "--mt_extra_pairs must be a number or auto, got $mt_extra_pairs"
mt_set=train; [ "$mt_extra_pairs" -gt 0 ] && mt_set=mt_train_${mt_extra_pairs}
[ "$mt_set" = train ] || [ "$corpus" = mini_bilingual ] || die "--mt_extra_pairs needs the mini_bilingual grammar"
# thread setting of train_task; set by pool_run for trainings that run side by side
train_env=()
mkdir -p "$expdir"
# the resolved options of this run, for the record
( set -o posix; for v in stage stop_stage scale nj ngpu train_jobs seed corpus single_channel vocab_size asr_tokens \
    mt_config mt_extra_pairs mt_char_args jstar_config jstar_args bridge asr_init asr_freeze asr_init_args ablations cascade_asr_config st_config st_pretrain st_name st_decode_config baselines \
    test_sets decode_threads slow_chunk_sweep slow_chunk_size beam_size jstar_decode_args cascade_decode_args max_epoch; do echo "$v=${!v}"; done ) > "$expdir/run_options.txt"

run_stage() { [ "$1" -ge "$stage" ] && [ "$1" -le "$stop_stage" ]; }
# ESPnet ST's decoding config must exist, and a search that weighs the ST CTC needs a model
# with one (st_inference only asserts it): the trained model's config, else the one stage 6
# will train from
check_st_decode() { local m=$expdir/$st_name/config.yaml why
    [ -f "$st_decode_config" ] \
        || die "--st_decode_config $st_decode_config: no such file (ESPnet ST's decoding config)"
    [ -f "$m" ] || m=$st_config
    why=$("$python" -m espnet2_jstar.bin.check_st_decode_config --decode_config \
        "$st_decode_config" --train_config "$m" 2>&1) || die "--st_decode_config: $why"; }
run_stage 7 && [[ " $baselines " == *" espnet_st "* ]] && check_st_decode
# with --asr_init stage 5 trains the baselines first, starting them while stage 4's MTs train
early_baselines() { [ "$asr_init" = true ] && run_stage 5; }
# the baselines other than the cascade; other_baselines: those, when stage 6 trains them
non_cascade_baselines() { echo $baselines | tr ' ' '\n' | grep -vx cascade || true; }
other_baselines() { run_stage 6 && non_cascade_baselines || true; }
# made_or, fresh_or, stamp, fresh_decoding, model_file, record, timed, train_task, pool_run,
# pool_job, pool_wait, pool_wait_for (.done markers, commands.txt, stage_times.txt, one ESPnet
# training, job pool)
source "$(dirname "$0")/jobs.sh"

current_stage=1; if run_stage 1; then
    case $corpus in
        mini_bilingual) cmd=(${python} "${local_dir}/prepare_mini_bilingual.py" --scale "$scale"
                             --out_dir "${datadir}/dry" --nj "$nj" --seed "$seed") ;;
        mc_fleurs) src=(--fleurs_root "$fleurs_root"); [ "$download" = true ] && src=(--download)
                   cmd=(${python} "${local_dir}/prepare_fleurs.py" "${src[@]}" --out_dir "${datadir}/dry" --seed "$seed") ;;
        *) die "unknown corpus $corpus" ;;
    esac
    made_or "${datadir}/dry" "${cmd[@]}" || {
        log "stage 1: data preparation ($corpus, scale $scale)"
        timed "${cmd[@]}"; stamp "${datadir}/dry" "${cmd[@]}"; }
fi

current_stage=2; if run_stage 2; then
    sc=(); [ "$single_channel" = true ] && sc=(--single_channel)
    cmd=(${python} "${local_dir}/simulate_array.py" --in_dir "${datadir}/dry" --out_dir "$datadir"
         --nj "$nj" --seed "$seed" "${sc[@]}")
    made_or "${datadir}/train" "${cmd[@]}" || {
        log "stage 2: multichannel simulation"
        timed "${cmd[@]}"
        for s in train dev $test_sets; do ${python} "${local_dir}/validate_data_dir.py" "${datadir}/$s"; done
        stamp "${datadir}/train" "${cmd[@]}"; }
fi

current_stage=3; if run_stage 3; then
    cmd=(${python} -m espnet2_jstar.bin.jstar_tokenizer --text "${datadir}/train/src_text"
         --text "${datadir}/train/text" --vocab_size "$vocab_size" --out_dir "$bpedir")
    made_or "$bpedir" "${cmd[@]}" || {
        log "stage 3: sentencepiece ($vocab_size pieces, tags as user-defined symbols)"
        ${python} "${local_dir}/validate_data_dir.py" "${datadir}/train" --no_audio
        timed "${cmd[@]}"; stamp "$bpedir" "${cmd[@]}"; }
    if [ "$asr_tokens" = char ]; then
        cmd=(${python} -m espnet2_jstar.bin.jstar_tokenizer --text "${datadir}/train/src_text"
             --model_type char --vocab_size 100 --out_dir "$chardir")
        made_or "$chardir" "${cmd[@]}" || { timed "${cmd[@]}"; stamp "$chardir" "${cmd[@]}"; }
    fi
fi

current_stage=4; if run_stage 4; then
    log "stage 4: transducer MT pre-training"
    if [ "$mt_set" != train ]; then
        cmd=(${python} -m espnet2_jstar.data.mt_text --data_dir "$datadir" --out_dir "${datadir}/${mt_set}"
             --num_pairs "$mt_extra_pairs" --seed "$seed")
        made_or "${datadir}/${mt_set}" "${cmd[@]}" || { timed "${cmd[@]}"; stamp "${datadir}/${mt_set}" "${cmd[@]}"; }
    fi
    # the cascade's MT, and JSTAR's without the bridge
    mts=(mt); for sys in $(jstar_systems); do if [ "$(jstar_mt "$sys")" = mt_char ]; then mts=(mt mt_char); fi; done
    train_mt() { case $1 in
        mt) train_set=$mt_set timed train_task espnet2_jstar.bin.mt_train "$mt_config" "$expdir/mt" \
                "src_text text" ;;
        # the CTC bridge reads the ASR stream's CTC posteriors (one per 40 ms fast frame) as MT
        # source embeddings: its MT takes the ASR stream's characters, not repeated, with 0-1
        # CTC-like blanks after each (TUNING_mini.md sections 10 and 30: 0-2 took 28 % longer for
        # the same dev BLEU; --mt_char_args "--src_blanks 2" restores them)
        # shellcheck disable=SC2086
        mt_char) train_set=$mt_set timed train_task espnet2_jstar.bin.mt_train "$mt_config" \
                "$expdir/mt_char" "src_text text" "${src_tok[@]}" --repeat 1 --src_blanks 1 $mt_char_args ;;
    esac; }
    # one MT keeps every core; two train side by side (each with its share under --train_jobs),
    # and with --asr_init stage 5's baselines start as soon as a slot is free
    mt_jobs=$train_jobs; [ ${#mts[@]} -eq 1 ] && ! early_baselines && mt_jobs=1
    for m in "${mts[@]}"; do pool_job "$mt_jobs" "$m" train_mt "$m"; done
    early_baselines || pool_wait
fi
current_stage=5
train_baseline() { log "stage ${current_stage}: baseline $1"
    case $1 in
        cascade) timed train_task espnet2_jstar.bin.jstar_train "$cascade_asr_config" \
                     "$expdir/cascade_asr" "speech src_text text" "${src_tok[@]}" ;;
        # ESPnet ST's auxiliary CTC reads the cascade ASR's targets (the shared BPE by default)
        espnet_st) local src=(--src_token_list "$srcdir/tokens.txt" --src_bpemodel "$srcdir/bpe.model") init=() a m
                   if [ "$st_pretrain" = true ]; then   # ESPnet's ST recipe: ASR encoder, MT decoder
                       timed train_task espnet2.bin.asr_train "${st_config%.yaml}_asr.yaml" "$expdir/${st_name}_asr" \
                           "speech src_text:text" --token_list "$srcdir/tokens.txt" --bpemodel "$srcdir/bpe.model"
                       train_set=$mt_set timed train_task espnet2.bin.mt_train "${st_config%.yaml}_mt.yaml" \
                           "$expdir/${st_name}_mt" "src_text text" --src_token_list "$bpedir/tokens.txt" \
                           --src_bpemodel "$bpedir/bpe.model"
                       a=$(model_file "$expdir/${st_name}_asr"); m=$(model_file "$expdir/${st_name}_mt")
                       init=(--init_param "$a:encoder:encoder" "$a:ctc:ctc" "$m:decoder:decoder")
                   fi
                   timed train_task espnet2.bin.st_train "$st_config" "$expdir/$st_name" \
                     "speech src_text text" "${src[@]}" --src_token_type bpe "${init[@]}" ;;
        *) die "unknown baseline $1" ;;
    esac; }
train_jstar() { local sys=$1 cfg=$jstar_config extra=() mt asr
    mt=$(jstar_mt "$sys"); [ -n "$mt" ] && extra+=(--mt_init "$expdir/$mt")
    # from a trained ASR the CTC posteriors alone meet the MT's input space; the residual
    # adds the fast encoder's output, which the MT never saw (TUNING_mini.md section 12)
    uses_bridge "$sys" && extra+=(--bridge ctc_embed --bridge_conf "{residual: $([ "$asr_init" = true ] && echo false || echo true)}")
    if [ "$asr_init" = true ]; then
        asr=$(model_file "$expdir/cascade_asr")
        # shellcheck disable=SC2206
        extra+=(--init_param "$asr:fast_encoder:fast_encoder" "$asr:asr_head:asr_head" $asr_init_args)
        [ "$asr_freeze" = true ] && extra+=(--freeze_param fast_encoder asr_head)
    fi
    case $sys in
        jstar|jstar_no_mt_init|jstar_bridge|jstar_no_bridge) ;;
        jstar_fast_st) extra+=(--slow_encoder none) ;;
        jstar_lambda*) extra+=(--model_conf "asr_weight=${sys#jstar_lambda}") ;;
        jstar_torchaudio_loss) cfg=${jstar_config%.yaml}_torchaudio.yaml ;;
        jstar_beamformer) extra+=(--frontend beamformer --frontend_conf
                                  "{array_json: ${datadir}/${train_set:-train}/array.json, mouth_skip: true}") ;;
        *) die "unknown ablation ${sys#jstar_}" ;;
    esac
    log "stage 5: JSTAR training ($sys)"
    # shellcheck disable=SC2086
    timed train_task espnet2_jstar.bin.jstar_train "$cfg" "$expdir/$sys" \
        "speech src_text text" "${extra[@]}" "${src_tok[@]}" $jstar_args; }
if run_stage 5; then
    jobs5=$train_jobs
    if early_baselines; then
        # JSTAR starts from the cascade's ASR: train it first, in slots the MTs free, with the
        # other baselines when stage 6 follows (stage 6 waits for them); JSTAR waits for its
        # MTs and the ASR only
        others=$(other_baselines)
        for b in cascade $others; do pool_job "$train_jobs" "$b" train_baseline "$b"; done
        pool_wait_for mt mt_char cascade
        # with nothing else to train, a single JSTAR system takes every core
        [ -z "$others" ] && [ "$(jstar_systems | wc -w)" -eq 1 ] && { pool_wait; jobs5=1; }
    fi
    for sys in $(jstar_systems); do pool_job "$jobs5" "$sys" train_jstar "$sys"; done
    run_stage 6 || pool_wait   # with stage 6 next, its baselines may train alongside
fi

current_stage=6; if run_stage 6; then
    # the baselines stage 5 started (--asr_init) may still train: pool_job does not start them
    # again; pool_wait waits for them, or with stage 7 next each decoding waits for its own
    for b in $baselines; do pool_job "$train_jobs" "$b" train_baseline "$b"; done
    run_stage 7 || pool_wait
fi

current_stage=7
# decode_<kind> <test set> [...]: one decoding each, skipped when its .done records the same
# command and inputs (fresh_or), redone when they changed
decode_jstar() { local sys=$1 t=$2 cs=${3:-} d=$expdir/$1/decode_$2
    if [ -n "$cs" ]; then d=${d}_slowchunk$cs; else cs=$slow_chunk_size; fi   # a sweep point, or the default
    local cmd=(${python} -m espnet2_jstar.bin.jstar_inference --mode streaming --num_threads "$decode_threads"
               --data_path_and_name_and_type "${datadir}/$t/wav.scp,speech,sound" --beam_size "$beam_size"
               $jstar_decode_args ${cs:+--slow_chunk_size "$cs"} --jstar_train_config "$expdir/$sys/config.yaml"
               --jstar_model_file "$expdir/$sys" --output_dir "$d")
    fresh_or "$d" "${cmd[@]}" && return 0
    log "stage 7: streaming decoding $sys on $t${cs:+ (slow chunk $cs)}"
    timed "${cmd[@]}" > "$d.log" 2>&1 || die "decoding failed, see $d.log"
    stamp "$d" "${cmd[@]}"; }
decode_mt() { local m=$1 d=$expdir/$1/decode_$2
    local cmd=(${python} -m espnet2_jstar.bin.mt_inference --mt_train_config "$expdir/$m/config.yaml"
               --mt_model_file "$expdir/$m" --output_dir "$d/st" --beam_size "$beam_size"
               --data_path_and_name_and_type "${datadir}/$2/src_text,src_text,text")
    fresh_or "$d" "${cmd[@]}" && return 0
    timed "${cmd[@]}" > "$d.log" 2>&1 || die "MT decoding failed, see $d.log"
    stamp "$d" "${cmd[@]}"; }
decode_cascade() { local d=$expdir/cascade/decode_$1
    local cmd=(${python} -m espnet2_jstar.bin.cascade_inference --num_threads "$decode_threads"
               --beam_size "$beam_size" --mt_beam_size "$beam_size" $cascade_decode_args
               --data_path_and_name_and_type "${datadir}/$1/wav.scp,speech,sound"
               --asr_train_config "$expdir/cascade_asr/config.yaml" --asr_model_file "$expdir/cascade_asr"
               --mt_train_config "$expdir/mt/config.yaml" --mt_model_file "$expdir/mt" --output_dir "$d")
    fresh_or "$d" "${cmd[@]}" && return 0
    log "stage 7: cascade decoding on $1"
    timed "${cmd[@]}" > "$d.log" 2>&1 || die "cascade decoding failed, see $d.log"
    stamp "$d" "${cmd[@]}"; }
decode_espnet_st() { local d=$expdir/$st_name/decode_$1 t0 mf
    mf=$(model_file "$expdir/$st_name") || exit 1   # (model_file said why)
    # the thread count the decode dir reports (--threads below) is the one it ran with
    local cmd=(env OMP_NUM_THREADS="$decode_threads" ${python} -m espnet2.bin.st_inference
               --config "$st_decode_config" --batch_size 1 --ngpu "$((ngpu > 0 ? 1 : 0))" --nbest 1
               --data_path_and_name_and_type "${datadir}/$1/wav.scp,speech,sound"
               --st_train_config "$expdir/$st_name/config.yaml"
               --st_model_file "$mf" --output_dir "$d/raw")
    fresh_or "$d" "${cmd[@]}" && return 0
    log "stage 7: ESPnet ST decoding on $1"; t0=$SECONDS
    timed "${cmd[@]}" > "$d.log" 2>&1 || die "ESPnet ST decoding failed, see $d.log"
    OMP_NUM_THREADS=$decode_threads ${python} -m espnet2_jstar.bin.offline_st_to_decode_dir \
        --st_inference_dir "$d/raw" --data_dir "${datadir}/$1" --output_dir "$d" \
        --compute_seconds $((SECONDS - t0)) --threads "$decode_threads" >> "$d.log" 2>&1 \
        || die "ESPnet ST decode-dir conversion failed, see $d.log"
    stamp "$d" "${cmd[@]}"; }
if run_stage 7; then
    # every decoding is independent: up to --nj of them run at once, in the slots that the
    # trainings of stages 4-6 free; each group first waits for the trainings it reads, in the
    # order they usually finish: the MTs, the cascade, each JSTAR system, the other baselines
    for m in mt mt_char; do
        pool_wait_for "$m"
        if [ -f "$expdir/$m/.done" ]; then for t in $test_sets; do pool_run "$nj" decode_mt "$m" "$t"; done; fi
    done
    if [[ " $baselines " == *" cascade "* ]]; then
        pool_wait_for cascade; for t in $test_sets; do pool_run "$nj" decode_cascade "$t"; done
    fi
    for sys in $(jstar_systems); do
        pool_wait_for "$sys"; for t in $test_sets; do pool_run "$nj" decode_jstar "$sys" "$t"; done
    done
    if [ -n "$slow_chunk_sweep" ]; then   # the latency-quality curve of exp/jstar
        pool_wait_for jstar
        for t in $test_sets; do for cs in $slow_chunk_sweep; do pool_run "$nj" decode_jstar jstar "$t" "$cs"; done; done
    fi
    for b in $(non_cascade_baselines); do
        pool_wait_for "$b"; for t in $test_sets; do pool_run "$nj" "decode_$b" "$t"; done
    done
    pool_wait
fi

current_stage=8; if run_stage 8; then
    log "stage 8: scoring"
    scores=()
    for d in "$expdir"/*/decode_*/; do
        d=${d%/}; [ -f "$d/.done" ] && fresh_decoding "$d" || continue
        t=${d##*/decode_}; t=${t%%_slowchunk*}
        sys=$(basename "$(dirname "$d")")${d##*/decode_$t}
        conv=${datadir}/dry/$t/conversations.jsonl; [ -f "$conv" ] || conv=""  # TTS voices
        ${python} -m espnet2_jstar.bin.jstar_score --decode_dir "$d" --data_dir "${datadir}/$t" \
            --system "$sys ($t)" --out_json "$d/score.json" --quiet --bins snr_db=7,14 \
            ${conv:+--conversations "$conv"} || die "scoring $d failed"
        scores+=("$d/score.json")
    done
    ${python} -m espnet2_jstar.bin.make_results --scores "${scores[@]}" --out "$results" \
        --title "$corpus/jstar1 (scale $scale)" \
        --commands_file "$expdir/commands.txt" --plot "${results%.md}_latency_quality.png" \
        ${slow_chunk_size:+--plot_default_tag "$slow_chunk_size"} || die "make_results failed"
    log "wrote $results"
fi
trap - EXIT
log "done (stages $stage-$stop_stage)"
