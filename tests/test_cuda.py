"""What only a CUDA GPU can check. Skipped without one; ``benchmarks/gpu_check.py`` runs every test marked
``cuda`` (``pytest -m cuda``) on the GPU machine.

- the paper's two-tower split on ("cuda:0", "cpu") and ("cuda:0", "cuda:0"): outputs and gradients equal to
  the grouped net's (float64, so equal means to rounding);
- a bf16 autocast training step: finite, and close to the fp32 step;
- JPEG decoding on the GPU (torchvision's nvjpeg batch decode, DALI's "mixed" decoder) equal to the CPU
  decode within JPEG tolerance (the IDCT and chroma upsampling differ by a few grey levels);
- the spectrogram front end on CUDA equal to the CPU one, for every channel mapping;
- every ``rfnet bench`` mode on CUDA runs, or is skipped with the reason it does not apply.
"""

import pytest
import torch

from rfnet.bench.measure import Subject, measure
from rfnet.bench.store import MODES
from rfnet.dsp.spectrogram import CHANNEL_MAPPINGS, Spectrogram, SpectrogramConfig
from rfnet.imagenet.folder import ImageNetFolder
from rfnet.imagenet.image_folders import write_procedural_imagenet
from rfnet.imagenet.jpeg import decode_rgb, decode_rgb_batch
from rfnet.imagenet.transforms import eval_transform
from rfnet.models import AlexNet, TwoTowerAlexNet, create_model

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

JPEG_MEAN_LEVELS, JPEG_MAX_LEVELS = 1.0, 16.0
"""GPU against CPU JPEG decoding, in grey levels (0..255): the mean difference, and the largest one
(chroma upsampling differs most at sharp colour edges)."""


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory):
    """A val folder of 6 JPEGs, 300 high and 300-400 wide."""
    root = write_procedural_imagenet(tmp_path_factory.mktemp("imagenet") / "data", num_classes=3,
                                     train_per_class=1, val_per_class=2, size=300, seed=0)
    return ImageNetFolder(root, "val", transform=eval_transform(227))


@pytest.mark.parametrize("devices", [("cuda:0", "cpu"), ("cuda:0", "cuda:0")])
def test_split_on_cuda_outputs_and_gradients_equal_the_grouped_net(devices):
    torch.manual_seed(0)
    single = AlexNet(num_classes=5, init="caffe", drop_rate=0.0).double()
    with torch.no_grad():  # weights large enough that LRN and every ReLU matter
        for p in single.parameters():
            p.mul_(8.0)
    split = TwoTowerAlexNet.from_single(single, devices=devices).double()
    x, target = torch.randn(3, 3, 99, 99, dtype=torch.float64), torch.tensor([0, 3, 4])
    out_single = single(x)
    torch.nn.functional.cross_entropy(out_single, target).backward()
    out_split = split(x.to(devices[0]))
    torch.nn.functional.cross_entropy(out_split, target.to(devices[0])).backward()
    assert out_split.device == torch.device(devices[0]) and out_single.abs().max() > 1e-3
    torch.testing.assert_close(out_split.cpu(), out_single, rtol=1e-9, atol=1e-12)
    layers = dict(single.stages())
    for name in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"):
        for part in ("weight", "bias"):
            joined = torch.cat([getattr(getattr(t, name), part).grad.cpu() for t in split.towers])
            expected = getattr(layers[name], part).grad
            assert expected.abs().max() > 0, name
            torch.testing.assert_close(joined, expected, rtol=1e-9, atol=1e-12, msg=f"{name}.{part}")


