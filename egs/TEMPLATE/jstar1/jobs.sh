# Helpers of jstar.sh (sourced): the record of commands and times, and a small job pool.
# They use jstar.sh's globals: expdir, ngpu, train_env, and its die().
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
