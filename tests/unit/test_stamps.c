#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "worker/stamps.h"

static void
test_stamps_at_extends_the_last_interval(void **state)
{
	int64_t pts[3] = { 0, 67, 100 };
	struct stamps s = { .pts = pts, .n = 3, .num = 1, .den = 1000 };

	(void)state;
	assert_int_equal(stamps_at(&s, 0), 0);
	assert_int_equal(stamps_at(&s, 2), 100);
	/* a frame past the list (a decoder that made one up) comes one step later, never at once */
	assert_int_equal(stamps_at(&s, 3), 133);
	assert_int_equal(stamps_at(&s, 4), 166);
}

/* The bytes ffmpeg's IVF demuxer reads: header, then each frame's size and time. */
static void
test_stamps_ivf_layout(void **state)
{
	int64_t pts[2] = { 0, 90000 };
	struct stamps s = { .pts = pts, .n = 2, .num = 1, .den = 90000 };
	uint8_t b[64];
	int fd[2];

	(void)state;
	assert_int_equal(pipe(fd), 0);
	assert_int_equal(stamps_ivf_header(fd[1], &s, "yuv420p", 320, 240), 0);
	assert_int_equal(stamps_ivf_frame(fd[1], 115200, 90000), 0);
	assert_int_equal(read(fd[0], b, sizeof b), 44);
	assert_memory_equal(b, "DKIF", 4);
	assert_int_equal(b[6], 32);
	assert_memory_equal(b + 8, "I420", 4);
	assert_int_equal(b[12] | b[13] << 8, 320);
	assert_int_equal(b[14] | b[15] << 8, 240);
	assert_int_equal(b[16] | b[17] << 8 | b[18] << 16, 90000);   /* time base den */
	assert_int_equal(b[20], 1);                                  /* time base num */
	assert_int_equal(b[32] | b[33] << 8 | b[34] << 16, 115200);  /* frame size */
	assert_int_equal(b[36] | b[37] << 8 | b[38] << 16, 90000);   /* frame time */
	/* the tag names the samples: 10-bit 4:2:2 read as I420 would be a picture of noise */
	assert_int_equal(stamps_ivf_header(fd[1], &s, "yuv422p10le", 320, 240), 0);
	assert_int_equal(read(fd[0], b, 32), 32);
	assert_memory_equal(b + 8, "I2AL", 4);
	assert_int_equal(stamps_ivf_header(fd[1], &s, "nv12", 320, 240), -1);
	close(fd[0]);
	close(fd[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stamps_at_extends_the_last_interval),
		cmocka_unit_test(test_stamps_ivf_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
