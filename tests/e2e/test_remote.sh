#!/usr/bin/env bash
# Remote workers (--remote CMD): a real sshd on a loopback port with throwaway host and user
# keys, and build/worker started through `ssh -T`. A job with one local and one ssh worker
# gives the same bytes as a local-only run; killing the ssh connection mid-segment re-runs the
# segment and the job completes; launchers that answer garbage, speak another protocol version
# or stall are replaced like crashed workers, and a job with no usable worker fails (no hang).
# shellcheck source=api_lib.sh
. "$(dirname "$0")/api_lib.sh"
private_tmp

gen_clip "$T/clip.mp4" 6 || fail setup "cannot generate a clip"
gen_clip "$T/long.mp4" 12 || fail setup "cannot generate a clip"
CLIP_FRAMES=$(frames "$T/clip.mp4")
LONG_FRAMES=$(frames "$T/long.mp4")

# the local-only references the remote runs must equal, byte for byte
run_master ref -q --no-baseline -w 2 -s 1 -o "$T/ref.mp4" "$T/clip.mp4"
check local-reference [ "$rc" -eq 0 -a -s "$T/ref.mp4" ]
run_master reflong -q --no-baseline -w 2 -s 1 -o "$T/reflong.mp4" "$T/long.mp4"

# ---- a throwaway sshd on 127.0.0.1 ----

SSHD=$(command -v sshd || echo /usr/sbin/sshd)
S=$T/ssh
mkdir -p "$S" && chmod 700 "$S"
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key" </dev/null
ssh-keygen -q -t ed25519 -N '' -f "$S/user_key" </dev/null
cp "$S/user_key.pub" "$S/authorized_keys"
SSH_PORT=$(free_port)
cat >"$S/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $S/host_key
AuthorizedKeysFile $S/authorized_keys
AllowUsers $(id -un)
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $S/sshd.pid
LogLevel ERROR
EOF
# sshd as root wants its privilege-separation directory (the package's service would make it)
[ "$(id -u)" -eq 0 ] && mkdir -p /run/sshd
"$SSHD" -D -e -f "$S/sshd_config" 2>"$S/sshd.log" &
SSHD_PID=$!
trap 'kill $SSHD_PID 2>/dev/null; rm -rf "$T"' EXIT
SSH="ssh -T -i $S/user_key -p $SSH_PORT -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR 127.0.0.1"
up=0
for _ in $(seq 50); do
	$SSH true </dev/null 2>/dev/null && { up=1; break; }
	sleep 0.1
done
if [ $up -eq 0 ]; then
	fail sshd-starts "no ssh login on port $SSH_PORT: $(head -c 300 "$S/sshd.log")"
	finish
fi
pass sshd-starts
# the far side's scratch dir is this script's own, so the checks below that look for its
# processes never see another test's workers (tests/run runs tests side by side)
RTMP=$VR_TMP/remote
mkdir -p "$RTMP"
REMOTE="$SSH env TMPDIR=$RTMP $WORKER --name sshbox"

# ---- one local and one ssh worker: the same bytes as a local-only run ----

run_master mixed --json --compare -w 1 --remote "$REMOTE" -s 1 -o "$T/mixed.mp4" "$T/clip.mp4"
if [ "$rc" -ne 0 ]; then
	fail mixed-job-succeeds "$(why mixed)"
else
	pass mixed-job-succeeds
	check mixed-identical-to-local cmp -s "$T/mixed.mp4" "$T/ref.mp4"
	check mixed-frames-out-equal-in [ "$(frames "$T/mixed.mp4")" = "$CLIP_FRAMES" ]
	check mixed-baseline-identical jt "$T/mixed.out" '.identical == true'
	check mixed-ssh-worker-rendered jt "$T/mixed.out" \
		'[.timeline[] | select(.phase == "parallel" and .host == "sshbox/1" and .remote == true)] | length >= 1'
	check mixed-local-worker-rendered jt "$T/mixed.out" \
		'[.timeline[] | select(.phase == "parallel" and .remote == false and (.host | endswith("/0")))] | length >= 1'
	check mixed-reports-remote-count jt "$T/mixed.out" '.remote_workers == 1'
fi

# remote workers only (--workers 0), the baseline on the remote worker too
run_master only --json --compare -w 0 --remote "$REMOTE" -s 1 -o "$T/only.mp4" "$T/clip.mp4"
if [ "$rc" -eq 0 ]; then
	pass remote-only-job-succeeds
	check remote-only-identical-to-local cmp -s "$T/only.mp4" "$T/ref.mp4"
	check remote-only-every-segment-remote jt "$T/only.out" '[.timeline[] | select(.remote != true)] | length == 0'
