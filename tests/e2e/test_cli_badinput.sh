#!/usr/bin/env bash
# Input the command line must refuse: exit 1, one clear line on stderr, no output file, no
# working directory left, and never a file other than the one given opened on its say-so.
. "$(dirname "$0")/lib.sh"
private_tmp

OUT=$T/out
IN=$T/in
mkdir -p "$OUT" "$IN"

# refused NAME FILE [PATTERN]: the master (-q) exits 1 with exactly one line on stderr, which starts
# with "master: " and matches PATTERN (extended regex, case-insensitive) if given; nothing on
# stdout; nothing written to $OUT or next to FILE; the working directory removed
refused() {
	local name=$1 file=$2 pat=${3:-} before after lines
	before=$(ls -A "$(dirname "$file")" 2>/dev/null)
	run_master "$name" -q -w 2 -s 1 -o "$OUT/$name.mp4" "$file"
	lines=$(grep -c . "$T/$name.err")
	after=$(ls -A "$(dirname "$file")" 2>/dev/null)
	if [ "$rc" -ne 1 ]; then
		fail "$name" "want exit 1, $(why "$name")"
	elif [ "$lines" -ne 1 ]; then
		fail "$name" "want one line on stderr, got $lines: $(head -c 400 "$T/$name.err" | tr '\n' '|')"
	elif ! grep -q '^master: ' "$T/$name.err"; then
		fail "$name" "stderr does not start with 'master: ': $(head -c 300 "$T/$name.err")"
	elif [ -n "$pat" ] && ! grep -Eqi -- "$pat" "$T/$name.err"; then
		fail "$name" "stderr does not say '$pat': $(head -c 300 "$T/$name.err")"
	elif [ -s "$T/$name.out" ]; then
		fail "$name" "stdout not empty: $(head -c 200 "$T/$name.out")"
	elif [ -n "$(ls -A "$OUT")" ]; then
		fail "$name" "left behind: $(ls -A "$OUT" | tr '\n' ' ')"
	elif [ "$before" != "$after" ]; then
		fail "$name" "files appeared next to the input: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')"
	elif ! tmp_clean; then
		fail "$name" "working directory left: $(ls -A "$VR_TMP" | tr '\n' ' ')"
	else
		pass "$name"
	fi
	rm -rf "${OUT:?}"/* "$VR_TMP"/*
}

# ---- the shared set of bad files ----

# those with no frame ffmpeg can decode (bad/MANIFEST.tsv); the others render what they hold
# (tests/e2e/test_cli_real.sh)
if have_media bad-media-found bad-vvc-no-decoder; then
	n=0
	for f in "$MEDIA"/bad/*; do
		case $f in *.tsv|*.md) continue ;; esac
		b=$(basename "$f")
		[ "$(awk -F'\t' -v f="$b" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "frames") c = i; next }
			$1 == f { print $c }' "$MEDIA/bad/MANIFEST.tsv")" = 0 ] || continue
		n=$((n + 1))
		refused "bad-${b%.*}" "$f" "${b%.*}"
	done
	check bad-media-found [ "$n" -ge 2 ]
	# the reasons are specific, not a generic "failed"
	check bad-vvc-no-decoder grep -Eqi 'decoder|codec|unsupported' "$T/bad-androidx_vvc_unsupported.err"
fi

# ---- files that are not videos ----

: > "$IN/empty.mp4"
refused empty-file "$IN/empty.mp4" 'empty.mp4'
printf 'This is not a video.\nJust some text.\n' > "$IN/text.mp4"
refused text-named-mp4 "$IN/text.mp4" 'text.mp4'
head -c 200000 /dev/urandom > "$IN/random.mp4"
refused random-bytes-named-mp4 "$IN/random.mp4" 'random.mp4'
ffmpeg -nostdin -v error -y -f lavfi -i "sine=d=3" -c:a aac "$IN/audio.mp4"
refused audio-only-mp4 "$IN/audio.mp4" 'audio|no video'
ffmpeg -nostdin -v error -y -f lavfi -i "sine=d=3" -c:a libmp3lame "$IN/audio.mp3" 2>/dev/null ||
	ffmpeg -nostdin -v error -y -f lavfi -i "sine=d=3" -c:a pcm_s16le "$IN/audio.wav"
refused audio-only-file "$(ls "$IN"/audio.mp3 "$IN"/audio.wav 2>/dev/null | head -n 1)" 'audio|no video'
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=320x240:d=1" -frames:v 1 "$IN/still.png"
refused png-still-image "$IN/still.png" 'still|image'
cp "$IN/still.png" "$IN/still-png.mp4"
refused png-named-mp4 "$IN/still-png.mp4" 'still|image'
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=320x240:d=1" -frames:v 1 "$IN/still.gif"
refused gif-still-image "$IN/still.gif" 'still|image'
mkdir -p "$IN/adir.mp4"
refused directory "$IN/adir.mp4" 'adir.mp4'
refused missing-file "$IN/missing.mp4" 'missing.mp4.*(no such file|not found)'

# --json on a failure: still one JSON object on stdout, saying why
run_master json_fail --json -o "$OUT/json_fail.mp4" "$IN/text.mp4"
check json-failure-exit-1 [ "$rc" -eq 1 ]
check json-failure-one-object json_one "$T/json_fail.out"
check json-failure-status jt "$T/json_fail.out" '.status == "failed" and (.error | test("text.mp4"))'
check json-failure-no-output [ -z "$(ls -A "$OUT")" ]

# ---- files that would make ffmpeg open other files: refused, not followed ----

mkdir -p "$IN/hls"
gen_clip "$IN/hls/real.mp4" 2 || fail setup "cannot generate a clip"
ffmpeg -nostdin -v error -y -i "$IN/hls/real.mp4" -c copy -f mpegts "$IN/hls/seg0.ts"
cat > "$IN/hls/list.m3u8" <<EOF
#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
seg0.ts
#EXT-X-ENDLIST
EOF
# the playlist does play in plain ffmpeg: refusing it is the master's choice, not an accident
check hls-playlist-is-valid [ "$(frames "$IN/hls/list.m3u8" 2>/dev/null)" -gt 0 ]
refused hls-playlist "$IN/hls/list.m3u8" 'list.m3u8'
cp "$IN/hls/list.m3u8" "$IN/hls/playlist.mp4"
refused hls-playlist-named-mp4 "$IN/hls/playlist.mp4" 'playlist.mp4'
sed "s|seg0.ts|$IN/hls/seg0.ts|" "$IN/hls/list.m3u8" > "$IN/hls/abs.m3u8"
refused hls-playlist-absolute-path "$IN/hls/abs.m3u8" 'abs.m3u8'

printf 'ffconcat version 1.0\nfile %s\n' "$IN/hls/real.mp4" > "$IN/hls/list.ffconcat"
refused ffconcat-list "$IN/hls/list.ffconcat" 'list.ffconcat'
cp "$IN/hls/list.ffconcat" "$IN/hls/concat.mp4"
refused ffconcat-named-mp4 "$IN/hls/concat.mp4" 'concat.mp4'

# ---- ffmpeg missing from PATH ----

mkdir -p "$T/nobin" "$T/probeonly"
ln -s "$(command -v ffprobe)" "$T/probeonly/ffprobe"
cp "$IN/hls/real.mp4" "$IN/ok.mp4"
rc=0
timeout 60 env PATH="$T/nobin" "$MASTER" -q -o "$OUT/noffmpeg.mp4" "$IN/ok.mp4" >"$T/nobin.out" 2>"$T/nobin.err" || rc=$?
check no-ffprobe-exit-1 [ "$rc" -eq 1 ]
check no-ffprobe-says-not-found grep -q 'not found' "$T/nobin.err"
check no-ffprobe-one-line [ "$(grep -c . "$T/nobin.err")" -eq 1 ]
rc=0
timeout 60 env PATH="$T/probeonly" "$MASTER" -q -o "$OUT/noffmpeg.mp4" "$IN/ok.mp4" >"$T/probeonly.out" 2>"$T/probeonly.err" || rc=$?
check no-ffmpeg-exit-1 [ "$rc" -eq 1 ]
check no-ffmpeg-says-ffmpeg-not-found grep -q 'ffmpeg not found' "$T/probeonly.err"
check no-ffmpeg-no-output [ -z "$(ls -A "$OUT")" ]
check no-ffmpeg-working-directory-removed tmp_clean

# ---- an output directory that does not exist ----

run_master nodir -q -s 1 --no-baseline -o "$T/no/such/dir/x.mp4" "$IN/ok.mp4"
check output-dir-missing [ "$rc" -eq 1 ]
check output-dir-missing-one-line [ "$(grep -c . "$T/nodir.err")" -eq 1 ]
check output-dir-missing-names-it grep -q "$T/no/such/dir" "$T/nodir.err"

finish
