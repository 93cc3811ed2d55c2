#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "master/format.h"
#include "master/probe.h"

/* format_resolve must refuse, with a message that names want. */
static void
test_format_refuse(const char *want, const char *output, const char *container, const char *codec,
    const char *audio, int crf)
{
	struct format f;
	char err[256] = "";

	if (format_resolve(&f, output, container, codec, audio, crf, 0, err, sizeof err) != -1)
		fail_msg("%s --format %s --codec %s --audio %s accepted, expected '%s'", output,
		    container ? container : "-", codec ? codec : "-", audio ? audio : "-", want);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not mention '%s'", err, want);
}

static void
test_format_container_from_name(void **state)
{
	static const char *cases[][3] = {
		/* output, --format, container */
		{ "out.mp4", NULL, "mp4" }, { "dir.d/OUT.MKV", NULL, "mkv" }, { "a.webm", NULL, "webm" },
		{ "a.mov", NULL, "mov" }, { "noext", NULL, "mp4" }, { "noext", "mkv", "mkv" },
		{ "a.bin", "webm", "webm" }, { "a.mkv", "matroska", "mkv" }, { NULL, NULL, "mp4" },
	};
	struct format f;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (format_resolve(&f, cases[i][0], cases[i][1], NULL, NULL, -1, 0, err, sizeof err) == -1)
			fail_msg("%s: %s", cases[i][0], err);
		assert_string_equal(f.container, cases[i][2]);
		/* webm holds no H.264: its default is VP9 */
		assert_string_equal(f.codec, strcmp(cases[i][2], "webm") == 0 ? "vp9" : "h264");
	}
}

static void
test_format_refusals(void **state)
{
	test_format_refuse("cannot write .avi", "out.avi", NULL, NULL, NULL, -1);
	test_format_refuse("named .mp4", "out.mp4", "mkv", NULL, NULL, -1);
	test_format_refuse("unknown container 'flv'", "out", "flv", NULL, NULL, -1);
	test_format_refuse("webm cannot hold h264", "out.webm", NULL, "h264", NULL, -1);
	test_format_refuse("webm cannot hold hevc", "out.webm", NULL, "hevc", NULL, -1);
	test_format_refuse("mov cannot hold vp9", "out.mov", NULL, "vp9", NULL, -1);
	test_format_refuse("mov cannot hold av1", "out.mov", NULL, "av1", NULL, -1);
	test_format_refuse("unknown codec 'mpeg2'", "out.mkv", NULL, "mpeg2", NULL, -1);
	test_format_refuse("webm cannot hold aac", "out.webm", NULL, NULL, "aac", -1);
	test_format_refuse("mov cannot hold opus", "out.mov", NULL, NULL, "opus", -1);
	test_format_refuse("unknown audio", "out.mp4", NULL, NULL, "mp3", -1);
	test_format_refuse("0 to 51", "out.mp4", NULL, "hevc", NULL, 52);
}

static void
test_format_codecs_and_crf(void **state)
{
	struct format f;
	char err[256];

	assert_int_equal(format_resolve(&f, "a.mkv", NULL, "av1", "opus", 60, 0, err, sizeof err), 0);
	assert_string_equal(f.codec, "av1");
	assert_string_equal(f.audio, "opus");
	assert_int_equal(format_crf(&f), 60);
	assert_int_equal(format_resolve(&f, "a.mp4", NULL, "h265", NULL, -1, 2500, err, sizeof err), 0);
	assert_string_equal(f.codec, "hevc");
	assert_int_equal(f.bitrate, 2500);
	assert_string_equal(format_muxer(&f), "mp4");
	assert_int_equal(format_resolve(&f, "a.mkv", NULL, NULL, NULL, -1, 0, err, sizeof err), 0);
	assert_string_equal(format_muxer(&f), "matroska");
	assert_string_equal(format_ext(&f), "mkv");
}

static void
test_format_probe(struct probe *p)
{
	memset(p, 0, sizeof *p);
	p->depth = 8;
	p->chroma = 420;
	p->naudio = 2;
	snprintf(p->audio_codec[0], sizeof p->audio_codec[0], "aac");
	snprintf(p->audio_codec[1], sizeof p->audio_codec[1], "vorbis");
	snprintf(p->color_range, sizeof p->color_range, "pc");
	snprintf(p->color_primaries, sizeof p->color_primaries, "bt709");
	snprintf(p->color_transfer, sizeof p->color_transfer, "unknown");
	snprintf(p->color_space, sizeof p->color_space, "bt709");
	p->nextra = 3;
	snprintf(p->extra[0].type, sizeof p->extra[0].type, "subtitle");
	snprintf(p->extra[0].codec, sizeof p->extra[0].codec, "subrip");
	p->extra[0].index = 3;
	snprintf(p->extra[1].type, sizeof p->extra[1].type, "subtitle");
	snprintf(p->extra[1].codec, sizeof p->extra[1].codec, "hdmv_pgs_subtitle");
	p->extra[1].index = 4;
	snprintf(p->extra[2].type, sizeof p->extra[2].type, "data");
	snprintf(p->extra[2].codec, sizeof p->extra[2].codec, "gpmd");
	p->extra[2].index = 5;
}

