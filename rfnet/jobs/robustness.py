"""``rfnet robustness``: sweep attacks and jammers over PSR / JSR budgets for one or more models, run the
self-checks, and write the report.

    from rfnet.jobs.robustness import RobustnessJob, robustness
    report = robustness(RobustnessJob(models=("run/",), out="report/", attacks=("fgm", "pgd", "noise")))

Models are finetune run folders (their ``best/`` is attacked) or saved model folders; all take the same
data, whose classes must be theirs. Without ``data``, the first run's data is used. When the data is a
run's own, its test split is attacked and its training split crafts the universal perturbation;
otherwise a stratified :data:`CRAFT_FRACTION` of the data crafts and the rest is attacked. ``snr_range``
selects within those splits. At most ``max_examples`` attacked examples are kept (a seeded, stratified
choice). Every curve point also gives the accuracy at each SNR of the attacked examples.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from rfnet import __version__
from rfnet.data import stratified_split
from rfnet.jobs.datasets import DataSpec, LabelledData
from rfnet.jobs.evaluate import model_name
from rfnet.jobs.run_folder import RunRecord, open_in_class_order, open_model
from rfnet.models import check_classes
from rfnet.robustness import checks
from rfnet.robustness.apgd import APGD
from rfnet.robustness.attacks import PGD
from rfnet.robustness.budget import check_budget_db, check_budget_grid
from rfnet.robustness.registry import JSR_ATTACKS, PER_INPUT_ATTACKS, build_attack, check_attack_names
from rfnet.robustness.report import write_report
from rfnet.robustness.sweep import Curve, accuracy_under, clean_correct, count_zero_gradients, sweep, worst_case
from rfnet.robustness.transfer import Transfer
from rfnet.robustness.universal import UniversalPerturbation, craft_universal
from rfnet.train.distributed import resolve_device

CRAFT_FRACTION = 0.2
"""Share of data that is not a run's own, set aside to craft the universal perturbation."""
DEFAULT_PSR = tuple(float(db) for db in range(-40, 1, 2))
DEFAULT_JSR = tuple(float(db) for db in range(-20, 21, 2))


@dataclass(frozen=True)
class RobustnessJob:
    """Settings of one robustness report.

    Attributes:
        models: finetune run folders or saved model folders (at least one).
        out: report folder.
        data: a ``--data`` spec (:mod:`rfnet.jobs.datasets`); ``None``: the first run's data.
        attacks: names from :data:`rfnet.robustness.registry.ATTACK_NAMES`.
        psr_db, jsr_db: budgets (dB) of the PSR attacks and of the jammers.
        classes, snr_range, per_class_snr, window_samples: data selection, as ``rfnet evaluate`` takes it.
        max_examples: attacked examples kept at most (``None``: all).
        batch_size: examples per attack batch.
        pgd_steps, pgd_restarts, pgd_step_size, pgd_schedule: PGD (``pgd``, ``pgd_linf``, ``transfer``).
        apgd_steps: iterations of APGD (``apgd``, ``apgd_linf``).
        uap_psr_db, uap_epochs, uap_examples: the PSR the universal perturbation is crafted at, passes over
            the crafting data, and crafting examples kept at most.
        surrogate: model folder the transfer attack crafts on (required for ``transfer``).
        unbounded_psr_db: the "unbounded" budget of the gradient-masking check.
        seed: seeds the data choice and every random draw; device: ``"cpu"``, ``"cuda"``, ``"auto"``.
        progress: show a progress bar.
    """

    models: tuple[str, ...]
    out: str
    data: str | None = None
    attacks: tuple[str, ...] = ("fgm", "pgd", "noise")
    psr_db: tuple[float, ...] = DEFAULT_PSR
    jsr_db: tuple[float, ...] = DEFAULT_JSR
    classes: tuple[str, ...] | None = None
    snr_range: tuple[float, float] | None = None
    per_class_snr: int | None = None
    window_samples: int | None = None
    max_examples: int | None = 500
    batch_size: int = 128
    pgd_steps: int = PGD.steps
    pgd_restarts: int = PGD.restarts
    pgd_step_size: float | None = PGD.step_size
    pgd_schedule: str = PGD.schedule
    apgd_steps: int = APGD.steps
    uap_psr_db: float = -10.0
    uap_epochs: int = 5
    uap_examples: int | None = 2000
    surrogate: str | None = None
    unbounded_psr_db: float = 20.0
    seed: int = 0
    device: str = "auto"
    progress: bool = True


