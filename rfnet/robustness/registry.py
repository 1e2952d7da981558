"""Attack and jammer names, as the CLI and :func:`rfnet.robustness.perturb` take them, and their builders."""

from __future__ import annotations

from rfnet.robustness.apgd import APGD
from rfnet.robustness.attacks import FGM, FGSM, PGD, GaussianNoise
from rfnet.robustness.jammers import JAMMER_NAMES, Jammer

PER_INPUT_ATTACKS = ("fgm", "fgsm", "pgd", "pgd_linf", "apgd", "apgd_linf")
"""White-box attacks that need only the model and the input."""
PREPARED_ATTACKS = ("uap", "transfer")
"""Attacks that need more: training data to craft on (uap), a surrogate model (transfer)."""
PSR_ATTACKS = PER_INPUT_ATTACKS + PREPARED_ATTACKS + ("noise",)
JSR_ATTACKS = JAMMER_NAMES
ATTACK_NAMES = PSR_ATTACKS + JSR_ATTACKS
ADVERSARIAL_ATTACKS = PER_INPUT_ATTACKS + PREPARED_ATTACKS
"""The attacks that use a model's gradients (the worst case is taken over these)."""


def check_attack_names(names) -> tuple[str, ...]:
    """``names`` as a tuple, with one ``ValueError`` listing any unknown name (and the known ones)."""
    names = tuple(names)
    unknown = [name for name in names if name not in ATTACK_NAMES]
    if unknown:
        raise ValueError(f"unknown attack(s) {', '.join(map(repr, unknown))}; known: {', '.join(ATTACK_NAMES)}")
    if not names:
        raise ValueError(f"no attack given; known: {', '.join(ATTACK_NAMES)}")
    return names


def build_attack(name: str, *, pgd_steps: int = PGD.steps, pgd_restarts: int = PGD.restarts,
                 pgd_step_size: float | None = PGD.step_size, pgd_schedule: str = PGD.schedule,
                 apgd_steps: int = APGD.steps):
    """The attack object for a per-input attack, noise or jammer ``name`` (uap and transfer need
    :func:`rfnet.robustness.universal.craft_universal` / :class:`rfnet.robustness.transfer.Transfer`)."""
    check_attack_names([name])
    if name == "fgm":
        return FGM()
    if name == "fgsm":
        return FGSM()
    if name in ("pgd", "pgd_linf"):
        return PGD(norm="l2" if name == "pgd" else "linf", steps=pgd_steps, restarts=pgd_restarts,
                   step_size=pgd_step_size, schedule=pgd_schedule, name=name)
    if name in ("apgd", "apgd_linf"):
        return APGD(norm="l2" if name == "apgd" else "linf", steps=apgd_steps, name=name)
    if name == "noise":
        return GaussianNoise()
    if name in JAMMER_NAMES:
        return Jammer(name)
    raise ValueError(f"attack {name!r} needs more than a name: craft it with its own builder")
