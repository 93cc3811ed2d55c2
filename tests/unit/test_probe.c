#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "common/spawn.h"
#include "common/util.h"
#include "master/probe.h"

/*
 * ffprobe's output (-show_format -show_streams -count_packets) for real files, trimmed to the
 * fields that matter. Written with ' for " so they stay readable; test_probe_run swaps them.
 */

/* mei_iphone_portrait_gps.mov: audio first, display matrix rotation -90, r != avg by 0.06%. */
#define TEST_PROBE_IPHONE(ROT) \
	"{'streams': [" \
	" {'index': 0, 'codec_name': 'aac', 'codec_type': 'audio', 'sample_rate': '44100', 'channels': 1," \
	"  'r_frame_rate': '0/0', 'avg_frame_rate': '0/0', 'time_base': '1/44100', 'start_time': '0.000000'," \
	"  'duration': '4.001678', 'nb_frames': '175', 'nb_read_packets': '173'," \
	"  'disposition': {'default': 1, 'attached_pic': 0}}," \
	" {'index': 1, 'codec_name': 'h264', 'profile': 'Baseline', 'codec_type': 'video', 'codec_tag_string': 'avc1'," \
	"  'width': 568, 'height': 320, 'coded_width': 568, 'coded_height': 320, 'pix_fmt': 'yuv420p'," \
	"  'color_range': 'tv', 'color_space': 'bt709', 'r_frame_rate': '30000/1001'," \
	"  'avg_frame_rate': '72000/2401', 'time_base': '1/600', 'start_time': '0.000000', 'duration': '4.001667'," \
	"  'bit_rate': '749809', 'nb_frames': '120', 'nb_read_packets': '120'," \
	"  'disposition': {'default': 1, 'attached_pic': 0}," \
	"  'side_data_list': [{'side_data_type': 'Display Matrix', 'displaymatrix': '...', 'rotation': " ROT "}]}," \
	" {'index': 2, 'codec_type': 'data', 'codec_tag_string': 'mebx', 'r_frame_rate': '0/0'," \
	"  'avg_frame_rate': '0/0', 'start_time': '0.000000', 'nb_read_packets': '101'}]," \
	" 'format': {'filename': 'with-gps.mov', 'nb_streams': 3, 'format_name': 'mov,mp4,m4a,3gp,3g2,mj2'," \
	"  'start_time': '0.000000', 'duration': '4.001667', 'size': '439391', 'bit_rate': '878415'}}"

/* color=size=161x121 through libx264 yuv444p: an odd size that 4:2:0 cannot hold. */
static const char test_probe_odd[] =
	"{'streams': [{'index': 0, 'codec_name': 'h264', 'codec_type': 'video', 'codec_tag_string': 'avc1',"
	" 'width': 161, 'height': 121, 'coded_width': 161, 'coded_height': 121, 'sample_aspect_ratio': '484:483',"
	" 'pix_fmt': 'yuv444p', 'r_frame_rate': '25/1', 'avg_frame_rate': '25/1', 'time_base': '1/12800',"
	" 'start_time': '0.000000', 'duration': '1.000000', 'nb_frames': '25', 'nb_read_packets': '25',"
	" 'disposition': {'default': 1, 'attached_pic': 0}}],"
	" 'format': {'format_name': 'mov,mp4,m4a,3gp,3g2,mj2', 'start_time': '0.000000', 'duration': '1.000000',"
	" 'size': '2286', 'bit_rate': '18288'}}";

/* 30 fps for 1 s then 10 fps, muxed with -fps_mode vfr: r_frame_rate is the finest, avg far lower. */
static const char test_probe_vfr[] =
	"{'streams': [{'index': 0, 'codec_name': 'h264', 'codec_type': 'video', 'width': 160, 'height': 120,"
	" 'coded_width': 160, 'coded_height': 120, 'pix_fmt': 'yuv420p', 'r_frame_rate': '30/1',"
	" 'avg_frame_rate': '300/19', 'time_base': '1/15360', 'start_time': '0.000000', 'duration': '3.800000',"
	" 'nb_frames': '60', 'nb_read_packets': '60', 'disposition': {'default': 1, 'attached_pic': 0}}],"
	" 'format': {'format_name': 'mov,mp4,m4a,3gp,3g2,mj2', 'start_time': '0.000000', 'duration': '3.934000',"
	" 'size': '39087', 'bit_rate': '79485'}}";

/* exo_sample_h264_ac3.mkv: a millisecond timebase makes avg 1000 fps; no stream duration; HD
 * without a colour space; both streams start late. */
static const char test_probe_mkv_ms[] =
	"{'streams': [{'index': 0, 'codec_name': 'h264', 'codec_type': 'video', 'width': 1080, 'height': 720,"
	" 'coded_width': 1080, 'coded_height': 720, 'pix_fmt': 'yuv420p', 'r_frame_rate': '60/1',"
	" 'avg_frame_rate': '1000/1', 'time_base': '1/1000', 'start_time': '0.067000', 'nb_read_packets': '30',"
	" 'disposition': {'default': 1, 'attached_pic': 0}, 'tags': {'DURATION': '00:00:01.072000000'}},"
	" {'index': 1, 'codec_name': 'ac3', 'codec_type': 'audio', 'r_frame_rate': '0/0', 'avg_frame_rate': '0/0',"
	" 'start_time': '0.129000', 'nb_read_packets': '29'}],"
	" 'format': {'format_name': 'matroska,webm', 'start_time': '0.067000', 'duration': '1.072000',"
	" 'size': '109422', 'bit_rate': '816582'}}";

