"""The Streamlit dashboard, page by page, with streamlit's AppTest: widgets drive the prediction, tables and
charts; bad uploads and unreadable files show an error element, never a traceback."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from rfnet.bench.store import Evaluation, Measurement, ResultsStore
from rfnet.dashboard import APP
from rfnet.dsp import ChannelConfig, SpectrogramConfig
from rfnet.dsp.scenario import Scenario, make_signal
from rfnet.models import SpectrogramClassifier, load, save

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "datasets" / "samples" / "rfnet_sample.sigmf-meta"
CLASSES = ["BPSK", "QPSK", "8PSK", "16QAM", "FM"]
TIMEOUT_S = 60  # a run that loads torch and a model on a loaded 2-core machine


@pytest.fixture(autouse=True)
def _main_module_restored():
    """AppTest runs the page as ``__main__`` and leaves it there; spawned worker processes of later tests
    (rfnet synth's) would then re-import the dashboard as their main module. Put pytest's back."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


def save_sensitive_model(folder: Path) -> Path:
    """Save a small untrained spectrogram classifier whose fc8 is scaled up so its probabilities move a
    lot with its input (an untrained head gives nearly uniform ones)."""
    torch.manual_seed(3)
    model = SpectrogramClassifier(CLASSES, SpectrogramConfig.for_length(128, image_size=(63, 63)),
                                  backbone="alexnet_tv")
    with torch.no_grad():
        model.backbone.classifier[-1].weight.mul_(200.0)
    return save(model, folder)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return save_sensitive_model(tmp_path_factory.mktemp("dashboard") / "model")


@pytest.fixture(scope="module")
def model(model_dir):
    return load(model_dir).eval()


@pytest.fixture()
def workdir(tmp_path, monkeypatch) -> Path:
    """An empty working folder (no demo runs, no results store) and none of the dashboard's variables."""
    for name in ("RFNET_MODEL", "RFNET_DEMO", "RFNET_RESULTS", "RFNET_REPORTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def start(page: str | None = None, **query) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    app.query_params.update(query)
    app.run()
    if page is not None:
        app.switch_page(f"app_pages/{page}.py").run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def captions(app: AppTest) -> str:
    return "\n".join(caption.value for caption in app.caption)


def probabilities(app: AppTest) -> dict[str, float]:
    table = app.dataframe[0].value  # the lab's only table
    return dict(zip(table["class"], table["probability"]))


def expected(model, iq: torch.Tensor) -> dict[str, float]:
    with torch.no_grad():
        return dict(zip(CLASSES, torch.softmax(model(iq), -1)[0].tolist()))


def assert_close(shown: dict[str, float], want: dict[str, float]) -> None:
    assert shown.keys() == want.keys()
    for name in want:
        assert shown[name] == pytest.approx(want[name], abs=1e-5), name


# --- spectrogram lab -------------------------------------------------------------------------------

def test_lab_without_a_model_shows_the_signal_and_how_to_get_a_model(workdir):
    app = start()
    assert "rfnet demo" in app.sidebar.info[0].value
    assert not app.metric  # no prediction
    assert len(app.get("vega_lite_chart")) == 2  # waveform, constellation
    assert len(app.image) == 1  # the spectrogram
    app.selectbox(key="lab_length").set_value(1024).run()
    assert "(3, 227, 227) image, n_fft 64" in captions(app)  # the 1024-sample default front end


def test_lab_prediction_follows_modulation_snr_and_interferer(workdir, monkeypatch, model_dir, model):
    monkeypatch.setenv("RFNET_MODEL", str(model_dir))
    app = start()
    assert app.selectbox(key="lab_modulation").options == CLASSES
    first = probabilities(app)
    assert_close(first, expected(model, make_signal(Scenario("BPSK", 128, snr_db=10.0))))
    assert app.metric[0].value.startswith(max(first, key=first.get))

    app.selectbox(key="lab_modulation").set_value("FM").run()
    fm = probabilities(app)
    assert fm != first
    assert_close(fm, expected(model, make_signal(Scenario("FM", 128, snr_db=10.0))))

    app.slider(key="lab_snr").set_value(-5).run()
    assert_close(probabilities(app), expected(model, make_signal(Scenario("FM", 128, snr_db=-5.0))))

    app.radio(key="lab_extra").set_value("Interferer").run()
    app.selectbox(key="lab_interferer").set_value("chirp").run()
    app.slider(key="lab_jsr").set_value(3).run()
    jammed = make_signal(Scenario("FM", 128, snr_db=-5.0, interference="chirp", jsr_db=3.0))
    assert_close(probabilities(app), expected(model, jammed))

    app.selectbox(key="lab_channel").set_value("Over the air (RadioML 2018-like)").run()
    faded = make_signal(Scenario("FM", 128, snr_db=-5.0, channel=ChannelConfig.rml2018(), interference="chirp",
                                 jsr_db=3.0))
    assert_close(probabilities(app), expected(model, faded))
    assert not app.exception


def test_lab_attack_changes_the_prediction_towards_wrong(workdir, monkeypatch, model_dir, model):
    from rfnet.robustness import perturb

    monkeypatch.setenv("RFNET_MODEL", str(model_dir))
    app = start()
    app.radio(key="lab_extra").set_value("Attack").run()
    app.selectbox(key="lab_attack").set_value("fgsm").run()
    app.slider(key="lab_psr").set_value(-10).run()
    clean = make_signal(Scenario("BPSK", 128, snr_db=10.0))
    attacked = perturb("fgsm", model, clean, torch.tensor([0]), -10.0, seed=0)
    shown = probabilities(app)
    assert_close(shown, expected(model, attacked))
    assert shown["BPSK"] < expected(model, clean)["BPSK"]


def test_lab_classifies_an_uploaded_npy_window(workdir, monkeypatch, model_dir, model):
    monkeypatch.setenv("RFNET_MODEL", str(model_dir))
    iq = make_signal(Scenario("QPSK", 300, snr_db=20.0, seed=5))[0].numpy()
    app = start()
    app.radio(key="lab_source").set_value("Upload").run()
    app.file_uploader(key="lab_upload").upload("burst.npy", _npy_bytes(iq)).run()
    assert not app.error
    assert_close(probabilities(app), expected(model, torch.from_numpy(iq[:128])[None]))
    app.slider(key="lab_start").set_value(100).run()
    assert_close(probabilities(app), expected(model, torch.from_numpy(iq[100:228])[None]))


def test_lab_reads_an_uploaded_sigmf_pair(workdir, monkeypatch, model_dir):
    monkeypatch.setenv("RFNET_MODEL", str(model_dir))
    app = start()
    app.radio(key="lab_source").set_value("Upload").run()
    uploader = app.file_uploader(key="lab_upload")
    for path in (SAMPLE, SAMPLE.with_suffix(".sigmf-data")):
        uploader.upload(path.name, path.read_bytes())
    app.run()
    assert not app.error
    assert app.metric
    assert "rfnet_sample.sigmf-meta: 18,432 samples at 1000 kHz" in captions(app)


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npy_header(shape: tuple[int, ...]) -> bytes:
    """A complex64 .npy header that declares ``shape``, without the data."""
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<c8", "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _gzipped_tar(members: dict[str, bytes]) -> bytes:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


BAD_UPLOADS = {
    "NaN samples": ([("nan.npy", _npy_bytes(np.array([1 + 1j, np.nan, 0], np.complex64)))], "NaN"),
    "wrong shape": ([("cube.npy", _npy_bytes(np.zeros((3, 4, 5), np.float32)))], "shape (3, 4, 5)"),
    "wrong dtype": ([("names.npy", _npy_bytes(np.array(["a", "b"])))], "<U1 array"),
    "not an array": ([("junk.npy", b"definitely not numpy")], "junk.npy: not a .npy file"),
    "corrupt SigMF": ([("x.sigmf-meta", b"{not json"), ("x.sigmf-data", b"\0" * 8)], "not valid SigMF"),
    "data without metadata": ([("x.sigmf-data", b"\0" * 8)], "upload one recording"),
    "too short": ([("short.npy", _npy_bytes(np.ones(20, np.complex64)))], "holds 20 samples"),
    # issue 14: counts of 2^63 were classified "QPSK · 100.0%"
    "uint64 counts": ([("counts.npy", _npy_bytes(np.full((256, 2), 2**63, np.uint64)))], "uint64"),
    "overflowing power": ([("huge.npy", _npy_bytes(np.full(256, 2.0**63, np.complex64)))],
                          "huge.npy has samples of magnitude up to 9.22e+18, whose power overflows float32"),
    "only zeros": ([("silence.npy", _npy_bytes(np.zeros(256, np.complex64)))], "silence.npy holds only zeros"),
    # issue 14: a header claiming 2^40 samples was a MemoryError traceback in the page
    "header claims 2^40 samples": ([("claims.npy", _npy_header((2**40,)) + b"\0" * 64)], "claims.npy: its header"),
    # issue 14: a gzip-compressed tar named .sigmf made the upload spin forever
    "compressed archive": ([("x.sigmf", _gzipped_tar({"x.sigmf-meta": SAMPLE.read_bytes(),
                                                       "x.sigmf-data": SAMPLE.with_suffix(".sigmf-data").read_bytes()}))],
                           "compressed"),
}


@pytest.mark.parametrize("files, message", BAD_UPLOADS.values(), ids=BAD_UPLOADS.keys())
def test_lab_bad_upload_shows_an_error_not_a_traceback(workdir, monkeypatch, model_dir, files, message):
    monkeypatch.setenv("RFNET_MODEL", str(model_dir))
    app = start()
    app.radio(key="lab_source").set_value("Upload").run()
    for name, content in files:
        app.file_uploader(key="lab_upload").upload(name, content)
    app.run()
    assert not app.exception
    assert len(app.error) == 1 and message in app.error[0].value
    assert "rfnet-upload-" not in app.error[0].value  # names the upload, not a temporary path
    assert not app.metric


@pytest.fixture()
def own_tempdir(tmp_path, monkeypatch) -> Path:
    """A temporary folder of the test's own for tempfile, to see what the upload leaves there."""
    import tempfile

    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def upload(app: AppTest, name: str, content: bytes) -> AppTest:
    app.radio(key="lab_source").set_value("Upload").run()
    app.file_uploader(key="lab_upload").upload(name, content)
    return app.run()


def test_lab_upload_that_exhausts_memory_is_a_sentence_and_leaves_no_temporary_folder(
        workdir, monkeypatch, model_dir, own_tempdir):
    def exhausted(path, *args, **kwargs):
        assert path.parent.parent == own_tempdir  # the upload is read from a temporary folder there
        raise MemoryError("Unable to allocate 8.00 TiB for an array with shape (1099511627776,)")

    monkeypatch.setattr("rfnet.data.iq_file.read_iq_file", exhausted)
    monkeypatch.setenv("RFNET_MODEL", str(model_dir))
    app = upload(start(), "claims.npy", _npy_bytes(np.ones(300, np.complex64)))
    assert not app.exception and not app.metric
    assert [e.value for e in app.error] == ["Cannot read the upload: claims.npy: too large to read into this "
                                            "server's memory"]
    assert list(own_tempdir.iterdir()) == []


def test_an_unexpected_error_shows_no_traceback_or_server_path(workdir, monkeypatch, model_dir, own_tempdir):
    def broken(path, *args, **kwargs):
        raise RuntimeError(f"bug near {ROOT}/rfnet/data/iq_file.py")

    monkeypatch.setattr("rfnet.data.iq_file.read_iq_file", broken)
    app = upload(start(), "burst.npy", _npy_bytes(np.ones(300, np.complex64)))
    (shown,) = app.exception
    assert "redacted" in shown.message and not shown.stack_trace
    assert str(ROOT) not in shown.message and "RuntimeError" not in shown.message
    assert list(own_tempdir.iterdir()) == []


def test_model_query_answers_alike_for_a_missing_folder_and_one_that_is_not_a_model(workdir):
    """Issue 14: ?model= told a visitor which folders exist on the server."""
    (workdir / "exists").mkdir()
    (workdir / "exists" / "notes.txt").write_text("not a model")
    answers = [start(model=str(workdir / name)).sidebar.error[0].value.replace(name, "NAME")
               for name in ("exists", "absent")]
    assert answers[0] == answers[1] and "no such model folder" in answers[0]


def test_demo_output_is_offered_a_query_picks_a_model_and_a_bad_folder_is_an_error(workdir, model_dir):
    run = workdir / "rfnet-demo-20261123-101500" / "alexnet"
    run.mkdir(parents=True)
    (run / "best").symlink_to(model_dir)  # a demo run's best model, without copying 200 MB
    app = start()
    assert app.sidebar.selectbox(key="model_choice").value == "rfnet-demo-20261123-101500: alexnet"
    assert app.metric  # the demo's model predicts
    linked = start(model=str(model_dir))  # http://...:8501/?model=<folder>
    assert linked.sidebar.selectbox(key="model_choice").value == str(model_dir)
    assert linked.sidebar.selectbox(key="model_choice").options[2] == "rfnet-demo-20261123-101500: alexnet"
    app.sidebar.selectbox(key="model_choice").set_value("Another folder…").run()
    app.sidebar.text_input(key="model_folder").set_value(str(workdir / "nowhere")).run()
    assert "no such model folder" in app.sidebar.error[0].value
    assert not app.metric and not app.exception


# --- model comparison ------------------------------------------------------------------------------

def measurement(model: str, mode: str, median_ms: float, batch_size: int = 1, path: str = "") -> Measurement:
    return Measurement(model=model, model_path=path, arch="spectrogram_classifier", mode=mode, device="cpu",
                       batch_size=batch_size, median_ms=median_ms, p90_ms=median_ms * 1.1, p99_ms=median_ms * 1.2,
                       examples_per_s=batch_size / median_ms * 1e3, flops_per_example=1e8, peak_fraction=0.1,
                       machine="test cpu", versions={"rfnet": "0"})


def evaluation(model: str, high_snr: float, overall: float) -> Evaluation:
    return Evaluation(model=model, model_path="", data="test", accuracy=overall, accuracy_high_snr=high_snr,
                      accuracy_by_snr={-10.0: 0.1, 0.0: overall, 10.0: high_snr}, report_path="")


@pytest.fixture()
def store(workdir, monkeypatch) -> ResultsStore:
    """Four models at batch 1 (vtcnn2 measured twice: the newer, 1 ms, counts), one at batch 64."""
    path = workdir / "results.sqlite"
    monkeypatch.setenv("RFNET_RESULTS", str(path))
    store = ResultsStore(path)
    for row in (measurement("vtcnn2", "eager", 3.0), measurement("alexnet", "eager", 5.0),
                measurement("alexnet", "compile", 4.0), measurement("vtcnn2", "eager", 1.0),
                measurement("bigger", "eager", 10.0), measurement("alexnet", "eager", 50.0, batch_size=64),
                measurement("unevaluated", "eager", 0.5)):
        store.add_measurement(row)
    for row in (evaluation("alexnet", 0.9, 0.6), evaluation("vtcnn2", 0.6, 0.4), evaluation("bigger", 0.5, 0.7)):
        store.add_evaluation(row)
    return store


def front(app: AppTest) -> set[tuple[str, str, bool]]:
    table = app.dataframe[0].value  # the chart's points
    return {(row.model, row.mode, bool(row.on_front)) for row in table.itertuples()}


def test_comparison_marks_the_pareto_front_of_the_store(store):
    app = start("comparison")
    assert front(app) == {("vtcnn2", "eager", True), ("alexnet", "compile", True), ("alexnet", "eager", False),
                          ("bigger", "eager", False)}
    assert "without an accuracy (mean over SNR ≥ 10 dB): unevaluated." in captions(app)
    assert len(app.get("vega_lite_chart")) == 2  # latency-accuracy, accuracy-SNR
    app.radio(key="cmp_metric").set_value("all SNRs").run()  # bigger is the most accurate over all SNRs
    assert ("bigger", "eager", True) in front(app)
    app.selectbox(key="cmp_batch").set_value(64).run()
    assert front(app) == {("alexnet", "eager", True)}


def test_comparison_table_filters_and_exports_csv(store):
    app = start("comparison")
    table = app.dataframe[-1].value
    assert len(table) == 7 and set(table.model) == {"alexnet", "vtcnn2", "bigger", "unevaluated"}
    assert app.download_button(key="cmp_measurements_csv")
    app.text_input(key="cmp_measurements_filter").set_value("VTCNN2").run()
    assert list(app.dataframe[-1].value.median_ms) == [3.0, 1.0]
    assert "2 of 7 rows" in captions(app)


def test_comparison_unreadable_store_is_an_error(workdir, monkeypatch):
    bad = workdir / "results.sqlite"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    monkeypatch.setenv("RFNET_RESULTS", str(bad))
    app = start("comparison")
    assert "not a readable SQLite results store" in app.error[0].value


@pytest.mark.slow
def test_comparison_measures_the_chosen_model_into_the_store(store, monkeypatch, model_dir):
    monkeypatch.setenv("RFNET_MODEL", str(model_dir))
    app = start("comparison")
    assert app.selectbox(key="cmp_measure_model").value == str(model_dir)
    app.button(key="cmp_measure").click().run()
    assert not app.error, [e.value for e in app.error]
    rows = store.measurements("model")
    assert [(r.mode, r.batch_size, r.model_path) for r in rows] == [("eager", 1, str(model_dir))]
    assert 0 < rows[0].median_ms <= rows[0].p99_ms
    assert len(app.dataframe[-1].value) == 8  # the new row is in the table at once


# --- robustness --------------------------------------------------------------------------------------

def robustness_report(folder: Path, models: dict[str, float], *, failed_check: bool = False) -> Path:
    """A report.json as ``rfnet robustness`` writes it: an FGSM and a tone curve per model."""
    curves = []
    for name, clean in models.items():
        curves.append({"model": name, "attack": "fgsm", "axis": "psr_db", "kind": "adversarial", "points": [
            {"db": -30.0, "accuracy": clean * 0.9, "examples": 50, "delivered_db": -30.0},
            {"db": -10.0, "accuracy": clean * 0.2, "examples": 50, "delivered_db": -10.1}]})
        curves.append({"model": name, "attack": "tone", "axis": "jsr_db", "kind": "jammer", "points": [
            {"db": 0.0, "accuracy": clean * 0.5, "examples": 50, "delivered_db": 0.0}]})
    report = {"models": [{"name": n, "path": f"runs/{n}", "clean_accuracy": a} for n, a in models.items()],
              "curves": curves,
              "checks": [{"name": "monotone:fgsm", "model": n, "passed": not failed_check, "detail": "ok",
                          "values": {}} for n in models]}
    folder.mkdir(parents=True)
    (folder / "report.json").write_text(json.dumps(report))
    return folder


def test_robustness_shows_reports_side_by_side_with_their_checks(workdir):
    robustness_report(workdir / "rob_a", {"alexnet": 0.8, "vtcnn2": 0.6})
    robustness_report(workdir / "sweeps" / "rob_b", {"alexnet": 0.7}, failed_check=True)
    app = start("robustness")
    assert app.multiselect(key="rob_reports").value == ["rob_a", "sweeps/rob_b"]
    models = app.dataframe[0].value
    assert list(models.model) == ["alexnet (rob_a)", "vtcnn2 (rob_a)", "alexnet (sweeps/rob_b)"]
    assert list(models.clean_accuracy) == [0.8, 0.6, 0.7]
    assert len(app.get("vega_lite_chart")) == 2  # PSR and JSR
    checks = app.dataframe[1].value
    assert list(checks.passed) == [True, True, False]
    assert "1 of 3 self-checks failed" in app.warning[0].value
    assert len(app.dataframe[-1].value) == 9  # 3 models x 3 points

    app.multiselect(key="rob_attacks").set_value(["tone"]).run()
    assert len(app.get("vega_lite_chart")) == 1  # JSR only
    app.multiselect(key="rob_reports").set_value(["rob_a"]).run()
    assert list(app.dataframe[0].value.model) == ["alexnet", "vtcnn2"]


def test_robustness_broken_report_is_an_error(workdir):
    robustness_report(workdir / "good", {"alexnet": 0.8})
    (workdir / "broken").mkdir()
    (workdir / "broken" / "report.json").write_text('{"models": [], "curves": {}}')
    app = start("robustness")
    assert "'curves' must be a list" in app.error[0].value
    assert list(app.dataframe[0].value.model) == ["alexnet (good)"]  # the good one is still shown


def test_lab_without_a_model_shows_an_upload_and_refuses_a_too_short_one(workdir):
    iq = make_signal(Scenario("QPSK", 2000, snr_db=20.0))[0].numpy()
    app = start()
    app.radio(key="lab_source").set_value("Upload").run()
    app.file_uploader(key="lab_upload").upload("long.npy", _npy_bytes(iq)).run()
    assert not app.error and len(app.image) == 1
    assert "long.npy: 2,000 samples; showing samples 0 to 1,024." in captions(app)
    app.file_uploader(key="lab_upload").clear().upload("tiny.npy", _npy_bytes(iq[:10])).run()
    assert "tiny.npy holds 10 samples; the lab needs 128." in app.error[0].value
    assert not app.exception
