"""The per-channel statistics that ImageNet-trained networks normalise their input with.

Both the ImageNet pipeline (:mod:`rfnet.imagenet.transforms`) and the spectrogram front end
(``Spectrogram(imagenet_normalize=True)``) read them here, so a backbone trained on ImageNet sees
spectrograms on the scale it was trained on. No imports: cheap to read from anywhere.
"""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
"""Per-channel (RGB) mean and std of ImageNet images scaled to [0, 1]."""
