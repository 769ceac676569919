"""Comparing Chinese rule-of-law government (法治政府建设) plans.

The package turns raw captures of planning documents into traceable tables
(documents -> sections -> tasks -> measures, units, targets), codes tasks into
one theme taxonomy, and provides the comparisons used by the notebooks.

Stages (one module each, data flowing one way)::

    read -> clean -> repair -> structure -> tasks -> units / targets / themes -> tables

`analysis.pipeline.process_document` runs them for one document;
`python -m analysis build` runs them for the corpus manifest.
"""

__version__ = "0.1.0"
