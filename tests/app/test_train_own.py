"""Train page, your own classes, under AppTest: a zip of class folders with transfer learning on the shipped
EfficientNet-Lite0 (the default backbone), its model on Activations and Explain; pictures added per class with the
shipped trained lecture model as a frozen backbone, results; a zip with junk and bad files; refusals."""

import numpy as np

from cnnviz.ui import owndata
from tests.app.conftest import no_exception, open_app
from tests.owndata import class_folders, colour_pngs, shape_pngs, zip_of

BASE = {"cnnviz.model": "seed_trained", "cnnviz.train.epochs": 10, "cnnviz.train.batch": 16, "cnnviz.train.lr": 1e-2}
FLOOR = 0.75  # validation accuracy floor for 4 generated shape classes (chance: 0.25), seeded
LITE0_FLOOR = 0.8  # 3 classes of coloured shapes (chance: 0.33), 6 validation pictures: at most one wrong, seeded


def add_class(at, name, files):
    at.text_input(key=owndata.NEW_NAME).input(name).run()
    at.button(key=owndata.PREFIX + "add_class").click().run()
    cls = at.session_state[owndata.CLASSES][-1]
    at.file_uploader(key=f"{owndata.PREFIX}files.{cls['id']}.{cls['gen']}").set_value(
        [(n, d, "image/png") for n, d in files]).run()
    no_exception(at)


def test_pictures_per_class_transfer_learning_results_and_session_model():
    at = open_app("train", **BASE)
    at.radio(key=owndata.SOURCE).set_value("classes").run()
    assert at.info, "asks for pictures first"
    for kind in ("circle", "square", "triangle", "cross"):
        add_class(at, kind, shape_pngs(kind, 15, side=120, width=60))  # the lecture model's size
    assert [len(c["files"]) for c in at.session_state[owndata.CLASSES]] == [15] * 4
    at.selectbox(key=owndata.BACKBONE).set_value("current").run()
    text = " ".join(c.value for c in at.caption)
    assert "4 classes, 60 pictures: 48 to train on, 12 to validate" in text and "120x60x1" in text
    assert at.radio(key=owndata.MODE).value == "transfer"
    at.button(key="train.start").click().run()
    no_exception(at)
    info = at.session_state["cnnviz.session_model"]
    assert info.class_names == ("circle", "square", "triangle", "cross") and info.trained
    assert at.session_state["cnnviz.model"] == "session"
    h = at.session_state["cnnviz.train.history"]
    assert h.epochs_done == 10 and h.val_accuracy[-1] >= FLOOR, h.val_accuracy
    r = at.session_state[owndata.RESULTS]
    assert r["counts"].sum() == 12 and np.trace(r["counts"]) / 12 == h.val_accuracy[-1]
    assert any("computed once" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) >= 3  # curves, per-class accuracy, confusion matrix
    assert at.get("download_button")
    # the trained model is every page's model, with the class names
    at.switch_page("pages/activations.py").run()
    no_exception(at)


def test_a_zip_of_photos_on_the_lite0_backbone_then_activations_and_explain():
    """The issue's path: a zip of three class folders, transfer learning on ImageNet's EfficientNet-Lite0 (the
    default), results; the trained model (Lite0 and the new head, 224x224 RGB fed 0-255) is every page's model."""
    folders = {"red circles": "circle", "green squares": "square", "blue triangles": "triangle"}
    members = {f"photos/{name}/{f}": data for name, kind in folders.items() for f, data in colour_pngs(kind, 8)}
    at = open_app("train", **{**BASE, "cnnviz.train.epochs": 6, "cnnviz.train.batch": 8})
    at.radio(key=owndata.SOURCE).set_value("zip").run()
    at.file_uploader(key=owndata.ZIP).set_value(("photos.zip", zip_of(members), "application/zip")).run()
    no_exception(at)
    assert at.radio(key=owndata.MODE).value == "transfer"
    assert at.selectbox(key=owndata.BACKBONE).value == owndata.LITE0
    text = " ".join(c.value for c in at.caption)
    assert "3 classes, 24 pictures: 18 to train on, 6 to validate" in text and "224x224x3" in text
    at.button(key="train.start").click().run()
    no_exception(at)
    info = at.session_state["cnnviz.session_model"]
    assert info.class_names == ("blue triangles", "green squares", "red circles")  # the folders, sorted
    assert info.pixels == "byte" and info.input_shape == (224, 224, 3)
    assert info.model.inputs[0].shape[1:] == (224, 224, 3) and info.model.outputs[0].shape[-1] == 3
    assert any("computed once (1280 numbers each)" in c.value for c in at.caption)
    h = at.session_state["cnnviz.train.history"]
    assert h.epochs_done == 6 and h.val_accuracy[-1] >= LITE0_FLOOR, h.val_accuracy
    r = at.session_state[owndata.RESULTS]
    assert r["counts"].sum() == 6 and np.trace(r["counts"]) / 6 == h.val_accuracy[-1]
    # the whole model answers a picture as the head on the cached features did: Lite0 was fed 0-255
    fed = r["x"] * 255.0
    assert np.allclose(info.model.predict(fed, verbose=0), r["probs"], rtol=1e-4, atol=1e-5)
    for page in ("activations", "explain"):
        at.switch_page(f"pages/{page}.py").run()
        no_exception(at)
        assert at.session_state["cnnviz.model"] == "session"
    options = [o.split(" (")[0] for o in at.selectbox(key="explain.class").options]
    assert options == ["blue triangles", "green squares", "red circles"], options
    assert at.selectbox(key="explain.layer").options, "Grad-CAM finds Lite0's convolutions inside the model"


def test_a_zip_with_junk_and_a_bad_file_and_the_model_from_scratch():
    members = class_folders(("circle", "square"), 6, "set/")
    members.update({"__MACOSX/set/._x": b"junk", "set/square/notes.txt": b"not a picture"})
    at = open_app("train", **{**BASE, "cnnviz.train.epochs": 1})
    at.radio(key=owndata.SOURCE).set_value("zip").run()
    at.file_uploader(key=owndata.ZIP).set_value(("set.zip", zip_of(members), "application/zip")).run()
    no_exception(at)
    assert any("1 of 13 files skipped" in w.value for w in at.warning)
    at.radio(key=owndata.MODE).set_value("scratch").run()
    assert any("64x64x3" in c.value for c in at.caption)
    at.checkbox(key=owndata.PREFIX + "aug.flip").check().run()
    assert at.image, "the augmentation preview and thumbnails"
    at.button(key="train.start").click().run()
    no_exception(at)
    assert at.session_state["cnnviz.session_model"].class_names == ("circle", "square")
    assert at.session_state["cnnviz.train.history"].epochs_done == 1


def test_refusals_are_clear():
    at = open_app("train", **BASE)
    at.radio(key=owndata.SOURCE).set_value("zip").run()
    at.file_uploader(key=owndata.ZIP).set_value(("evil.zip", zip_of({"../evil.png": b"x"}), "application/zip")).run()
    no_exception(at)
    assert at.error and "unsafe name" in at.error[0].value
    at.radio(key=owndata.SOURCE).set_value("classes").run()
    add_class(at, "only", shape_pngs("circle", 5))
    assert at.error and "Only one class" in at.error[0].value
    add_class(at, "few", shape_pngs("square", 2))
    assert at.error and "at least 4" in at.error[0].value
