"""Spectrogram lab: make a signal (modulation, SNR, channel impairments, an interferer) or upload a
recording, and see its waveform, its constellation, the spectrogram exactly as the chosen model sees it
and the model's class probabilities, all updated as the controls move."""

from __future__ import annotations

import dataclasses
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
import torch

from rfnet.dashboard.shared import ChosenModel, chosen_model
from rfnet.data.iq_file import read_iq_file
from rfnet.dsp import INTERFERENCE, MODULATIONS, ChannelConfig, Spectrogram, SpectrogramConfig
from rfnet.dsp.power import signal_power
from rfnet.dsp.scenario import Scenario, make_signal
from rfnet.dsp.spectrogram import IMAGENET_MEAN, IMAGENET_STD
from rfnet.models import SpectrogramClassifier
from rfnet.robustness import PERTURB_NAMES, perturb
from rfnet.robustness.registry import JSR_ATTACKS

CHANNELS = {
    "AWGN only": ChannelConfig.clean,
    "RadioML 2016 (GNU Radio dynamic channel)": ChannelConfig.rml2016,
    "Over the air (RadioML 2018-like)": ChannelConfig.rml2018,
}
FADING = {"none": None, "Rayleigh": "rayleigh", "Rician": "rician"}
# (Bare strings would be drawn on the page by Streamlit's "magic": comments here.)
RICIAN_K_WHEN_CHOSEN = 3.0  # K factor of Rician fading switched on over a preset that has none
LENGTHS = (128, 1024)  # samples per generated example without a model: RadioML 2016's and 2018's
NONE, INTERFERER, ATTACK = "None", "Interferer", "Attack"
# Attacks on the model at a perturbation-to-signal ratio (the jammers are the interferers).
ATTACKS = tuple(name for name in PERTURB_NAMES if name not in JSR_ATTACKS)
UPLOAD_TYPES = ["npy", "sigmf", "sigmf-meta", "sigmf-data"]
OPENED_BY = (".npy", ".sigmf", ".sigmf-meta")  # the file a recording is read through (not .sigmf-data)
CONSTELLATION_POINTS = 2048


def _impairments(preset_name: str) -> ChannelConfig:
    """The chosen channel preset with its main impairments adjustable."""
    preset = CHANNELS[preset_name]()
    with st.expander("Impairments"):
        # Keys carry the preset so that choosing another preset starts from its values.
        suffix = list(CHANNELS).index(preset_name)
        fading = FADING[st.selectbox("Multipath fading", list(FADING),
                                     index=list(FADING.values()).index(preset.fading), key=f"lab_fading_{suffix}")]
        doppler = st.number_input("Max Doppler (Hz)", 0.0, 1000.0, preset.max_doppler_hz, key=f"lab_doppler_{suffix}")
        cfo = st.number_input("Carrier frequency offset, max (Hz)", 0.0, preset.sample_rate_hz / 4,
                              preset.cfo_max_hz, key=f"lab_cfo_{suffix}")
        linewidth = st.number_input("Phase noise linewidth, max (Hz)", 0.0, 10_000.0,
                                    preset.phase_noise_linewidth_hz[1], key=f"lab_linewidth_{suffix}")
        sro = st.number_input("Sample-rate offset, max (Hz)", 0.0, preset.sample_rate_hz / 1000,
                              preset.sro_max_hz, key=f"lab_sro_{suffix}")
        random_phase = st.checkbox("Random carrier phase", preset.random_phase, key=f"lab_phase_{suffix}")
        st.caption(f"Sample rate {preset.sample_rate_hz / 1e3:g} kHz; offsets are drawn per example "
                   "within ± the maximum.")
    rician_k = 0.0 if fading != "rician" else (preset.rician_k or RICIAN_K_WHEN_CHOSEN)
    return dataclasses.replace(
        preset, fading=fading, rician_k=rician_k, max_doppler_hz=doppler,
        cfo_max_hz=cfo, cfo_walk_std_hz=preset.cfo_walk_std_hz if cfo > 0 else 0.0,
        phase_noise_linewidth_hz=(min(preset.phase_noise_linewidth_hz[0], linewidth), linewidth),
        sro_max_hz=sro, sro_walk_std_hz=preset.sro_walk_std_hz if sro > 0 else 0.0,
        random_phase=random_phase)


