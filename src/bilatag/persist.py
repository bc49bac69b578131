"""Saving and safely loading a trained model: ``model.joblib`` and its ``manifest.json``.

A joblib file is a pickle, and unpickling can run arbitrary code: load only models you trust.
Before unpickling, :func:`load_model` checks that the file's sha256 matches the manifest's, so
a missing, truncated, corrupted or swapped file is a :class:`~bilatag.ModelError`, never a
crash inside joblib. After unpickling, it replays the probe statements stored in the manifest
and compares the scores with those recorded at training time: a scikit-learn, NumPy or SciPy
release that computes differently is caught there, with the retraining command in the message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import warnings
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from .errors import ModelError
from .features import StatementContext
from .model import TopicClassifier

__all__ = ["MODEL_FILE", "MANIFEST_FILE", "save_model", "load_model", "file_sha256",
           "default_model_dir", "environment_versions", "PROBES"]

log = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
_PROBE_TOLERANCE = 1e-6

#: Statements replayed after loading, to prove the model computes as it did when trained.
PROBES: tuple[StatementContext, ...] = (
    StatementContext("Les deux ministres ont évoqué la lutte contre l'immigration irrégulière."),
    StatementContext("La délivrance des laissez-passer consulaires reste le point de blocage."),
    StatementContext("Les mineurs non accompagnés seront pris en charge à leur retour."),
    StatementContext("Une cellule terroriste a été démantelée par la DGST à Tanger."),
    StatementContext("Deux tonnes de résine de cannabis ont été saisies au port.",
                     ("Un go-fast a été intercepté sur l'autoroute.",)),
    StatementContext("Les échanges commerciaux ont progressé de 12 % en 2024."),
    StatementContext("À ce titre, ces réseaux seront démantelés.",
                     ("La police a arrêté des passeurs.",), True),
)


def default_model_dir() -> Path:
    """The shipped model: inside the installed package, or ``models/`` of a source checkout."""
    packaged = Path(__file__).resolve().parent / "models"
    if (packaged / MANIFEST_FILE).is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "models"


def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def environment_versions() -> dict[str, str]:
    """Versions of Python and of the libraries a model depends on."""
    import scipy
    import sklearn
    import spacy

    from . import __version__

    return {"python": platform.python_version(), "bilatag": __version__,
            "scikit-learn": sklearn.__version__, "numpy": np.__version__,
            "scipy": scipy.__version__, "spacy": spacy.__version__,
            "joblib": joblib.__version__}


def _probe_scores(model: TopicClassifier) -> list[list[float]]:
    return model.predict_proba(list(PROBES)).round(9).tolist()


def save_model(model: TopicClassifier, folder: str | Path, info: dict[str, Any]) -> Path:
    """Write ``model.joblib`` and ``manifest.json`` (with ``info`` merged in) to ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    joblib.dump(model, path, compress=("zlib", 3))
    manifest = {
        "format": 1,
        "model_file": MODEL_FILE,
        "sha256": file_sha256(path),
        "size_bytes": path.stat().st_size,
        "versions": environment_versions(),
        "probes": {"statements": [p._asdict() for p in PROBES], "scores": _probe_scores(model)},
        **info,
    }
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
    log.info("model written to %s (%d bytes)", path, manifest["size_bytes"])
    return path


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a model folder; :class:`ModelError` when missing or unreadable."""
    path = Path(folder) / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"no model manifest at {path}; train one with `bilatag train`") from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the model manifest {path}: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sha256"), str):
        raise ModelError(f"{path} is not a bilatag model manifest")
    return manifest


def load_model(folder: str | Path | None = None) -> tuple[TopicClassifier, dict[str, Any]]:
    """Load a model folder after checking its integrity (see the module docstring)."""
    folder = Path(folder) if folder is not None else default_model_dir()
    manifest = read_manifest(folder)
    path = folder / manifest.get("model_file", MODEL_FILE)
    if not path.is_file():
        raise ModelError(f"model file {path} is missing")
    digest = file_sha256(path)
    if digest != manifest["sha256"]:
        raise ModelError(f"model file {path} does not match its manifest (sha256 {digest[:12]}… "
                         f"instead of {manifest['sha256'][:12]}…): corrupted, truncated or "
                         "replaced; reinstall bilatag or retrain with `bilatag train`")
    retrain = ("retrain it with `bilatag train --data DATA --out MODEL_DIR`, or install the "
               f"versions it was trained with: {manifest.get('versions')}")
    try:
        with warnings.catch_warnings():
            # Version differences are checked below by replaying the probes.
            warnings.simplefilter("ignore")
            model = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a model problem
        raise ModelError(f"cannot load {path} in this environment ({exc!r}); {retrain}") from exc
    if not isinstance(model, TopicClassifier):
        raise ModelError(f"{path} does not hold a bilatag TopicClassifier")
    _check_probes(model, manifest, path, retrain)
    trained_with = manifest.get("versions", {})
    for name, version in environment_versions().items():
        if name != "bilatag" and trained_with.get(name) not in (None, version):
            log.warning("model %s was trained with %s %s, this is %s; its load-time check passed",
                        path, name, trained_with[name], version)
    return model, manifest


def _check_probes(model: TopicClassifier, manifest: dict[str, Any], path: Path, retrain: str) -> None:
    probes = manifest.get("probes") or {}
    try:
        statements = [StatementContext(p["text"], tuple(p["previous"]), bool(p["new_block"]))
                      for p in probes["statements"]]
        expected = np.asarray(probes["scores"], dtype=float)
        got = model.predict_proba(statements)
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"{path}: the model fails its load-time check ({exc!r}); {retrain}") from exc
    if got.shape != expected.shape or not np.allclose(got, expected, atol=_PROBE_TOLERANCE, rtol=0):
        raise ModelError(f"{path} computes different scores in this environment than when it was "
                         f"trained (versions now: {environment_versions()}); {retrain}")
