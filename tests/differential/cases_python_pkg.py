"""Ops added with the Python package (issue 14): nonzero (the array API's and torch.nonzero's
positions, which boolean indexing also uses).

Part of the table of make_golden.py; the vocabulary (randn, case, ...) is in dsl.py."""
from dsl import *  # noqa: F401,F403 (the table's vocabulary)

case("bool", "nonzero", [randbool(3, 5)])
case("f32_transposed", "nonzero", [randint(-1, 2, 4, 3, dt="f32").t()])
case("i64_step", "nonzero", [randint(-1, 2, 3, 8, dt="i64").step(1, 2)])
case("f64_nan", "nonzero", [lit([[0.0, NAN, 1.0], [-0.0, 0.0, -INF]], "f64")])
case("u8_1d", "nonzero", [randint(0, 2, 7, dt="u8")])
case("empty", "nonzero", [randn(0, 3)])
case("zero_d", "nonzero", [lit(2.0, "f32")])
case("as_tuple", "nonzero", [randbool(2, 3, 4)], as_tuple=True)
