/*
 * Agent-check replies: one line of words that set a state and/or a weight,
 * in the form HAProxy's agent checks made familiar.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "health/health.h"

int
hc_agent_parse(const char *line, size_t len, struct hc_agent *out)
{
	static const struct {
		const char		*word;
		enum hc_agent_state	 state;
	} words[] = {
		{ "up", HC_AGENT_UP }, { "ready", HC_AGENT_UP },
		{ "down", HC_AGENT_DOWN }, { "fail", HC_AGENT_DOWN },
		{ "stopped", HC_AGENT_DOWN }, { "drain", HC_AGENT_DRAIN },
		{ "maint", HC_AGENT_MAINT },
	};
	struct hc_agent a = { HC_AGENT_NONE, -1 };
	size_t i = 0;
	bool any = false;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	while (i < len) {
		size_t j;
		char w[16];

		if (line[i] == ' ' || line[i] == '\t' || line[i] == ',') {
			i++;
			continue;
		}
		if (line[i] == '#')
			break;
		for (j = i; j < len && line[j] != ' ' && line[j] != '\t' &&
		    line[j] != ',' && line[j] != '#'; j++)
			;
		if (j - i >= sizeof(w))
			return -1;
		memcpy(w, line + i, j - i);
		w[j - i] = '\0';
		i = j;
		any = true;

		if (isdigit((unsigned char)w[0]) && w[strlen(w) - 1] == '%') {
			int pct = 0;
			for (const char *p = w; *p != '%'; p++) {
				if (!isdigit((unsigned char)*p) || pct > 100)
					return -1;
				pct = pct * 10 + (*p - '0');
			}
			if (pct > 100 || a.weight_pct >= 0)
				return -1;
			a.weight_pct = (int16_t)pct;
			continue;
		}
		size_t k;
		for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
			if (strcasecmp(w, words[k].word) == 0)
				break;
		if (k == sizeof(words) / sizeof(words[0]))
			return -1;
		a.state = (uint8_t)words[k].state;
	}
	if (!any)
		return -1;
	*out = a;
	return 0;
}
