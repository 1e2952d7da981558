"""The synthetic generator and ``rfnet synth``: presets, determinism, formats, interruption, CLI."""

import dataclasses
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from rfnet.cli import main
from rfnet.data import SigMFWindows, load_radioml
from rfnet.data.synthetic import SynthConfig, chunk_seed, generate_chunks, write_synthetic
from rfnet.dsp.channel import ChannelConfig
from rfnet.dsp.classes import RML2016_CLASSES, RML2018_CLASSES
from rfnet.dsp.modulations import modulate
from rfnet.dsp.power import signal_power

TINY = dataclasses.replace(
    SynthConfig.rml2016(), classes=("BPSK", "QPSK", "GFSK"), snr_min_db=-4, snr_max_db=4, snr_step_db=4,
    examples_per_cell=5, chunk_samples=3 * 64, num_samples=64,
)


def generated(config, seed):
    parts = list(generate_chunks(config, seed))
    return (torch.cat([p[0] for p in parts]).numpy(), np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]))


def test_presets():
    rml2016, rml2018 = SynthConfig.rml2016(), SynthConfig.rml2018()
    assert rml2016.classes == RML2016_CLASSES and rml2016.num_samples == 128
    assert rml2016.snrs == tuple(range(-20, 19, 2)) and rml2016.channel == ChannelConfig.rml2016()
    assert rml2018.classes == RML2018_CLASSES and rml2018.num_samples == 1024
    assert rml2018.snrs == tuple(range(-20, 31, 2)) and rml2018.channel == ChannelConfig.rml2018()
    assert rml2018.num_examples == 24 * 26 * 4096  # the size of RML2018.01A


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"classes": ("BPSK", "NOPE")}, r"unknown modulation\(s\) \['NOPE'\]; known: OOK, 4ASK"),
        ({"snr_min_db": -150}, r"snr_min_db must be a whole number of dB in \[-100, 100\]"),
        ({"snr_max_db": 130}, r"snr_max_db must be a whole number of dB in \[-100, 100\]"),
        ({"snr_min_db": 10, "snr_max_db": 0}, "is above snr_max_db"),
        ({"snr_step_db": 0}, "snr_step_db must be a positive"),
        ({"examples_per_cell": 0}, "examples_per_cell must be a positive"),
        ({"normalization": "peak"}, "normalization must be one of"),
        ({"snr_labels": "measured"}, "snr_labels must be one of"),
        ({"snr_labels": "rml2016_nominal", "snr_max_db": 60}, r"deliver -8.0..120.0 dB, outside \[-100, 100\]"),
    ],
)
def test_bad_config(overrides, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(TINY, **overrides)


def test_layout_and_normalization():
    iq, labels, snrs = generated(TINY, seed=0)
    assert iq.shape == (TINY.num_examples, 64) and iq.dtype == np.complex64
    np.testing.assert_array_equal(labels, np.repeat([0, 1, 2], 15))
    np.testing.assert_array_equal(snrs, np.tile(np.repeat([-4, 0, 4], 5), 3))
    np.testing.assert_allclose(np.abs(iq).sum(axis=1), 1, rtol=1e-5)  # RadioML 2016's sum|x| = 1
    unit, _, _ = generated(dataclasses.replace(TINY, normalization="unit_power"), seed=0)
    np.testing.assert_allclose((np.abs(unit) ** 2).mean(axis=1), 1, rtol=1e-5)


def test_labelled_snr_is_delivered():
    config = dataclasses.replace(TINY, channel=ChannelConfig(sample_rate_hz=200e3), normalization="none",
                                 examples_per_cell=40, chunk_samples=40 * 256, num_samples=256, classes=("QPSK",))
    iq, _, snrs = generated(config, seed=4)
    for index, snr in enumerate(config.snrs):  # one chunk per SNR: rebuild its clean signal
        generator = torch.Generator().manual_seed(chunk_seed(4, index))
        clean = modulate("QPSK", 40, 256, generator=generator)
        received = torch.from_numpy(iq[snrs == snr])
        measured = 10 * torch.log10(signal_power(clean).mean() / signal_power(received - clean).mean())
        assert abs(measured.item() - snr) < 0.3


def test_rml2016_nominal_labels_deliver_twice_the_label_in_db():
    # 10a's generator added noise of amplitude 10**(-label/10) to a unit-power signal: 2 x label dB of SNR
    nominal = dataclasses.replace(TINY, snr_labels="rml2016_nominal", snr_min_db=2, snr_max_db=4, snr_step_db=2)
    true = dataclasses.replace(nominal, snr_labels="true", snr_min_db=4, snr_max_db=8, snr_step_db=4)
    nominal_iq, _, nominal_snrs = generated(nominal, seed=3)
    true_iq, _, true_snrs = generated(true, seed=3)
    np.testing.assert_array_equal(nominal_iq, true_iq)          # same draws, same delivered SNRs
    np.testing.assert_array_equal(nominal_snrs * 2, true_snrs)  # labelled on 10a's axis


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    paths = [tmp_path / name for name in ("a.h5", "b.h5", "c.h5")]
    for path, seed in zip(paths, (7, 7, 8)):
        write_synthetic(path, TINY, seed=seed)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


@pytest.mark.slow
def test_bytes_independent_of_worker_count(tmp_path):
    write_synthetic(tmp_path / "one.h5", TINY, seed=3, workers=1)
    write_synthetic(tmp_path / "two.h5", TINY, seed=3, workers=2)
    assert (tmp_path / "one.h5").read_bytes() == (tmp_path / "two.h5").read_bytes()


@pytest.mark.parametrize("name", ["out.h5", "out.hdf5", "out.pkl", "out.sigmf-meta", "out.sigmf"])
def test_every_format_round_trips(tmp_path, name):
    iq, labels, snrs = generated(TINY, seed=5)
    summary = write_synthetic(tmp_path / name, TINY, seed=5)
    if name.endswith(("sigmf-meta", ".sigmf")):
        dataset = SigMFWindows(tmp_path / name, TINY.num_samples)
    elif name.endswith(".pkl"):  # a 2016 dict has no class order: names sort, cells come back sorted
        assert load_radioml(tmp_path / name).classes == tuple(sorted(TINY.classes))
        dataset = load_radioml(tmp_path / name, classes=TINY.classes)
        order = np.lexsort((snrs, np.array(TINY.classes)[labels]))
        iq, labels, snrs = iq[order], labels[order], snrs[order]
    else:
        dataset = load_radioml(tmp_path / name)
    assert dataset.classes == TINY.classes and dataset.snrs == list(TINY.snrs)
    got = [dataset[i] for i in range(len(dataset))]
    np.testing.assert_array_equal(torch.stack([g[0] for g in got]).numpy(), iq)
    np.testing.assert_array_equal([g[1] for g in got], labels)
    np.testing.assert_array_equal([g[2] for g in got], snrs)
    assert summary.num_examples == len(labels)
    assert summary.num_bytes == sum(p.stat().st_size for p in tmp_path.iterdir())


def test_pickle_output_is_plain_radioml_layout(tmp_path):
    write_synthetic(tmp_path / "out.pkl", TINY, seed=1)
    with open(tmp_path / "out.pkl", "rb") as handle:
        cells = pickle.load(handle)
    assert sorted(cells) == sorted((m, s) for m in TINY.classes for s in TINY.snrs)
    assert all(v.shape == (5, 2, 64) and v.dtype == np.float32 for v in cells.values())


@pytest.mark.parametrize("name", ["out.h5", "out.pkl", "out.sigmf-meta", "out.sigmf"])
def test_interrupt_leaves_old_file_and_no_partial(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"previous")

    def interrupt(count):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_synthetic(path, TINY, seed=0, progress=interrupt)
    assert [p.name for p in tmp_path.iterdir()] == [name] and path.read_bytes() == b"previous"
    write_synthetic(path, TINY, seed=0)  # success replaces it
    assert path.read_bytes() != b"previous"


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.append(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    """``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def eventually(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from Linux /proc")
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_killed_synth_leaves_no_worker_and_its_partial_goes(tmp_path, how):
    """Issue 14: SIGTERM or kill -9 left a hidden .partial as large as the output, forever, and the two
    workers and multiprocessing's resource tracker alive under init (~730 MB each)."""
    out, log = tmp_path / "out", tmp_path / "stderr.txt"
    out.mkdir()
    with log.open("w") as stderr:  # a file, not a pipe: orphans holding a pipe would block reading it
        synth = subprocess.Popen([sys.executable, "-m", "rfnet", "synth", "--per-class-snr", "1000", "--workers", "2",
                                  "--quiet", "--out", str(out / "big.h5")], stderr=stderr)
    try:
        eventually(lambda: synth.poll() is not None or len(children(synth.pid)) >= 3 and any(out.iterdir()), 120)
        assert synth.poll() is None, log.read_text()
        helpers = children(synth.pid)  # two workers and the resource tracker
        synth.send_signal(how)
        synth.wait(timeout=60)
    finally:
        synth.kill()
    assert eventually(lambda: not any(running(pid) for pid in helpers), 60), \
        [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in helpers if running(pid)]
    if how == signal.SIGTERM:
        assert synth.returncode == 128 + signal.SIGTERM
        assert log.read_text() == f"rfnet synth: terminated; nothing written to {out / 'big.h5'}\n"
        assert list(out.iterdir()) == []
    else:
        (partial,) = out.iterdir()
        assert partial.name.startswith(".big.h5.") and ".partial" in partial.name
        write_synthetic(out / "next.pkl", TINY, seed=0)  # the next run into the folder removes it
        assert [path.name for path in out.iterdir()] == ["next.pkl"]


def test_cli_synth_end_to_end(tmp_path, capsys):
    out = tmp_path / "data.h5"
    code = main(["synth", "--preset", "rml2016", "--per-class-snr", "2", "--classes", "BPSK,QPSK",
                 "--snr-min", "0", "--snr-max", "4", "--seed", "0", "--workers", "1", "--quiet",
                 "--out", str(out)])
    assert code == 0
    line = capsys.readouterr().out.strip()
    size = out.stat().st_size
    assert line == f"wrote 12 examples (2 classes, 3 SNRs 0..4 dB, 128 samples each) to {out} ({size} bytes)"
    dataset = load_radioml(out)
    assert len(dataset) == 12 and dataset.classes == ("BPSK", "QPSK") and dataset.snrs == [0, 2, 4]


def test_cli_synth_makes_data_with_radioml_2016_flaws(tmp_path):
    """--rml2016-ssb-is-noise: AM-SSB is white noise (flat spectrum), as in the published 10a file;
    without it AM-SSB keeps its carrier line, like AM-DSB."""
    def flatness_by_class(*flags):
        out = tmp_path / "data.h5"
        assert main(["synth", "--preset", "rml2016", "--per-class-snr", "8", "--classes", "AM-SSB,AM-DSB",
                     "--snr-min", "18", "--snr-max", "18", "--snr-labels", "rml2016_nominal", *flags,
                     "--workers", "1", "--quiet", "--out", str(out)]) == 0
        dataset, by_class = load_radioml(out), {}
        for iq, label, _ in dataset:
            spectrum = torch.fft.fft(iq).abs().square()
            flatness = torch.exp(torch.log(spectrum).mean()) / spectrum.mean()  # 1: white; near 0: a line
            by_class.setdefault(dataset.classes[label], []).append(flatness)
        return {name: torch.stack(values) for name, values in by_class.items()}

    flawed = flatness_by_class("--rml2016-ssb-is-noise")
    assert flawed["AM-SSB"].min() > 0.1 > flawed["AM-DSB"].max()
    assert flatness_by_class()["AM-SSB"].max() < 0.1


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--classes", "BPSK,FOO"], "unknown modulation"),
        (["--snr-min", "-200"], "snr_min_db must be a whole number of dB"),
        (["--snr-step", "0"], "snr_step_db must be a positive"),
        (["--out", "data.txt"], "data.txt: unknown output format"),
        (["--out", "no/such/folder/data.h5"], "output folder no/such/folder does not exist"),
    ],
)
def test_cli_synth_bad_arguments(tmp_path, capsys, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    base = ["synth", "--per-class-snr", "1", "--quiet", "--workers", "1"]
    if "--out" not in arguments:
        base += ["--out", "data.h5"]
    assert main(base + arguments) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
