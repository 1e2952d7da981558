"""The results store and `rfnet bench`: rows appended and read back, history kept, bad stores refused."""

import sqlite3

import pytest

from rfnet.bench.store import Evaluation, Measurement, ResultsStore, default_store_path


def measurement(**changes) -> Measurement:
    values = dict(model="alexnet", model_path="run", arch="spectrogram_classifier", mode="eager", device="cpu",
                  batch_size=8, median_ms=4.0, p90_ms=5.0, p99_ms=6.0, examples_per_s=2000.0,
                  flops_per_example=1.5e8, peak_fraction=0.25, machine="test cpu", versions={"torch": "2.14.1"})
    return Measurement(**{**values, **changes})


def test_store_appends_and_reads_back_oldest_first_filtered_by_model(tmp_path):
    path = tmp_path / "results.sqlite"
    store = ResultsStore(path)
    assert not path.exists() and store.measurements() == [] and store.evaluations() == []
    first = store.add_measurement(measurement(median_ms=4.0))
    second = store.add_measurement(measurement(median_ms=4.0))  # the same values again: a second row
    third = store.add_measurement(measurement(model="vtcnn2", peak_fraction=None, flops_per_example=None))
    assert first < second < third
    again = ResultsStore(path)
    rows = again.measurements()
    assert rows[:2] == [measurement(created=row.created) for row in rows[:2]]
    assert rows[0].created <= rows[1].created <= rows[2].created
    assert [m.model for m in again.measurements()] == ["alexnet", "alexnet", "vtcnn2"]
    assert len(again.measurements("alexnet")) == 2
    assert again.measurements("vtcnn2")[0].peak_fraction is None
    evaluation = Evaluation(model="alexnet", model_path="run", data="rml2016", accuracy=0.5, accuracy_high_snr=0.75,
                            accuracy_by_snr={-10.0: 0.25, 10.0: 0.75}, report_path="run/report")
    store.add_evaluation(evaluation)
    assert again.evaluations("alexnet") == [evaluation]
    assert again.evaluations("vtcnn2") == []


def test_store_refuses_a_file_that_is_not_sqlite_or_has_another_schema(tmp_path):
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database " * 100)
    with pytest.raises(ValueError, match="notes.sqlite.*not a readable SQLite"):
        ResultsStore(text)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE measurements (id INTEGER PRIMARY KEY, latency REAL)")
    connection.close()
    with pytest.raises(ValueError, match="other.sqlite.*not an rfnet results store"):
        ResultsStore(other)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ResultsStore(tmp_path / "missing" / "results.sqlite").add_measurement(measurement())
    assert not (tmp_path / "missing").exists()


def test_store_refuses_implausible_rows(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    with pytest.raises(ValueError, match="mode 'turbo'"):
        store.add_measurement(measurement(mode="turbo"))
    with pytest.raises(ValueError, match="percentiles out of order"):
        store.add_measurement(measurement(p90_ms=3.0))
    with pytest.raises(ValueError, match="accuracy must be a fraction"):
        store.add_evaluation(Evaluation(model="a", model_path="", data="d", accuracy=1.5, accuracy_high_snr=None,
                                        accuracy_by_snr={}, report_path=""))
    assert store.measurements() == [] and store.evaluations() == []


def test_default_store_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RFNET_RESULTS", str(tmp_path / "mine.sqlite"))
    assert default_store_path() == tmp_path / "mine.sqlite"
    monkeypatch.delenv("RFNET_RESULTS")
    assert default_store_path().name == "rfnet-results.sqlite"
