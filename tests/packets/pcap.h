/*
 * Classic pcap files (LINKTYPE_ETHERNET), enough to write and read the
 * golden packet fixtures. Timestamps carry the engine's virtual clock (ms).
 */
#ifndef TESTS_PACKETS_PCAP_H
#define TESTS_PACKETS_PCAP_H

#include <stdint.h>
#include <stdio.h>

struct pcap_rec {
	uint32_t	ts_ms;
	uint32_t	len;
	uint8_t		data[2048];
};

static inline FILE *
pcap_create(const char *path)
{
	FILE *fp = fopen(path, "wb");
	uint32_t h[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };

	if (fp != NULL)
		fwrite(h, sizeof(h), 1, fp);
	return fp;
}

static inline void
pcap_put(FILE *fp, uint32_t ts_ms, const uint8_t *data, uint32_t len)
{
	uint32_t r[4] = { ts_ms / 1000, (ts_ms % 1000) * 1000, len, len };

	fwrite(r, sizeof(r), 1, fp);
	fwrite(data, 1, len, fp);
}

static inline FILE *
pcap_open(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint32_t h[6];

	if (fp == NULL)
		return NULL;
	if (fread(h, sizeof(h), 1, fp) != 1 || h[0] != 0xa1b2c3d4 || h[5] != 1) {
		fclose(fp);
		return NULL;
	}
	return fp;
}

/* 1 with a record, 0 at the end, -1 on a broken file. */
static inline int
pcap_next(FILE *fp, struct pcap_rec *rec)
{
	uint32_t r[4];

	if (fread(r, sizeof(r), 1, fp) != 1)
		return feof(fp) ? 0 : -1;
	if (r[2] > sizeof(rec->data) || fread(rec->data, 1, r[2], fp) != r[2])
		return -1;
	rec->ts_ms = r[0] * 1000 + r[1] / 1000;
	rec->len = r[2];
	return 1;
}

#endif /* TESTS_PACKETS_PCAP_H */
