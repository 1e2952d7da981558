"""Evaluate a classifier: predictions over a dataset, accuracy and calibration metrics, report figures.

    validation = predict(model, validation_set)
    temperature = fit_temperature(validation.logits, validation.labels)
    write_report(predict(model, test_set), model.classes, "run/eval", temperature=temperature)
"""

from rfnet.evaluation.calibration import (
    ReliabilityBins,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability_bins,
)
from rfnet.evaluation.metrics import (
    DEFAULT_HIGH_SNR_DB,
    AccuracyCount,
    accuracy_by_class,
    accuracy_by_snr,
    confusion_matrix,
    mean_accuracy_at_or_above,
    overall_accuracy,
    row_normalize,
)
from rfnet.evaluation.predictions import Predictions, predict
from rfnet.evaluation.report import (
    accuracy_by_snr_table,
    accuracy_curve,
    compare_reports,
    compute_metrics,
    write_report,
)

__all__ = [
    "DEFAULT_HIGH_SNR_DB",
    "AccuracyCount",
    "Predictions",
    "ReliabilityBins",
    "accuracy_by_class",
    "accuracy_by_snr",
    "accuracy_by_snr_table",
    "accuracy_curve",
    "compare_reports",
    "compute_metrics",
    "confusion_matrix",
    "expected_calibration_error",
    "fit_temperature",
    "mean_accuracy_at_or_above",
    "negative_log_likelihood",
    "overall_accuracy",
    "predict",
    "reliability_bins",
    "row_normalize",
    "write_report",
]
