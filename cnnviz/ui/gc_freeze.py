"""Keep Streamlit's per-run garbage collections cheap once TensorFlow is imported.

Streamlit runs a full collection after every script run (runner.postScriptGC). Each walks every tracked object, and TensorFlow and
Keras bring ~300k at import: ~0.2 s per collection on two cores, on every rerun and fragment rerun.
gc.freeze() moves the objects that exist once the imports are done (long-lived module objects) out
of the collector's reach; objects made later (models, session state) are collected as before.
"""

from __future__ import annotations

import gc
import sys

_modules_at_freeze = 0  # len(sys.modules) at the last freeze (gc.get_freeze_count() itself walks the frozen list)


def freeze_imports() -> None:
    """Freeze once more whenever modules were imported since the last time (Keras is imported lazily, by
    the warm-up thread or a page's run, after app.py's first freeze); otherwise nothing (cheap)."""
    global _modules_at_freeze
    if len(sys.modules) != _modules_at_freeze:
        gc.freeze()  # no gc.collect() first: it would delay the first page by ~0.2 s; import garbage is small
        _modules_at_freeze = len(sys.modules)
