"""rfnet: classify radio signals from their spectrograms with AlexNet.

``rfnet.models`` holds the backbone (the paper's AlexNet, torchvision's layout, the two-device split).
"""

__version__ = "0.1.0"

from rfnet import models  # noqa: E402

__all__ = ["__version__", "models"]
