"""The results store and `rfnet bench`: rows appended and read back, history kept, bad stores refused."""

import json
import shutil
import sqlite3

import pytest
import torch

from rfnet.bench.flops import count_flops
from rfnet.bench.modes import prepare, skip_reason
from rfnet.bench.store import Evaluation, Measurement, ResultsStore, default_store_path
from rfnet.bench.timing import MIN_REPEATS, time_calls
from rfnet.cli import main
from rfnet.evaluation import Predictions, compute_metrics
from rfnet.jobs.bench import BenchJob, bench
from rfnet.models import create_model, save

pytestmark = pytest.mark.usefixtures("one_thread")


def measurement(**changes) -> Measurement:
    values = dict(model="alexnet", model_path="run", arch="spectrogram_classifier", mode="eager", device="cpu",
                  batch_size=8, median_ms=4.0, p90_ms=5.0, p99_ms=6.0, examples_per_s=2000.0,
                  flops_per_example=1.5e8, peak_fraction=0.25, machine="test cpu", versions={"torch": "2.14.1"})
    return Measurement(**{**values, **changes})


def test_store_appends_and_reads_back_oldest_first_filtered_by_model(tmp_path):
    path = tmp_path / "results #1?.sqlite"  # characters that mean something in an SQLite URI
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


@pytest.mark.parametrize("trial", range(3))
def test_store_keeps_every_row_of_processes_creating_it_at_once(tmp_path, trial):
    """Six processes released together into one new store (issue 14: all but one lost their rows)."""
    import multiprocessing

    from store_writer import append_after_barrier

    writers, rows = 6, 3
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(writers)
    path = str(tmp_path / "results.sqlite")
    processes = [spawn.Process(target=append_after_barrier, args=(barrier, path, writer, rows))
                 for writer in range(writers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * writers
    stored = ResultsStore(path).measurements()
    assert sorted((m.model, m.batch_size) for m in stored) == [
        (f"writer-{writer}", batch_size) for writer in range(writers) for batch_size in range(1, rows + 1)]


def test_default_store_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RFNET_RESULTS", str(tmp_path / "mine.sqlite"))
    assert default_store_path() == tmp_path / "mine.sqlite"
    monkeypatch.delenv("RFNET_RESULTS")
    assert default_store_path().name == "rfnet-results.sqlite"


# --- measuring ---------------------------------------------------------------------------------------------

CLASSES = ["BPSK", "QPSK", "8PSK"]


@pytest.fixture(scope="module")
def vtcnn2_run(tmp_path_factory):
    """A finetune-style run folder: best/ (VT-CNN2 on 128 samples), job.json and report/metrics.json."""
    run = tmp_path_factory.mktemp("runs") / "vt"
    torch.manual_seed(3)
    save(create_model("vtcnn2", classes=CLASSES, num_samples=128), run / "best")
    (run / "job.json").write_text(json.dumps({"data_source": "data.h5", "num_samples": 128}))
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    logits = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 1, 1, 2, 2, 2]), 3).float()
    snrs = torch.tensor([-10.0, -10.0, 0.0, 0.0, 10.0, 10.0, 18.0, 18.0])
    metrics = compute_metrics(Predictions(logits, labels, snrs), CLASSES)
    (run / "report").mkdir()
    (run / "report" / "metrics.json").write_text(json.dumps(metrics))
    return run


def bench_cli(*args: str) -> list[str]:
    return ["bench", "--device", "cpu", "--warmup", "1", "--repeats", "5", "--budget", "0.05", "--quiet", *args]


def test_rfnet_bench_appends_plausible_rows_and_the_run_accuracy_and_keeps_history(vtcnn2_run, tmp_path, capsys):
    store_path = tmp_path / "results.sqlite"
    status = main(bench_cli("--model", str(vtcnn2_run), "--modes", "eager,int8,bf16", "--batch-sizes", "1,4",
                            "--out", str(store_path)))
    out = capsys.readouterr().out
    assert status == 0
    assert "skipped vt bf16: bf16 runs on a CUDA device only" in out
    rows = ResultsStore(store_path).measurements()
    assert [(m.model, m.mode, m.batch_size) for m in rows] == [
        ("vt", "eager", 1), ("vt", "eager", 4), ("vt", "int8", 1), ("vt", "int8", 4)]
    for m in rows:
        assert m.p99_ms >= m.p90_ms >= m.median_ms > 0
        assert m.examples_per_s == pytest.approx(m.batch_size / (m.median_ms / 1e3), rel=1e-9)
        assert m.device == "cpu" and m.arch == "vtcnn2" and m.model_path == str((vtcnn2_run / "best").resolve())
        assert m.versions["torch"] == torch.__version__ and m.machine.endswith("1 threads")
        # one FLOP count per model, one CPU peak per run: the fraction of peak is proportional to the rate
        assert m.flops_per_example == rows[0].flops_per_example > 0
        assert m.peak_fraction / m.examples_per_s == pytest.approx(rows[0].peak_fraction / rows[0].examples_per_s)
        assert f"vt     {m.mode}" in out
    (evaluation,) = ResultsStore(store_path).evaluations("vt")
    assert evaluation.accuracy == pytest.approx(5 / 8)
    assert evaluation.accuracy_by_snr == {-10.0: 1.0, 0.0: 0.5, 10.0: 1.0, 18.0: 0.0}
    assert evaluation.accuracy_high_snr == pytest.approx(0.5)  # (1.0 + 0.0) / 2: each SNR weighted equally
    assert evaluation.data == "data.h5 (test split)"

    again = bench(BenchJob(models=(str(vtcnn2_run / "best"),), out=str(store_path), modes=("eager",),
                           batch_sizes=(2,), warmup=0, repeats=5, budget_s=0.05))
    assert [m.batch_size for m in again.measurements] == [2]
    store = ResultsStore(store_path)
    assert len(store.measurements("vt")) == 5 and store.measurements()[:4] == rows  # history kept, unchanged
    assert store.evaluations() == [evaluation]  # the same report is not stored twice


