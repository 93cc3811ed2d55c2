#!/usr/bin/env bash
# Audio the output's container cannot hold as it is (PCM in MP4, AAC in WebM) is encoded while
# the pieces render, and the join copies it: the sound decodes to the very samples one ffmpeg
# command encoding it would give, starts with the picture, and the join encodes it as before
# when that encode fails or the streams start apart. Nothing is left running or behind.
. "$(dirname "$0")/lib.sh"
private_tmp

FF="ffmpeg -nostdin -v error -y"
gen_clip "$T/pcm.mov" 4 -c:a pcm_s16le
gen_clip "$T/aac.mp4" 4
# the sound starts 0.5 s after the picture
$FF -f lavfi -i "testsrc2=size=320x240:rate=30:duration=4" -itsoffset 0.5 -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=3" \
	-map 0:v -map 1:a -c:v libx264 -preset ultrafast -g 30 -pix_fmt yuv420p -c:a flac "$T/late.mkv"
# two sound streams: AAC, which MP4 holds, and PCM, which it does not
$FF -i "$T/aac.mp4" -i "$T/pcm.mov" -map 0:v -map 0:a -map 1:a -c copy "$T/two.mov"
$FF -i "$T/pcm.mov" -map 0:a -c:a aac -b:a 192k "$T/ref.m4a"
$FF -i "$T/aac.mp4" -map 0:a -c:a libopus -b:a 128k "$T/ref.mka"
# samples FILE [N]: the md5 of its audio stream N (default 0) decoded
samples() { ffmpeg -nostdin -v error -i "$1" -map "0:a:${2:-0}" -f s16le - | md5sum | cut -d' ' -f1; }
start_of() { ffprobe -v error -select_streams "$2:0" -show_entries packet=pts_time -of csv=p=0 "$1" | head -n 1 | cut -d, -f1; }

# ffmpeg as the master runs it, each command line logged; the audio encode (its output is
# audio.m4a or audio.mka) fails when $T/fail-audio exists, and otherwise starts only once both
# pieces are written, so the join has to wait for it.
mkdir -p "$T/bin"
real_ffmpeg=$(command -v ffmpeg)
cat >"$T/bin/ffmpeg" <<SH
#!/usr/bin/env bash
echo "\$*" >>"$T/commands"
case "\${!#}" in */audio.m4a|*/audio.mka)
	[ -e "$T/fail-audio" ] && exit 1
	for _ in \$(seq 3000); do
		[ -n "\$(ls "$VR_TMP"/video-renderer-*/par/out_00001.mp4 2>/dev/null)" ] && break
		sleep 0.02
	done ;;
esac
exec "$real_ffmpeg" "\$@"
SH
chmod +x "$T/bin/ffmpeg"

PATH="$T/bin:$PATH" run_master pcm --no-baseline -w 2 --json -f grayscale -o "$T/pcm.mp4" "$T/pcm.mov"
check "PCM in MOV to MP4: renders (exit 0)" [ "$rc" = 0 ]
check "PCM to MP4: the audio was encoded beside the render" jt "$T/pcm.out" '.audio_beside == true and .audio_time > 0'
check "PCM to MP4: the join copies it" eval 'grep -- "-f concat" "$T/commands" | grep -q -- "audio.m4a.*-c:1 copy"'
check "PCM to MP4: the sound decodes to the samples of one AAC encode" [ "$(samples "$T/pcm.mp4")" = "$(samples "$T/ref.m4a")" ]
check "PCM to MP4: picture and sound start at 0" eval '[ "$(start_of "$T/pcm.mp4" v)" = 0.000000 ] && [ "$(start_of "$T/pcm.mp4" a)" = -0.021333 ]'
check "PCM to MP4: frames out equal frames in" [ "$(frames "$T/pcm.mp4")" = 120 ]

: >"$T/commands"
PATH="$T/bin:$PATH" run_master webm --no-baseline -w 2 --json -f grayscale -o "$T/aac.webm" "$T/aac.mp4"
check "AAC to WebM: renders (exit 0)" [ "$rc" = 0 ]
check "AAC to WebM: Opus encoded beside the render, copied by the join" eval \
	'jt "$T/webm.out" ".audio_beside == true and .audio_time > 0" && grep -- "-f concat" "$T/commands" | grep -q -- "audio.mka.*-c:1 copy"'
