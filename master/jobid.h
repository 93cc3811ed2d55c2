#ifndef MASTER_JOBID_H
#define MASTER_JOBID_H

/* Length of a job id without its NUL: 8-4-4-4-12 lowercase hex, shaped like a UUID v4. */
#define JOBID_LEN 36

/* Writes a new random job id (version 4, variant 1 bits set) and its NUL. */
void jobid_new(char out[JOBID_LEN + 1]);

/*
 * 1 when s is exactly a job id's shape (8-4-4-4-12 lowercase hex digits, then NUL), 0 for
 * anything else, including NULL. Reads at most JOBID_LEN + 1 bytes of s, so an id checked here
 * is safe as a file name and never needs quoting.
 */
int jobid_valid(const char *s);

#endif