def test_rfnet_bench_refuses_a_bad_store_or_model_folder_before_measuring(vtcnn2_run, tmp_path, capsys):
    bad_store = tmp_path / "results.sqlite"
    bad_store.write_text("just text, not SQLite " * 50)
    assert main(bench_cli("--model", str(vtcnn2_run), "--modes", "eager", "--out", str(bad_store))) == 2
    assert "results.sqlite: not a readable SQLite results store" in capsys.readouterr().err
    assert bad_store.read_text() == "just text, not SQLite " * 50
    store_path = tmp_path / "fresh.sqlite"
    assert main(bench_cli("--model", str(vtcnn2_run), "--model", str(tmp_path / "nowhere"),
                          "--out", str(store_path))) == 2
    assert "nowhere: no such model folder" in capsys.readouterr().err
    assert not store_path.exists()
    assert main(bench_cli("--model", str(vtcnn2_run), "--modes", "eager,turbo", "--out", str(store_path))) == 2
    assert "unknown ['turbo']" in capsys.readouterr().err


def test_modes_that_do_not_apply_say_why_and_the_others_agree_with_eager():
    resnet = create_model("radioml_resnet", classes=CLASSES, num_samples=128).eval()
    assert "no 2-D convolutions" in skip_reason("channels_last", "cpu", resnet)
    assert "CUDA device only" in skip_reason("cuda_graphs", "cpu", resnet)
    assert "CPU only" in skip_reason("int8", "cuda", resnet)
    vtcnn2 = create_model("vtcnn2", classes=CLASSES, num_samples=128).eval()
    iq = torch.randn(4, 128, dtype=torch.complex64)
    with torch.no_grad():
        expected = vtcnn2(iq)
    for mode, tolerance in (("eager", 0), ("channels_last", 1e-5), ("int8", 0.05 * expected.abs().max().item())):
        assert skip_reason(mode, "cpu", vtcnn2) is None
        got = prepare(vtcnn2, mode, "cpu", num_samples=128)(iq)
        assert (got - expected).abs().max() <= tolerance, mode
    assert all(p.dtype == torch.float32 for p in vtcnn2.parameters())  # the caller's model is untouched


def test_flops_count_multiply_adds_twice_per_example():
    layer = torch.nn.Linear(10, 5)
    assert count_flops(layer, torch.randn(4, 10)) == 2 * 10 * 5
    assert count_flops(torch.nn.ReLU(), torch.randn(4, 10)) is None


def test_time_calls_warms_up_then_times_until_repeats_or_budget():
    calls = []
    timing = time_calls(lambda: calls.append(1), warmup=2, repeats=7, budget_s=60.0)
    assert len(calls) == 9 and len(timing.times_ms) == 7
    assert timing.p99_ms >= timing.p90_ms >= timing.median_ms >= 0
    calls.clear()
    timing = time_calls(lambda: calls.append(1), warmup=0, repeats=1000, budget_s=0.0)
    assert len(calls) == len(timing.times_ms) == MIN_REPEATS  # the budget stops it after the minimum
    with pytest.raises(ValueError, match="repeats"):
        time_calls(lambda: None, repeats=0)


def test_bench_stores_the_reports_high_snr_accuracy_at_the_reports_threshold(vtcnn2_run, tmp_path):
    from rfnet.jobs.bench import run_evaluation
    from rfnet.jobs.run_folder import read_run_record

    run = tmp_path / "vt"
    shutil.copytree(vtcnn2_run, run)
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    logits = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 1, 1, 2, 2, 2]), 3).float()
    snrs = torch.tensor([-10.0, -10.0, 0.0, 0.0, 10.0, 10.0, 18.0, 18.0])
    metrics = compute_metrics(Predictions(logits, labels, snrs), CLASSES, high_snr_db=0.0)
    (run / "report" / "metrics.json").write_text(json.dumps(metrics))
    evaluation = run_evaluation(read_run_record(run), "vt", str(run / "best"))
    assert evaluation.accuracy_high_snr == pytest.approx((0.5 + 1.0 + 0.0) / 3)  # SNR >= 0 dB, as reported
    (run / "report" / "metrics.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="metrics.json: not a readable rfnet report"):
        run_evaluation(read_run_record(run), "vt", str(run / "best"))