static const char test_probe_audio_only[] =
	"{'streams': [{'index': 0, 'codec_name': 'mp3', 'codec_type': 'audio', 'sample_rate': '44100',"
	" 'channels': 1, 'r_frame_rate': '0/0', 'avg_frame_rate': '0/0', 'time_base': '1/14112000',"
	" 'start_time': '0.025057', 'duration': '2.037551', 'bit_rate': '64000', 'nb_read_packets': '78'}],"
	" 'format': {'format_name': 'mp3', 'start_time': '0.025057', 'duration': '2.037551', 'size': '16527',"
	" 'bit_rate': '64889'}}";

/* An MP3 with its cover art: the mjpeg "video" stream is one attached picture. */
static const char test_probe_cover_art[] =
	"{'streams': [{'index': 0, 'codec_name': 'mp3', 'codec_type': 'audio', 'sample_rate': '44100',"
	" 'r_frame_rate': '0/0', 'avg_frame_rate': '0/0', 'start_time': '0.025057', 'duration': '1.044898',"
	" 'nb_read_packets': '40', 'disposition': {'default': 0, 'attached_pic': 0}},"
	" {'index': 1, 'codec_name': 'mjpeg', 'codec_type': 'video', 'width': 64, 'height': 64,"
	" 'coded_width': 64, 'coded_height': 64, 'pix_fmt': 'yuvj420p', 'r_frame_rate': '90000/1',"
	" 'avg_frame_rate': '0/0', 'time_base': '1/90000', 'start_time': '0.025056', 'duration': '1.044900',"
	" 'nb_read_packets': '1', 'disposition': {'default': 0, 'attached_pic': 1}, 'tags': {'comment': 'Cover (front)'}}],"
	" 'format': {'format_name': 'mp3', 'start_time': '0.025056', 'duration': '1.044898', 'size': '8855',"
	" 'bit_rate': '67796'}}";

static const char test_probe_png[] =
	"{'streams': [{'index': 0, 'codec_name': 'png', 'codec_type': 'video', 'width': 32, 'height': 32,"
	" 'coded_width': 32, 'coded_height': 32, 'pix_fmt': 'rgb24', 'r_frame_rate': '25/1',"
	" 'avg_frame_rate': '25/1', 'time_base': '1/25', 'nb_read_packets': '1'}],"
	" 'format': {'filename': 'x.png', 'nb_streams': 1, 'format_name': 'png_pipe', 'size': '103'}}";

static const char test_probe_gif_one[] =
	"{'streams': [{'index': 0, 'codec_name': 'gif', 'codec_type': 'video', 'width': 32, 'height': 32,"
	" 'pix_fmt': 'bgra', 'r_frame_rate': '100/10', 'avg_frame_rate': '0/0', 'time_base': '1/100',"
	" 'start_time': '0.000000', 'duration': '0.100000', 'nb_frames': '1', 'nb_read_packets': '1'}],"
	" 'format': {'format_name': 'gif', 'start_time': '0.000000', 'duration': '0.100000', 'size': '1371'}}";

/* jcodec_mkv_trunc_100k.mkv: cut at 100 KiB, the header still says 46.7 s. PACKETS varies. */
#define TEST_PROBE_TRUNC(PACKETS) \
	"{'streams': [{'index': 0, 'codec_name': 'h264', 'profile': 'Main', 'codec_type': 'video'," \
	" 'width': 1024, 'height': 576, 'coded_width': 1024, 'coded_height': 576, 'pix_fmt': 'yuv420p'," \
	" 'color_space': 'smpte170m', 'r_frame_rate': '24/1', 'avg_frame_rate': '24/1', 'time_base': '1/1000'," \
	" 'start_time': '0.009000', 'duration': '46.665000', 'nb_read_packets': '" PACKETS "'," \
	" 'disposition': {'default': 1, 'attached_pic': 0}}," \
	" {'index': 1, 'codec_name': 'aac', 'codec_type': 'audio', 'start_time': '0.012000', 'nb_read_packets': '8'}," \
	" {'index': 2, 'codec_name': 'subrip', 'codec_type': 'subtitle', 'start_time': '0.009000'}]," \
	" 'format': {'format_name': 'matroska,webm', 'start_time': '0.009000', 'duration': '46.665000'," \
	" 'size': '102400', 'bit_rate': '17554'}}"

/* androidx_vvc_unsupported.mp4: ffmpeg 5.1 knows the tag but has no decoder, so no codec_name. */
#define TEST_PROBE_VVC(CODEC) \
	"{'streams': [{'index': 0, " CODEC "'codec_type': 'video', 'codec_tag_string': 'vvc1'," \
	" 'width': 320, 'height': 180, 'r_frame_rate': '24/1', 'avg_frame_rate': '24/1', 'time_base': '1/12288'," \
	" 'start_time': '0.000000', 'duration': '5.000000', 'nb_frames': '120', 'nb_read_packets': '120'}]," \
	" 'format': {'format_name': 'mov,mp4,m4a,3gp,3g2,mj2', 'duration': '5.000000', 'size': '229660'}}"

