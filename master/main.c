/*
 * build/master: `master [options] FILE` renders one video from the command line;
 * `master serve` runs the HTTP API and the page.
 */
#include <string.h>

#include "master/cli.h"
#include "master/serve.h"

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "serve") == 0)
		return serve_main(argc - 1, argv + 1);
	return cli_main(argc, argv);
}
