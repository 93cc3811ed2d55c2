#!/usr/bin/env bash
# The bundled page in a real Chromium against `master serve --token-file`: the prompt, the tab's
# token and the links that work through the login cookie. The checks are in token.test.mjs.
source "$(dirname "$0")/lib.sh"

browser_need page-token
gen_clip "$T/clip.mp4" 2 || { fail page-token "ffmpeg could not generate the clip"; finish; }
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077; printf '%s\n' "$token" >"$T/token")

browser_serve page-token --segment-seconds 1 --workers 2 --token-file "$T/token"
BASE=$BASE TOKEN="$token" CLIP="$T/clip.mp4" CHROMIUM="$chromium" \
	browser_node page-token 120 "$here/token.test.mjs"
finish
