#include "master/ffcmd.h"

#include "common/argv.h"
#include "master/probe.h"

void
ffcmd_head(struct argv *a)
{
	argv_add(a, "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", NULL);
}

void
ffcmd_input(struct argv *a, const char *path)
{
	argv_add(a, "-protocol_whitelist", "file", "-format_whitelist", PROBE_DEMUXERS, "-i", NULL);
	/* "file:" keeps a name like "-x.mp4" or "http:..." from meaning anything but a file */
	argv_addf(a, "file:%s", path);
}
