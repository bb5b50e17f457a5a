"""Measured datasets shipped with alphaflops (installed as ``alphaflops.data``).

Each ``*.json`` file here is a dataset in the project JSON format; its file
name without ``.json`` is the name that ``load_dataset`` and ``--dataset``
accept. See README.md in this folder for how each set was measured.
"""