/* A minimal well-formed video with WIDTH, HEIGHT, PACKETS and extra stream fields. */
#define TEST_PROBE_MINI(W, H, PACKETS, EXTRA) \
	"{'streams': [{'codec_name': 'h264', 'codec_type': 'video', 'width': " W ", 'height': " H "," \
	" 'r_frame_rate': '25/1', 'avg_frame_rate': '25/1', 'duration': '2.0', 'nb_read_packets': " PACKETS \
	EXTRA "}], 'format': {'format_name': 'matroska,webm', 'duration': '2.0'}}"

/* Parses a fixture written with ' and ffprobe's stderr errtail; returns probe_parse's result. */
static int
test_probe_run_tail(const char *fixture, const char *errtail, int64_t size, struct probe *p, char *err,
    size_t errlen)
{
	char *json = strdup(fixture), *c;
	int rc;

	assert_non_null(json);
	for (c = json; *c != '\0'; c++) {
		if (*c == '\'')
			*c = '"';
	}
	err[0] = '\0';
	rc = probe_parse(json, strlen(json), errtail, size, p, err, errlen);
	free(json);
	return rc;
}

static int
test_probe_run(const char *fixture, int64_t size, struct probe *p, char *err, size_t errlen)
{
	return test_probe_run_tail(fixture, NULL, size, p, err, errlen);
}

static void
test_probe_ok(const char *fixture, struct probe *p)
{
	char err[512];

	if (test_probe_run(fixture, 1000, p, err, sizeof err) != 0)
		fail_msg("probe_parse failed: %s", err);
}

static void
test_probe_fails(const char *fixture, const char *want)
{
	struct probe p;
	char err[512];

	if (test_probe_run(fixture, 1000, &p, err, sizeof err) != -1)
		fail_msg("accepted; expected an error with '%s'", want);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not mention '%s'", err, want);
}

static void
test_probe_rotation(void **state)
{
	struct probe p;

	test_probe_ok(TEST_PROBE_IPHONE("-90"), &p);
	assert_int_equal(p.rotation, 90);
	assert_int_equal(p.coded_w, 568);
	assert_int_equal(p.coded_h, 320);
	assert_int_equal(p.width, 320);
	assert_int_equal(p.height, 568);
	assert_int_equal(p.out_w, 320);
	assert_int_equal(p.out_h, 568);
	assert_string_equal(p.codec, "h264");
	assert_string_equal(p.pix_fmt, "yuv420p");
	assert_string_equal(p.format, "mov,mp4,m4a,3gp,3g2,mj2");
	assert_int_equal(p.frames, 120);
	assert_int_equal(p.naudio, 1);
	assert_string_equal(p.audio_codec[0], "aac");
	assert_string_equal(p.matrix, "bt709");
	assert_true(fabs(p.duration - 4.001667) < 1e-6);

	/* counter-clockwise 90 in the display matrix: turn 270 clockwise */
	test_probe_ok(TEST_PROBE_IPHONE("90"), &p);
	assert_int_equal(p.rotation, 270);
	assert_int_equal(p.width, 320);
	assert_int_equal(p.height, 568);

	test_probe_ok(TEST_PROBE_IPHONE("180"), &p);
	assert_int_equal(p.rotation, 180);
	assert_int_equal(p.width, 568);
	assert_int_equal(p.height, 320);
	test_probe_ok(TEST_PROBE_IPHONE("-180"), &p);
	assert_int_equal(p.rotation, 180);

	test_probe_ok(TEST_PROBE_IPHONE("-270"), &p);
	assert_int_equal(p.rotation, 270);
	test_probe_ok(TEST_PROBE_IPHONE("0"), &p);
	assert_int_equal(p.rotation, 0);
	assert_int_equal(p.width, 568);
	assert_int_equal(p.height, 320);
	/* a matrix angle a hair off a right angle is that right angle */
	test_probe_ok(TEST_PROBE_IPHONE("-89.98"), &p);
	assert_int_equal(p.rotation, 90);

	/* older ffprobe: a "rotate" tag, clockwise */
	test_probe_ok(TEST_PROBE_MINI("568", "320", "'50'", ", 'tags': {'rotate': '90'}"), &p);
	assert_int_equal(p.rotation, 90);
	assert_int_equal(p.width, 320);
	assert_int_equal(p.height, 568);
}

static void
test_probe_odd_size(void **state)
{
	struct probe p;

	test_probe_ok(test_probe_odd, &p);
	assert_int_equal(p.width, 161);
	assert_int_equal(p.height, 121);
	assert_int_equal(p.out_w, 160);
	assert_int_equal(p.out_h, 120);
	assert_int_equal(p.rotation, 0);
	/* SD without a colour space: BT.601 */
	assert_string_equal(p.matrix, "bt601");
	assert_int_equal(p.naudio, 0);

	/* odd and rotated: the upright size is what gets rounded */
	test_probe_ok(TEST_PROBE_MINI("161", "121", "'50'", ", 'tags': {'rotate': '270'}"), &p);
	assert_int_equal(p.rotation, 270);
	assert_int_equal(p.width, 121);
	assert_int_equal(p.height, 161);
	assert_int_equal(p.out_w, 120);
	assert_int_equal(p.out_h, 160);

	/* the smallest picture that still encodes, and the one that does not */
	test_probe_ok(TEST_PROBE_MINI("3", "2", "'50'", ""), &p);
	assert_int_equal(p.out_w, 2);
	assert_int_equal(p.out_h, 2);
	test_probe_fails(TEST_PROBE_MINI("1", "1", "'50'", ""), "too small");
	test_probe_fails(TEST_PROBE_MINI("641", "1", "'50'", ""), "too small");
}

