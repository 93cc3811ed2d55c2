/*
 * build/master: `master [options] FILE` renders one video from the command line;
 * `master serve` runs the HTTP API and the page.
 */
#include <signal.h>
#include <string.h>

#include "master/cli.h"
#include "master/serve.h"

int
main(int argc, char **argv)
{
	/* Over the file size limit (ulimit -f) a write fails with EFBIG, which each caller
	 * reports ("File too large") and cleans up after, instead of the signal killing the
	 * process mid-write. Children (workers, ffmpeg) keep this. */
	signal(SIGXFSZ, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "serve") == 0)
		return serve_main(argc - 1, argv + 1);
	return cli_main(argc, argv);
}
