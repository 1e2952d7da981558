"""Self-checks that make robustness curves trustworthy (Carlini et al. 2019, "On Evaluating Adversarial
Robustness"). Each returns a :class:`Check` — passed or failed, with the numbers behind it.

Accuracies are fractions of the same evaluated examples, so differences smaller than :func:`slack` (two
examples, or two percentage points) are treated as ties.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rfnet.robustness.sweep import Curve

NEAR_ZERO_ACCURACY = 0.05
"""An unbounded attack must leave at most this accuracy, else gradient masking is suspected."""
NOISE_DROP_SHARE = 0.5
"""Noise at the budget where the attack works may cost at most this share of the attack's accuracy drop."""


@dataclass(frozen=True)
class Check:
    """name: what is checked; model: whose curves; passed; detail: one line with the numbers;
    values: the numbers, JSON-able."""

    name: str
    model: str
    passed: bool
    detail: str
    values: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, "model": self.model, "passed": self.passed, "detail": self.detail,
                "values": self.values}


def slack(examples: int) -> float:
    """Accuracy difference treated as a tie: two examples, at least two percentage points."""
    return max(2 / examples, 0.02)


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def monotone(curves: list[Curve]) -> list[Check]:
    """Accuracy never rises (beyond :func:`slack`) as the budget grows, one check per curve."""
    checks = []
    for curve in curves:
        rises = [(a.db, b.db, b.accuracy - a.accuracy) for a, b in zip(curve.points, curve.points[1:])]
        worst = max(rises, key=lambda rise: rise[2], default=(None, None, 0.0))
        tolerance = slack(curve.points[0].examples)
        passed = worst[2] <= tolerance
        detail = (f"{curve.attack}: largest rise {_pct(max(worst[2], 0.0))}"
                  + (f" from {worst[0]:g} to {worst[1]:g} dB" if worst[0] is not None and worst[2] > 0 else "")
                  + f" (tolerance {_pct(tolerance)})")
        checks.append(Check(f"monotone:{curve.attack}", curve.model, passed, detail,
                            {"largest_rise": worst[2], "tolerance": tolerance}))
    return checks


def unbounded(model: str, accuracy: float, psr_db: float, zero_gradient: int, examples: int) -> Check:
    """An attack with an (effectively) unbounded budget drives accuracy to near zero; if it does not, the
    gradients are suspect (masked, obfuscated or zero)."""
    passed = accuracy <= NEAR_ZERO_ACCURACY
    detail = (f"PGD at PSR {psr_db:+g} dB leaves {_pct(accuracy)} (must be <= {_pct(NEAR_ZERO_ACCURACY)}); "
              f"{zero_gradient} of {examples} examples have a zero input gradient")
    if not passed:
        detail += " — WARNING: gradient masking suspected; these curves overstate robustness"
    return Check("unbounded_attack", model, passed, detail,
                 {"accuracy": accuracy, "psr_db": psr_db, "zero_gradient_examples": zero_gradient,
                  "examples": examples})


def _common(a: Curve, b: Curve) -> list[tuple[float, float, float]]:
    """``(db, accuracy in a, accuracy in b)`` at the budgets both curves have."""
    other = {point.db: point.accuracy for point in b.points}
    return [(p.db, p.accuracy, other[p.db]) for p in a.points if p.db in other]


def at_least_as_strong(name: str, strong: Curve, weak: Curve) -> Check:
    """``strong`` leaves no more accuracy than ``weak`` at any common budget (up to :func:`slack`)."""
    pairs = _common(strong, weak)
    tolerance = slack(strong.points[0].examples)
    excess = max(pairs, key=lambda p: p[1] - p[2], default=None)
    gap = excess[1] - excess[2] if excess else 0.0
    passed = bool(pairs) and gap <= tolerance
    detail = (f"{strong.attack} vs {weak.attack} over {len(pairs)} budgets: "
              + (f"largest excess {_pct(max(gap, 0.0))} at {excess[0]:g} dB" if excess else "no common budget")
              + f" (tolerance {_pct(tolerance)})")
    return Check(name, strong.model, passed, detail, {"largest_excess": gap, "tolerance": tolerance})


def converged(model: str, attack: str, db: float, accuracy: float, stronger_accuracy: float,
              stronger: dict, examples: int) -> Check:
    """More iterations and restarts change the accuracy by no more than :func:`slack`."""
    tolerance = slack(examples)
    change = accuracy - stronger_accuracy
    passed = abs(change) <= tolerance
    more = ", ".join(f"{value} {key}" for key, value in stronger.items())
    detail = (f"{attack} at {db:g} dB: {_pct(accuracy)}; with {more}: {_pct(stronger_accuracy)} "
              f"(change {_pct(change)}, tolerance {_pct(tolerance)})")
    return Check("converged", model, passed, detail,
                 {"db": db, "accuracy": accuracy, "stronger_accuracy": stronger_accuracy, "stronger": stronger,
                  "tolerance": tolerance})


def beats_noise(adversarial: Curve, noise: Curve, clean_accuracy: float) -> Check:
    """Adversarial perturbations hurt far more than noise of the same power: at the first budget where the
    attack halves the clean accuracy (else its largest), noise costs at most :data:`NOISE_DROP_SHARE` of
    the attack's drop, and the attack is never weaker than noise."""
    pairs = _common(adversarial, noise)
    if not pairs:
        return Check("adversarial_beats_noise", adversarial.model, False,
                     f"{adversarial.attack} and noise share no budget", {})
    db, attacked, noisy = next((p for p in pairs if p[1] <= clean_accuracy / 2), pairs[-1])
    drop_attack, drop_noise = clean_accuracy - attacked, clean_accuracy - noisy
    tolerance = slack(adversarial.points[0].examples)
    never_weaker = all(a <= n + tolerance for _, a, n in pairs)
    passed = never_weaker and drop_attack > tolerance and drop_noise <= NOISE_DROP_SHARE * drop_attack
    detail = (f"at {db:g} dB: {adversarial.attack} {_pct(attacked)}, noise {_pct(noisy)} (clean "
              f"{_pct(clean_accuracy)}; noise may cost at most {NOISE_DROP_SHARE:.0%} of the attack's drop)"
              + ("" if never_weaker else "; the attack is weaker than noise at some budget"))
    return Check("adversarial_beats_noise", adversarial.model, passed, detail,
                 {"db": db, "attack_accuracy": attacked, "noise_accuracy": noisy, "clean_accuracy": clean_accuracy})
