"""The command line: tag, evaluate, train (reproducible)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from conftest import DATA

from bilatag.cli import main
from bilatag.topics import TOPIC_IDS

TEXT = "date 2024-10 Les passeurs ont été arrêtés à Tanger. Le commerce progresse.\n"


def test_tag_jsonl(tmp_path, capsys) -> None:
    path = tmp_path / "a.txt"
    path.write_text(TEXT, encoding="utf-8")
    assert main(["tag", str(path)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in rows] == ["Les passeurs ont été arrêtés à Tanger.", "Le commerce progresse."]
    assert rows[0]["doc_id"] == str(path) and rows[0]["date"] == "2024-10"
    assert set(rows[0]["scores"]) == set(TOPIC_IDS)
    assert "migration" in rows[0]["topics"]


def test_tag_csv_from_stdin(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(TEXT))
    assert main(["tag", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 2 and rows[0]["doc_id"] == "-"
    assert rows[1]["text"] == "Le commerce progresse."
    assert {f"score_{t}" for t in TOPIC_IDS} <= set(rows[0])


def test_tag_bad_file(tmp_path, capsys) -> None:
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Sécurité".encode("latin-1"))
    assert main(["tag", str(bad)]) == 2
    assert "UTF-8" in capsys.readouterr().err
    assert main(["tag", str(tmp_path / "missing.txt")]) == 2


def test_evaluate(capsys) -> None:
    assert main(["evaluate", str(DATA / "dev.jsonl"), "--errors", "3"]) == 0
    out = capsys.readouterr().out
    for needle in ("exact", "micro-F1", "macro-F1", "false-alarm", "accuracy", "mistakes", *TOPIC_IDS):
        assert needle in out


def test_evaluate_bad_corpus(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"doc_id": 1}\n', encoding="utf-8")
    assert main(["evaluate", str(bad)]) == 2
    assert "doc_id" in capsys.readouterr().err


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    for name, n in (("train", 70), ("dev", 15), ("test", 15)):
        lines = (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()[:n]
        (folder / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_train_is_reproducible(small_corpus, tmp_path) -> None:
    manifests = []
    for run in ("a", "b"):
        out = tmp_path / run
        assert main(["train", "--data", str(small_corpus), "--out", str(out)]) == 0
        manifests.append(json.loads((out / "manifest.json").read_text(encoding="utf-8")))
    a, b = manifests
    assert a["metrics"] == b["metrics"]
    assert a["probes"] == b["probes"]
    assert a["thresholds"] == b["thresholds"]
    assert a["data_sha256"] == b["data_sha256"]
    assert a["sha256"] == b["sha256"]
    assert a["trained_on"] == "train+dev" and a["thresholds_chosen_on"].startswith("dev, out of fold")
    assert a["metrics"]["dev"]["span_f1"] is None  # out-of-fold scores on the gold statements
    assert 0.0 <= a["metrics"]["test"]["span_f1"] <= 1.0
    assert main(["evaluate", str(small_corpus / "test.jsonl"), "--model", str(tmp_path / "a")]) == 0


def test_python_dash_m() -> None:
    result = subprocess.run([sys.executable, "-m", "bilatag", "tag", "-"], input=TEXT, text=True,
                            capture_output=True, check=True)
    assert len(result.stdout.splitlines()) == 2
