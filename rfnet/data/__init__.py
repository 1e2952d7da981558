"""Datasets and file formats: RadioML, SigMF, rfnet's synthetic generator."""
