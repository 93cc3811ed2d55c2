/*
 * The query of GET /preview/{id} (master/api.c): filter=SPEC&t=SECONDS&format=png|jpeg, any
 * bytes. An accepted query yields a chain the preview can use again and a time in range.
 */
#include <math.h>
#include <string.h>

#include "master/api.h"
#include "tests/fuzz/fuzz_chain.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_preview_req r;
	char *query = fuzz_string(data, size), err[1024];
	int status;

	err[0] = '\0';
	status = api_parse_preview(query, &r, err, sizeof err);
	if (status != 200) {
		FUZZ_CHECK(status == 400 && r.title != NULL && err[0] != '\0' && r.fc == NULL);
		goto done;
	}
	FUZZ_CHECK(r.fc != NULL && isfinite(r.t) && r.t >= 0 && r.t < 1e7);
	FUZZ_CHECK(r.jpeg == 0 || r.jpeg == 1);
	fuzz_chain_roundtrip(r.fc);
	fspec_free(r.fc);
done:
	free(query);
	return 0;
}
