#!/usr/bin/env python3
"""The CSV reader of `mlops drift` (src/cli/table.c, over libcsv), through the real binary.

Every malformed shape exits 1 with "mlops: FILE:LINE:COLUMN: what" (LINE counts LFs, COLUMN is
in bytes from 1); good shapes build a profile whose names and values are checked independently:
`drift compare` of the stored profile against the expected values written as float32 gives a
KS statistic and PSI of exactly 0, and does not when one value differs.

Usage: test_csv.py PATH_TO_MLOPS PATH_TO_MAKE_FIXTURE   (run by meson test, suite cli)
"""
import json
import os
import struct

from cli_tool import FixtureCase, main, run

NAN = float("nan")

# name: (bytes, line, column, message)
BAD = {
    "cr_in_header": (b"a\r,b\n1,2\n", 1, 2, "a carriage return not followed by a line feed"),
    "too_many_fields": (b"a,b\n1,2,3\n", 2, 5, "more fields than the header's 2"),
    "too_few_fields": (b"a,b\n1,2\n3\n", 3, 2, "only 1 of the header's 2 fields"),
    "too_few_crlf": (b"a,b\r\n1\r\n", 2, 2, "only 1 of the header's 2 fields"),
    "too_few_at_eof": (b"a,b\n1,2\n3", 3, 2, "only 1 of the header's 2 fields"),
    "not_a_number": (b"a,b\n1,2\n4, abc\n", 3, 4, "'abc' in column 'b' is not a number"),
    "number_then_text": (b"a,b\n1,2x\n", 2, 3, "'2x' in column 'b' is not a number"),
    "after_quoted_newline": (b'"a\nb",c\n1,x\n', 3, 3, "'x' in column 'c' is not a number"),
    "empty_name": (b"a,,b\n1,2,3\n", 1, 3, "column 2 has no name"),
    "empty_quoted_name": (b'a,""\n1,2\n', 1, 3, "column 2 has no name"),
    "duplicate_name": (b"a,b,a\n1,2,3\n", 1, 5, "duplicate column name 'a' (column 1 has it too)"),
    "duplicate_after_bom": (b"\xef\xbb\xbfa,a\n1,2\n", 1, 3, "duplicate column name 'a' (column 1 has it too)"),
    "unterminated_quote": (b'a,b\n1,"2\n3,4\n', 2, 3, "a quoted field with no closing quote"),
    "misplaced_quote": (b'a,b\n1,2"x\n', 2, 4,
                        "misplaced quote (a field with a quote in it is quoted whole, the quote doubled)"),
    "text_after_quote": (b'a,b\n1,"2"x\n', 2, 6, "text after the closing quote of a field"),
    "nul_byte": (b"a,b\n1,\x002\n", 2, 3, "a NUL byte"),
    "empty_file": (b"", 1, 1, "no header row (a first line of feature names)"),
    "blank_lines_only": (b"\n \r\n", 3, 1, "no header row (a first line of feature names)"),
    "header_only": (b"a,b\n", 2, 1, "a header but no rows"),
    "header_only_no_newline": (b"a,b", 1, 4, "a header but no rows"),
}

# name: (bytes, names, rows); every shape has two columns
GOOD = {
    "crlf": (b"a,b\r\n1.5,-2.25\r\n3,4\r\n", ["a", "b"], [(1.5, -2.25), (3, 4)]),
    "no_final_newline": (b"a,b\n1.5,-2.25\n3,4", ["a", "b"], [(1.5, -2.25), (3, 4)]),
    "quoted": (b'"x,1","say ""hi""\nthere"\n"1.5",-2.25\r\n3," 4 "\n',
               ["x,1", 'say "hi"\nthere'], [(1.5, -2.25), (3, 4)]),
    "bom": (b"\xef\xbb\xbfa,b\r\n1.5,-2.25\r\n3,4\r\n", ["a", "b"], [(1.5, -2.25), (3, 4)]),
    "missing_values": (b'a,b\n1.5,\nNA,-2.25\n3,NaN\n"",4\n', ["a", "b"],
                       [(1.5, NAN), (NAN, -2.25), (3, NAN), (NAN, 4)]),
    "spaces_and_blank_lines": (b"\n a , b \n\n 1.5 ,\t-2.25 \n\r\n3,4\n\n", ["a", "b"], [(1.5, -2.25), (3, 4)]),
}




