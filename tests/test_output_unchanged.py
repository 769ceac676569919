"""The tables a build writes are the ones recorded before the speed work (issue 13): no output changed.

The fingerprints (``tests/data/output_fingerprints.json``) were recorded by
``python -m benchmarks.fingerprint --write`` on the code as it stood before
any optimisation; every table of the seeds and of a synthetic sample is
compared.  An output change made on purpose rewrites them, and says so in its
commit.
"""

from __future__ import annotations

import json

import sklearn

from benchmarks.fingerprint import FINGERPRINT_PATH, corpus_fingerprints, differences


def test_every_table_matches_its_recorded_fingerprint(tmp_path):
    recorded = json.loads(FINGERPRINT_PATH.read_text(encoding="utf-8"))
    found = corpus_fingerprints(tmp_path)
    assert differences(recorded, found, themes=False) == []
    if recorded["scikit_learn"] == sklearn.__version__:  # theme codes come from a model fitted by this release
        assert differences(recorded, found, themes=True) == []


def test_a_changed_cell_is_reported(tmp_path):
    recorded = json.loads(FINGERPRINT_PATH.read_text(encoding="utf-8"))
    altered = json.loads(json.dumps(recorded["corpora"]))
    altered["seeds"]["tasks"]["sha256_without_themes"] = "0" * 64
    rows = recorded["corpora"]["seeds"]["tasks"]["rows"]
    expected = f"seeds/tasks: {rows} rows (recorded {rows}), contents differ"
    assert differences(recorded, altered, themes=False) == [expected]