static void
test_probe_frame_rate(void **state)
{
	struct probe p;
	long n = 0, d = 0;

	/* CFR: r_frame_rate and avg_frame_rate within 1% -> r, exactly, as a rational */
	test_probe_ok(TEST_PROBE_IPHONE("-90"), &p);
	assert_true(p.cfr);
	assert_string_equal(p.fps_rational, "30000/1001");
	assert_true(fabs(p.fps - 30000.0 / 1001.0) < 1e-9);

	test_probe_ok(test_probe_odd, &p);
	assert_true(p.cfr);
	assert_string_equal(p.fps_rational, "25/1");
	assert_true(p.fps == 25.0);

	/* VFR: resampled to frames / duration so the length is kept */
	test_probe_ok(test_probe_vfr, &p);
	assert_false(p.cfr);
	assert_true(fabs(p.fps - 60 / 3.8) < 0.001);
	assert_int_equal(sscanf(p.fps_rational, "%ld/%ld", &n, &d), 2);
	assert_true(d > 0 && fabs((double)n / (double)d - p.fps) < 1e-9);
	assert_true(fabs(p.duration - 3.8) < 1e-9);

	/* avg 1000 from a ms timebase, no stream duration: the format's duration is used */
	test_probe_ok(test_probe_mkv_ms, &p);
	assert_false(p.cfr);
	assert_true(fabs(p.duration - 1.072) < 1e-9);
	assert_true(fabs(p.fps - 30 / 1.072) < 0.001);
	assert_int_equal(sscanf(p.fps_rational, "%ld/%ld", &n, &d), 2);
	assert_true(d > 0 && fabs((double)n / (double)d - p.fps) < 1e-9);
	/* HD without a colour space: BT.709 */
	assert_string_equal(p.matrix, "bt709");
	assert_true(fabs(p.video_start - 0.067) < 1e-9);
	assert_true(fabs(p.audio_start - 0.129) < 1e-9);
	assert_true(fabs(p.start_min - 0.067) < 1e-9);
	assert_int_equal(p.naudio, 1);
	assert_string_equal(p.audio_codec[0], "ac3");

	/* avg unknown: r alone decides */
	test_probe_ok(TEST_PROBE_MINI("320", "240", "'50'", ", 'avg_frame_rate': '0/0'"), &p);
	assert_true(p.cfr);
	assert_string_equal(p.fps_rational, "25/1");

	/* a timebase posing as a rate (90000/1) is not a frame rate (later keys override) */
	test_probe_ok(TEST_PROBE_MINI("320", "240", "'50'", ", 'r_frame_rate': '90000/1', 'avg_frame_rate': '0/0'"), &p);
	assert_false(p.cfr);
	assert_true(fabs(p.fps - 25.0) < 1e-9);
	/* nothing usable at all: a bounded, positive rate */
	test_probe_ok("{'streams': [{'codec_name': 'h264', 'codec_type': 'video', 'width': 320, 'height': 240,"
	    " 'r_frame_rate': '0/0', 'avg_frame_rate': '0/0', 'nb_read_packets': '10'}], 'format': {}}", &p);
	assert_true(p.fps > 0 && p.fps <= 240);
	assert_true(p.duration > 0);
	/* a ridiculous count over a tiny duration is capped */
	test_probe_ok(TEST_PROBE_MINI("320", "240", "'100000'", ", 'r_frame_rate': '0/0', 'avg_frame_rate': '0/0'"), &p);
	assert_true(p.fps > 0 && p.fps <= 240);
}

static void
test_probe_not_video(void **state)
{
	struct probe p;
	char err[512];

	test_probe_fails(test_probe_audio_only, "no video stream");
	test_probe_fails(test_probe_audio_only, "audio");
	/* the cover art is not a video: the file is still audio */
	assert_int_equal(test_probe_run(test_probe_cover_art, 8855, &p, err, sizeof err), -1);
	assert_non_null(strstr(err, "no video stream"));
	assert_int_equal(p.naudio, 1);
	test_probe_fails("{'streams': [], 'format': {'format_name': 'mp3'}}", "no video stream");
	test_probe_fails("{'format': {'format_name': 'mp3'}}", "no video stream");
	test_probe_fails("{'streams': [{'codec_type': 'subtitle', 'codec_name': 'subrip'}], 'format': {}}",
	    "no video stream");

	test_probe_fails(test_probe_png, "still image");
	test_probe_fails(test_probe_gif_one, "still image");
}

#define TEST_PROBE_MKV_SHORT "[matroska,webm @ 0x5616c8ebb180] File ended prematurely\n"

/* a truncated MP4 (moov first, data cut at a fifth): the index lists 300 frames, 61 are there */
static const char test_probe_mp4_cut[] =
	"{'streams': [{'codec_name': 'h264', 'codec_type': 'video', 'width': 320, 'height': 240,"
	" 'r_frame_rate': '30/1', 'avg_frame_rate': '30/1', 'start_time': '0.000000', 'duration': '10.000000',"
	" 'nb_frames': '300', 'nb_read_packets': '61'}],"
	" 'format': {'format_name': 'mov,mp4,m4a,3gp,3g2,mj2', 'duration': '10.000000'}}";

