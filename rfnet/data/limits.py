"""Bounds on what a data file may declare, checked by the readers before anything is allocated.

A file from elsewhere states its own sizes (a pickle opcode's length, an array's shape, an HDF5
dataset's extent, a ``.npy`` header, a SigMF metadata file). The readers trust none of them: each
declared size is compared with the bytes the file really holds and with the maxima below, and a file
that exceeds either is refused with one ``ValueError`` naming it, before memory is asked for.
"""

from __future__ import annotations

#: Examples (rows) a RadioML file may hold. RadioML 2018.01A, the largest public one, has 2,555,904.
MAX_EXAMPLES = 2**24

#: Complex samples per example (or per ``.npy`` stream row). RadioML uses 128 and 1024.
MAX_SAMPLES_PER_EXAMPLE = 2**20

#: Largest magnitude of an SNR label in dB; anything beyond is a corrupt or hostile key.
MAX_ABS_SNR_DB = 1000

#: Opcodes a RadioML pickle may hold. RML2016.10a has about 10,000; each opcode can create at most one
#: small Python object, so this bounds what the non-array part of a pickle can cost.
MAX_PICKLE_OPCODES = 2**20

#: Size of a SigMF metadata file (JSON). rfnet writes about 150 bytes per annotation, so this holds some
#: 440,000 examples (use HDF5 beyond); parsing and validating it takes up to about 25 times its size in
#: memory and 30 s per 10 MB of annotations.
MAX_SIGMF_METADATA_BYTES = 2**26

#: Nesting depth of SigMF metadata JSON (the format needs 4: object, list, object, value).
MAX_JSON_DEPTH = 32
