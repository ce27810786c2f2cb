/* tests/fuzz/fuzz_view.c - libFuzzer target for the view spec loader
 * (pol_view_parse: libyaml, the YAML tree, `where:` predicates, sample,
 * split and layout sections) and for membership on what loaded.  A failed
 * parse must say why, naming the spec; a parsed view must have cumulative
 * split fractions ending at 1 and usable split names, place every key in a
 * split it has, give u in [0,1), and select without crashing. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "policy/view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct pol_attr attrs[] = {
	{ "label", "cat", 5, 3, 's' },	  { "split", "train", 5, 5, 's' },
	{ "subject", "p1", 7, 2, 's' },	  { "quality", "0.7", 7, 3, 'n' },
	{ "consent", "true", 7, 4, 'b' }, { "collected_at", "2021-03-04", 12, 10, 's' },
};

static const char *const keys[] = { "train/0001", "val/cat/0002", "a", "x/.hidden", "" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pol_attrs as = { attrs, sizeof(attrs) / sizeof(attrs[0]) };
	struct pol_view *v;
	struct pol_error err;
	int r;

	memset(&err, 0, sizeof(err));
	r = pol_view_parse(&v, "fuzz", data, size, &err);
	if (r < 0) {
		if (r != -ENOMEM && strncmp(err.msg, "fuzz", 4) != 0)
			__builtin_trap();
		return 0;
	}
	if (!v || v->nsplits > POL_VIEW_SPLITS_MAX ||
	    (v->sampled && !(v->fraction > 0 && v->fraction <= 1)))
		__builtin_trap();
	for (size_t i = 0; i < v->nsplits; i++) {
		const char *n = v->split_names[i];
		if (!n || !pol_view_dirname_ok(n, strlen(n)) ||
		    (i && v->split_cum[i] < v->split_cum[i - 1]))
			__builtin_trap();
	}
	if (v->nsplits && v->split_cum[v->nsplits - 1] != 1.0)
		__builtin_trap();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t n = strlen(keys[i]);
		double u = pol_view_u(v->seed, keys[i], n);
		size_t sp = pol_view_split(v, keys[i], n);

		if (!(u >= 0 && u < 1) || (v->nsplits ? sp >= v->nsplits : sp != 0))
			__builtin_trap();
		(void)pol_view_select(v, keys[i], n, pol_attrs_lookup, &as);
		(void)pol_view_select(v, keys[i], n, NULL, NULL);
		(void)pol_view_sampled(v, keys[i], n);
	}
	pol_view_free(v);
	return 0;
}
