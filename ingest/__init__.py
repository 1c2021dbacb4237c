"""Receiving scanned dossiers and driving them through the pipeline: intake, storage, page jobs, index, verify."""