@dataclass
class LoadedModel:
    """A model of the report: its (unique) name, saved model folder, the model and its run's record."""

    name: str
    path: Path
    model: nn.Module
    run_record: RunRecord | None


def robustness(job: RobustnessJob) -> dict:
    """Run the sweeps and checks, write the report to ``job.out``, and return the ``report.json`` dict."""
    attacks = _check_job(job)
    device = resolve_device(job.device)
    models = [_load_model(folder, device) for folder in job.models]
    _name_uniquely(models)
    data = _open_data(job, models)
    for loaded in models:
        try:
            check_classes(loaded.model, data.classes)
        except ValueError as err:
            raise ValueError(f"--model {loaded.path} and --data {data.source}: {err}") from None
    surrogate = _load_surrogate(job, data, device) if "transfer" in attacks else None
    run_splits = models[0].run_record.splits_of(data) if models[0].run_record else None
    craft_idx, test_idx = _craft_and_test(job, data, run_splits)
    iq, labels, snrs = _tensors(data, test_idx, device)
    craft_iq, craft_labels, _ = _tensors(data, craft_idx, device) if "uap" in attacks else (None, None, None)

    psr_attacks = [name for name in attacks if name not in JSR_ATTACKS]
    jsr_attacks = [name for name in attacks if name in JSR_ATTACKS]
    total = len(models) * (len(psr_attacks) * len(job.psr_db) + len(jsr_attacks) * len(job.jsr_db))
    bar = tqdm(total=total, desc="robustness", unit="budget", disable=not job.progress)
    model_records, curves, all_checks, skipped, hyper = [], [], [], [], {}
    for loaded in models:
        model = loaded.model
        clean = clean_correct(model, iq, labels, job.batch_size)
        zero_gradient = count_zero_gradients(model, iq, labels, job.batch_size)
        model_records.append({"name": loaded.name, "path": str(loaded.path), "arch": model_name(model),
                              "clean_accuracy": float(clean.float().mean()), "examples": len(labels),
                              "zero_gradient_examples": zero_gradient})
        own = []
        for name in attacks:
            bar.set_postfix_str(f"{loaded.name}: {name}")
            attack = _build(name, job, model, surrogate, craft_iq, craft_labels)
            hyper[name] = attack.params()
            budgets = job.jsr_db if name in JSR_ATTACKS else job.psr_db
            own.append(sweep(model, loaded.name, attack, iq, labels, budgets, clean=clean,
                             batch_size=job.batch_size, seed=job.seed, progress=bar))
        combined = worst_case(own)  # over the adversarial attacks; one attack's own curve if only one ran
        curves += own + ([combined] if combined is not None and combined not in own else [])
        model_checks, model_skipped = _self_checks(job, loaded, own, combined, clean, zero_gradient, iq, labels)
        all_checks += model_checks
        skipped += model_skipped
    bar.close()

    report = {
        "rfnet_version": __version__,
        "domain": "iq",
        "seed": job.seed,
        "data": {"source": data.source, "classes": list(data.classes), "examples": len(labels),
                 "craft_examples": len(craft_idx) if "uap" in attacks else 0,
                 "snr_range": list(job.snr_range) if job.snr_range else None,
                 "snrs": sorted({float(s) for s in snrs.tolist() if not math.isnan(s)}),
                 "split": "run test split" if run_splits is not None else
                 f"{1 - CRAFT_FRACTION:.0%} of the data (stratified, seed {job.seed})"},
        "budgets": {"psr_db": list(job.psr_db), "jsr_db": list(job.jsr_db)},
        "attacks": list(attacks),
        "hyperparameters": {**hyper, "batch_size": job.batch_size, "unbounded_psr_db": job.unbounded_psr_db},
        "job": {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(job).items()},
        "models": model_records,
        "curves": [_with_snr_breakdown(curve, snrs) for curve in curves],
        "checks": [check.to_dict() for check in all_checks],
        "skipped_checks": skipped,
    }
    write_report(report, Path(job.out))
    return report


def _with_snr_breakdown(curve: Curve, snrs: torch.Tensor) -> dict:
    """``curve.to_dict()`` with ``accuracy_by_snr`` ({SNR dB as text: accuracy}) in every point."""
    record = curve.to_dict()
    known = ~torch.isnan(snrs)
    for point, row in zip(curve.points, record["points"]):
        row["accuracy_by_snr"] = {f"{snr:g}": float(point.correct[known & (snrs == snr)].float().mean())
                                  for snr in sorted(set(snrs[known].tolist()))}
    return record