/* an AVI whose index lists 98 frames, 96 read: two dropped (empty chunks the demuxer skips) */
static const char test_probe_avi_dropped[] =
	"{'streams': [{'codec_name': 'mpeg4', 'codec_type': 'video', 'width': 960, 'height': 400,"
	" 'r_frame_rate': '24000/1001', 'avg_frame_rate': '24000/1001', 'start_time': '0.000000',"
	" 'duration': '4.087417', 'nb_frames': '%s', 'nb_read_packets': '96'}],"
	" 'format': {'format_name': 'avi', 'duration': '4.087417'}}";

/* An MKV whose nominal rate (600) is not its real one: 30 frames in 1.258 s (DURATION tag). */
static const char test_probe_wrong_rate[] =
	"{'streams': [{'codec_name': 'h264', 'codec_type': 'video', 'width': 320, 'height': 240,"
	" 'r_frame_rate': '600/1', 'avg_frame_rate': '600/1', 'start_time': '0.023000',"
	" 'nb_read_packets': '30', 'tags': {'DURATION': '00:00:01.258000000'}},"
	" {'codec_name': 'aac', 'codec_type': 'audio', 'start_time': '0.000000'}],"
	" 'format': {'format_name': 'matroska,webm', 'duration': '1.323000'}}";

static void
test_probe_truncated(void **state)
{
	struct probe p;
	char err[512];
	json_t *a;

	/* the demuxer says the file ends early: what it holds is rendered, and said to be short */
	assert_int_equal(test_probe_run_tail(TEST_PROBE_TRUNC("1"), TEST_PROBE_MKV_SHORT, 102400, &p, err,
	    sizeof err), 0);
	assert_true(p.truncated);
	assert_true(p.cfr);
	assert_int_equal(p.frames, 1);
	assert_true(fabs(p.duration - 1.0 / 24) < 1e-9);
	assert_true(fabs(p.declared - 46.665) < 1e-9);
	a = probe_analytics(&p);
	assert_true(json_is_true(json_object_get(a, "truncated")));
	assert_true(fabs(json_real_value(json_object_get(a, "duration")) - 0.04) < 1e-9);
	json_decref(a);
	assert_int_equal(test_probe_run_tail(TEST_PROBE_TRUNC("300"), TEST_PROBE_MKV_SHORT, 102400, &p, err,
	    sizeof err), 0);
	assert_true(p.truncated);
	assert_true(fabs(p.duration - 12.5) < 1e-9);
	/* MP4: the index lists more frames than the file holds, whatever stderr says */
	test_probe_ok(test_probe_mp4_cut, &p);
	assert_true(p.truncated);
	assert_true(p.cfr);
	assert_true(fabs(p.duration - 61.0 / 30) < 1e-9);
	assert_true(fabs(p.declared - 10) < 1e-9);
	assert_false(p.dropped);  /* only AVI's index counts dropped frames */
}

/* An AVI whose index lists more frames than are read dropped some (or lost its end): its
 * frames' numbers are not their places, so it keeps each frame's time (job_timed). */
static void
test_probe_avi_dropped_frames(void **state)
{
	static const char *counts[] = { "98", "97", "96" };
	char json[1024];
	struct probe p;
	int k;

	for (k = 0; k < 3; k++) {
		snprintf(json, sizeof json, test_probe_avi_dropped, counts[k]);
		test_probe_ok(json, &p);
		assert_int_equal(p.index, atoi(counts[k]));
		assert_int_equal(p.dropped, k < 2);
		assert_true(p.cfr);
		assert_false(p.whole);
	}
}

static void
test_probe_wrong_nominal_rate(void **state)
{
	struct probe p;
	json_t *a;

	/* not truncated (nothing says so): the rate is wrong, the frames spread over the span */
	test_probe_ok(test_probe_wrong_rate, &p);
	assert_false(p.truncated);
	assert_false(p.cfr);
	assert_true(fabs(p.duration - 1.258) < 1e-9);
	assert_true(fabs(p.fps - 23.847) < 1e-9);
	assert_string_equal(p.fps_rational, "23847/1000");
	/* the grid of the resampled output holds every frame */
	assert_int_equal(llround(p.duration * p.fps), 30);
	a = probe_analytics(&p);
	assert_true(json_is_false(json_object_get(a, "truncated")));
	assert_true(json_is_true(json_object_get(a, "variable_frame_rate")));
	json_decref(a);
}

static void
test_probe_whole(void **state)
{
	struct probe p;

	/* bare streams and AVI with B-frames have no timestamps to cut by */
	test_probe_ok("{'streams': [{'codec_name': 'h264', 'codec_type': 'video', 'width': 320, 'height': 240,"
	    " 'r_frame_rate': '30/1', 'avg_frame_rate': '30/1', 'has_b_frames': 2, 'nb_read_packets': '60'}],"
	    " 'format': {'format_name': 'h264'}}", &p);
	assert_true(p.whole);
	assert_true(fabs(p.duration - 2) < 1e-9);
	test_probe_ok(TEST_PROBE_MINI("320", "240", "50", ", 'has_b_frames': 2"), &p);
	assert_false(p.whole);
	test_probe_ok("{'streams': [{'codec_name': 'mpeg4', 'codec_type': 'video', 'width': 320, 'height': 240,"
	    " 'r_frame_rate': '25/1', 'avg_frame_rate': '25/1', 'has_b_frames': 1, 'duration': '3.0',"
	    " 'nb_read_packets': '75'}], 'format': {'format_name': 'avi', 'duration': '3.0'}}", &p);
	assert_true(p.whole);
	test_probe_ok("{'streams': [{'codec_name': 'mjpeg', 'codec_type': 'video', 'width': 320, 'height': 240,"
	    " 'r_frame_rate': '25/1', 'avg_frame_rate': '25/1', 'has_b_frames': 0, 'duration': '3.0',"
	    " 'nb_read_packets': '75'}], 'format': {'format_name': 'avi', 'duration': '3.0'}}", &p);
	assert_false(p.whole);
}

