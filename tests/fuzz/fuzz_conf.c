/*
 * Fuzz target: the configuration language (lexer, grammar, builder,
 * validation, diff and dump) on arbitrary text. Every input must either load
 * or produce diagnostics; nothing may crash or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_diags d = { 0 };
	struct conf *c, *empty;
	struct conf_diff diff;
	char *text;

	if (size > 16384)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* `include` would read the fuzzing machine's files: not what this
	 * target is about (tests/unit covers includes). */
	if (strstr(text, "include") != NULL) {
		free(text);
		return 0;
	}
	c = conf_load_string("fuzz.conf", text, &d);
	if (c != NULL) {
		FILE *null = fopen("/dev/null", "w");
		conf_dump(c, null);
		conf_dump_json(c, null);
		fclose(null);
		if (conf_diff(NULL, c, &diff) == 0)
			conf_diff_free(&diff);
		empty = conf_load_string("e.conf", "", &d);
		if (empty != NULL && conf_diff(c, empty, &diff) == 0)
			conf_diff_free(&diff);
		conf_free(empty);
	}
	for (size_t i = 0; i < d.n; i++) {
		char line[4096];
		conf_diag_format(&d.v[i], line, sizeof(line));
	}
	conf_free(c);
	conf_diags_free(&d);
	free(text);
	return 0;
}