def test_a_bf16_autocast_training_step_is_finite_and_close_to_fp32():
    torch.manual_seed(0)
    model = AlexNet(num_classes=10, init="he", drop_rate=0.0).cuda()
    x, y = torch.randn(16, 3, 227, 227, device="cuda"), torch.randint(0, 10, (16,), device="cuda")
    grads = {}
    for dtype in (torch.float32, torch.bfloat16):
        model.zero_grad()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
            loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        grads[dtype] = (loss.detach(), [p.grad.detach().clone() for p in model.parameters()])
    (loss32, grads32), (loss16, grads16) = grads[torch.float32], grads[torch.bfloat16]
    assert torch.isfinite(loss16) and all(torch.isfinite(g).all() for g in grads16)
    assert abs(loss16 - loss32) <= 0.02 * loss32
    for g16, g32 in zip(grads16, grads32):
        cosine = torch.nn.functional.cosine_similarity(g16.flatten().float(), g32.flatten(), dim=0)
        assert cosine > 0.98


def _grey_levels(ours: torch.Tensor, theirs: torch.Tensor) -> tuple[float, float]:
    difference = (ours.float() - theirs.float()).abs()
    return difference.mean().item(), difference.max().item()


def test_nvjpeg_batch_decode_equals_the_cpu_decode(jpegs):
    encoded = [jpegs.encoded(i) for i in range(len(jpegs))]
    paths = [jpegs.path(i) for i in range(len(jpegs))]
    on_gpu = decode_rgb_batch(encoded, paths, "cuda")
    for image, data, path in zip(on_gpu, encoded, paths):
        on_cpu = decode_rgb(data, path)
        assert image.device.type == "cuda" and image.shape == on_cpu.shape
        mean, largest = _grey_levels(image.cpu(), on_cpu)
        assert mean <= JPEG_MEAN_LEVELS and largest <= JPEG_MAX_LEVELS, path


def test_dali_on_the_gpu_equals_dali_on_the_cpu_within_jpeg_tolerance(jpegs):
    pytest.importorskip("nvidia.dali")
    from rfnet.imagenet.dali import DaliBatchPreprocess

    encoded, indices = [jpegs.encoded(i) for i in range(len(jpegs))], torch.arange(len(jpegs))
    on_gpu = DaliBatchPreprocess(jpegs, jpegs.transform, "cuda", batch_size=8)(encoded, indices)
    on_cpu = DaliBatchPreprocess(jpegs, jpegs.transform, "cpu", batch_size=8)(encoded, indices)
    assert on_gpu.device.type == "cuda" and on_gpu.shape == on_cpu.shape == (6, 3, 227, 227)
    scale = 255 * torch.tensor(jpegs.transform.std).view(3, 1, 1)  # normalised units -> grey levels
    mean, largest = _grey_levels(on_gpu.cpu() * scale, on_cpu * scale)
    assert mean <= JPEG_MEAN_LEVELS and largest <= JPEG_MAX_LEVELS


@pytest.mark.parametrize("mapping", sorted(CHANNEL_MAPPINGS))
def test_the_spectrogram_front_end_on_cuda_equals_the_cpu_one(mapping):
    frontend = Spectrogram(SpectrogramConfig.for_length(1024, channel_mapping=mapping))
    iq = torch.randn(3, 1024, dtype=torch.complex64, generator=torch.Generator().manual_seed(0))
    on_cpu = frontend(iq)
    on_gpu = frontend.to("cuda")(iq.to("cuda"))
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu(), on_cpu, atol=1e-4, rtol=1e-4)


def test_every_bench_mode_on_cuda_runs_or_says_why_not():
    model = create_model("spectrogram_classifier", classes=["a", "b", "c"], num_samples=128).cuda()
    subject = Subject.for_iq(model, "alexnet", num_samples=128)
    outcome = measure(subject, MODES, [2], "cuda", warmup=1, repeats=3, budget_s=2.0)
    measured = {m.mode for m in outcome.measurements}
    skipped = {s.mode: s.reason for s in outcome.skipped}
    assert measured | set(skipped) == set(MODES)
    assert {"eager", "bf16", "fp16", "cuda_graphs"} <= measured
    failed = {mode: reason for mode, reason in skipped.items() if reason.startswith("failed")}
    assert not failed, failed
