"""AlexNet backbones, the two-device split, and saving / loading models.

>>> from rfnet.models import create_model
>>> model = create_model("alexnet", num_classes=10)
"""

from .alexnet import AlexNet, AlexNetBackbone, AlexNetTV, load_torchvision_weights
from .baselines import RadioMLResNet, VTCNN2
from .classifier import SpectrogramClassifier, check_classes
from .io import load, read_config, save
from .layers import TowerLocalResponseNorm
from .parallel import TwoTowerAlexNet
from .registry import create_model, list_models, register_model
from .weights import adapt_input_conv

__all__ = [
    "AlexNet",
    "AlexNetBackbone",
    "AlexNetTV",
    "TowerLocalResponseNorm",
    "RadioMLResNet",
    "SpectrogramClassifier",
    "TwoTowerAlexNet",
    "VTCNN2",
    "adapt_input_conv",
    "check_classes",
    "create_model",
    "list_models",
    "load",
    "load_torchvision_weights",
    "read_config",
    "register_model",
    "save",
]
