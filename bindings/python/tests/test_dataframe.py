"""DataFrames into drift by column name (pandas, pyarrow, and polars where installed): a
profile is named after the columns, comparisons and monitors select the profile's features by
name, so that reordered columns do not raise a false alarm and a missing one is an error."""
from __future__ import annotations

from typing import Any, Callable, List

import numpy as np
import pytest

import mlops
from mlops import drift

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")

NAMES = ["amount", "age", "score"]
RNG = np.random.default_rng(11)
REF = RNG.normal(size=(500, 3)) * [1.0, 10.0, 100.0]
CUR = RNG.normal(size=(300, 3)) * [1.0, 10.0, 100.0]


def pandas_frame(a: np.ndarray, names: List[str]) -> Any:
    return pd.DataFrame(a, columns=names)


def arrow_table(a: np.ndarray, names: List[str]) -> Any:
    return pa.table({n: a[:, i] for i, n in enumerate(names)})


def arrow_batch(a: np.ndarray, names: List[str]) -> Any:
    return pa.RecordBatch.from_pydict({n: a[:, i] for i, n in enumerate(names)})


def polars_frame(a: np.ndarray, names: List[str]) -> Any:
    pl = pytest.importorskip("polars")
    return pl.DataFrame({n: a[:, i] for i, n in enumerate(names)})


FRAMES = [pandas_frame, arrow_table, arrow_batch, polars_frame]


def values(report: drift.Report) -> List[Any]:
    return [(f.name, f.ks_statistic, f.ks_pvalue, f.psi, f.drifted) for f in report]


@pytest.mark.parametrize("make", FRAMES)
def test_profile_takes_the_column_names(make: Callable[..., Any]) -> None:
    with drift.Profile.build(make(REF, NAMES)) as p, drift.Profile.build(REF, NAMES) as ref:
        assert p.names == NAMES
        for n in NAMES:
            assert np.array_equal(p.sample(n), ref.sample(n))


@pytest.mark.parametrize("make", FRAMES)
def test_reordered_columns_compare_as_the_same_data(make: Callable[..., Any]) -> None:
    shuffled = [2, 0, 1]
    frame = make(CUR[:, shuffled], [NAMES[i] for i in shuffled])
    with drift.Profile.build(REF, NAMES) as p:
        by_position = drift.compare(p, CUR)
        by_name = drift.compare(p, frame)
        assert values(by_name) == values(by_position)
        # The same frame given positionally (as an array) would compare the wrong columns.
        wrong = drift.compare(p, np.ascontiguousarray(CUR[:, shuffled]))
        assert values(wrong) != values(by_position)
        assert wrong.drifted_count > 0 and by_name.drifted_count == 0


def test_extra_columns_are_ignored_and_missing_ones_named() -> None:
    frame = pandas_frame(np.column_stack([CUR, CUR[:, 0]]), NAMES + ["extra"])
    with drift.Profile.build(REF, NAMES) as p:
        assert values(drift.compare(p, frame)) == values(drift.compare(p, CUR))
        with pytest.raises(drift.FeatureNotFound) as e:
            drift.compare(p, frame.drop(columns=["age"]))
        assert isinstance(e.value, KeyError) and isinstance(e.value, mlops.NotFound)
        assert e.value.code == mlops.NotFound.CODE and "'age'" in str(e.value)


def test_build_with_names_selects_columns() -> None:
    frame = pandas_frame(REF, NAMES)
    with drift.Profile.build(frame, names=["score", "amount"]) as p:
        assert p.names == ["score", "amount"]
        assert np.array_equal(p.sample("score"), np.sort(REF[:, 2]))


def test_nullable_and_integer_columns() -> None:
    frame = pd.DataFrame({"n": pd.array([1, None, 3, 4], dtype="Int64"), "f": [0.5, 1.5, np.nan, 2.5]})
    with drift.Profile.build(frame) as p:
        assert p.summary("n").count == 3 and p.summary("n").nan_count == 1
        assert p.summary("f").nan_count == 1
        assert np.array_equal(p.sample("n"), [1.0, 3.0, 4.0])


def test_bad_frames_are_clear_errors() -> None:
    with pytest.raises(mlops.InvalidArgument, match="'label' is not numeric"):
        drift.Profile.build(pd.DataFrame({"x": [1.0, 2.0], "label": ["a", "b"]}))
    dup = pd.DataFrame([[1.0, 2.0]], columns=["x", "x"])
    with pytest.raises(mlops.InvalidArgument, match="two columns named 'x'"):
        drift.Profile.build(dup)


def test_monitor_observes_by_name() -> None:
    alerts: List[List[str]] = []
    shifted = CUR + [0.0, 0.0, 300.0]
    with drift.Profile.build(pandas_frame(REF, NAMES)) as p, \
            drift.Monitor(p, window_rows=300, on_alert=lambda r: alerts.append(r.drifted)) as mon:
        mon.observe(pandas_frame(CUR[:, ::-1], NAMES[::-1]))   # same data, reversed columns
        assert mon.counters().windows == 1 and alerts == []
        mon.observe(arrow_table(shifted, NAMES))
        assert mon.counters().windows == 2 and alerts == [["score"]]
