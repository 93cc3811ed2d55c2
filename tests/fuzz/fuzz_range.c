/* Range headers of GET /download and /input: what they yield must lie inside the file. */
#include "master/range.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t sizes[] = { 0, 1, 2, 1000, INT64_C(1) << 40, INT64_MAX };
	char *value = fuzz_string(data, size), cr[128];
	int64_t start, len;
	size_t i;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		start = len = -1;
		switch (range_parse(value, sizes[i], &start, &len)) {
		case RANGE_OK:
			/* 206: one range, non-empty, inside the file (a sendfile of it never fails) */
			FUZZ_CHECK(start >= 0 && len >= 1 && start < sizes[i] && len <= sizes[i] - start);
			/* the whole file is a 200 (RANGE_NONE), never a 206 */
			FUZZ_CHECK(start > 0 || len < sizes[i]);
			FUZZ_CHECK(range_content_range(cr, sizeof cr, start, len, sizes[i]) == 0);
			break;
		case RANGE_UNSATISFIABLE:
			FUZZ_CHECK(range_content_range(cr, sizeof cr, 0, 0, sizes[i]) == 0);
			break;
		case RANGE_NONE:
			break;
		default:
			FUZZ_CHECK(!"a result outside the enum");
		}
	}
	free(value);
	return 0;
}
