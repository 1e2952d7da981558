"""Robustness of IQ classifiers: attacks and jammers in the IQ domain, swept into accuracy curves.

- :func:`perturb` — one attack or jammer on one batch at a PSR / JSR budget (dB).
- :mod:`.budget` — the power budget and its enforcement; :mod:`.attacks` — FGM, FGSM, PGD, noise;
  :mod:`.apgd` (auto-PGD), :mod:`.jammers`, :mod:`.universal` (UAP), :mod:`.transfer`;
  :mod:`.registry` — attack names and builders; :mod:`.sweep` — accuracy against budget;
  :mod:`.checks` — the self-checks of Carlini et al. (2019); :mod:`.report` — report files;
  :mod:`.adversarial_training` — the adversary for ``rfnet finetune --adv-train``.
"""

from rfnet.robustness.perturb import PERTURB_NAMES, perturb
from rfnet.robustness.registry import ATTACK_NAMES

__all__ = ["ATTACK_NAMES", "PERTURB_NAMES", "perturb"]
