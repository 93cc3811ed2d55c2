#ifndef TESTS_FUZZ_FUZZ_CHAIN_H
#define TESTS_FUZZ_FUZZ_CHAIN_H
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "common/fspec.h"
#include "worker/filter.h"

/* What every accepted filter must survive: the worker receives the canonical spec and
 * parses it again, to the same chain, for which it has every kernel. */
static inline void
fuzz_chain_roundtrip(const struct fspec *fs)
{
	struct fspec *again;
	struct filter_chain *fc;
	char err[512];

	again = fspec_parse(fspec_string(fs), err, sizeof err);
	if (again == NULL)
		fprintf(stderr, "canonical spec \"%s\" refused: %s\n", fspec_string(fs), err);
	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(strcmp(fspec_string(again), fspec_string(fs)) == 0);
	fspec_free(again);
	fc = filter_chain_parse(fspec_string(fs), err, sizeof err);
	FUZZ_CHECK(fc != NULL && strcmp(filter_chain_spec(fc), fspec_string(fs)) == 0);
	filter_chain_free(fc);
}

#endif
