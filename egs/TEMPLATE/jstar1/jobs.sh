# Helpers of jstar.sh (sourced): the record of commands and times, one ESPnet training
# (train_task), and a small job pool. They use jstar.sh's globals (expdir, datadir, bpedir,
# seed, ngpu, python, train_env, train_set, epoch_args) and its log(), die().
# Every stage's .done records its command and inputs (stage_stamp): a re-run redoes a decoding
# whose command or inputs changed, and keeps data and trainings, naming those made otherwise.
# record CMD...: append CMD to commands.txt, quoting the arguments a shell would split
record() { local a out=()
           for a in "$@"; do
               if [[ -z $a || $a =~ [^A-Za-z0-9_./:=,+@%-] ]]; then out+=("'${a//\'/\'\\\'\'}'"); else out+=("$a"); fi
           done; echo "${out[*]}" >> "$expdir/commands.txt"; }
# timed CMD...: run and record the command (commands.txt) and its wall time (stage_times.txt);
# returns CMD's exit status, so that `timed CMD || die ...` catches a failure (where `||` turns
# set -e off inside the function)
timed() { local t0=$SECONDS rc=0; [ "$1" = train_task ] || record "$@"; "$@" || rc=$?
          echo "$((SECONDS - t0)) s$([ $rc -eq 0 ] || echo " (failed, exit $rc)") : $*" >> "$expdir/stage_times.txt"
          return $rc; }

# stamp_query ACTION DIR [CMD...]: espnet2_jstar.bin.stage_stamp check (CMD) or verify on
# DIR/.done, its reason in the caller's $why; 0 = as recorded, 1 = changed (or no .done); a
# failure to compare stops the recipe
stamp_query() { local action=$1 d=$2 rc=0; shift 2
                why=$(${python} -m espnet2_jstar.bin.stage_stamp "$action" "$d" ${1+--} "$@" 2>&1) || rc=$?
                [ $rc -le 1 ] || die "checking $d/.done failed: $why"; return $rc; }
# made_or DIR CMD...: true (skip) if DIR/.done exists, with a warning if it records another
# command or other inputs (data and trainings are kept: too costly to redo unasked); otherwise
# create DIR and return false. stamp DIR CMD... (below) writes that .done once CMD succeeded.
made_or() { local d=$1 why; shift
            [ -f "$d/.done" ] || { mkdir -p "$d"; return 1; }
            log "$d is complete (.done): skipped"
            [ -s "$d/.done" ] && ! stamp_query check "$d" "$@" \
                && log "WARNING: $d kept as it is: $why (delete $d to redo it)"
            return 0; }
# model_file DIR: the model to load from an experiment: n-best average, else best, else last
model_file() { local f
    for f in valid.acc.ave.pth valid.loss.ave.pth valid.acc.best.pth valid.loss.best.pth latest.pth; do
        [ -f "$1/$f" ] && { echo "$1/$f"; return 0; }
    done; die "no model file in $1"; }
# fresh_or DIR CMD...: true (skip) if DIR/.done records CMD with its inputs as they are now
# (espnet2_jstar.bin.stage_stamp); otherwise DIR (a decoding with other options or inputs, or
# an interrupted one) is removed and made again, and false is returned. stamp DIR CMD...
# writes that .done once CMD has succeeded.
fresh_or() { local d=$1 why; shift
             stamp_query check "$d" "$@" && { log "$d is complete (.done): skipped"; return 0; }
             [ -f "$d/.done" ] && log "$d: $why: running it again"
             rm -rf "$d"; mkdir -p "$d"; return 1; }
stamp() { local d=$1; shift
          ${python} -m espnet2_jstar.bin.stage_stamp write "$d" -- "$@" || die "writing $d/.done failed"; }
# fresh_decoding DIR: false (with the reason logged) if an input of DIR's decoding has changed
# since it ran (a model retrained since, say): stage 8 leaves such a decoding out
fresh_decoding() { local why
                   stamp_query verify "$1" && return 0
                   log "$1 left out of the results: $why"; return 1; }

# A small job pool: `pool_run N CMD...` starts CMD in the background once fewer than N pool
# jobs run; `pool_wait` waits for all of them and fails the stage if any failed (each job's
# own error, naming its log, is printed by die() inside it). On CPU with N > 1 a training in
# the pool gets nproc/N threads (train_env), unless OMP_NUM_THREADS is set; decodings set
# their own thread count (--decode_threads).
pool_pids=()
pool_run() { local n=$1; shift
             while [ "$(jobs -rp | wc -l)" -ge "$n" ]; do wait -n || true; done
             ( if [ "$ngpu" -eq 0 ] && [ "$n" -gt 1 ] && [ -z "${OMP_NUM_THREADS:-}" ]; then
                   local threads=$(( $(nproc) / n )); [ "$threads" -ge 1 ] || threads=1
                   train_env=(OMP_NUM_THREADS=$threads)
               fi
               "$@" ) & pool_pids+=($!); }
