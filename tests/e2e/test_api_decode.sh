#!/usr/bin/env bash
# The HTTP API on what ffmpeg decodes: a truncated upload is accepted and rendered whole as far
# as it goes, and /upload and /status say it is truncated with its real duration; numbers in the
# JSON print at the precision they carry (29.97, not 29.969999999999999).
. "$(dirname "$0")/api_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT

FF="ffmpeg -nostdin -v error -y"
# 10 s declared, the first fifth there
$FF -f lavfi -i "testsrc2=size=320x240:rate=30:duration=10" -f lavfi -i "sine=duration=10" -c:v libx264 \
	-preset ultrafast -g 30 -pix_fmt yuv420p -c:a aac "$T/full.mkv"
head -c $(($(stat -c %s "$T/full.mkv") / 5)) "$T/full.mkv" >"$T/trunc.mkv"
# NTSC rate: 29.97 has no exact binary form
$FF -f lavfi -i "testsrc2=size=320x240:rate=30000/1001:duration=5.01" -c:v libx264 -preset ultrafast \
	-pix_fmt yuv420p "$T/ntsc.mp4"
serve_start "$T/data" --workers 2 --segment-seconds 1 || { fail startup; finish; }

# ---- JSON numbers ----
upload "$T/ntsc.mp4"
check "ntsc upload answers 200" [ "$CODE" = 200 ]
check "fps prints as 29.97" grep -q '"fps":29.97[,}]' <<<"$BODY"
# the analytics are rounded to 2 decimals: 17 digits would show 5.0099999999999998
check "no analytics number prints with binary noise" eval '! grep -Eq "\"(duration|fps|file_size_mb|bitrate_mbps|declared_duration)\":[0-9]+\.[0-9]{3,}" <<<"$BODY"'
http GET /status/$JOB
check "status prints fps as 29.97" grep -q '"fps":29.97[,}]' <<<"$BODY"

# ---- a truncated upload ----
upload "$T/trunc.mkv"
check "truncated upload is accepted" [ "$CODE" = 200 ]
an=$(jget "$BODY" analytics)
check "upload says truncated" [ "$(jget "$an" truncated)" = true ]
want=$(frames "$T/trunc.mkv")
check "upload counts the frames that are there" [ "$(jget "$an" total_frames)" = "$want" ]
check "upload gives the real duration" near "$(jget "$an" duration)" "$(awk -v n="$want" 'BEGIN { print n / 30 }')" 0.05
http GET /status/$JOB
check "status after upload says truncated" [ "$(jget "$(jget "$BODY" analytics)" truncated)" = true ]
http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$JOB\",\"filter_type\":\"grayscale\"}"
check "process starts" [ "$CODE" = 200 ]
check "truncated job completes" wait_status "$JOB" completed 90
http GET /status/$JOB
st=$BODY
check "status when done says truncated" [ "$(jget "$(jget "$st" input)" truncated)" = true ]
check "status when done has every decodable frame" [ "$(jget "$st" frames_out)" = "$want" ]
curl -s -o "$T/out.mp4" "$URL/download/$JOB"
check "download has every decodable frame" [ "$(frames "$T/out.mp4")" = "$want" ]
check "download keeps the sound" has_audio "$T/out.mp4"

serve_stop
finish
