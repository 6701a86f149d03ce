"""cnnviz.files.safezip on zips made here: plain, junk, and hostile members (`..`, absolute, symlink, bombs)."""

import zipfile

import pytest

from cnnviz.files import safezip
from tests.owndata import zip_of


def test_reads_plain_members_and_skips_junk():
    data = zip_of({"set/cat/a.png": b"A", "set/dog/b.png": b"B", "__MACOSX/set/cat/._a.png": b"x",
                   "set/.DS_Store": b"x", "set/cat/Thumbs.db": b"x", "set/.hidden/c.png": b"x",
                   "set/dog/.d.png": b"x", "set/empty/": b""})
    assert safezip.read(data) == {"set/cat/a.png": b"A", "set/dog/b.png": b"B"}


def test_keep_picks_members():
    data = zip_of({"a.txt": b"1", "b.txt": b"2"})
    assert safezip.read(data, keep=lambda n: n == "b.txt") == {"b.txt": b"2"}


@pytest.mark.parametrize("name", ["../evil.png", "set/../../evil.png", "/etc/passwd", "C:/x.png", "a\\..\\b.png"])
def test_refuses_unsafe_names(name):
    with pytest.raises(safezip.ZipError) as err:
        safezip.read(zip_of({"ok/a.png": b"A", name: b"x"}))
    assert err.value.code == "path"


def test_refuses_symlinks():
    with pytest.raises(safezip.ZipError) as err:
        safezip.read(zip_of({"cat/a.png": b"/etc/passwd"}, symlinks=("cat/a.png",)))
    assert err.value.code == "symlink"


def test_refuses_a_bomb_by_ratio():
    data = zip_of({"cat/a.png": b"\0" * (20 * 1024 * 1024)})
    with pytest.raises(safezip.ZipError) as err:
        safezip.read(data, safezip.Limits(member_bytes=64 * 1024 * 1024))
    assert err.value.code == "ratio"


def test_refuses_a_member_over_the_cap_and_a_total_over_the_budget():
    with pytest.raises(safezip.ZipError) as err:
        safezip.read(zip_of({"a": b"x" * 2000}), safezip.Limits(member_bytes=1000))
    assert err.value.code == "member_too_large"
    with pytest.raises(safezip.ZipError) as err:
        safezip.read(zip_of({"a": b"x" * 600, "b": b"y" * 600}), safezip.Limits(member_bytes=1000, total_bytes=1000))
    assert err.value.code == "expands"


def test_refuses_a_lying_header():
    """A member whose declared size is small but whose data is larger is stopped at the cap while reading."""
    data = bytearray(zip_of({"a": b"x" * 5000}))
    # patch the declared uncompressed size (local header offset 22, central directory offset 24) to 10
    i = data.find(b"PK\x01\x02")
    data[i + 24:i + 28] = (10).to_bytes(4, "little")
    data[22:26] = (10).to_bytes(4, "little")
    with pytest.raises(safezip.ZipError) as err:
        safezip.read(bytes(data), safezip.Limits(member_bytes=1000))
    assert err.value.code in ("expands", "damaged")


def test_refuses_too_many_members_not_a_zip_empty_damaged_twice():
    with pytest.raises(safezip.ZipError) as err:
        safezip.read(zip_of({f"{i}.png": b"x" for i in range(11)}), safezip.Limits(members=10))
    assert err.value.code == "members"
    for data, code in ((b"", "empty"), (b"GIF89a....", "not_zip"), (b"PK\x03\x04garbage", "damaged")):
        with pytest.raises(safezip.ZipError) as err:
            safezip.read(data)
        assert err.value.code == code
    import io
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("a/b.png", b"1")
        zf.writestr("a//b.png", b"2")
    with pytest.raises(safezip.ZipError) as err:
        safezip.read(out.getvalue())
    assert err.value.code == "twice"


def test_unsafe_name_and_junk_rules():
    assert safezip.unsafe_name("") and not safezip.unsafe_name("a/b..c.png")
    assert safezip.is_junk("x/") and safezip.is_junk("a/desktop.ini") and not safezip.is_junk("a/b.png")
