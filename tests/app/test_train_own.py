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


# ---------------------------------------------------------------- the rarer paths: one small run each

SMALL = {**BASE, "cnnviz.train.epochs": 1, "cnnviz.train.batch": 8, owndata.BACKBONE: "current"}


def two_classes(at, n=8):
    at.radio(key=owndata.SOURCE).set_value("classes").run()
    for kind in ("circle", "square"):
        add_class(at, kind, shape_pngs(kind, n, side=120, width=60))  # the lecture model's size


def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def markdown(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_removing_a_class_takes_it_out_of_the_summary():
    at = open_app("train", **SMALL)
    at.radio(key=owndata.SOURCE).set_value("classes").run()
    for kind in ("circle", "square", "triangle"):
        add_class(at, kind, shape_pngs(kind, 4, side=120, width=60))
    assert "3 classes, 12 pictures" in captions(at) and "**triangle**: 4" in markdown(at)
    gone = at.session_state[owndata.CLASSES][1]["id"]
    at.button(key=f"{owndata.PREFIX}remove.{gone}").click().run()
    no_exception(at)
    assert [c["name"] for c in at.session_state[owndata.CLASSES]] == ["circle", "triangle"]
    assert "2 classes, 8 pictures" in captions(at)
    assert "square" not in markdown(at) and "**triangle**: 4" in markdown(at)


def test_a_camera_photo_lands_in_the_chosen_class():
    at = open_app("train", **SMALL)
    two_classes(at, 4)
    at.toggle(key=owndata.PREFIX + "camera_on").set_value(True).run()
    target = at.session_state[owndata.CLASSES][1]
    assert at.selectbox(key=owndata.CAMERA_TO).options == ["circle", "square"]
    at.selectbox(key=owndata.CAMERA_TO).set_value(target["id"]).run()
    import io

    from PIL import Image

    jpg = io.BytesIO()
    Image.new("RGB", (60, 120), (200, 30, 30)).save(jpg, format="JPEG")
    at.camera_input(key=owndata.PREFIX + "camera").set_value(("photo.jpg", jpg.getvalue(), "image/jpeg")).run()
    no_exception(at)
    classes = at.session_state[owndata.CLASSES]
    assert [len(c["files"]) for c in classes] == [4, 5]
    assert classes[1]["files"][-1] == ("camera_5.jpg", jpg.getvalue())
    assert "**square**: 5 pictures" in markdown(at) and "2 classes, 9 pictures" in captions(at)


def test_the_uci_digits_source_shows_its_ten_classes():
    at = open_app("train", **SMALL)
    at.radio(key=owndata.SOURCE).set_value("digits").run()
    no_exception(at)
    assert "10 classes, 400 pictures: 320 to train on, 80 to validate" in captions(at)
    assert all(f"**{d}**: 40" in markdown(at) for d in range(10))


def test_a_model_that_cannot_be_built_is_a_message(monkeypatch):
    from cnnviz import classifier
    from cnnviz.messages import MessageError

    def refuse(*args, **kwargs):
        raise MessageError("train.msg.no_features")

    monkeypatch.setattr(classifier, "build", refuse)
    at = open_app("train", **SMALL)
    two_classes(at, 4)
    at.button(key="train.start").click().run()
    no_exception(at)
    assert any("Cannot train on this: This model has no global pooling layer" in e.value for e in at.error)
    assert "cnnviz.session_model" not in at.session_state and owndata.RESULTS not in at.session_state


def test_fine_tuning_through_the_page():
    at = open_app("train", **SMALL)
    two_classes(at)
    assert at.radio(key=owndata.MODE).value == "transfer"
    at.checkbox(key=owndata.PREFIX + "fine_tune").check().run()
    at.button(key="train.start").click().run()
    no_exception(at)
    tuned = [c.value for c in at.caption if c.value.startswith("Fine-tuning: ")]
    assert len(tuned) == 1 and tuned[0] != "Fine-tuning: -", tuned
    info = at.session_state["cnnviz.session_model"]
    layers = tuned[0].removeprefix("Fine-tuning: ").split(", ")
    inner = {layer.name: layer for layer in info.model._flatten_layers(include_self=False)}  # the backbone's too
    assert all(inner[name].trainable for name in layers), (layers, list(inner))
    assert at.session_state["cnnviz.train.history"].epochs_done >= 1
    r = at.session_state[owndata.RESULTS]
    assert r["probs"].shape == (4, 2) and np.allclose(r["probs"].sum(axis=1), 1, rtol=1e-5)


def test_misclassified_pictures_without_grad_cam_and_a_confusion_cell(monkeypatch):
    """Grad-CAM refusing a map leaves the misclassified pictures shown plainly; a click on a confusion-matrix
    cell (the chart's selection in session state, as st.plotly_chart(on_select=...) keeps it) lists its pictures."""
    from cnnviz import attribution

    asked = []

    def no_conv(model, x, class_index=None, layer=None):
        asked.append(class_index)
        raise attribution.AttributionError("no_conv")

    monkeypatch.setattr(attribution, "grad_cam", no_conv)
    at = open_app("train", **{**SMALL, "cnnviz.train.lr": 1e-6})  # one tiny step: a near-random head
    two_classes(at)
    at.button(key="train.start").click().run()
    no_exception(at)
    r = at.session_state[owndata.RESULTS]
    assert len(r["missed"]) >= 1 and r["cams"] == [None] * len(r["missed"]) and len(asked) == len(r["missed"])
    shown = [c for i in at.image for c in i.captions if "→" in c]
    assert len(shown) == len(r["missed"]), "each misclassified picture is shown, without the overlay"
    # a click on the cell (true, predicted) of the first misclassified picture
    before = len(at.image)
    i = int(r["missed"][0])
    true, predicted = int(r["y"][i]), int(r["pred"][i])
    at.session_state[owndata.CELL] = {"selection": {"points": [{"customdata": [true, predicted]}],
                                                    "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    no_exception(at)
    n = int(((r["y"] == true) & (r["pred"] == predicted)).sum())
    names = r["names"]
    assert n >= 1 and f"True **{names[true]}**, predicted **{names[predicted]}**: {n} pictures" in markdown(at)
    assert len(at.image) == before + 1, "the cell's pictures, one strip"
    # the keyboard's way: the same cell chosen in the select (with no click on the matrix) lists the same pictures
    at.session_state[owndata.CELL] = {"selection": {"points": [], "point_indices": [], "box": [], "lasso": []}}
    at.run()
    assert len(at.image) == before and "predicted **" not in markdown(at)
    pick = at.selectbox(key=owndata.PREFIX + "cell_pick")
    assert pick.options[0] == "None" and len(pick.options) == 1 + int((np.asarray(r["counts"]) > 0).sum())
    pick.set_value((true, predicted)).run()
    no_exception(at)
    assert f"True **{names[true]}**, predicted **{names[predicted]}**: {n} pictures" in markdown(at)
    assert len(at.image) == before + 1