else
	fail remote-only-job-succeeds "$(why only)"
fi
# every frame a keyframe: the piece is 80 files of a quarter second, all sent through the pipe
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=160x120:rate=30:duration=20" \
	-c:v libx264 -preset ultrafast -g 1 -pix_fmt yuv420p "$T/intra.mp4"
run_master intraref -q --no-baseline -w 1 -o "$T/intraref.mp4" "$T/intra.mp4"
run_master intra --json --no-baseline -w 0 --remote "$REMOTE" -o "$T/intra.out.mp4" "$T/intra.mp4"
if [ "$rc" -eq 0 ]; then
	pass remote-many-files-succeeds
	check remote-many-files-in-a-piece jt "$T/intra.out" '.pieces[0].files > 64'
	check remote-many-files-identical-to-local cmp -s "$T/intra.out.mp4" "$T/intraref.mp4"
else
	fail remote-many-files-succeeds "$(why intra)"
fi
# a variable rate: runs of the cut's files with each file's span, through the pipe too
FF="ffmpeg -nostdin -v error -y"
$FF -f lavfi -i "testsrc2=size=160x120:rate=15:duration=2" -c:v libx264 -preset ultrafast -g 15 -pix_fmt yuv420p "$T/vfr15.mkv"
$FF -f lavfi -i "testsrc2=size=160x120:rate=30:duration=2" -c:v libx264 -preset ultrafast -g 30 -pix_fmt yuv420p "$T/vfr30.mkv"
printf 'file %s\nfile %s\n' "$T/vfr15.mkv" "$T/vfr30.mkv" >"$T/vfr.txt"
$FF -f concat -safe 0 -i "$T/vfr.txt" -c:v copy "$T/vfr.mkv"
run_master vfrref -q --no-baseline -w 1 -o "$T/vfrref.mp4" "$T/vfr.mkv"
run_master vfr --json --no-baseline -w 0 --remote "$REMOTE" -o "$T/vfr.out.mp4" "$T/vfr.mkv"
if [ "$rc" -eq 0 ]; then
	pass remote-variable-rate-succeeds
	check remote-variable-rate-several-files jt "$T/vfr.out" '.pieces[0].files > 1'
	check remote-variable-rate-identical-to-local cmp -s "$T/vfr.out.mp4" "$T/vfrref.mp4"
else
	fail remote-variable-rate-succeeds "$(why vfr)"
fi
run_master w0 -w 0 "$T/clip.mp4"
check workers-0-needs-remote [ "$rc" -eq 2 ]
check workers-0-explained grep -q "needs at least one --remote" "$T/w0.err"

# ---- the ssh connection killed mid-segment: re-run elsewhere, the job completes ----

# the pid of the master's ssh launcher while its remote worker is decoding a segment it was sent
remote_busy() {
	pgrep -f "$RTMP/vr-worker-[^ ]*/in_" >/dev/null || return 1
	ps --ppid "$mpid_real" -o pid=,comm= | awk '$2 == "ssh" { print $1; exit }'
}
start_master sshkill --json --no-baseline -w 1 --remote "$REMOTE" -s 1 -o "$T/sshkill.mp4" "$T/long.mp4"
victim=
for _ in $(seq 1500); do
	victim=$(remote_busy) && [ -n "$victim" ] && break
	kill -0 "$mpid_real" 2>/dev/null || break
	sleep 0.02
done
if [ -n "$victim" ]; then
	kill -9 "$victim"
	finish_master
	if [ "$rc" -ne 0 ]; then
		fail ssh-killed-job-succeeds "$(why sshkill)"
	else
		pass ssh-killed-job-succeeds
		check ssh-killed-frames-out-equal-in [ "$(frames "$T/sshkill.mp4")" = "$LONG_FRAMES" ]
		check ssh-killed-identical-to-local cmp -s "$T/sshkill.mp4" "$T/reflong.mp4"
		check ssh-killed-retry-names-worker jt "$T/sshkill.out" \
			'[.retries[] | select(.host == "sshbox/1" and (.error | test("signal 9|Killed")))] | length >= 1'
	fi
	# the far side notices and leaves: no worker or ffmpeg of its own left behind
	left=1
	for _ in $(seq 100); do
		pgrep -f "$WORKER --name sshbox" >/dev/null || pgrep -f "$RTMP/vr-worker-" >/dev/null || { left=0; break; }
		sleep 0.1
	done
	check ssh-killed-remote-side-exits [ $left -eq 0 ]
