/* Job ids: every URL path that ends in one and every /process body names one. */
#include <string.h>

#include "master/jobid.h"
#include "tests/fuzz/fuzz.h"

/* The shape, said another way: 8-4-4-4-12 lowercase hex digits. */
static int
fuzz_jobid_shape(const char *s)
{
	static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	if (strlen(s) != sizeof form - 1)
		return 0;
	for (i = 0; form[i] != '\0'; i++) {
		if (form[i] == '-' ? s[i] != '-' : strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
			return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), id[JOBID_LEN + 1];
	int valid = jobid_valid(s);

	/* only what is safe as a file name passes: no '/', no '.', nothing but the shape */
	FUZZ_CHECK(valid == fuzz_jobid_shape(s));
	if (valid)
		FUZZ_CHECK(strchr(s, '/') == NULL && strchr(s, '.') == NULL);
	jobid_new(id);
	FUZZ_CHECK(jobid_valid(id) && id[14] == '4');
	free(s);
	return 0;
}
