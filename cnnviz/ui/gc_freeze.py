"""Keep Streamlit's per-run garbage collections cheap once TensorFlow is imported.

Streamlit runs a full collection after every script run (runner.postScriptGC). Each walks every tracked object, and TensorFlow and
Keras bring ~300k at import: ~0.2 s per collection on two cores, on every rerun and fragment rerun.
gc.freeze() moves the objects that exist once the imports are done (long-lived module objects) out
of the collector's reach; objects made later (models, session state) are collected as before.
"""

from __future__ import annotations

import gc

_frozen = False  # module state: once per process (gc.get_freeze_count() itself walks the frozen list)


def freeze_imports() -> None:
    global _frozen
    if not _frozen:
        gc.freeze()  # no gc.collect() first: it would delay the first page by ~0.2 s; import garbage is small
        _frozen = True