static void
test_probe_mid_gop(void **state)
{
	struct probe p;

	test_probe_ok("{'streams': [{'codec_name': 'h264', 'codec_type': 'video', 'width': 320, 'height': 240,"
	    " 'r_frame_rate': '30/1', 'avg_frame_rate': '30/1', 'start_time': '3.000000', 'duration': '2.466667',"
	    " 'nb_read_packets': '73'}, {'codec_name': 'aac', 'codec_type': 'audio', 'start_time': '2.697322'}],"
	    " 'format': {'format_name': 'mpegts', 'duration': '2.769345'}}", &p);
	assert_true(probe_may_start_mid_gop(&p));
	/* side data lines and packets before the keyframe are passed over */
	probe_first_key("3.000000,__,\nside_data,\n3.033333,__,\n3.466667,K_,\n4.466667,K_,\n", &p);
	assert_true(fabs(p.video_start - 3.466667) < 1e-9);
	assert_true(fabs(p.duration - 2.0) < 1e-6);
	/* a keyframe first: nothing moves */
	p.video_start = 1.0;
	p.duration = 5.0;
	probe_first_key("1.000000,K_,\n", &p);
	assert_true(p.video_start == 1.0 && p.duration == 5.0);
	probe_first_key("", &p);
	probe_first_key("garbage\n,K\n", &p);
	assert_true(p.video_start == 1.0);
	/* an MP4 never starts mid-GOP; a TS without sound has nothing to keep in step */
	test_probe_ok(TEST_PROBE_MINI("320", "240", "50", ""), &p);
	assert_false(probe_may_start_mid_gop(&p));
}

static void
test_probe_not_truncated(void **state)
{
	struct probe p;

	/* the whole file: 46.665 s at 24 fps */
	test_probe_ok(TEST_PROBE_TRUNC("1120"), &p);
	assert_int_equal(p.frames, 1120);
	assert_int_equal(p.naudio, 1);
	/* a little short of the header is normal (rounding, a last frame dropped) */
	test_probe_ok(TEST_PROBE_TRUNC("1110"), &p);
	/* no frames at all */
	test_probe_fails(TEST_PROBE_TRUNC("0"), "no frames");
	test_probe_fails(TEST_PROBE_MINI("320", "240", "'0'", ""), "no frames");
	test_probe_fails("{'streams': [{'codec_name': 'h264', 'codec_type': 'video', 'width': 320, 'height': 240,"
	    " 'r_frame_rate': '25/1'}], 'format': {}}", "no frames");
}

static void
test_probe_no_codec(void **state)
{
	test_probe_fails(TEST_PROBE_VVC(""), "no decoder");
	test_probe_fails(TEST_PROBE_VVC(""), "vvc1");
	test_probe_fails(TEST_PROBE_VVC("'codec_name': 'none', "), "no decoder");
	test_probe_fails(TEST_PROBE_VVC("'codec_name': '', "), "no decoder");
	test_probe_fails(TEST_PROBE_VVC("'codec_name': 7, "), "no decoder");
}

static void
test_probe_malformed(void **state)
{
	static const char *bad[] = {
		"",
		"{",
		"not json at all",
		"[]",
		"null",
		"42",
		"{'streams': 5, 'format': 'x'}",
		"{'streams': {'codec_type': 'video'}}",
		"{'streams': [null, 1, 'video', []]}",
		"{'streams': [{'codec_type': 'video'}]}",
		"{'streams': [{'codec_type': 'video', 'codec_name': 'h264'}]}",
		"{'streams': [{'codec_type': 'video', 'codec_name': 'h264', 'width': 'abc', 'height': -5,"
		" 'nb_read_packets': '10'}]}",
		"{'streams': [{'codec_type': 'video', 'codec_name': 'h264', 'width': 0, 'height': 0,"
		" 'nb_read_packets': '10'}]}",
		"{'streams': [{'codec_type': 'video', 'codec_name': 'h264', 'width': 1e300, 'height': -1e300,"
		" 'nb_read_packets': '1e30'}]}",
		"{'streams': [{'codec_type': 'video', 'codec_name': 'h264', 'width': 'nan', 'height': 'inf',"
		" 'nb_read_packets': '-1e30'}]}",
		"{'streams': [{'codec_type': 'video', 'codec_name': 'h264', 'width': 320, 'height': 240,"
		" 'nb_read_packets': 'NaN'}]}",
	};
	struct probe p;
	char err[512], *copy;
	size_t i, n;
	int rc;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rc = test_probe_run(bad[i], 0, &p, err, sizeof err);
		if (rc != -1)
			fail_msg("fixture %zu accepted: %s", i, bad[i]);
		if (err[0] == '\0')
			fail_msg("fixture %zu rejected without a message", i);
	}
	test_probe_fails("{", "cannot read ffprobe output");
	test_probe_fails("[]", "cannot read ffprobe output");

	/* every prefix of a real answer: an error or a result, never a crash */
	copy = strdup(TEST_PROBE_IPHONE("-90"));
	assert_non_null(copy);
	n = strlen(copy);
	for (i = 0; i < n; i++) {
		if (copy[i] == '\'')
			copy[i] = '"';
	}
	for (i = 0; i < n; i++)
		assert_int_equal(probe_parse(copy, i, NULL, 0, &p, err, sizeof err), -1);
	assert_int_equal(probe_parse(copy, n, NULL, 0, &p, err, sizeof err), 0);
	free(copy);
}

