#ifndef TESTS_FUZZ_FUZZ_CHAIN_H
#define TESTS_FUZZ_FUZZ_CHAIN_H
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "worker/filter.h"

/* What every accepted filter must survive: the worker receives the canonical spec and
 * parses it again, to the same chain. */
static inline void
fuzz_chain_roundtrip(const struct filter_chain *fc)
{
	struct filter_chain *again;
	char err[512];

	again = filter_chain_parse(filter_chain_spec(fc), err, sizeof err);
	if (again == NULL)
		fprintf(stderr, "canonical spec \"%s\" refused: %s\n", filter_chain_spec(fc), err);
	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(strcmp(filter_chain_spec(again), filter_chain_spec(fc)) == 0);
	filter_chain_free(again);
}

#endif
