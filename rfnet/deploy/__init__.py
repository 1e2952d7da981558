"""Deployable files of trained classifiers: ONNX and TorchScript export, checked against PyTorch."""

from .export import FORMATS, ExportResult, export_model

__all__ = ["FORMATS", "ExportResult", "export_model"]
