"""Safe model loading: integrity check, load-time probes, version mismatch (issue 4)."""

from __future__ import annotations

import json
import shutil

import pytest

import bilatag
from bilatag.persist import MANIFEST_FILE, MODEL_FILE, default_model_dir, load_model


@pytest.fixture()
def model_copy(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(default_model_dir(), folder)
    return folder


def test_shipped_model_is_small_and_described() -> None:
    folder = default_model_dir()
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert (folder / MODEL_FILE).stat().st_size < 20 * 1024 * 1024
    for key in ("sha256", "versions", "data_sha256", "thresholds", "metrics", "params", "seed",
                "threshold_rule"):
        assert key in manifest
    assert set(manifest["thresholds"]) == set(bilatag.TOPIC_IDS)
    assert {"dev", "test"} <= set(manifest["metrics"])
    assert {"python", "scikit-learn", "spacy", "bilatag"} <= set(manifest["versions"])


def test_load_copy(model_copy) -> None:
    tagger = bilatag.load(model_copy)
    assert tagger.tag("Les passeurs ont été arrêtés.").statements


def test_missing_folder_or_file(tmp_path, model_copy) -> None:
    with pytest.raises(bilatag.ModelError, match="manifest"):
        bilatag.load(tmp_path / "nowhere")
    (model_copy / MODEL_FILE).unlink()
    with pytest.raises(bilatag.ModelError, match="missing"):
        load_model(model_copy)


@pytest.mark.parametrize("damage", ["truncate", "flip", "replace"])
def test_damaged_model_file(model_copy, damage: str) -> None:
    path = model_copy / MODEL_FILE
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        path.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    else:
        path.write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")  # a malicious pickle: never loaded
    with pytest.raises(bilatag.ModelError, match="does not match its manifest"):
        load_model(model_copy)


def test_bad_manifest(model_copy) -> None:
    (model_copy / MANIFEST_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(bilatag.ModelError, match="cannot read"):
        load_model(model_copy)
    (model_copy / MANIFEST_FILE).write_text("[]", encoding="utf-8")
    with pytest.raises(bilatag.ModelError, match="not a bilatag model manifest"):
        load_model(model_copy)


def test_environment_that_computes_differently_is_refused(model_copy) -> None:
    """A library release that changes the model's numbers fails the probe check."""
    path = model_copy / MANIFEST_FILE
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["probes"]["scores"][0][0] += 0.01
    manifest["versions"]["scikit-learn"] = "0.0.0"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(bilatag.ModelError, match="bilatag train"):
        load_model(model_copy)


def test_version_difference_with_identical_numbers_loads_with_a_warning(model_copy, caplog) -> None:
    path = model_copy / MANIFEST_FILE
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["versions"]["scikit-learn"] = "0.0.0"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    load_model(model_copy)
    assert "scikit-learn" in caplog.text