def generated_signal(model: ChosenModel | None) -> tuple[torch.Tensor, float, str]:
    """The controls of a generated signal → (complex64 ``[1, N]``, sample rate in Hz, true class)."""
    classes = [name for name in model.saved.model.classes if name in MODULATIONS] if model else []
    if model and not classes:
        st.warning("None of the model's classes is a modulation rfnet can generate; showing all of them.")
    modulation = st.selectbox("Modulation", classes or list(MODULATIONS), key="lab_modulation")
    if model:
        length = model.window
    else:
        length = st.selectbox("Samples", LENGTHS, key="lab_length")
    snr_db = st.slider("SNR (dB)", -20, 40, 10, key="lab_snr")
    channel = _impairments(st.selectbox("Channel", list(CHANNELS), key="lab_channel"))
    attackable = model is not None and modulation in model.saved.model.classes
    extra = st.radio("Add", [NONE, INTERFERER, ATTACK] if attackable else [NONE, INTERFERER], horizontal=True,
                     key="lab_extra", help="An attack needs a model that knows the class sent: it follows "
                                           "the gradient of the model's loss on that class.")
    kind, jsr_db = None, 0.0
    if extra == INTERFERER:
        kind = st.selectbox("Interferer", list(INTERFERENCE), key="lab_interferer")
        jsr_db = st.slider("JSR (dB)", -30, 20, -5, key="lab_jsr")
    elif extra == ATTACK:
        attack = st.selectbox("Attack", ATTACKS, key="lab_attack")
        psr_db = st.slider("PSR (dB)", -40, 0, -20, key="lab_psr",
                           help="Perturbation to signal power ratio, on the same power definition as SNR.")
    seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="lab_seed")
    scenario = Scenario(modulation, num_samples=length, snr_db=float(snr_db), channel=channel,
                        interference=kind, jsr_db=float(jsr_db), seed=int(seed))
    iq = make_signal(scenario)
    if extra == ATTACK:
        label = torch.tensor([model.saved.model.classes.index(modulation)])
        iq = perturb(attack, model.saved.model, iq, label, float(psr_db), seed=int(seed))
    return iq, channel.sample_rate_hz, modulation


def _read_upload(files) -> tuple[torch.Tensor, float | None, str]:
    """Uploaded files → (complex64 ``[N]``, sample rate or None, file name); ``ValueError`` with a
    message fit to show (names the uploaded file, not where it was stored).

    The files are read from a temporary folder, removed whatever happens. The readers refuse what they
    cannot read in bounded time and memory (``ValueError`` / ``FileNotFoundError``); a ``MemoryError``
    that still escapes them (the machine has less memory than a plausible recording needs) is one too.
    """
    names = [Path(f.name).name for f in files]
    mains = [name for name in names if name.endswith(OPENED_BY)]
    if len(mains) != 1:
        raise ValueError("upload one recording: a .npy file, a .sigmf archive, or a .sigmf-meta file "
                         f"with its .sigmf-data (got {', '.join(names)})")
    with tempfile.TemporaryDirectory(prefix="rfnet-upload-") as folder:
        for upload, name in zip(files, names):
            (Path(folder) / name).write_bytes(upload.getvalue())
        try:
            stream = read_iq_file(Path(folder) / mains[0])
        except (ValueError, FileNotFoundError) as err:
            raise ValueError(str(err).replace(f"{folder}/", "")) from None
        except MemoryError:
            raise ValueError(f"{mains[0]}: too large to read into this server's memory") from None
    return stream.samples, stream.sample_rate_hz, mains[0]


def _implausible(window: torch.Tensor) -> str | None:
    """Why the complex64 ``[N]`` window cannot be IQ to classify (all zeros, or a power that overflows
    float32, as raw integer counts of 2^63 do), or None when it can."""
    power = float(signal_power(window.unsqueeze(0))[0])
    if power == 0.0:
        return "holds only zeros there"
    if not math.isfinite(power):
        return (f"has samples of magnitude up to {float(window.abs().max()):.3g}, whose power overflows "
                "float32: not IQ at a scale a model reads (scale it to about unit power)")
    return None


def uploaded_signal(model: ChosenModel | None) -> tuple[torch.Tensor, float | None, None] | None:
    """The upload controls → (complex64 ``[1, window]``, sample rate or None, None), or None when there
    is nothing (valid) to show; problems are shown as errors in the page."""
    files = st.file_uploader(
        "SigMF recording (.sigmf archive, or .sigmf-meta with its .sigmf-data) or .npy of complex IQ",
        type=UPLOAD_TYPES, accept_multiple_files=True, key="lab_upload")
    if not files:
        st.info("Upload a recording to look at it.")
        return None
    try:
        samples, rate, name = _read_upload(files)
    except ValueError as err:
        st.error(f"Cannot read the upload: {err}")
        return None
    needed = model.window if model else min(LENGTHS)
    if len(samples) < needed:
        st.error(f"{name} holds {len(samples)} samples; "
                 + (f"the model classifies {needed}-sample windows." if model else f"the lab needs {needed}."))
        return None
    window = model.window if model else min(len(samples), max(LENGTHS))
    last = len(samples) - window
    start = st.slider("Window start (sample)", 0, last, 0, key="lab_start") if last else 0
    st.caption(f"{name}: {len(samples):,} samples" + (f" at {rate / 1e3:g} kHz" if rate else "")
               + f"; showing samples {start:,} to {start + window:,}.")
    shown = samples[start:start + window]
    problem = _implausible(shown)
    if problem:
        st.error(f"{name} {problem} (samples {start:,} to {start + window:,}).")
        return None
    return shown.unsqueeze(0), rate, None


