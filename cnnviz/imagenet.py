"""The 1000 ImageNet (ILSVRC-2012) classes, in the order of the networks trained on them.

The list is timm's (PyPI `timm`, Apache-2.0): `timm/data/_info/imagenet_synsets.txt` (the 1000 WordNet ids in
class order) and `imagenet_synset_to_lemma.txt` (each synset's WordNet lemmas), extracted once into
`cnnviz/data/imagenet_classes.json` by

    pip download --no-deps timm==1.0.31 -d /tmp/timm      # or an installed timm
    python -m cnnviz.imagenet --extract /tmp/timm/timm-1.0.31-py3-none-any.whl

timm is needed only for that (its files are read from the wheel or the installed package; timm itself is
never imported), never to run the app. A class's name is its first lemma ("tabby, tabby cat" -> "tabby");
where two classes share one (crane the bird and crane the machine, 134 and 517; maillot 638 and 639) the
later gets its index: "crane (517)", so that every name picks one class.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

DATA = Path(__file__).with_name("data") / "imagenet_classes.json"
SYNSETS = "timm/data/_info/imagenet_synsets.txt"
LEMMAS = "timm/data/_info/imagenet_synset_to_lemma.txt"
SOURCE = "timm (Apache-2.0): " + SYNSETS + " and " + LEMMAS


def load() -> dict:
    """The json: {"source", "wnids", "lemmas", "names"}, each list 1000 long in class order."""
    return json.loads(DATA.read_text(encoding="utf-8"))


CLASS_NAMES: tuple[str, ...] = tuple(load()["names"])


def names_from(synsets: str, lemmas: str) -> dict:
    """The json's content from the text of timm's two files."""
    wnids = [line.strip() for line in synsets.splitlines() if line.strip()]
    lemma = dict(line.split("\t", 1) for line in lemmas.splitlines() if "\t" in line)
    full = [lemma[w].strip() for w in wnids]
    names: list[str] = []
    for i, text in enumerate(full):
        first = text.split(", ")[0]
        names.append(first if first not in names else f"{first} ({i})")
    if len(wnids) != 1000 or len(set(names)) != 1000:
        raise ValueError(f"Expected 1000 distinct ImageNet classes, got {len(wnids)} ({len(set(names))} names).")
    return {"source": SOURCE, "wnids": wnids, "lemmas": full, "names": names}


def timm_files(where: str | None = None) -> tuple[str, str]:
    """The text of timm's two files: from a timm wheel (`where`), else from the installed timm (read from its
    distribution's files, without importing it). FileNotFoundError when neither is there."""
    if where:
        with zipfile.ZipFile(where) as wheel:
            return tuple(wheel.read(name).decode("utf-8") for name in (SYNSETS, LEMMAS))
    from importlib import metadata

    try:
        dist = metadata.distribution("timm")
    except metadata.PackageNotFoundError:
        raise FileNotFoundError("timm is not installed; give the path of a timm wheel.") from None
    return tuple(Path(str(dist.locate_file(name))).read_text(encoding="utf-8") for name in (SYNSETS, LEMMAS))


def extract(where: str | None = None, out: Path = DATA) -> Path:
    """Writes the json from timm's files (a wheel's path, or the installed timm)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(names_from(*timm_files(where)), ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    if not sys.argv[1:] or sys.argv[1] != "--extract" or len(sys.argv) > 3:
        sys.exit("usage: python -m cnnviz.imagenet --extract [timm wheel]   (else the installed timm)")
    print(extract(sys.argv[2] if len(sys.argv) == 3 else None))
