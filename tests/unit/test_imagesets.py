"""cnnviz.imagesets: class folders from zips made here (layouts, junk, bad pictures, hostile members), pictures
per class, caps, checks before training, the arrays and the stratified split."""

import io

import numpy as np
import pytest
from PIL import Image

from cnnviz import images, imagesets
from cnnviz.files import safezip
from tests.owndata import class_folders, png, shape_pngs, zip_of


@pytest.mark.parametrize("wrap", ["", "my_set/"])
def test_zip_of_class_folders_with_or_without_a_wrapping_folder(wrap):
    s = imagesets.from_zip(zip_of(class_folders(("circle", "square"), 5, wrap)))
    assert s.class_names == ("circle", "square") and s.counts == (5, 5) and not s.skipped
    assert all(im.mode == "RGB" for c in s.images for im in c)


def _truncated() -> bytes:
    data = png(np.random.default_rng(0).random((64, 64)))
    return data[: len(data) // 2]


def test_junk_is_skipped_silently_bad_files_are_listed():
    members = class_folders(("circle", "square"), 4, "set/")
    members.update({"__MACOSX/set/circle/._circle_0.png": b"junk", "set/.DS_Store": b"x",
                    "set/circle/Thumbs.db": b"x", "set/circle/notes.txt": b"hello, not a picture",
                    "set/square/broken.png": _truncated(), "set/readme.md": b"# top level"})
    s = imagesets.from_zip(zip_of(members))
    assert s.counts == (4, 4)
    skipped = dict(s.skipped)
    assert set(skipped) == {"set/circle/notes.txt", "set/square/broken.png", "set/readme.md"}
    assert skipped["set/circle/notes.txt"].key == "images.error.not_image"
    assert skipped["set/square/broken.png"].key == "images.error.truncated"
    assert skipped["set/readme.md"].key == "data.skip.no_class"
    summary = imagesets.skipped_summary(s)
    assert str(summary).startswith("3 of 11 files skipped")


def test_nested_folders_belong_to_their_class_and_exif_rotation_applies():
    tall = Image.new("RGB", (20, 40), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees: a 20x40 file is shown 40x20
    out = io.BytesIO()
    tall.save(out, format="JPEG", exif=exif)
    s = imagesets.from_zip(zip_of({"a/sub/x.jpg": out.getvalue(), "b/y.png": png(np.ones((8, 8)))}))
    assert s.class_names == ("a", "b") and s.images[0][0].size == (40, 20)


@pytest.mark.parametrize("members,symlinks,code", [
    ({"cat/../../evil.png": b"x"}, (), "path"),
    ({"/abs/cat/a.png": b"x"}, (), "path"),
    ({"cat/a.png": b"../../etc/passwd"}, ("cat/a.png",), "symlink"),
])
def test_hostile_members_refuse_the_zip(members, symlinks, code):
    with pytest.raises(safezip.ZipError) as err:
        imagesets.from_zip(zip_of(members, symlinks))
    assert err.value.code == code


def test_a_zip_bomb_is_refused():
    with pytest.raises(safezip.ZipError) as err:
        imagesets.from_zip(zip_of({"cat/a.png": b"\0" * (9 * 1024 * 1024)}))
    assert err.value.code == "ratio"


def test_an_empty_zip_and_a_pixel_bomb_picture():
    with pytest.raises(imagesets.DataError) as err:
        imagesets.from_zip(zip_of({"__MACOSX/x": b"1", ".DS_Store": b"2"}))
    assert err.value.code == "empty_zip"
    huge = io.BytesIO()
    Image.new("1", (8000, 8000)).save(huge, format="PNG")  # 64 megapixels, a few kB
    s = imagesets.from_zip(zip_of({"a/huge.png": huge.getvalue(), "a/ok.png": png(np.ones((8, 8)))}))
    assert s.counts == (1,) and dict(s.skipped)["a/huge.png"].key == "images.error.too_large_size"


def test_caps_on_classes_images_and_pixels(monkeypatch):
    monkeypatch.setattr(imagesets, "MAX_CLASSES", 2)
    with pytest.raises(imagesets.DataError) as err:
        imagesets.from_zip(zip_of(class_folders(("circle", "square", "cross"), 1)))
    assert err.value.code == "too_many_classes"
    monkeypatch.setattr(imagesets, "MAX_IMAGES", 3)
    with pytest.raises(imagesets.DataError) as err:
        imagesets.from_classes([("a", shape_pngs("circle", 4))])
    assert err.value.code == "too_many_images"
    monkeypatch.setattr(imagesets, "MAX_TOTAL_PIXELS", 48 * 48 * 2)
    with pytest.raises(imagesets.DataError) as err:
        imagesets.from_classes([("a", shape_pngs("circle", 3))])
    assert err.value.code == "too_many_pixels"


def test_pictures_per_class_and_the_checks_before_training():
    s = imagesets.from_classes([("  cat ", shape_pngs("circle", 5)), ("dog", shape_pngs("square", 5)),
                                ("empty", [])])
    assert s.class_names == ("cat", "dog", "empty") and s.counts == (5, 5, 0)
    with pytest.raises(imagesets.DataError) as err:
        imagesets.check(s)
    assert err.value.code == "too_few" and "empty (0)" in str(err.value)
    with pytest.raises(imagesets.DataError) as err:
        imagesets.check(imagesets.from_classes([("cat", shape_pngs("circle", 5))]))
    assert err.value.code == "one_class"
    with pytest.raises(imagesets.DataError) as err:
        imagesets.check(imagesets.ImageSet())
    assert err.value.code == "no_images"
    for classes, code in (([("a", []), ("A", [])], "same_name"), ([("   ", [])], "no_name")):
        with pytest.raises(imagesets.DataError) as err:
            imagesets.from_classes(classes)
        assert err.value.code == code
    imagesets.check(imagesets.from_classes([("cat", shape_pngs("circle", 4)), ("dog", shape_pngs("square", 4))]))


def test_arrays_at_the_model_size_equal_cnnviz_images_preprocess():
    s = imagesets.from_classes([("cat", shape_pngs("circle", 2)), ("dog", shape_pngs("square", 3))])
    x, y = imagesets.arrays(s, (30, 20, 1))
    assert x.shape == (5, 30, 20, 1) and x.dtype == np.float32 and list(y) == [0, 0, 1, 1, 1]
    np.testing.assert_array_equal(x[2], images.preprocess(s.images[1][0], (30, 20, 1)))


def test_split_is_stratified_seeded_and_keeps_one_of_each_side():
    y = np.repeat([0, 1, 2], [10, 4, 50])
    train, val = imagesets.split(y, 0.2, seed=3)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == len(y)
    assert [int((y[val] == k).sum()) for k in range(3)] == [2, 1, 10]
    again = imagesets.split(y, 0.2, seed=3)
    np.testing.assert_array_equal(val, again[1])
    assert not np.array_equal(val, imagesets.split(y, 0.2, seed=4)[1])
    _, val2 = imagesets.split(np.array([0, 0, 1, 1]), 0.9)
    assert len(val2) == 2  # at least one picture of each class stays to train on
    with pytest.raises(ValueError):
        imagesets.split(y, 1.0)


def test_generated_sources():
    d = imagesets.digits(per_class=3)
    assert d.class_names == tuple(str(i) for i in range(10)) and d.counts == (3,) * 10
    s = imagesets.shapes(8, 32, 32)
    assert s.counts == (2, 2, 2, 2)
