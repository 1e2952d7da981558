"""AlexNet backbones, the two-device split, and saving / loading models.

>>> from rfnet.models import create_model
>>> model = create_model("alexnet", num_classes=10)
"""

from .alexnet import AlexNet, AlexNetBackbone, AlexNetConfig, AlexNetTV, AlexNetTVConfig, load_torchvision_weights
from .baselines import VTCNN2, RadioMLResNet, RadioMLResNetConfig, VTCNN2Config
from .classifier import ClassifierConfig, SpectrogramClassifier, check_classes
from .config import InputSpec
from .io import load, read_config, save
from .layers import TowerLocalResponseNorm
from .parallel import TwoTowerAlexNet
from .registry import create_model, list_models, register_model
from .weights import adapt_input_conv

__all__ = [
    "AlexNet",
    "AlexNetBackbone",
    "AlexNetConfig",
    "AlexNetTV",
    "AlexNetTVConfig",
    "ClassifierConfig",
    "InputSpec",
    "TowerLocalResponseNorm",
    "RadioMLResNet",
    "RadioMLResNetConfig",
    "SpectrogramClassifier",
    "TwoTowerAlexNet",
    "VTCNN2",
    "VTCNN2Config",
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