/* A line of list containing want. */
static int
test_format_has(json_t *list, const char *want)
{
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v) {
		if (strstr(json_string_value(v), want) != NULL)
			return 1;
	}
	return 0;
}

static void
test_format_plan_streams(void **state)
{
	struct format f;
	struct format_plan pl;
	struct probe p;
	char err[256];

	test_format_probe(&p);
	/* MP4: AAC copied, Vorbis encoded, text subtitles to mov_text, the rest named as dropped */
	assert_int_equal(format_resolve(&f, "o.mp4", NULL, NULL, NULL, -1, 0, err, sizeof err), 0);
	assert_int_equal(format_plan(&f, &p, &pl, err, sizeof err), 0);
	assert_string_equal(pl.audio[0], "copy");
	assert_string_equal(pl.audio[1], "aac");
	assert_string_equal(pl.extra[0], "mov_text");
	assert_string_equal(pl.extra[1], "");
	assert_true(test_format_has(pl.dropped, "subtitle stream 4 (hdmv_pgs_subtitle)"));
	assert_string_equal(pl.extra[2], "copy");
	assert_true(test_format_has(pl.converted, "audio stream 1: vorbis -> aac"));
	/* colour tags as the input had them; "unknown" is no tag */
	assert_string_equal(pl.range, "pc");
	assert_string_equal(pl.primaries, "bt709");
	assert_string_equal(pl.transfer, "");
	assert_string_equal(pl.space, "bt709");
	format_plan_free(&pl);

	/* Matroska holds both audio codecs and both subtitles as they are */
	assert_int_equal(format_resolve(&f, "o.mkv", NULL, NULL, NULL, -1, 0, err, sizeof err), 0);
	assert_int_equal(format_plan(&f, &p, &pl, err, sizeof err), 0);
	assert_string_equal(pl.audio[1], "copy");
	assert_string_equal(pl.extra[1], "copy");
	assert_int_equal(json_array_size(pl.dropped), 1);
	assert_true(test_format_has(pl.dropped, "data stream 5 (gpmd): mkv cannot carry it"));
	format_plan_free(&pl);

	/* WebM: opus by default, only text subtitles (as WebVTT) */
	assert_int_equal(format_resolve(&f, "o.webm", NULL, NULL, NULL, -1, 0, err, sizeof err), 0);
	assert_int_equal(format_plan(&f, &p, &pl, err, sizeof err), 0);
	assert_string_equal(pl.audio[0], "opus");
	assert_string_equal(pl.audio[1], "copy");
	assert_string_equal(pl.extra[0], "webvtt");
	format_plan_free(&pl);

	/* --audio copy of what the container cannot hold is refused, naming a way out */
	assert_int_equal(format_resolve(&f, "o.mp4", NULL, NULL, "copy", -1, 0, err, sizeof err), 0);
	assert_int_equal(format_plan(&f, &p, &pl, err, sizeof err), -1);
	assert_non_null(strstr(err, "mp4 cannot hold the input's vorbis audio"));
	assert_null(pl.dropped);
}

static void
test_format_plan_hdr_refused(void **state)
{
	static const char *trc[] = { "smpte2084", "arib-std-b67" };
	struct format f;
	struct format_plan pl;
	struct probe p;
	char err[256];
	size_t i;

	for (i = 0; i < 2; i++) {
		test_format_probe(&p);
		snprintf(p.color_transfer, sizeof p.color_transfer, "%s", trc[i]);
		assert_int_equal(format_resolve(&f, "o.mkv", NULL, "hevc", NULL, -1, 0, err, sizeof err), 0);
		assert_int_equal(format_plan(&f, &p, &pl, err, sizeof err), -1);
		assert_non_null(strstr(err, "HDR video"));
		assert_non_null(strstr(err, trc[i]));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_container_from_name),
		cmocka_unit_test(test_format_refusals),
		cmocka_unit_test(test_format_codecs_and_crf),
		cmocka_unit_test(test_format_plan_streams),
		cmocka_unit_test(test_format_plan_hdr_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
