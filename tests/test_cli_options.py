"""The command line's shared options: defaults stated once (in the jobs) and shown in help, old spellings,
value checks, fast help."""

import argparse
import dataclasses
import importlib
import inspect
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rfnet.cli import COMMANDS, build_parser
from rfnet.cli.defaults import format_default, source_defaults
from rfnet.cli.options import add_deprecated_spelling, comma_list, non_negative_float, positive_float, positive_int

JOB_COMMANDS = [name for name in COMMANDS if hasattr(importlib.import_module(f"rfnet.cli.{name}"), "JOB")]


def sub_parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (commands,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return dict(commands.choices)


def job_of(command: str):
    """The job dataclass or function a sub-command fills, imported."""
    module, name = importlib.import_module(f"rfnet.cli.{command}").JOB.split(":")
    return getattr(importlib.import_module(module), name)


def real_defaults(job) -> dict[str, object]:
    if dataclasses.is_dataclass(job):
        return {f.name: f.default for f in dataclasses.fields(job) if f.default is not dataclasses.MISSING}
    return {name: p.default for name, p in inspect.signature(job).parameters.items()
            if p.default is not inspect.Parameter.empty}


def test_every_command_that_runs_a_job_reads_its_defaults_from_it():
    assert set(JOB_COMMANDS) == {"evaluate", "finetune", "robustness", "classify", "bench", "demo", "train_imagenet",
                                 "export", "imagenet_pca"}


@pytest.mark.parametrize("command", JOB_COMMANDS)
def test_help_reads_each_default_from_the_job_as_the_job_has_it(command):
    job = job_of(command)
    assert source_defaults(importlib.import_module(f"rfnet.cli.{command}").JOB) == real_defaults(job)


@pytest.mark.parametrize("command", JOB_COMMANDS)
def test_options_that_fill_a_job_field_state_no_default_of_their_own(command):
    """A parser default beside the job's would be a second statement that can drift: job-backed options
    default to None (the job's value) or are flags. The one exception is a command-line policy:
    imagenet-pca decodes in up to 4 processes, the function in its own by default."""
    parser = sub_parsers()[command.replace("_", "-")]
    assert parser.formatter_class.job == importlib.import_module(f"rfnet.cli.{command}").JOB
    fields = set(source_defaults(parser.formatter_class.job))
    restated = {action.dest: action.default for action in parser._actions
                if action.dest in fields and action.default not in (None, False, argparse.SUPPRESS)}
    assert restated == ({"workers": min(4, os.cpu_count() or 1)} if command == "imagenet_pca" else {})


@pytest.mark.parametrize("command", [name.replace("_", "-") for name in COMMANDS if name != "dashboard"])
def test_every_option_has_help_and_every_value_option_shows_its_default(command):
    parser = sub_parsers()[command]
    formatter = parser._get_formatter()
    for action in parser._actions:
        assert action.help, (command, action.dest)
        if action.help == argparse.SUPPRESS or action.required or not action.option_strings or action.nargs == 0:
            continue
        shown = formatter._get_help_string(action)
        assert "default" in shown.lower(), (command, action.option_strings, shown)


def test_help_shows_the_job_value_not_a_copy(capsys):
    from rfnet.jobs.robustness import RobustnessJob

    with pytest.raises(SystemExit):
        build_parser().parse_args(["robustness", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"PGD iterations (default: {RobustnessJob.pgd_steps})" in text
    assert "(default: -40:0:2)" in text and f"(default: {','.join(RobustnessJob.attacks)})" in text


def test_format_default():
    assert format_default(True) == "on" and format_default(False) == "off"
    assert format_default(5e-4) == "0.0005" and format_default(("a", "b")) == "a,b"
    assert format_default(tuple(float(v) for v in range(-20, 21, 2))) == "-20:20:2"
    assert format_default((1, 8, 64, 256)) == "1,8,64,256"


def test_deprecated_spelling_acts_as_the_new_option_and_warns(capsys):
    parser = argparse.ArgumentParser(prog="rfnet x")
    parser.add_argument("--num-samples", dest="window_samples", type=positive_int)
    parser.add_argument("--arch", dest="models", action="extend", type=comma_list())
    parser.add_argument("--flag", action="store_true")
    add_deprecated_spelling(parser, "--window", "--num-samples")
    add_deprecated_spelling(parser, "--models", "--arch")
    add_deprecated_spelling(parser, "--old-flag", "--flag")

    args = parser.parse_args(["--window", "256", "--models", "a,b", "--arch", "c", "--old-flag"])
    assert args.window_samples == 256 and args.models == ["a", "b", "c"] and args.flag is True
    err = capsys.readouterr().err.splitlines()
    assert err == [f"rfnet x: warning: {old} is deprecated and will be removed in the next release; use {new}"
                   for old, new in (("--window", "--num-samples"), ("--models", "--arch"), ("--old-flag", "--flag"))]

    assert parser.parse_args([]).window_samples is None  # not given: the new option's default
    assert capsys.readouterr().err == ""
    with pytest.raises(SystemExit):
        parser.parse_args(["--window", "0"])  # the new option's check applies to the old spelling
    assert "must be a finite number > 0" in capsys.readouterr().err
    assert "--window" not in parser.format_help()


@pytest.mark.parametrize(("argv", "dest", "value"), [
    (["finetune", "--data", "d", "--out", "o", "--model", "vtcnn2"], "model", "vtcnn2"),
    (["finetune", "--data", "d", "--out", "o", "--window", "1024"], "window_samples", 1024),
    (["train-imagenet", "--data", "d", "--out", "o", "--model", "alexnet_tv"], "model", "alexnet_tv"),
    (["demo", "--models", "alexnet,radioml_resnet"], "models", ["alexnet", "radioml_resnet"]),
    (["evaluate", "--model", "m", "--window", "64"], "window_samples", 64),
    (["robustness", "--model", "m", "--out", "o", "--window", "64"], "window_samples", 64),
    (["classify", "r", "--model", "m", "--window", "64"], "window", 64),
])
def test_old_spellings_still_work_for_one_release(argv, dest, value, capsys):
    assert getattr(build_parser().parse_args(argv), dest) == value
    assert "is deprecated" in capsys.readouterr().err


def test_new_names_are_the_same_across_commands():
    parsers = sub_parsers()
    for command in ("finetune", "train-imagenet", "demo"):
        assert "--arch" in parsers[command]._option_string_actions
    for command in ("evaluate", "robustness", "classify", "bench", "export", "finetune"):
        assert parsers[command]._option_string_actions["--num-samples"].metavar == "N"
    for command in ("evaluate", "robustness", "classify", "bench", "export"):
        assert parsers[command]._option_string_actions["--model"].metavar == "FOLDER"
    args = build_parser().parse_args(["demo", "--arch", "alexnet", "--arch", "vtcnn2,radioml_resnet"])
    assert args.models == ["alexnet", "vtcnn2", "radioml_resnet"]


def test_architecture_choices_are_the_jobs():
    for command in ("finetune", "train_imagenet"):
        cli, job = (importlib.import_module(f"rfnet.{package}.{command}") for package in ("cli", "jobs"))
        assert cli.ARCHITECTURES == job.MODELS


def test_value_checks():
    assert positive_int("3") == 3 and positive_float("0.5") == 0.5 and non_negative_float("0") == 0.0
    for check, text in ((positive_int, "0"), (positive_int, "-1"), (positive_int, "x"), (positive_float, "0"),
                        (non_negative_float, "-1"), (non_negative_float, "nan"), (positive_float, "inf")):
        with pytest.raises(argparse.ArgumentTypeError):
            check(text)
    assert comma_list(int)("1, 8,") == (1, 8)
    with pytest.raises(argparse.ArgumentTypeError, match="comma-separated"):
        comma_list()(" , ")


def test_job_from_args_keeps_the_job_defaults_for_options_not_given():
    from rfnet.cli.options import job_from_args
    from rfnet.jobs.evaluate import EvaluateJob

    args = build_parser().parse_args(["evaluate", "--model", "m", "--batch-size", "7", "--classes", "A,B"])
    job = job_from_args(EvaluateJob, args, progress=False)
    assert (job.model, job.batch_size, job.classes, job.progress) == ("m", 7, ("A", "B"), False)
    assert job.seed == EvaluateJob.seed and job.device == EvaluateJob.device


@pytest.mark.parametrize("command", [[], *([name.replace("_", "-")] for name in COMMANDS)])
def test_help_takes_under_a_second_and_a_half(command):
    rfnet = Path(sys.executable).with_name("rfnet")
    started = time.perf_counter()
    subprocess.run([rfnet, *command, "--help"], capture_output=True, check=True)
    assert time.perf_counter() - started < 1.5


def readme_command_lines() -> list[list[str]]:
    """Every ``rfnet ...`` (or ``torchrun ... -m rfnet.cli ...``) line of the README's bash blocks, with its
    continuation lines, as the argument list after ``rfnet``; comments dropped."""
    readme = Path(__file__).resolve().parents[1] / "README.md"
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", readme.read_text(), flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if "-m" in words and words[words.index("-m") + 1] in ("rfnet", "rfnet.cli"):
                commands.append(words[words.index("-m") + 2:])
            elif words[:1] == ["rfnet"] and "|" not in words:
                commands.append(words[1:])
    return commands


def test_every_readme_command_line_parses_with_todays_names(capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # the README's GPU commands, on any machine
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 8)
    commands = readme_command_lines()
    assert len(commands) > 30
    assert ["finetune", "--data", "data.h5", "--arch", "vtcnn2", "--out", "runs/vtcnn2"] in commands
    names = set(sub_parsers())
    for argv in commands:
        if argv in ([], ["--help"]) or len(argv) == 1:  # "rfnet robustness  # see ..." names a section
            assert not argv or argv[0] in names | {"--help"}, argv
            continue
        args, unknown = build_parser().parse_known_args(argv)
        assert unknown == [] or args.command == "dashboard", argv
        assert "deprecated" not in capsys.readouterr().err, argv
