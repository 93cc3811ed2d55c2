#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/argv.h"
#include "master/hls.h"
#include "master/probe.h"

/* The index of word in argv, or -1. */
static int
test_hls_find(char **argv, const char *word)
{
	int i;

	for (i = 0; argv[i] != NULL; i++)
		if (strcmp(argv[i], word) == 0)
			return i;
	return -1;
}

static void
test_hls_playlist_grows_then_ends(void **state)
{
	double dur[3] = { 10, 10, 9.966667 };
	char buf[1024];
	int n;

	/* nothing ready yet: a valid playlist that lists nothing and has not ended */
	n = hls_playlist(buf, sizeof buf, dur, 0, 10, 0);
	assert_int_equal(n, (int)strlen(buf));
	assert_non_null(strstr(buf, "#EXTM3U\n"));
	assert_non_null(strstr(buf, "#EXT-X-PLAYLIST-TYPE:EVENT\n"));
	assert_non_null(strstr(buf, "#EXT-X-TARGETDURATION:10\n"));
	assert_null(strstr(buf, "#EXTINF"));
	assert_null(strstr(buf, "#EXT-X-ENDLIST"));

	/* two ready: they are listed in order with their lengths, still open */
	hls_playlist(buf, sizeof buf, dur, 2, 10, 0);
	assert_non_null(strstr(buf, "#EXTINF:10.000000,\nseg_00000.ts\n#EXTINF:10.000000,\nseg_00001.ts\n"));
	assert_null(strstr(buf, "seg_00002.ts"));
	assert_null(strstr(buf, "#EXT-X-ENDLIST"));

	/* all, ended: the end tag comes last */
	hls_playlist(buf, sizeof buf, dur, 3, 10, 1);
	assert_non_null(strstr(buf, "#EXTINF:9.966667,\nseg_00002.ts\n#EXT-X-ENDLIST\n"));
	assert_int_equal(strlen(strstr(buf, "#EXT-X-ENDLIST")), strlen("#EXT-X-ENDLIST\n"));
}

static void
test_hls_playlist_reports_its_length(void **state)
{
	double dur[2] = { 2, 2 };
	char full[1024], small[16];
	int n;

	n = hls_playlist(full, sizeof full, dur, 2, 2, 1);
	/* too small a buffer: cut, NUL-terminated, the whole length returned (as snprintf) */
	assert_int_equal(hls_playlist(small, sizeof small, dur, 2, 2, 1), n);
	assert_int_equal(strlen(small), sizeof small - 1);
	assert_memory_equal(small, full, sizeof small - 1);
}

static void
test_hls_remux_copies_the_video(void **state)
{
	struct probe p;
	char words[3 * 4096];
	char *argv[48];
	struct argv a;
	int i;

	memset(&p, 0, sizeof p);
	p.naudio = 1;
	snprintf(p.audio_codec[0], sizeof p.audio_codec[0], "aac");
	p.video_start = 0.5;
	p.start_min = 0.4;
	argv_init(&a, argv, 48, words, sizeof words);
	hls_remux_argv("/w/par/out_00002.mp4", "/in/clip.mp4", &p, 20, 10, "/d/.seg_00002.ts.tmp", &a);
	assert_int_equal(argv_end(&a, NULL, 0), 0);
	/* the video is never encoded again */
	i = test_hls_find(argv, "-c:v");
	assert_true(i > 0);
	assert_string_equal(argv[i + 1], "copy");
	/* the audio of the piece's range: from 20 s of the picture, which starts 0.1 s into the file */
	i = test_hls_find(argv, "-ss");
	assert_true(i > 0);
	assert_string_equal(argv[i + 1], "20.100000");
	assert_string_equal(argv[test_hls_find(argv, "-t") + 1], "10.000000");
	assert_string_equal(argv[test_hls_find(argv, "-c:a") + 1], "copy");
	/* placed where the piece starts, as MPEG-TS, into the temporary name */
	assert_string_equal(argv[test_hls_find(argv, "-output_ts_offset") + 1], "20.000000");
	assert_string_equal(argv[test_hls_find(argv, "-f") + 1], "mpegts");
	assert_string_equal(argv[test_hls_find(argv, "mpegts") + 1], "/d/.seg_00002.ts.tmp");
	/* both inputs only as local files */
	assert_true(test_hls_find(argv, "file:/w/par/out_00002.mp4") > 0);
	assert_true(test_hls_find(argv, "file:/in/clip.mp4") > 0);

	/* audio players of TS may not take is encoded to AAC */
	snprintf(p.audio_codec[0], sizeof p.audio_codec[0], "opus");
	argv_init(&a, argv, 48, words, sizeof words);
	hls_remux_argv("a.mp4", "b.mkv", &p, 0, 2, "o.ts", &a);
	assert_int_equal(argv_end(&a, NULL, 0), 0);
	assert_string_equal(argv[test_hls_find(argv, "-c:a") + 1], "aac");

	/* no audio: the original is not opened at all */
	p.naudio = 0;
	argv_init(&a, argv, 48, words, sizeof words);
	hls_remux_argv("a.mp4", "b.mkv", &p, 0, 2, "o.ts", &a);
	assert_int_equal(argv_end(&a, NULL, 0), 0);
	assert_int_equal(test_hls_find(argv, "file:b.mkv"), -1);
	assert_int_equal(test_hls_find(argv, "-c:a"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hls_playlist_grows_then_ends),
		cmocka_unit_test(test_hls_playlist_reports_its_length),
		cmocka_unit_test(test_hls_remux_copies_the_video),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
