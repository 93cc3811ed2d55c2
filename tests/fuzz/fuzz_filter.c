/*
 * Filter specs (common/fspec.c) and the worker's chains built from them (worker/filter.c):
 * the CLI's --filter, the preview's ?filter=, and filter_type + params of POST /process. The
 * input is tried as a spec, and as a filter_type line followed by a params object. Whatever is
 * accepted must survive the trip to the worker (its canonical spec parses again to the same
 * chain) and must filter a small frame of any size without touching a byte outside it.
 */
#include <string.h>

#include "tests/fuzz/fuzz_chain.h"

/* Each plane its own exact allocation, so a write past a row's end or the last row is seen. */
static void
fuzz_filter_apply(const struct fspec *fs, int w, int h, enum filter_matrix m, uint8_t seed)
{
	struct filter_chain *fc;
	struct frame f;
	char err[512];
	int p, i, n;

	fc = filter_chain_parse(fspec_string(fs), err, sizeof err);
	FUZZ_CHECK(fc != NULL);
	FUZZ_CHECK(filter_chain_prepare(fc, w, h, m, err, sizeof err) == 0);
	memset(&f, 0, sizeof f);
	f.width = w;
	f.height = h;
	for (p = 0; p < 3; p++) {
		f.linesize[p] = (p == 0 ? w : (w + 1) / 2) + seed % 3;
		n = f.linesize[p] * (p == 0 ? h : (h + 1) / 2);
		f.data[p] = malloc((size_t)n);
		FUZZ_CHECK(f.data[p] != NULL);
		for (i = 0; i < n; i++)
			f.data[p][i] = (uint8_t)(seed + i * 37 + p * 91);
	}
	filter_chain_apply(fc, &f);
	for (p = 0; p < 3; p++)
		free(f.data[p]);
	filter_chain_free(fc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	struct fspec *fs;
	json_error_t jerr;
	json_t *params = NULL;
	char *spec, *type, err[512] = "";
	uint8_t a = size > 0 ? data[0] : 0, b = size > 1 ? data[size - 1] : 0;

	spec = fuzz_string(data, size);
	fs = fspec_parse(spec, err, sizeof err);
	FUZZ_CHECK(fs != NULL || err[0] != '\0');
	if (fs != NULL) {
		fuzz_chain_roundtrip(fs);
		fuzz_filter_apply(fs, 1 + a % 40, 1 + b % 30, b & 1 ? FILTER_BT709 : FILTER_BT601, a ^ b);
		fspec_free(fs);
	}
	free(spec);

	if (nl == NULL)
		return 0;
	type = fuzz_string(data, (size_t)(nl - data));
	params = json_loadb((const char *)nl + 1, size - (size_t)(nl - data) - 1, JSON_DECODE_ANY, &jerr);
	err[0] = '\0';
	fs = fspec_from_json(type, params, err, sizeof err);
	FUZZ_CHECK(fs != NULL || err[0] != '\0');
	if (fs != NULL) {
		fuzz_chain_roundtrip(fs);
		fuzz_filter_apply(fs, 1 + b % 33, 1 + a % 27, a & 1 ? FILTER_BT709 : FILTER_BT601, b);
		fspec_free(fs);
	}
	json_decref(params);
	free(type);
	return 0;
}
