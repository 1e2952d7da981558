import torch

import rfnet


def test_import_rfnet_gives_the_backbone_the_front_end_and_the_loaders():
    model = rfnet.create_model("alexnet_tv", num_classes=3).eval()
    frontend = rfnet.Spectrogram(rfnet.SpectrogramConfig.for_length(128, image_size=(63, 63)))
    iq = rfnet.dsp.modulate("BPSK", 2, 128, generator=torch.Generator().manual_seed(0))
    assert model(frontend(iq)).shape == (2, 3)
    assert rfnet.load_radioml is rfnet.data.load_radioml
    assert rfnet.SigMFWindows is rfnet.data.SigMFWindows
