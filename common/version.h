#ifndef COMMON_VERSION_H
#define COMMON_VERSION_H

/* The version `--version`, the server's log and GET /health report. */
#define VR_VERSION "0.1.0"

#endif