/* Numbers no real file has: each gives an error or a sane result, never undefined behaviour
 * (the asan build aborts on an out-of-range conversion). */
static void
test_probe_hostile_numbers(void **state)
{
	struct probe p;

	test_probe_fails(TEST_PROBE_MINI("1e300", "240", "'50'", ""), "no usable picture");
	test_probe_fails(TEST_PROBE_MINI("4294967296", "240", "'50'", ""), "no usable picture");
	test_probe_fails(TEST_PROBE_MINI("320", "-1e300", "'50'", ""), "no usable picture");
	test_probe_fails(TEST_PROBE_MINI("320", "240", "'1e30'", ""), "no frames");
	test_probe_fails(TEST_PROBE_MINI("320", "240", "'-7'", ""), "no frames");

	test_probe_ok(TEST_PROBE_MINI("320", "240", "'50'", ", 'side_data_list': [{'rotation': -1e10}]"), &p);
	assert_true(p.rotation == 0 || p.rotation == 90 || p.rotation == 180 || p.rotation == 270);
	test_probe_ok(TEST_PROBE_MINI("320", "240", "'50'", ", 'tags': {'rotate': '1e300'}"), &p);
	assert_true(p.rotation == 0 || p.rotation == 90 || p.rotation == 180 || p.rotation == 270);
	test_probe_ok(TEST_PROBE_MINI("320", "240", "'50'", ", 'side_data_list': [{'rotation': 450}]"), &p);
	assert_int_equal(p.rotation, 270);

	/* a rate that overflows a long is not a rate */
	test_probe_ok(TEST_PROBE_MINI("320", "240", "'50'", ", 'r_frame_rate': '99999999999999999999/1'"), &p);
	assert_true(p.fps > 0 && p.fps <= 240);

	/* 10 frames over a declared 31 years would be 0 fps */
	test_probe_fails(TEST_PROBE_MINI("320", "240", "'10'",
	    ", 'r_frame_rate': '0/0', 'avg_frame_rate': '0/0', 'duration': '1e9'"), "0.001 fps");
	test_probe_fails(TEST_PROBE_MINI("320", "240", "'10'",
	    ", 'r_frame_rate': '0/0', 'avg_frame_rate': '0/0', 'duration': '1e9'"), "10 frames");
}

static void
test_probe_analytics_keys(void **state)
{
	static const char *keys[] = { "duration", "width", "height", "fps", "aspect_ratio", "total_frames",
	    "has_audio", "file_size_mb", "bitrate_mbps", "codec", "format", "rotation" };
	struct probe p;
	char err[512];
	json_t *a, *ar, *full;
	long an = 0, ad = 0;
	size_t i;

	assert_int_equal(test_probe_run(TEST_PROBE_IPHONE("-90"), 439391, &p, err, sizeof err), 0);
	a = probe_analytics(&p);
	assert_non_null(a);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (json_object_get(a, keys[i]) == NULL)
			fail_msg("analytics has no \"%s\"", keys[i]);
	}
	assert_true(json_is_number(json_object_get(a, "duration")));
	assert_true(fabs(json_number_value(json_object_get(a, "duration")) - 4.0) < 0.01);
	assert_int_equal(json_integer_value(json_object_get(a, "width")), 320);
	assert_int_equal(json_integer_value(json_object_get(a, "height")), 568);
	assert_true(fabs(json_number_value(json_object_get(a, "fps")) - 29.97) < 0.01);
	assert_int_equal(json_integer_value(json_object_get(a, "total_frames")), 120);
	assert_true(json_is_true(json_object_get(a, "has_audio")));
	assert_true(fabs(json_number_value(json_object_get(a, "file_size_mb")) - 439391 / 1048576.0) < 0.01);
	assert_true(fabs(json_number_value(json_object_get(a, "bitrate_mbps")) - 0.878415) < 0.01);
	assert_string_equal(json_string_value(json_object_get(a, "codec")), "h264");
	assert_string_equal(json_string_value(json_object_get(a, "format")), "mov,mp4,m4a,3gp,3g2,mj2");
	assert_int_equal(json_integer_value(json_object_get(a, "rotation")), 90);
	/* the aspect ratio describes the upright picture, whatever its spelling */
	ar = json_object_get(a, "aspect_ratio");
	if (json_is_string(ar)) {
		assert_int_equal(sscanf(json_string_value(ar), "%ld:%ld", &an, &ad), 2);
		assert_true(an * 568 == ad * 320);
	} else {
		assert_true(json_is_number(ar));
		assert_true(fabs(json_number_value(ar) - 320.0 / 568.0) < 0.01);
	}
	json_decref(a);

	/* no audio; the bitrate from size and duration when the format has none */
	assert_int_equal(test_probe_run(TEST_PROBE_MINI("320", "240", "'50'", ""), 2000000, &p, err, sizeof err), 0);
	a = probe_analytics(&p);
	assert_true(json_is_false(json_object_get(a, "has_audio")));
	assert_true(fabs(json_number_value(json_object_get(a, "bitrate_mbps")) - 8.0) < 0.01);
	assert_int_equal(json_integer_value(json_object_get(a, "rotation")), 0);
	json_decref(a);

	full = probe_json(&p);
	assert_int_equal(json_integer_value(json_object_get(full, "output_width")), 320);
	assert_string_equal(json_string_value(json_object_get(full, "fps_rational")), "25/1");
	assert_non_null(json_object_get(full, "duration"));
	json_decref(full);
}

