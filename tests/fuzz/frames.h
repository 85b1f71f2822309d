/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * frames.h -- the input format of the fuzzers that take a sequence of
 * frames (fuzz_filters, fuzz_appstack), for the harnesses that read it and
 * the seed writers that write it: per frame, a control byte (its meaning is
 * the harness's), a 16-bit big-endian length and that many bytes; the last
 * frame may be cut short by the end of the input.
 */
#ifndef SLUICE_TESTS_FUZZ_FRAMES_H
#define SLUICE_TESTS_FUZZ_FRAMES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The next frame of @data (@size bytes) from *@pos: its control byte and
 * length; returns where its bytes start, or NULL at the end. Moves *@pos on.
 */
static inline const uint8_t *
fz_next(const uint8_t *data, size_t size, size_t *pos, uint8_t *ctl, uint32_t *len)
{
	const uint8_t *f;

	if (*pos + 3 > size)
		return NULL;
	*ctl = data[*pos];
	*len = (uint32_t)(data[*pos + 1] << 8 | data[*pos + 2]);
	*pos += 3;
	if (*len > size - *pos)
		*len = (uint32_t)(size - *pos);
	f = data + *pos;
	*pos += *len;
	return f;
}

/* A copy of the frame in a buffer of its own size, so that ASan sees any
 * read beyond it; free() it. */
static inline uint8_t *
fz_copy(const uint8_t *f, uint32_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	if (c == NULL)
		abort();
	memcpy(c, f, len);
	return c;
}

/* A seed being written: frames are added, then the file is put. */
struct fz_seed {
	const char *dir;
	unsigned seq;
	size_t used;
	uint8_t buf[65536];
};

static inline void
fz_add(struct fz_seed *s, uint8_t ctl, const uint8_t *f, uint32_t len)
{
	if (s->used + 3 + len > sizeof(s->buf)) {
		fprintf(stderr, "seed too long\n");
		exit(1);
	}
	s->buf[s->used++] = ctl;
	s->buf[s->used++] = (uint8_t)(len >> 8);
	s->buf[s->used++] = (uint8_t)len;
	memcpy(s->buf + s->used, f, len);
	s->used += len;
}

/* Write the frames added so far to DIR/NN_@name.bin and start a new seed. */
static inline void
fz_put(struct fz_seed *s, const char *name)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%02u_%s.bin", s->dir, s->seq++, name);
	fp = fopen(path, "wb");
	if (fp == NULL || fwrite(s->buf, 1, s->used, fp) != s->used || fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
	s->used = 0;
}

#endif /* SLUICE_TESTS_FUZZ_FRAMES_H */
