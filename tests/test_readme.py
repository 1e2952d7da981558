"""The README's code must run as written."""

import re
from pathlib import Path

import torch

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks_under(heading: str) -> list[str]:
    text = README.read_text()
    section = text.split(heading, 1)[1].split("\n#", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_backbone_example_runs_and_its_comments_are_true():
    namespace: dict = {}
    exec(python_blocks_under("## Use AlexNet as a backbone")[0], namespace)
    assert tuple(namespace["features"].shape) == (8, 256, 6, 6)
    assert tuple(namespace["maps"]["conv1"].shape) == (8, 96, 15, 15)
    assert tuple(namespace["maps"]["fc7"].shape) == (8, 4096)
    assert tuple(namespace["final"].shape) == (8, 256, 6, 6) and len(namespace["stages"]) == 5
    assert namespace["model"].num_classes == 11


def test_two_tower_example_runs_and_equals_the_single_device_net():
    namespace: dict = {}
    exec(python_blocks_under("### The paper's two-GPU split")[0], namespace)
    torch.testing.assert_close(namespace["logits"], namespace["single"](namespace["images"]))


def test_install_and_test_commands_are_what_ci_runs():
    ci = (README.parent / ".ci" / "run").read_text()
    text = README.read_text()
    install = re.search(r"Install.*?```bash\n(.*?)\n```", text, flags=re.S).group(1)
    test = re.search(r"Run the tests:\s*```bash\n(.*?)\n```", text, flags=re.S).group(1)
    for line in install.splitlines():
        for command in line.split(" && "):
            assert command in ci
    assert test in ci.splitlines()


def test_radio_signals_example_runs_and_delivers_the_jsr():
    namespace: dict = {}
    exec(python_blocks_under("## Radio signals (`rfnet.dsp`)")[0], namespace)
    assert namespace["rx"].shape == (64, 1024) and namespace["rx"].dtype == torch.complex64
    torch.testing.assert_close(namespace["jsr_db"], torch.full((64,), -3.0), atol=1e-3, rtol=0)


def test_datasets_example_runs_on_the_file_rfnet_synth_writes(tmp_path, monkeypatch):
    from rfnet.cli import main

    text = README.read_text()
    command = re.search(r"## Datasets.*?```bash\n(rfnet synth .*?)\n```", text, flags=re.S).group(1)
    args = command.split()[1:]
    args[args.index("--per-class-snr") + 1] = "2"  # the README's 100 per cell, shrunk for the test
    monkeypatch.chdir(tmp_path)
    assert main([*args, "--quiet", "--snr-min", "0", "--snr-max", "4", "--classes", "BPSK,QPSK,8PSK"]) == 0
    namespace: dict = {}
    exec(python_blocks_under("## Datasets (`rfnet.data`)")[0], namespace)
    assert tuple(namespace["data"].classes) == ("BPSK", "QPSK")
    assert namespace["iq"].dtype == torch.complex64 and namespace["iq"].shape == (128,)
    assert len(namespace["train"]) + len(namespace["val"]) + len(namespace["test"]) == len(namespace["data"])


def test_classifier_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(python_blocks_under("### The spectrogram front end and the classifier")[0], namespace)
    assert tuple(namespace["images"].shape) == (4, 3, 67, 67)
    assert tuple(namespace["logits"].shape) == (4, 3)
    torch.testing.assert_close(namespace["same"].eval()(namespace["iq"]), namespace["model"].eval()(namespace["iq"]))
    assert namespace["same"].classes == ["BPSK", "QPSK", "8PSK"]


def test_imagenet_data_example_runs_and_its_comments_are_true():
    namespace: dict = {}
    exec(python_blocks_under("### ImageNet on disk (`rfnet.imagenet`)")[0], namespace)
    assert tuple(namespace["image"].shape) == (3, 227, 227) and tuple(namespace["crops"].shape) == (10, 3, 227, 227)
    assert namespace["train"].classes[:2] == ["n00000001", "n00000002"]


def test_bench_example_runs_and_reads_back_its_rows():
    namespace: dict = {}
    exec(python_blocks_under("### `rfnet bench` — latency and throughput, kept in a results store")[0], namespace)
    assert [(row.mode, row.batch_size) for row in namespace["rows"]] == [("eager", 1), ("eager", 8), ("int8", 1), ("int8", 8)]
    assert "CUDA" in namespace["outcome"].skipped[0].reason


def test_dashboard_library_example_runs():
    namespace: dict = {}
    exec(python_blocks_under("### The dashboard")[0], namespace)
    assert namespace["iq"].shape == (1, 128) and namespace["iq"].dtype == torch.complex64


def test_robustness_example_runs_within_its_budget():
    namespace: dict = {}
    exec(python_blocks_under("## Robustness: `rfnet robustness`")[0], namespace)
    from rfnet.robustness.budget import delivered_db

    assert bool((delivered_db(namespace["iq"], namespace["adversarial"] - namespace["iq"]) <= -10.0 + 1e-3).all())
    assert not torch.equal(namespace["jammed"], namespace["iq"])
