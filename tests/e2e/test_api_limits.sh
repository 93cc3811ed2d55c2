#!/usr/bin/env bash
# Limits of `master serve`: videos too large to render (--max-pixels, --max-duration), the data
# directory's disk quota (--max-disk-mb), and writes that fail (the file size limit, ulimit -f,
# stands in for a full disk: it needs no root). Each refusal is JSON with the reason, leaves
# nothing behind, and the master goes on serving.
. "$(dirname "$0")/api_lib.sh"
trap 'serve_stop; umount "$T/small" 2>/dev/null; rm -rf "$T"' EXIT

gen_clip "$T/clip.mp4" 2                                           # 320x240, 2 s
gen_clip "$T/long.mp4" 4                                           # 320x240, 4 s
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=640x480:rate=30:duration=1" \
	-c:v libx264 -preset ultrafast -pix_fmt yuv420p "$T/wide.mp4"      # 640x480, 1 s
# a small input that renders large: lossless (--crf 0) output is about 4x its size, the
# 8 one-second segments each about half of it
gen_clip "$T/grow.mp4" 8 -crf 35
# empty NAME: the data directory holds no job and no spool file
empty() { [ -z "$(ls -A "$T/$1/jobs")" ] && [ -z "$(ls -A "$T/$1/spool")" ]; }
# used: the data directory's bytes as /health counts them
used() { curl -s "$URL/health" | jq -r .disk_used_bytes; }
# ondisk DATA: the bytes of the files in the data directory T/DATA, as they are
ondisk() { find "$T/$1" -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }'; }
# process ID FILTER: starts a job
process() { http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$1\",\"filter_type\":\"$2\"}"; }
# job_files_clean DATA ID: only the input is left of the job (no work dir, no output, no .part)
job_files_clean() { [ "$(ls -A "$T/$1/jobs/$2")" = input ]; }

# ---- --max-pixels, --max-duration ----
serve_start "$T/lim" --workers 2 --max-pixels 320x240 --max-duration 3 || { fail startup; finish; }
http GET /health
check "health shows the limits" jt <(echo "$BODY") '.max_pixels == 76800 and .max_duration == 3'
http POST /upload -F "file=@$T/wide.mp4"
check "a 640x480 video over --max-pixels 320x240 is 413" [ "$CODE" = 413 ]
check "the reason names the limit and the value" jt <(echo "$BODY") \
	'.limit == "max_pixels" and .value == 307200 and .max == 76800 and (.detail | test("640x480 \\(307200 pixels\\).*76800 pixels \\(--max-pixels\\)"))'
http POST /upload -F "file=@$T/long.mp4"
check "a 4 s video over --max-duration 3 is 413" [ "$CODE" = 413 ]
check "the reason names the duration and the limit" jt <(echo "$BODY") \
	'.limit == "max_duration" and .value == 4 and .max == 3 and (.detail | test("4.00 s.*3 s \\(--max-duration\\)"))'