pool_wait() { local p failed=0; for p in "${pool_pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
              pool_pids=(); [ "$failed" -eq 0 ] || die "$failed parallel job(s) failed (see the errors above)"; }
# pool_job N NAME CMD...: pool_run N CMD..., registered as NAME (job_pid[NAME]); a NAME this
# run already started is not started again (the stage that started it, or pool_wait, waits)
declare -A job_pid=()
pool_job() { local n=$1 name=$2; shift 2
             [ -z "${job_pid[$name]:-}" ] || return 0
             pool_run "$n" "$@"; job_pid[$name]=$!; }
# pool_wait_for NAME...: wait only for the pool jobs registered as NAME; if one failed, let
# the others finish (no training left running after the recipe exits), then fail
pool_wait_for() { local n; for n in "$@"; do
                      [ -z "${job_pid[$n]:-}" ] || wait "${job_pid[$n]}" || { wait; die "$n failed (see the errors above)"; }
                  done; }

# train_task <module> <config> <out_dir> <data-names> [extra args...]
#   data-names: "speech src_text text" (JSTAR, ESPnet ST), "src_text text" (MT), or
#   "speech src_text:text" (ESPnet ASR: the data dir's src_text read as its "text")
train_task() {
    local module=$1 config=$2 out=$3 names=$4; shift 4
    local done=false; [ -f "$out/.done" ] && done=true || mkdir -p "$out"
    local data=() n file type
    for split in train valid; do
        local d=${datadir}/${train_set:-train}; [ $split = valid ] && d=${datadir}/dev
        for n in $names; do   # NAME, or FILE:NAME (read the data dir's FILE as NAME)
            file=${n%%:*}; n=${n#*:}; type=text; [ "$n" = speech ] && { file=wav.scp; type=sound; }
            data+=(--${split}_data_path_and_name_and_type "$d/$file,$n,$type")
        done
    done
    local common=(--config "$config" --token_list "$bpedir/tokens.txt" --bpemodel "$bpedir/bpe.model"
                  --seed "$seed" --ngpu "$ngpu" --use_matplotlib false --use_tensorboard false "$@")
    if ! $done && [ ! -f "$out/stats/.done" ]; then
        log "collect stats -> $out/stats"
        record "${train_env[@]}" ${python} -m "$module" "${common[@]}" "${data[@]}" --collect_stats true \
            --output_dir "$out/stats"
        env "${train_env[@]}" ${python} -m "$module" "${common[@]}" "${data[@]}" --collect_stats true \
            --output_dir "$out/stats" > "$out.stats.log" 2>&1 || die "collect_stats failed, see $out.stats.log"
        touch "$out/stats/.done"
    fi
    local shapes=() norm=()
    for split in train valid; do
        for n in $names; do
            shapes+=(--${split}_shape_file "$out/stats/${split}/${n#*:}_shape")
            [ $split = train ] && shapes+=(--fold_length 1000000)
        done
    done
    # speech features are normalised (ESPnet's MT writes feats_stats.npz too, but takes no --normalize)
    [[ " $names " == *" speech "* ]] && [ -f "$out/stats/train/feats_stats.npz" ] \
        && norm=(--normalize global_mvn --normalize_conf "stats_file=$out/stats/train/feats_stats.npz")
    # the training command, as its .done records it (the thread count, train_env, left out)
    local cmd=(${python} -m "$module" "${common[@]}" "${norm[@]}" "${data[@]}" "${shapes[@]}"
               "${epoch_args[@]}" --resume true --output_dir "$out")
    made_or "$out" "${cmd[@]}" && return 0
    log "training $module -> $out (log: $out.train.log)"
    # a kill during ESPnet's in-place torch.save leaves a truncated .pth: repair before resuming
    if compgen -G "$out/*.pth" > /dev/null; then
        ${python} -m espnet2_jstar.bin.repair_checkpoint "$out" >> "$out.train.log" 2>&1 \
            || die "repairing $out failed, see $out.train.log"
    fi
    record "${train_env[@]}" "${cmd[@]}"
    env "${train_env[@]}" "${cmd[@]}" >> "$out.train.log" 2>&1 || die "training failed, see $out.train.log"
    stamp "$out" "${cmd[@]}"
}