def _frontend(model: ChosenModel | None, num_samples: int) -> tuple[Spectrogram, bool]:
    """The model's own front end (True) or, for a raw-IQ model or none, rfnet's default (False)."""
    if model and isinstance(model.saved.model, SpectrogramClassifier):
        return model.saved.model.frontend, True
    return Spectrogram(SpectrogramConfig.for_length(num_samples)), False


def show_prediction(model: ChosenModel, iq: torch.Tensor, truth: str | None) -> None:
    """The model's verdict on ``iq`` (complex64 ``[1, N]``) and every class's probability."""
    with torch.no_grad():
        probabilities = torch.softmax(model.saved.model(iq).float(), dim=-1)[0]
    classes = list(model.saved.model.classes)
    best = int(probabilities.argmax())
    verdict = "" if truth is None else (" ✓" if classes[best] == truth else f" ✗ (sent {truth})")
    st.metric("Prediction", f"{classes[best]} · {probabilities[best]:.1%}{verdict}")
    table = pd.DataFrame({"class": classes, "probability": probabilities.numpy().astype(float)})
    st.bar_chart(table, x="class", y="probability", sort="-probability", height=260)
    with st.expander("Class probabilities"):
        st.dataframe(table.sort_values("probability", ascending=False), hide_index=True,
                     column_config={"probability": st.column_config.NumberColumn(format="%.4f")})
    if model.window_note:
        st.caption(model.window_note)


def _image_for_display(image: torch.Tensor, config: SpectrogramConfig) -> list[np.ndarray]:
    """The front end's float ``[C, H, W]`` as images in [0, 1]: one RGB image for 3 channels, one
    grey image per channel otherwise. ImageNet normalisation is undone (it is a fixed affine map)."""
    if config.imagenet_normalize:
        mean = torch.tensor(IMAGENET_MEAN).view(-1, 1, 1)
        std = torch.tensor(IMAGENET_STD).view(-1, 1, 1)
        image = image * std + mean
    image = image.clamp(0, 1).numpy()
    if image.shape[0] == 3:
        return [image.transpose(1, 2, 0)]
    return list(image)


def show_spectrogram(iq: torch.Tensor, model: ChosenModel | None) -> None:
    """The image the model's front end makes of ``iq`` (complex64 ``[1, N]``), or rfnet's default one's."""
    frontend, own = _frontend(model, iq.shape[1])
    with torch.no_grad():
        image = frontend(iq)[0]
    st.markdown("**Spectrogram, as the model sees it**" if own else "**Spectrogram**")
    config = frontend.config
    pictures = _image_for_display(image, config)
    st.image(pictures, width=320, clamp=True,
             caption=[f"channel {k}" for k in range(len(pictures))] if len(pictures) > 1 else None)
    where = ("the model's own front end" if own else
             "rfnet's default front end (the model reads raw IQ)" if model else "rfnet's default front end")
    st.caption(f"Output of {where}: {tuple(image.shape)} image, n_fft {config.n_fft}, hop "
               f"{config.hop_length}, {config.window} window, floor {config.floor_db:g} dB, "
               f"{config.channel_mapping} channels"
               + (", ImageNet-normalised (shown undone)" if config.imagenet_normalize else "")
               + ". Frequency up (DC in the middle), time to the right.")


def show_waveform(iq: torch.Tensor, sample_rate_hz: float | None) -> None:
    """I and Q of ``iq`` (complex64 ``[1, N]``) against time (samples when the rate is unknown)."""
    samples = iq[0].numpy()
    if sample_rate_hz:
        time, time_label = np.arange(len(samples)) / sample_rate_hz * 1e6, "time (µs)"
    else:
        time, time_label = np.arange(len(samples)), "sample"
    st.markdown("**Waveform**")
    waveform = pd.DataFrame({time_label: time, "I": samples.real, "Q": samples.imag})
    st.line_chart(waveform, x=time_label, y=["I", "Q"], y_label="amplitude", height=260)


def show_constellation(iq: torch.Tensor) -> None:
    """Q against I of the samples of ``iq`` (complex64 ``[1, N]``; the first few thousand)."""
    samples = iq[0, :CONSTELLATION_POINTS].numpy()
    st.markdown("**Constellation**")
    st.scatter_chart(pd.DataFrame({"I": samples.real, "Q": samples.imag}), x="I", y="Q", height=260)


st.title("Spectrogram lab")
model = chosen_model()
controls, view = st.columns([1, 2], gap="large")
with controls:
    source = st.radio("Signal", ["Generate", "Upload"], horizontal=True, key="lab_source")
    signal = generated_signal(model) if source == "Generate" else uploaded_signal(model)
with view:
    if signal is not None:
        iq, rate, truth = signal
        left, right = st.columns(2)
        with left:
            if model is not None:
                show_prediction(model, iq, truth)
            else:
                show_waveform(iq, rate)
        with right:
            show_spectrogram(iq, model)
        left, right = st.columns(2)
        with left:
            if model is not None:
                show_waveform(iq, rate)
            else:
                show_constellation(iq)
        if model is not None:
            with right:
                show_constellation(iq)
