/* tests/unit/common_util.c - parsing, paths, sample keys, globs, buffers. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "common/buf.h"
#include "common/strset.h"
#include "common/util.h"
#include "tests/tap.h"

static size_t key(const char *p)
{
	return cm_sample_key_len(p, strlen(p));
}

static int pc(const char *p)
{
	const char *why;
	return cm_path_check(p, strlen(p), &why);
}

int main(void)
{
	uint64_t v;
	struct cm_buf b;
	struct cm_cur c;
	struct cm_strset s;
	struct cm_strset_ent *e;
	char big[5000];

	is_int(cm_parse_u64("12345", &v), 0, "parse u64");
	is_int(v, 12345, "value");
	is_int(cm_parse_u64("12a", &v), -EINVAL, "trailing junk");
	is_int(cm_parse_u64("99999999999999999999", &v), -ERANGE, "overflow");
	is_int(cm_parse_size("64K", &v), 0, "size K");
	is_int(v, 65536, "64K");
	is_int(cm_parse_size("2GiB", &v), 0, "size GiB");
	is_int(v, 2147483648LL, "2GiB");
	is_int(cm_parse_size("1X", &v), -EINVAL, "bad unit");

	is_int(key("train/0001.jpg"), 10, "key of train/0001.jpg");
	is_int(key("train/0001.seg.png"), 10, "key stops at the first dot");
	is_int(key("a/.hidden.x"), 9, "leading dot belongs to the name");
	is_int(key("noext"), 5, "no extension");
	is_int(key("d.x/f"), 5, "dots in directories do not count");

	is_int(pc("a/b/c"), 0, "plain path");
	ok(pc("/a") < 0, "absolute refused");
	ok(pc("a/../b") < 0, "'..' refused");
	ok(pc("a//b") < 0, "empty component refused");
	ok(pc("./a") < 0, "'.' refused");
	ok(pc("") < 0, "empty refused");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	ok(pc(big) < 0, "long path refused");

	ok(cm_glob_match("train/*", "train/0001"), "glob *");
	ok(!cm_glob_match("train/*", "train/a/0001"), "* does not cross /");
	ok(cm_glob_match("train/**", "train/a/0001"), "** crosses /");
	ok(cm_glob_match("**/0001", "x/y/0001"), "leading **");
	ok(cm_glob_match("**/0001", "0001"), "** matches zero dirs");
	ok(cm_glob_match("t?ain/00[0-1]1", "train/0011"), "? and classes");

	cm_buf_init(&b, 64);
	cm_buf_put_varint(&b, 300);
	cm_buf_put_be64(&b, 0x0102030405060708ULL);
	cm_buf_put_bytes(&b, "hi", 2);
	cm_cur_init(&c, b.p, b.len);
	is_int(cm_cur_varint(&c), 300, "varint round trip");
	ok(cm_cur_be64(&c) == 0x0102030405060708ULL, "be64 round trip");
	{
		const unsigned char *p;
		is_int(cm_cur_bytes(&c, &p), 2, "bytes round trip");
	}
	is_int(c.err, 0, "no cursor error");
	cm_cur_varint(&c);
	ok(c.err != 0, "reading past the end sets err");
	cm_buf_put(&b, big, 100);
	is_int(b.err, -E2BIG, "growth limit enforced");
	cm_buf_free(&b);

	cm_strset_init(&s);
	for (int i = 0; i < 1000; i++) {
		char k[16];
		snprintf(k, sizeof(k), "k%d", i);
		if (cm_strset_add(&s, k, strlen(k), &e) != 1)
			break;
		e->val = (uint64_t)i;
	}
	is_int(s.n, 1000, "1000 keys");
	is_int(cm_strset_add(&s, "k5", 2, &e), 0, "duplicate detected");
	is_int(e->val, 5, "value kept");
	ok(cm_strset_get(&s, "k999", 4) != NULL, "get");
	ok(cm_strset_get(&s, "k1000", 5) == NULL, "get missing");
	cm_strset_free(&s);
	return tap_done();
}
