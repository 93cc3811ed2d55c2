#include "master/serve.h"

#include <stdio.h>

int
serve_main(int argc, char **argv)
{
	fprintf(stderr, "master serve: not built yet\n");
	return 1;
}
