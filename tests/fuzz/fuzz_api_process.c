/*
 * The body of POST /process (master/api.c, master/httputil.c): any bytes, read as the API
 * reads them. An accepted body yields a job id that is safe as a path, a filter chain the
 * worker can parse again, and settings in their ranges; a refused one a status and a reason.
 */
#include <math.h>
#include <string.h>

#include "master/jobid.h"
#include "master/api.h"
#include "master/httputil.h"
#include "tests/fuzz/fuzz_chain.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_process_req r = { .workers = 2, .baseline = 1, .segment_seconds = 10 };
	char err[1024];
	json_t *body;
	int status;

	err[0] = '\0';
	body = http_parse_json((const char *)data, size, &status, err, sizeof err);
	if (body == NULL) {
		FUZZ_CHECK((status == 400 || status == 422) && err[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(status == 200 && json_is_object(body));
	status = api_parse_process(body, &r, err, sizeof err);
	if (status != 200) {
		FUZZ_CHECK((status == 400 || status == 404) && r.title != NULL && err[0] != '\0');
		FUZZ_CHECK(r.fc == NULL);
		goto done;
	}
	FUZZ_CHECK(jobid_valid(r.job_id) && r.filter_type != NULL && r.fc != NULL);
	FUZZ_CHECK(r.workers >= 1 && r.workers <= 1024 && (r.baseline == 0 || r.baseline == 1));
	FUZZ_CHECK(isfinite(r.segment_seconds) && r.segment_seconds >= 0.5 && r.segment_seconds <= 3600);
	fuzz_chain_roundtrip(r.fc);
	fspec_free(r.fc);
done:
	json_decref(body);
	return 0;
}
