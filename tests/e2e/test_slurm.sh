#!/usr/bin/env bash
# Slurm workers (--slurm N) against a real single-node Slurm that this test starts in its own
# directory and stops again: a private munged (its own key and socket), slurmctld and slurmd on
# free ports, state and spool under $T, so two runs at once do not meet. Shows: `--slurm 2
# -w 0` gives the same bytes as a local run, the workers named by their Slurm node; a Slurm
# worker killed mid-segment is replaced and its segment re-run; inside an allocation (salloc)
# the workers are its steps, side by side; `serve --slurm 2 --workers 0` completes a job with
# the node named in /status; srun options pass through --slurm-args; and nothing is left in
# squeue after any of them. Skipped (with the reason) when not root or when
# the Slurm packages are missing (scripts/install-deps installs them).
# shellcheck disable=SC2317 # the stop functions run from the EXIT trap
# shellcheck source=api_lib.sh
. "$(dirname "$0")/api_lib.sh"

skip() { echo "SKIP test_slurm: $1"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root (slurmd runs job steps as their user; munged as munge)"
for cmd in slurmctld slurmd srun squeue sinfo scontrol scancel munged setpriv; do
	command -v "$cmd" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$cmd" >/dev/null 2>&1 ||
		skip "$cmd not installed (apt-get install slurmctld slurmd slurm-client munge)"
done
export PATH=$PATH:/usr/sbin
getent passwd munge >/dev/null || skip "no user munge (the munge package creates it)"

private_tmp
NODE=vrnode1                  # the Slurm node's name: not the host name, so the names seen
SL=$T/slurm                   # prove they come from Slurm (SLURMD_NODENAME)
MU=$T/munge
# munged runs as munge and must reach its socket directory; srun (root) reaches it too
chmod 711 "$T"
mkdir -p "$SL/state" "$SL/spool" "$MU"
CTLD_PID='' SLURMD_PID='' MUNGED_PID=''

# Every process of this run's Slurm carries SLURM_CONF=$SL/slurm.conf in its environment (the
# daemons, the srun launchers the master starts, the job steps and their tasks): the ones a
# failure leaves behind are found by it, and no other run's are touched. (Call it with
# SLURM_CONF no longer exported, or grep finds itself.)
slurm_ours() {
	grep -lzxF "SLURM_CONF=$SL/slurm.conf" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
}
# stop_daemon PID: TERM, then KILL if it is still there after 15 s (slurmd ignores TERM
# while it retries registering), and reap it
stop_daemon() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
slurm_stop() {
	local pids
	if [ -n "$CTLD_PID" ]; then
		timeout 10 scancel --full --quiet --partition=vr 2>/dev/null
		for _ in $(seq 100); do
			[ -z "$(timeout 5 squeue -h 2>/dev/null)" ] && break
			sleep 0.1
		done
	fi
	stop_daemon "$SLURMD_PID"
	stop_daemon "$CTLD_PID"
	# anything of ours still there (an srun whose master was killed, a step's task)
	export -n SLURM_CONF
	pids=$(slurm_ours)
	# shellcheck disable=SC2086 # one pid a word
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	stop_daemon "$MUNGED_PID"
	CTLD_PID='' SLURMD_PID='' MUNGED_PID=''
}
trap 'serve_stop; slurm_stop; rm -rf "$T"' EXIT
# killed (tests/run's timeout, ^C): still through the EXIT trap, so no daemon outlives us
trap 'exit 143' TERM INT HUP

# ---- a private munge and Slurm ----

# a key of our own: this run's daemons trust only each other
head -c 1024 /dev/urandom >"$MU/munge.key"
chown -R munge:munge "$MU"
chmod 400 "$MU/munge.key"
chmod 755 "$MU"
setpriv --reuid=munge --regid=munge --init-groups munged --foreground --socket="$MU/socket" \
	--key-file="$MU/munge.key" --pid-file="$MU/munged.pid" --seed-file="$MU/munged.seed" \
	--log-file="$MU/munged.log" >"$MU/munged.out" 2>&1 &
MUNGED_PID=$!
export SLURM_CONF=$SL/slurm.conf

CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
while [ "$SLURMD_PORT" = "$CTLD_PORT" ]; do SLURMD_PORT=$(free_port); done
cat >"$SLURM_CONF" <<EOF
ClusterName=vrtest
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$MU/socket
CredType=cred/munge
StateSaveLocation=$SL/state
SlurmdSpoolDir=$SL/spool
SlurmctldPidFile=$SL/slurmctld.pid
SlurmdPidFile=$SL/slurmd.pid
SlurmctldLogFile=$SL/slurmctld.log
SlurmdLogFile=$SL/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# CPUs as configured, whatever the machine has: a replacement worker need not wait for the
# killed one's job to be cleaned up
SlurmdParameters=config_overrides
ReturnToService=2
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=vr Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
for _ in $(seq 50); do [ -S "$MU/socket" ] && break; sleep 0.1; done
slurmctld -D -f "$SLURM_CONF" >"$SL/slurmctld.out" 2>&1 &
CTLD_PID=$!
slurmd -D -f "$SLURM_CONF" -N "$NODE" >"$SL/slurmd.out" 2>&1 &
SLURMD_PID=$!
up=0
for _ in $(seq 300); do
	[ "$(timeout 5 sinfo -h -n "$NODE" -o %t 2>/dev/null)" = idle ] && { up=1; break; }
	sleep 0.1
done
if [ $up -eq 0 ]; then
	fail slurm-starts "node $NODE not idle: $(tail -n 3 "$SL/slurmctld.log" "$SL/slurmd.log" "$MU/munged.out" 2>&1 | tr '\n' '|' | cut -c1-600)"
	finish
fi
pass slurm-starts

# squeue_empty NAME: no job left in squeue. A step whose srun was killed outright leaves the
# queue once Slurm notices (seconds): polled, bounded, so this says "eventually", not "how fast".
squeue_empty() {
	local left
	for _ in $(seq 300); do
		left=$(timeout 5 squeue -h -o '%i %j %T' 2>&1)
		[ -z "$left" ] && { pass "$1"; return; }
		sleep 0.1
	done
	fail "$1" "still in squeue: $(echo "$left" | tr '\n' '|' | cut -c1-300)"
}

gen_clip "$T/clip.mp4" 3 || fail setup "cannot generate a clip"
gen_clip "$T/long.mp4" 6 || fail setup "cannot generate a clip"
CLIP_FRAMES=$(frames "$T/clip.mp4")
LONG_FRAMES=$(frames "$T/long.mp4")
run_master ref -q --no-baseline -w 2 -s 1 -o "$T/ref.mp4" "$T/clip.mp4"
check local-reference [ "$rc" -eq 0 -a -s "$T/ref.mp4" ]
run_master reflong -q --no-baseline -w 2 -s 1 -o "$T/reflong.mp4" "$T/long.mp4"
SLURM=(--slurm 2 --slurm-worker "$WORKER")

# ---- two Slurm workers, no local one: the same bytes as a local run ----

run_master only --json --no-baseline -w 0 "${SLURM[@]}" -s 1 -o "$T/only.mp4" "$T/clip.mp4"
if [ "$rc" -eq 0 ]; then
	pass slurm-job-succeeds
	check slurm-identical-to-local cmp -s "$T/only.mp4" "$T/ref.mp4"
	check slurm-frames-out-equal-in [ "$(frames "$T/only.mp4")" = "$CLIP_FRAMES" ]
	check slurm-every-segment-on-the-node jt "$T/only.out" \
		"[.timeline[] | select(.remote != true or (.host | startswith(\"$NODE/\") | not))] | length == 0"
	check slurm-segments-rendered jt "$T/only.out" '[.timeline[] | select(.phase == "parallel")] | length >= 1'
	check slurm-reports-remote-count jt "$T/only.out" '.remote_workers == 2'
else
	fail slurm-job-succeeds "$(why only)"
fi
squeue_empty slurm-job-leaves-no-job

# ---- --slurm-args reaches srun, split like --remote: a name with a space, a partition ----

run_master badpart -w 0 --slurm 1 --slurm-worker "$WORKER" --slurm-args "--partition=nosuchpart" \
	-s 1 -o "$T/badpart.mp4" "$T/clip.mp4"
check slurm-args-bad-partition-fails [ "$rc" -eq 1 ]
check slurm-args-bad-partition-said grep -qi "invalid partition" "$T/badpart.err"
check slurm-args-bad-partition-no-worker-left grep -q "no worker left" "$T/badpart.err"
squeue_empty slurm-args-bad-partition-leaves-no-job

# ---- a Slurm worker killed mid-segment: replaced, its segment re-run ----

# the pid of a Slurm worker (a job step's task) while it decodes a segment it was sent
slurm_busy() {
	local ff
	ff=$(pgrep -f "$VR_TMP/vr-worker-[^ ]*/in_" | head -n 1)
	[ -n "$ff" ] && ps -o ppid= -p "$ff" | tr -d ' '
}
start_master kill --json --no-baseline -w 0 "${SLURM[@]}" --slurm-args "--partition=vr --job-name='vr render'" \
	-s 1 -o "$T/kill.mp4" "$T/long.mp4"
victim=
for _ in $(seq 1500); do
	victim=$(slurm_busy) && [ -n "$victim" ] && break
	kill -0 "$mpid_real" 2>/dev/null || break
	sleep 0.02
done
if [ -n "$victim" ]; then
	# the --slurm-args name, with its space, is what squeue shows
	names=$(squeue -h -o %j | sort -u)
	kill -9 "$victim"
	finish_master
	check slurm-args-job-name [ "$names" = "vr render" ]
	if [ "$rc" -ne 0 ]; then
		fail slurm-killed-job-succeeds "$(why kill)"
	else
		pass slurm-killed-job-succeeds
		check slurm-killed-frames-out-equal-in [ "$(frames "$T/kill.mp4")" = "$LONG_FRAMES" ]
		check slurm-killed-identical-to-local cmp -s "$T/kill.mp4" "$T/reflong.mp4"
		# srun reports its task's signal as exit 128 + 9
		check slurm-killed-retry-names-node jt "$T/kill.out" \
			"[.retries[] | select((.host | startswith(\"$NODE/\")) and (.error | test(\"exit 137\")))] | length >= 1"
		check slurm-killed-segment-rerun jt "$T/kill.out" \
			'[.retries[].segment] - [.timeline[] | select(.result == "done") | .segment] | length == 0'
	fi
else
	finish_master
	fail slurm-killed-job-succeeds "never saw a Slurm worker rendering ($(why kill))"
fi
squeue_empty slurm-killed-leaves-no-job

# ---- inside an allocation (salloc): the workers are steps of it, running side by side ----

# With --exact each step takes one task's CPUs; without it the first step would take every
# CPU the allocation has on the node and the second would wait until the first ended.
timeout -k 5 180 salloc --quiet --job-name=vr-alloc --nodes=1 --ntasks=2 "$MASTER" --json --no-baseline -w 0 "${SLURM[@]}" \
	-s 1 -o "$T/alloc.mp4" "$T/long.mp4" >"$T/alloc.out" 2>"$T/alloc.err" </dev/null &
apid=$!
steps=0
for _ in $(seq 3000); do
	steps=$(squeue -h --steps -o %j 2>/dev/null | grep -c '^video-worker$')
	[ "$steps" -ge 2 ] && break
	kill -0 "$apid" 2>/dev/null || break
	sleep 0.02
done
jobs_seen=$(squeue -h -o %j 2>/dev/null | sort -u | paste -sd,)
rc=0
wait "$apid" || rc=$?
check alloc-two-steps-at-once [ "$steps" -ge 2 ]
check alloc-one-job-the-allocation [ "$jobs_seen" = vr-alloc ]
if [ "$rc" -eq 0 ]; then
	pass alloc-job-succeeds
	check alloc-identical-to-local cmp -s "$T/alloc.mp4" "$T/reflong.mp4"
else
	fail alloc-job-succeeds "$(why alloc)"
fi
squeue_empty alloc-leaves-no-job

# ---- master serve with two Slurm workers only: /status names the node ----

serve_start "$T/data" --workers 0 "${SLURM[@]}" --segment-seconds 1 || fail serve-starts "see $T/serve.log"
upload "$T/clip.mp4"
http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$JOB\",\"filter_type\":\"grayscale\",\"baseline\":false}"
if wait_status "$JOB" completed 120; then
	pass serve-slurm-job-completes
	curl -s "$URL/status/$JOB" >"$T/serve-status.json"
	check serve-status-names-node jt "$T/serve-status.json" \
		"[.timeline[] | select(.host | startswith(\"$NODE/\"))] | length >= 1"
	check serve-status-only-node jt "$T/serve-status.json" \
		"[.timeline[] | select(.host | startswith(\"$NODE/\") | not)] | length == 0"
	curl -s "$URL/download/$JOB" -o "$T/serve.mp4"
	check serve-slurm-frames-out-equal-in [ "$(frames "$T/serve.mp4")" = "$CLIP_FRAMES" ]
	curl -s "$URL/health" >"$T/health.json"
	check serve-health-counts-slurm jt "$T/health.json" '.remote_workers == 2 and .workers == 0'
else
	fail serve-slurm-job-completes "$(curl -s "$URL/status/$JOB" | head -c 300)"
fi
serve_stop
squeue_empty serve-stop-leaves-no-job

finish