check "nothing of the refused uploads is kept" empty lim
upload "$T/clip.mp4"
check "a video within both limits is accepted" [ "$CODE" = 200 -a ${#JOB} = 36 ]
serve_stop
serve_start "$T/deflim" || { fail startup; finish; }
http GET /health
check "serve's default limits are 8K and four hours" jt <(echo "$BODY") '.max_pixels == 33177600 and .max_duration == 14400'
serve_stop

# ---- --max-disk-mb ----
serve_start "$T/quota" --workers 2 --segment-seconds 1 --crf 0 --max-disk-mb 1 || { fail startup; finish; }
base=$(used)
check "the quota counts what is in the data directory at start-up (jobs.db)" [ "$base" -gt 0 ]
size=$(stat -c %s "$T/grow.mp4")
upload "$T/grow.mp4"
first=$JOB
check "an upload within the quota is accepted" [ "$CODE" = 200 ]
check "the upload is counted, byte for byte" [ "$(used)" = "$(ondisk quota)" ]
upload "$T/grow.mp4"
second=$JOB
check "a second one still fits" [ "$CODE" = 200 ]
# refused from its Content-Length alone: the head is sent, the body never is
resp=$(exec 3<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1500000\r\n\r\n' >&3
	timeout 5 cat <&3)
check "an upload that would exceed the quota is 507 before its body is sent" grep -q '^HTTP/1.1 507' <<<"$resp"
check "the reason names the quota" grep -q 'would exceed the disk quota of 1 MiB (--max-disk-mb)' <<<"$resp"
http POST /upload -F "file=@$T/grow.mp4"
check "a third upload with its body is 507 too" [ "$CODE" = 507 ]
check "no spool file is left" [ -z "$(ls -A "$T/quota/spool")" ]
check "refused uploads are not counted" [ "$(used)" = "$(ondisk quota)" ]
# with two inputs in, the segments of one (a copy of its input) would not fit: not started
process "$second" none
check "a job whose segments cannot fit fails at once" wait_status "$second" failed 10
http GET /status/$second
check "its error says so" grep -q 'the segments of this job (about 0.4 MiB) would exceed the disk quota' <<<"$(jget "$BODY" error)"
check "and nothing was written" job_files_clean quota "$second"
http DELETE /cleanup/$second
check "a removed job gives its bytes back" [ "$(used)" = "$(ondisk quota)" ]
# rendering needs segments (the input's size again) and lossless outputs of 4x: over 1 MiB
process "$first" none
check "a job that outgrows the quota fails" wait_status "$first" failed 60
http GET /status/$first
echo "error: $(jget "$BODY" error)"
check "it was stopped while rendering, and says why" grep -q "^stopped: the job's files pushed the data directory over its disk quota of 1 MiB (--max-disk-mb)" <<<"$(jget "$BODY" error)"
check "its partial files are gone, the input is kept" job_files_clean quota "$first"
check "the count matches the files again" [ "$(used)" = "$(ondisk quota)" ]
upload "$T/clip.mp4"
check "the master goes on: an upload that fits is accepted" [ "$CODE" = 200 ]
serve_stop

# ---- writes that fail: the file size limit (EFBIG), as a full disk would (ENOSPC) ----
# 1000 KiB per file: the uploads and each segment fit, a 3 MB upload and the joined output do not
cat > "$T/limited-master" <<EOF2
#!/bin/sh
ulimit -f 1000
exec "$MASTER" "\$@"
EOF2
chmod +x "$T/limited-master"
MASTER=$T/limited-master serve_start "$T/efbig" --workers 2 --segment-seconds 1 --crf 0 --max-upload-mb 5 || { fail startup; finish; }
head -c 3000000 /dev/urandom > "$T/big.mp4"
http POST /upload -F "file=@$T/big.mp4"
check "an upload the disk cannot take is 507" [ "$CODE" = 507 ]
check "its reason is the write error" grep -q 'File too large' <<<"$(jget "$BODY" detail)"
check "the partial spool file is removed" empty efbig
http GET /health
check "the master is still serving after the failed write" [ "$CODE" = 200 ]
upload "$T/grow.mp4"
check "a following small upload works" [ "$CODE" = 200 ]
process "$JOB" none
check "a job whose output cannot be written fails" wait_status "$JOB" failed 90
http GET /status/$JOB
echo "error: $(jget "$BODY" error)"
check "its error says why" grep -q 'File too large' <<<"$(jget "$BODY" error)"
check "no partial output is left" job_files_clean efbig "$JOB"
http GET /health
check "the master is still serving after the failed job" [ "$CODE" = 200 -a "$(jget "$BODY" running)" = false ]
serve_stop

# ---- a disk that is really full (ENOSPC): a 3 MiB tmpfs, where we may mount one (root) ----
mkdir -p "$T/small"
if mount -t tmpfs -o size=3m tmpfs "$T/small" 2>/dev/null; then
	serve_start "$T/small/data" --workers 2 --segment-seconds 1 --crf 0 --max-upload-mb 5 || { fail startup; finish; }
	head -c 4000000 /dev/urandom > "$T/big4.mp4"
	http POST /upload -F "file=@$T/big4.mp4"
	check "full disk: the upload is 507" [ "$CODE" = 507 ]
	check "full disk: its reason is the write error" grep -q 'No space left on device' <<<"$(jget "$BODY" detail)"
	check "full disk: the partial spool file is removed" empty small/data
	upload "$T/grow.mp4"
	check "full disk: a following small upload works" [ "$CODE" = 200 ]
	process "$JOB" none
	check "full disk: a job that fills it fails" wait_status "$JOB" failed 90
	http GET /status/$JOB
	check "full disk: its error says why" grep -q 'No space left on device' <<<"$(jget "$BODY" error)"
	check "full disk: no partial output is left" job_files_clean small/data "$JOB"
	upload "$T/clip.mp4"
	check "full disk: the master goes on serving" [ "$CODE" = 200 ]
	serve_stop
	umount "$T/small"
else
	echo "SKIP full disk on tmpfs: cannot mount one here (not root); the ulimit -f tests above stand in"
fi
finish
