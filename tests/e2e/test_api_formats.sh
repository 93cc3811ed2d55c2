#!/usr/bin/env bash
# POST /process takes the output's format as the command line does ("format", "codec", "crf",
# "bitrate", "audio"): refused with 400 when the container cannot hold it, else rendered so,
# and downloaded with the container's name and type; /status says what was dropped.
. "$(dirname "$0")/api_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT

ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=160x120:rate=25:duration=1" \
	-f lavfi -i "sine=frequency=440:sample_rate=48000:duration=1" \
	-c:v libx264 -preset ultrafast -g 10 -pix_fmt yuv420p -c:a aac "$T/clip.mp4"
serve_start "$T/data" --workers 2 --segment-seconds 0.5 || { fail startup; finish; }
upload "$T/clip.mp4"
check upload [ "$CODE" = 200 ]

# refusals name the field or the mismatch, and queue nothing
while IFS='|' read -r name body want; do
	http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$JOB\",\"filter_type\":\"grayscale\",$body}"
	check "$name-400" [ "$CODE" = 400 ]
	check "$name-says-why" grep -q -e "$want" <<<"$BODY"
done <<'CASES'
webm-h264|"format":"webm","codec":"h264"|webm cannot hold h264 video
mov-vp9|"format":"mov","codec":"vp9"|mov cannot hold vp9 video
bad-container|"format":"avi"|unknown container 'avi'
bad-codec-type|"codec":5|codec: h264, hevc, av1 or vp9
bad-crf|"codec":"hevc","crf":60|--crf 60 is out of range for hevc
bad-bitrate|"bitrate":-5|bitrate: kbit/s
webm-aac|"format":"webm","audio":"aac"|webm cannot hold aac audio
CASES
http GET "/status/$JOB"
check refused-not-queued [ "$(jget "$BODY" status)" = uploaded ]

http POST /process -H 'Content-Type: application/json' \
	-d "{\"job_id\":\"$JOB\",\"filter_type\":\"grayscale\",\"format\":\"webm\",\"crf\":40}"
check webm-accepted [ "$CODE" = 200 ]
check webm-completed wait_status "$JOB" completed 120
http GET "/status/$JOB"
check status-format [ "$(jq -r '.format.container + "," + .format.codec + "," + (.format.crf | tostring)' <<<"$BODY")" = webm,vp9,40 ]
check status-converted [ "$(jq -r '.converted[0]' <<<"$BODY")" = "audio stream 0: aac -> opus" ]
check status-dropped [ "$(jq -r '.dropped | length' <<<"$BODY")" = 0 ]
curl -s -D "$T/dl.h" -o "$T/out.bin" "$URL/download/$JOB"
check download-type grep -qi '^content-type: video/webm' "$T/dl.h"
check download-name grep -qi '^content-disposition:.*clip\.grayscale\.webm' "$T/dl.h"
check download-is-webm-vp9 [ "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$T/out.bin")" = vp9 ]
check download-webm-doctype bash -c "head -c 64 '$T/out.bin' | grep -aq webm"
check download-opus [ "$(acodec "$T/out.bin")" = opus ]
serve_stop
finish