class Csv(FixtureCase):
    def write(self, name, data):
        path = os.path.join(self.tmp.name, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def build(self, path):
        return run("--store", self.db, "drift", "profile", "build", "fraud/2", "--data", path)

    def compare_f32(self, rows):
        """drift compare of fraud/2 against rows given as float32, in the profile's order."""
        path = self.write("cur.f32", struct.pack("<%df" % (2 * len(rows)), *[v for r in rows for v in r]))
        rc, out, err = run("--store", self.db, "--json", "drift", "compare", "--profile", "fraud/2",
                           "--data", path, "--format", "f32")
        self.assertIn(rc, (0, 4), err)
        return json.loads(out)["features"]

    def test_cr_in_header_is_an_error_not_a_crash(self):
        data, line, col, msg = BAD["cr_in_header"]
        self.assertEqual(len(data), 9)
        path = self.write("f.csv", data)
        rc, out, err = self.build(path)
        self.assertEqual((rc, out, err), (1, "", f"mlops: {path}:{line}:{col}: {msg}\n"))

    def test_every_malformed_shape(self):
        for name, (data, line, col, msg) in BAD.items():
            with self.subTest(name):
                path = self.write(name + ".csv", data)
                rc, out, err = self.build(path)
                self.assertEqual((rc, out, err), (1, "", f"mlops: {path}:{line}:{col}: {msg}\n"))

    def test_compare_reads_the_same_way(self):
        data, line, col, msg = BAD["too_few_crlf"]
        rc, _, err = self.build(self.write("ok.csv", GOOD["crlf"][0]))
        self.assertEqual(rc, 0, err)
        path = self.write("bad.csv", data)
        rc, out, err = run("--store", self.db, "drift", "compare", "--profile", "fraud/2", "--data", path)
        self.assertEqual((rc, out, err), (1, "", f"mlops: {path}:{line}:{col}: {msg}\n"))

    def test_good_shapes_give_the_right_names_and_values(self):
        for name, (data, names, rows) in GOOD.items():
            with self.subTest(name):
                rc, out, err = self.build(self.write(name + ".csv", data))
                self.assertEqual((rc, out, err),
                                 (0, f"profile of 2 features over {len(rows)} rows saved with fraud/2\n", ""))
                features = self.compare_f32(rows)
                self.assertEqual([f["feature"] for f in features], names)
                self.assertEqual([(f["ks_statistic"], f["psi"]) for f in features], [(0, 0), (0, 0)])

    def test_every_byte_of_a_row_on_the_read_boundary(self):
        """The reader takes 64 KiB at a time; shifted row by row, each byte of one falls on the cut."""
        row = b'"1.5" , -2.25\r\n'
        n = 65536 // len(row) + 2
        for shift in range(len(row)):
            with self.subTest(shift=shift):
                rc, out, err = self.build(self.write("b.csv", b"a,b\r\n" + b" " * shift + row * n))
                self.assertEqual((rc, err), (0, ""))
                self.assertEqual(out, f"profile of 2 features over {n} rows saved with fraud/2\n")
                features = self.compare_f32([(1.5, -2.25)] * n)
                self.assertEqual([(f["ks_statistic"], f["psi"]) for f in features], [(0, 0), (0, 0)])

    def test_errors_across_the_read_boundary(self):
        lines = 65536 // 4 - 2  # "a,b\n" and as many "1,2\n" end 4 bytes before the cut
        for tail, col, msg in ((b"1,2\rx\n", 4, "a carriage return not followed by a line feed"),  # CR | x
                               (b"1,12x\n", 3, "'12x' in column 'b' is not a number"),              # 12 | x
                               (b"  1,x\n", 5, "'x' in column 'b' is not a number"),                 # , | x
                               (b'1,12"\n', 5, "misplaced quote (a field with a quote in it is quoted whole, "
                                               "the quote doubled)")):                                 # 12 | "
            with self.subTest(msg):
                path = self.write("b.csv", b"a,b\n" + b"1,2\n" * lines + tail)
                rc, out, err = self.build(path)
                self.assertEqual((rc, out, err), (1, "", f"mlops: {path}:{lines + 2}:{col}: {msg}\n"))

    def test_the_value_check_can_fail(self):
        data, _, rows = GOOD["missing_values"]
        rc, _, err = self.build(self.write("m.csv", data))
        self.assertEqual(rc, 0, err)
        for changed in ([(1.5, NAN), (NAN, -2.25), (3, NAN), (NAN, 5)],   # a value
                        [(1.5, NAN), (NAN, -2.25), (3, 4), (NAN, 4)],     # a NaN
                        [(1.5, NAN), (3, -2.25), (3, NAN), (NAN, 4)]):    # the other column
            with self.subTest(changed):
                features = self.compare_f32(changed)
                self.assertTrue(any(f["ks_statistic"] > 0 or f["psi"] > 0 for f in features), features)


if __name__ == "__main__":
    main()
