#ifndef MASTER_SERVE_H
#define MASTER_SERVE_H

/* `master serve [options]`: the HTTP API and the page. Returns the exit code. */
int serve_main(int argc, char **argv);

#endif
