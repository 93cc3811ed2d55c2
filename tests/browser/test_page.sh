#!/usr/bin/env bash
# The bundled page in a real Chromium (Debian's, driven by npm's playwright-core) against a real
# `master serve`: upload a generated clip, render it with blur, check what a person would see.
# The checks themselves are in page.test.mjs; it prints the PASS/FAIL lines.
# Screenshots go to tests/artifacts/ (page-result.png, page-phone.png).
source "$(dirname "$0")/lib.sh"

artifacts=$VR_ROOT/tests/artifacts
browser_need page

if ! gen_clip "$T/clip.mp4" 4; then
	fail page "ffmpeg could not generate the clip"
	finish
fi
echo "These are notes, not a video." >"$T/notes.mp4"
# a recording cut off at a fifth of its 10 s: the page must say it is truncated
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=320x240:rate=30:duration=10" -c:v libx264 -preset ultrafast \
	-g 30 -pix_fmt yuv420p "$T/full.mkv" && head -c $(($(stat -c %s "$T/full.mkv") / 5)) "$T/full.mkv" >"$T/trunc.mkv"
# the stream's checks: long enough for its pieces to finish one by one, under --max-upload-mb 2
if ! gen_clip "$T/long.mp4" 8; then
	fail page "ffmpeg could not generate the longer clip"
	finish
fi

browser_serve page --segment-seconds 1 --max-upload-mb 2
BASE=$BASE CLIP="$T/clip.mp4" BAD="$T/notes.mp4" TRUNC="$T/trunc.mkv" ARTIFACTS="$artifacts" \
	CLIP_DURATION="$(duration "$T/clip.mp4")" CHROMIUM="$chromium" \
	LONG="$T/long.mp4" LONG_DURATION="$(duration "$T/long.mp4")" \
	browser_node page 240 "$here/page.test.mjs"
finish