check "AAC to WebM: the sound decodes to the samples of one Opus encode" [ "$(samples "$T/aac.webm")" = "$(samples "$T/ref.mka")" ]
# encoded in the join, Opus's pre-skip made the muxer move the picture 7 ms later than the sound
check "AAC to WebM: the picture starts at 0, with the sound" [ "$(start_of "$T/aac.webm" v)" = 0.000000 ]

: >"$T/commands"
PATH="$T/bin:$PATH" run_master two --no-baseline -w 2 --json -f grayscale -o "$T/two.mp4" "$T/two.mov"
check "two sound streams: the PCM one encoded beside the render, the AAC one copied" eval \
	'jt "$T/two.out" ".audio_beside == true" && grep -- "-f concat" "$T/commands" | grep -q -- "-map 0:a:0 .*-c:1 copy .*-map 3:a:0 .*-c:2 copy"'
check "two sound streams: each decodes to its own samples" eval \
	'[ "$(samples "$T/two.mp4" 0)" = "$(samples "$T/aac.mp4")" ] && [ "$(samples "$T/two.mp4" 1)" = "$(samples "$T/ref.m4a")" ]'

# with the sequential baseline first, the audio is encoded beside the parallel map only
: >"$T/commands"
PATH="$T/bin:$PATH" run_master compare --compare -w 2 --json -f grayscale -o "$T/compare.mp4" "$T/pcm.mov"
check "--compare: encoded beside the parallel map, the same sound" eval \
	'jt "$T/compare.out" ".audio_beside == true and .audio_time > 0 and .sequential_time > 0" &&
	 [ "$(samples "$T/compare.mp4")" = "$(samples "$T/ref.m4a")" ]'
check "--compare: started after the baseline's piece" eval \
	'grep -n "" "$T/commands" | grep -E "audio.m4a\$|seq/" | head -n 1 | grep -q seq/'

# the report says so
PATH="$T/bin:$PATH" run_master said --no-baseline -w 2 -f grayscale -o "$T/said.mp4" "$T/pcm.mov"
check "the report has the audio's line" grep -Eq '^audio +[0-9.]+ s  \(encoded beside the render\)$' "$T/said.out"

touch "$T/fail-audio"
PATH="$T/bin:$PATH" run_master failed --no-baseline -w 2 --json -f grayscale -o "$T/failed.mp4" "$T/pcm.mov"
check "audio encode failing: the job still renders (exit 0)" [ "$rc" = 0 ]
check "audio encode failing: said, and the join encodes it" eval \
	'grep -q "encoding the audio beside the render failed" "$T/failed.err" && jt "$T/failed.out" ".audio_time == null"'
check "audio encode failing: the same sound" [ "$(samples "$T/failed.mp4")" = "$(samples "$T/ref.m4a")" ]
run_master failed-report --no-baseline -w 2 -f grayscale -o "$T/failed2.mp4" "$T/late.mkv"
check "no audio line when the join encoded it" eval '[ "$rc" = 0 ] && ! grep -q "^audio " "$T/failed-report.out"'
rm -f "$T/fail-audio"

run_master late --no-baseline -w 2 --json -f grayscale -o "$T/late.mp4" "$T/late.mkv"
check "sound starting 0.5 s in: encoded by the join" jt "$T/late.out" '.audio_beside == false'
check "sound starting 0.5 s in: it still does" near "$(start_of "$T/late.mp4" a)" 0.48 0.03
check "no working directory left" tmp_clean

# stopped while the audio is being encoded: the master ends it and exits
cat >"$T/bin/ffmpeg" <<SH
#!/usr/bin/env bash
case "\${!#}" in */audio.m4a) echo \$\$ >"$T/audio.pid"; exec sleep 60 ;; esac
exec "$real_ffmpeg" "\$@"
SH
PATH="$T/bin:$PATH" start_master stop -w 2 --no-baseline -f grayscale -o "$T/stop.mp4" "$T/pcm.mov"
for _ in $(seq 1500); do [ -s "$T/audio.pid" ] && break; sleep 0.02; done
kill -TERM "$mpid_real" 2>/dev/null
finish_master
check "stopped during the audio encode: exits with an error" [ "$rc" != 0 ]
check "stopped during the audio encode: that ffmpeg is gone" eval '[ -s "$T/audio.pid" ] && ! kill -0 "$(cat "$T/audio.pid")" 2>/dev/null'
check "stopped during the audio encode: nothing left behind" eval 'tmp_clean && [ ! -e "$T/stop.mp4" ]'
finish