# --- inputs ----------------------------------------------------------------------------------------

def _check_job(job: RobustnessJob) -> tuple[str, ...]:
    if not job.models:
        raise ValueError("give at least one --model")
    attacks = check_attack_names(job.attacks)
    for option, budgets, needed in (("--psr", job.psr_db, any(a not in JSR_ATTACKS for a in attacks)),
                                    ("--jsr", job.jsr_db, any(a in JSR_ATTACKS for a in attacks))):
        if needed:
            check_budget_grid(budgets, option)
    check_budget_db(job.uap_psr_db, "--uap-psr")
    check_budget_db(job.unbounded_psr_db, "--unbounded-psr")
    if "transfer" in attacks and job.surrogate is None:
        raise ValueError("the transfer attack needs --surrogate (a model folder to craft on)")
    if job.max_examples is not None and job.max_examples < 1:
        raise ValueError(f"--max-examples must be positive, got {job.max_examples}")
    if job.batch_size < 1:
        raise ValueError(f"--batch-size must be positive, got {job.batch_size}")
    for name in ("pgd", "apgd"):  # ValueError for bad PGD / APGD settings, before any work
        build_attack(name, pgd_steps=job.pgd_steps, pgd_restarts=job.pgd_restarts, pgd_step_size=job.pgd_step_size,
                     pgd_schedule=job.pgd_schedule, apgd_steps=job.apgd_steps)
    return attacks


def _load_model(folder: str, device: torch.device, option: str = "--model") -> LoadedModel:
    opened = open_model(folder, device, option)
    for note in opened.notes:
        print(f"note: {note}")
    return LoadedModel(opened.name, opened.folder, opened.model, opened.run)


def _name_uniquely(models: list[LoadedModel]) -> None:
    seen: dict[str, int] = {}
    for loaded in models:
        seen[loaded.name] = seen.get(loaded.name, 0) + 1
        if seen[loaded.name] > 1:
            loaded.name = f"{loaded.name}-{seen[loaded.name]}"


def _open_data(job: RobustnessJob, models: list[LoadedModel]) -> LabelledData:
    first = models[0]
    spec_text = job.data or (first.run_record.data_source if first.run_record else None)
    if spec_text is None:
        raise ValueError(f"--model {first.path}: not a finetune run folder, so give --data")
    window = job.window_samples or first.model.input_spec.num_samples
    # The SNR range is applied to the split indices (_craft_and_test), not here, so that a run's own data
    # keeps its split: the attacked examples are then never ones the model was trained on.
    spec = DataSpec(spec_text, classes=job.classes, window_samples=window, per_class_snr=job.per_class_snr,
                    seed=job.seed)
    return open_in_class_order(spec, first.model.classes, Path(job.out))