else
	finish_master
	fail ssh-killed-job-succeeds "never saw the ssh worker rendering ($(why sshkill))"
fi

# ---- launchers that are not (good) workers ----

# a framed hello of another protocol version, then silence
printf 'V\001\001\000\000\000\000\016{"version":99}' >"$T/hello99"
run_master oldver --json -w 1 --remote "sh -c 'cat $T/hello99; sleep 30'" -s 1 -o "$T/oldver.mp4" "$T/clip.mp4"
check version-mismatch-local-worker-finishes [ "$rc" -eq 0 ]
check version-mismatch-cmp cmp -s "$T/oldver.mp4" "$T/ref.mp4"
check version-mismatch-explained grep -q "protocol 99, this master" "$T/oldver.err"

run_master oldonly -w 0 --remote "sh -c 'cat $T/hello99; sleep 30'" -s 1 -o "$T/oldonly.mp4" "$T/clip.mp4"
check version-mismatch-only-fails [ "$rc" -eq 1 ]
check version-mismatch-only-says-why grep -q "no worker left.*protocol 99" "$T/oldonly.err"

run_master garbage -w 0 --remote "sh -c 'echo HTTP/1.1 200 OK; sleep 30'" -s 1 -o "$T/garbage.mp4" "$T/clip.mp4"
check garbage-fails [ "$rc" -eq 1 ]
check garbage-says-protocol grep -q "not our protocol" "$T/garbage.err"
check garbage-no-output [ ! -e "$T/garbage.mp4" ]

run_master nolauncher -w 1 --remote "no-such-launcher-here x" -s 1 -o "$T/nol.mp4" "$T/clip.mp4"
check missing-launcher-fails [ "$rc" -eq 1 ]
check missing-launcher-named grep -q "no-such-launcher-here not found" "$T/nolauncher.err"

run_master badquote -w 1 --remote "ssh 'host" "$T/clip.mp4"
check bad-quote-usage-error [ "$rc" -eq 2 ]
check bad-quote-explained grep -q "unterminated" "$T/badquote.err"

# a worker that says hello, takes a task and never answers: replaced after --task-timeout, its
# segment re-run; the first launch stalls, later ones are real workers (the timeout is long
# enough for a real worker to show progress on a machine busy with other work)
proto=$(awk '$2 == "WORKER_PROTOCOL" { print $3 }' "$VR_ROOT/worker/worker.h")
printf 'V\001\001\000\000\000\000\015{"version":%d}' "$proto" >"$T/hello2"
cat >"$T/staller.sh" <<EOF
#!/bin/sh
if [ -e "$T/stalled" ]; then exec "$WORKER" --name later; fi
touch "$T/stalled"
cat "$T/hello2"
exec sleep 60
EOF
chmod +x "$T/staller.sh"
run_master stall --json --no-baseline -w 1 --remote "$T/staller.sh" --task-timeout 8 -s 1 -o "$T/stall.mp4" "$T/clip.mp4"
if [ "$rc" -eq 0 ]; then
	pass stalled-worker-job-succeeds
	check stalled-worker-identical cmp -s "$T/stall.mp4" "$T/ref.mp4"
	check stalled-worker-reported jt "$T/stall.out" '[.retries[] | select(.error | test("no progress for 8 s"))] | length >= 1'
else
	fail stalled-worker-job-succeeds "$(why stall)"
fi

# ---- master serve with an ssh worker: /status names it ----

serve_start "$T/data" --workers 1 --remote "$REMOTE" --segment-seconds 1 || fail serve-starts "see $T/serve.log"
upload "$T/clip.mp4"
http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$JOB\",\"filter_type\":\"grayscale\"}"
if wait_status "$JOB" completed 120; then
	pass serve-remote-job-completes
	curl -s "$URL/status/$JOB" >"$T/serve-status.json"
	check serve-status-names-ssh-worker jt "$T/serve-status.json" '[.timeline[] | select(.host == "sshbox/1")] | length >= 1'
	# the page's own timeline code, fed this record: the remote lane carries the host's name
	check page-timeline-names-remote-host node "$VR_ROOT/tests/browser/timeline_names.mjs" "$T/serve-status.json"
	curl -s "$URL/health" >"$T/health.json"
	check serve-health-counts-remote jt "$T/health.json" '.remote_workers == 1'
else
	fail serve-remote-job-completes "$(curl -s "$URL/status/$JOB" | head -c 300)"
fi
serve_stop

finish
