/*
 * Filter specs (worker/filter.c): the CLI's --filter, the preview's ?filter=, and
 * filter_type + params of POST /process. The input is tried as a spec, and as a filter_type
 * line followed by a params object. Whatever is accepted must survive the trip to the worker
 * (its canonical spec parses again to the same chain) and must filter a small frame of any
 * size without touching a byte outside it.
 */
#include <string.h>

#include "tests/fuzz/fuzz_chain.h"

/* Each plane its own exact allocation, so a write past a row's end or the last row is seen. */
static void
fuzz_filter_apply(struct filter_chain *fc, int w, int h, enum filter_matrix m, uint8_t seed)
{
	struct frame f;
	char err[512];
	int p, i, n;

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
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	struct filter_chain *fc;
	json_error_t jerr;
	json_t *params = NULL;
	char *spec, *type, err[512] = "";
	uint8_t a = size > 0 ? data[0] : 0, b = size > 1 ? data[size - 1] : 0;

	spec = fuzz_string(data, size);
	fc = filter_chain_parse(spec, err, sizeof err);
	FUZZ_CHECK(fc != NULL || err[0] != '\0');
	if (fc != NULL) {
		fuzz_chain_roundtrip(fc);
		fuzz_filter_apply(fc, 1 + a % 40, 1 + b % 30, b & 1 ? FILTER_BT709 : FILTER_BT601, a ^ b);
		filter_chain_free(fc);
	}
	free(spec);

	if (nl == NULL)
		return 0;
	type = fuzz_string(data, (size_t)(nl - data));
	params = json_loadb((const char *)nl + 1, size - (size_t)(nl - data) - 1, JSON_DECODE_ANY, &jerr);
	err[0] = '\0';
	fc = filter_chain_from_json(type, params, err, sizeof err);
	FUZZ_CHECK(fc != NULL || err[0] != '\0');
	if (fc != NULL) {
		fuzz_chain_roundtrip(fc);
		fuzz_filter_apply(fc, 1 + b % 33, 1 + a % 27, a & 1 ? FILTER_BT709 : FILTER_BT601, b);
		filter_chain_free(fc);
	}
	json_decref(params);
	free(type);
	return 0;
}
