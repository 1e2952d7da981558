"""Signal processing on complex baseband IQ: complex64 tensors ``[batch, samples]``."""
