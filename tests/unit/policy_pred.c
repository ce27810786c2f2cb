/* tests/unit/policy_pred.c - the `where:` language shared by policy and views:
 * every operator, missing attributes, types, any/all/not, dates. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "policy/pred.h"
#include "policy/ytree.h"
#include "tests/tap.h"

static struct pol_attr attrs[] = {
	{ "label", "3", 5, 1, 'n' },
	{ "split", "train", 5, 5, 's' },
	{ "pii", "true", 3, 4, 'b' },
	{ "score", "0.75", 5, 4, 'n' },
	{ "at", "2021-06-01T12:00:00Z", 2, 20, 's' },
	{ "ts", "1600000000", 2, 10, 'n' },
	{ "code", "007", 4, 3, 's' },
};
static struct pol_attrs as = { attrs, sizeof(attrs) / sizeof(attrs[0]) };

static int eval(const char *where)
{
	struct pol_ytree t;
	struct pol_error err;
	struct pol_pred *p;
	int r;

	if (pol_ytree_parse(&t, "w", where, strlen(where), &err) < 0) {
		diag("%s", err.msg);
		return -100;
	}
	r = pol_pred_compile(&p, t.root, "w", &err);
	pol_ytree_free(&t);
	if (r < 0) {
		diag("%s", err.msg);
		return -100;
	}
	r = pol_pred_eval(p, pol_attrs_lookup, &as);
	pol_pred_free(p);
	return r;
}

static const struct {
	const char *where;
	int want;
} cases[] = {
	{ "{label: 3}", 1 },
	{ "{label: 3.0}", 1 },
	{ "{label: \"3\"}", 1 },
	{ "{label: 4}", 0 },
	{ "{split: train}", 1 },
	{ "{split: [val, train]}", 1 },
	{ "{split: {in: [val, test]}}", 0 },
	{ "{split: {not_in: [val, test]}}", 1 },
	{ "{missing: {not_in: [a]}}", 1 },
	{ "{missing: x}", 0 },
	{ "{missing: {exists: false}}", 1 },
	{ "{label: {exists: true}}", 1 },
	{ "{pii: true}", 1 },
	{ "{pii: false}", 0 },
	{ "{score: {ge: 0.75, lt: 1}}", 1 },
	{ "{score: {gt: 0.75}}", 0 },
	{ "{score: {le: 0.75}}", 1 },
	{ "{split: {lt: 3}}", 0 },
	{ "{missing: {lt: 3}}", 0 },
	{ "{at: {before: 2022-01-01}}", 1 },
	{ "{at: {after: 2021-06-01T12:00:00Z}}", 1 },
	{ "{at: {after: \"2021-06-01T14:00:00+02:00\"}}", 1 },
	{ "{at: {after: 2021-06-02}}", 0 },
	{ "{ts: {before: 2020-09-14}}", 1 },
	{ "{code: \"007\"}", 1 },
	{ "{code: 7}", 0 }, /* "007" is a string, not the number 7 */
	{ "{any: [{label: 9}, {split: train}]}", 1 },
	{ "{all: [{label: 3}, {split: val}]}", 0 },
	{ "{not: {pii: true}}", 0 },
	{ "{label: 3, split: train, not: {missing: {exists: true}}}", 1 },
};

int main(void)
{
	int64_t t;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(eval(cases[i].where), cases[i].want, "%s", cases[i].where);

	ok(pol_parse_date("1970-01-01", 10, &t) == 0 && t == 0, "epoch");
	ok(pol_parse_date("2000-02-29", 10, &t) == 0 && t == 951782400, "leap day 2000");
	ok(pol_parse_date("1900-02-29", 10, &t) < 0, "no leap day 1900");
	ok(pol_parse_date("2021-04-31", 10, &t) < 0, "April has 30 days");
	ok(pol_parse_date("2021-06-01 12:00", 16, &t) == 0 && t == 1622548800, "space, minutes");
	ok(pol_parse_date("2021-06-01T12:00:00.5Z", 22, &t) == 0 && t == 1622548800, "fraction");
	ok(pol_parse_date("2021-06-01T12:00:00+0200", 24, &t) < 0, "offset needs a colon");
	ok(pol_parse_date("21-06-01", 8, &t) < 0, "two-digit year refused");
	ok(pol_parse_duration("365d", &t) == 0 && t == 365 * 86400, "365d");
	ok(pol_parse_duration("2w", &t) == 0 && t == 14 * 86400, "2w");
	ok(pol_parse_duration("d", &t) < 0 && pol_parse_duration("3dd", &t) < 0, "bad durations");
	return tap_done();
}