static void
test_probe_argv_shape(void **state)
{
	char *argv[24], url[4200];
	int i, n, found_url = 0, found_wl = 0;

	probe_argv("-x; $(rm -rf ~).mp4", argv, url, sizeof url);
	for (i = 0; argv[i] != NULL; i++) {
		assert_true(i < 23);
		if (strcmp(argv[i], "file:-x; $(rm -rf ~).mp4") == 0)
			found_url = 1;
		if (strcmp(argv[i], "-protocol_whitelist") == 0 && argv[i + 1] != NULL &&
		    strcmp(argv[i + 1], "file") == 0)
			found_wl = 1;
	}
	assert_string_equal(argv[0], "ffprobe");
	assert_true(found_url);
	assert_true(found_wl);
	/* the user's name is in no other element, so it can never be read as an option */
	for (i = 0, n = 0; argv[i] != NULL; i++)
		n += strstr(argv[i], "-x;") != NULL;
	assert_int_equal(n, 1);
}

/* The real footage: $VR_MEDIA, else ../shared/media beside the tree (tests/run's directory). */
static const char *
test_probe_media(void)
{
	const char *m = getenv("VR_MEDIA");

	return m != NULL && *m != '\0' ? m : "../shared/media";
}

/* Runs the real ffprobe with probe_argv on a file of the real footage and parses its answer;
 * -2 when the file is not there. */
static int
test_probe_real(const char *name, struct probe *p, char *err, size_t errlen)
{
	char path[512], url[600], *argv[24], *out = NULL, perr[256], errtail[1024];
	size_t len = 0, cap = 0;
	int fds[2], st, rc, efd;
	ssize_t r;
	pid_t pid;

	snprintf(path, sizeof path, "%s/%s", test_probe_media(), name);
	if (access(path, R_OK) == -1)
		return -2;
	probe_argv(path, argv, url, sizeof url);
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	efd = spawn_capture_open("ffprobe-stderr");
	assert_true(efd != -1);
	pid = spawn(argv, -1, fds[1], efd, perr, sizeof perr);
	if (pid == -1)
		fail_msg("%s", perr);
	close(fds[1]);
	for (;;) {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 65536;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		r = read(fds[0], out + len, cap - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fds[0]);
	assert_int_equal(spawn_wait(pid, &st, NULL), 0);
	spawn_capture_tail(efd, errtail, sizeof errtail);
	close(efd);
	rc = probe_parse(out, len, errtail, util_file_size(path), p, err, errlen);
	free(out);
	return rc;
}

static void
test_probe_real_files(void **state)
{
	struct probe p;
	char err[512];
	int rc;

	rc = test_probe_real("mei_iphone_portrait_gps.mov", &p, err, sizeof err);
	if (rc == -2) {
		printf("SKIP no real footage at %s (set VR_MEDIA)\n", test_probe_media());
		skip();
	}
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(p.rotation, 90);
	assert_int_equal(p.width, 320);
	assert_int_equal(p.height, 568);
	assert_int_equal(p.frames, 120);
	assert_true(p.cfr);

	/* truncated: rendered, marked, with what it holds (1 frame at 24 fps), not the 46.7 s declared */
	assert_int_equal(test_probe_real("bad/jcodec_mkv_trunc_100k.mkv", &p, err, sizeof err), 0);
	assert_true(p.truncated);
	assert_true(p.duration < 1);
	assert_true(p.declared > 46);
	assert_int_equal(test_probe_real("bad/androidx_vvc_unsupported.mp4", &p, err, sizeof err), -1);
	assert_non_null(strstr(err, "no decoder"));

	assert_int_equal(test_probe_real("exo_sample_h264_ac3.mkv", &p, err, sizeof err), 0);
	assert_false(p.cfr);
	assert_int_equal(p.frames, 30);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_rotation),
		cmocka_unit_test(test_probe_odd_size),
		cmocka_unit_test(test_probe_frame_rate),
		cmocka_unit_test(test_probe_not_video),
		cmocka_unit_test(test_probe_truncated),
		cmocka_unit_test(test_probe_avi_dropped_frames),
		cmocka_unit_test(test_probe_not_truncated),
		cmocka_unit_test(test_probe_wrong_nominal_rate),
		cmocka_unit_test(test_probe_whole),
		cmocka_unit_test(test_probe_mid_gop),
		cmocka_unit_test(test_probe_no_codec),
		cmocka_unit_test(test_probe_malformed),
		cmocka_unit_test(test_probe_hostile_numbers),
		cmocka_unit_test(test_probe_analytics_keys),
		cmocka_unit_test(test_probe_argv_shape),
		cmocka_unit_test(test_probe_real_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
