"""Benchmarks of cnnviz (not tests: they time things and print a table). Run with `python -m bench`.

Each section is a module here with `NAME`, `run(repeats: int) -> dict` and `table(result) -> str`;
add a module and list it in SECTIONS below to add a section.
"""

SECTIONS = ("bench.extraction",)