def _craft_and_test(job: RobustnessJob, data: LabelledData,
                    run_splits: dict[str, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """Indices crafting the universal perturbation and indices attacked (at most ``max_examples``): the run's
    training and test splits when ``data`` is its own (``run_splits``), else a stratified split of ``data``."""
    if run_splits is not None:
        craft, test = run_splits["train"], run_splits["test"]
    else:
        craft, test = data.split(job.seed, (CRAFT_FRACTION, 1 - CRAFT_FRACTION))
    if job.snr_range is not None:
        low, high = job.snr_range
        craft, test = (part[(data.snrs[part] >= low) & (data.snrs[part] <= high)] for part in (craft, test))
        if len(test) == 0 or len(craft) == 0:
            raise ValueError(f"--data {data.source}: no examples with SNR in [{low:g}, {high:g}] dB to "
                             f"{'attack' if len(test) == 0 else 'craft on'}")
    return _at_most(craft, job.uap_examples, data, job.seed), _at_most(test, job.max_examples, data, job.seed)


def _at_most(indices: np.ndarray, limit: int | None, data: LabelledData, seed: int) -> np.ndarray:
    """A stratified (class, SNR), seeded choice of at most ``limit`` of ``indices``, in index order."""
    if limit is None or len(indices) <= limit:
        return np.sort(indices)
    labels, snrs = data.labels[indices], np.nan_to_num(data.snrs[indices], nan=0.0)
    keep, _ = stratified_split(labels, snrs, (limit / len(indices), 1 - limit / len(indices)), seed=seed)
    return np.sort(indices[keep])


def _tensors(data: LabelledData, indices: np.ndarray, device: torch.device):
    items = [data.dataset[int(i)] for i in indices]
    iq = torch.stack([item[0] for item in items]).to(device)
    labels = torch.tensor([int(item[1]) for item in items], device=device)
    snrs = torch.tensor([math.nan if item[2] is None else float(item[2]) for item in items])
    return iq, labels, snrs


def _load_surrogate(job: RobustnessJob, data: LabelledData, device: torch.device) -> LoadedModel:
    surrogate = _load_model(job.surrogate, device, "--surrogate")
    try:
        check_classes(surrogate.model, data.classes)
    except ValueError as err:
        raise ValueError(f"--surrogate {surrogate.path} and --data {data.source}: {err}") from None
    return surrogate


# --- attacks and checks ----------------------------------------------------------------------------

def _pgd(job: RobustnessJob, **changes) -> PGD:
    settings = dict(steps=job.pgd_steps, restarts=job.pgd_restarts, step_size=job.pgd_step_size,
                    schedule=job.pgd_schedule)
    settings.update(changes)
    return PGD(**settings)


def _build(name: str, job: RobustnessJob, model: nn.Module, surrogate: LoadedModel | None, craft_iq, craft_labels):
    if name == "uap":
        generator = torch.Generator(device=craft_iq.device).manual_seed(job.seed)
        direction = craft_universal(model, craft_iq, craft_labels, job.uap_psr_db, epochs=job.uap_epochs,
                                    batch_size=job.batch_size, generator=generator)
        return UniversalPerturbation(direction, {"crafted_at_psr_db": job.uap_psr_db, "epochs": job.uap_epochs,
                                                 "crafting_examples": len(craft_labels), "seed": job.seed})
    if name == "transfer":
        return Transfer(surrogate.model, surrogate.name, _pgd(job))
    return build_attack(name, pgd_steps=job.pgd_steps, pgd_restarts=job.pgd_restarts,
                        pgd_step_size=job.pgd_step_size, pgd_schedule=job.pgd_schedule, apgd_steps=job.apgd_steps)


def _self_checks(job: RobustnessJob, loaded: LoadedModel, own: list[Curve], combined: Curve | None,
                 clean: torch.Tensor, zero_gradient: int, iq: torch.Tensor, labels: torch.Tensor):
    """The checks of :mod:`rfnet.robustness.checks` for one model, and the ones that could not run."""
    by_name = {curve.attack: curve for curve in own}
    clean_accuracy = float(clean.float().mean())
    found, skipped = checks.monotone(own), []
    settings = dict(clean=clean, batch_size=job.batch_size, seed=job.seed)
    unbounded_accuracy = accuracy_under(loaded.model, _pgd(job), iq, labels, job.unbounded_psr_db, **settings)
    found.append(checks.unbounded(loaded.name, unbounded_accuracy, job.unbounded_psr_db, zero_gradient, len(labels)))

    iterative = [by_name[n] for n in ("pgd", "pgd_linf") if n in by_name]
    one_step = {"pgd": "fgm", "pgd_linf": "fgsm"}
    for curve in iterative:
        if one_step[curve.attack] in by_name:
            found.append(checks.at_least_as_strong(f"{curve.attack}_at_least_{one_step[curve.attack]}", curve,
                                                   by_name[one_step[curve.attack]]))
    if iterative:
        curve = iterative[0]
        point = min(curve.points, key=lambda p: abs(p.accuracy - clean_accuracy / 2))
        stronger = {"steps": 2 * job.pgd_steps, "restarts": job.pgd_restarts + 1}
        attack = _pgd(job, steps=stronger["steps"], restarts=stronger["restarts"],
                      norm="l2" if curve.attack == "pgd" else "linf", name=curve.attack)
        stronger_accuracy = accuracy_under(loaded.model, attack, iq, labels, point.db, **settings)
        found.append(checks.converged(loaded.name, curve.attack, point.db, point.accuracy, stronger_accuracy,
                                      stronger, len(labels)))
    else:
        skipped.append(f"{loaded.name}: PGD strength and convergence (no pgd / pgd_linf attack)")

    white_box = worst_case(own, PER_INPUT_ATTACKS, "white_box")
    if "transfer" in by_name and white_box is not None:
        found.append(checks.at_least_as_strong("white_box_at_least_transfer", white_box, by_name["transfer"]))
    else:
        skipped.append(f"{loaded.name}: white-box vs transfer (needs transfer and a white-box attack)")
    if "noise" in by_name and combined is not None:
        found.append(checks.beats_noise(combined, by_name["noise"], clean_accuracy))
    else:
        skipped.append(f"{loaded.name}: adversarial vs noise (needs noise and an adversarial attack)")
    return found, skipped
