"""ImageNet weights on request (cnnviz.files.downloads), against a local HTTP server standing in for Keras's origin:
a real weights file, a truncated one, a wrong hash, a stalled server, a server that is down. No test
touches the internet: the cache is a temporary folder and the origin is 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
import time

import h5py
import keras
import numpy as np
import pytest

from cnnviz import applications
from cnnviz.files import downloads
from tests import sweeps

KEY = "mobilenet_v2"


class Origin:
    """A thread serving `files` {name: bytes}; mode 'ok', 'truncated' (promises the whole length, sends
    half, closes), 'stall' (headers, then nothing), '404'."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.mode = "ok"
        self.requests: list[str] = []
        self.release = threading.Event()
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                name = self.path.rsplit("/", 1)[-1]
                origin.requests.append(name)
                data = origin.files.get(name)
                if data is None or origin.mode == "404":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if origin.mode == "stall":
                    origin.release.wait(10)
                    return
                if origin.mode == "truncated":
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/weights"

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def weights_file(path, seed: int = 5) -> keras.Model:
    """A MobileNetV2 with random weights saved as Keras's ImageNet .h5 files are (legacy HDF5)."""
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(seed)
    model = keras.applications.MobileNetV2(weights=None)
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return model


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    path = tmp_path_factory.mktemp("origin") / applications.APPLICATIONS[KEY].weights_file
    model = weights_file(path)
    data = path.read_bytes()
    origin = Origin({path.name: data})
    yield origin, data, model
    origin.close()


@pytest.fixture
def origin(served, tmp_path, monkeypatch):
    """The served file as Keras's published one (its sha256 as the hash), an empty cache in tmp_path."""
    server, data, model = served
    server.mode = "ok"
    server.requests.clear()
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(applications, "cache_dirs", lambda: [tmp_path / "keras" / "models"])
    monkeypatch.setenv(downloads.ORIGIN_ENV, server.url)
    monkeypatch.delenv(downloads.DISABLE_ENV, raising=False)
    real = downloads.published(KEY)
    fake = downloads.Published(real.file, real.origin, hashlib.sha256(data).hexdigest())
    monkeypatch.setattr(downloads, "published", lambda key: fake)
    return server, data, model, tmp_path / "keras" / "models"


def test_keras_names_the_file_url_and_hash():
    """Read from Keras (its get_file call), not typed here: the file the applications table names, at
    Keras's storage, and the md5 Keras checks where it publishes one."""
    for key in ("mobilenet_v2", "resnet50", "efficientnetb0", "vgg16"):
        pub = downloads.published(key)
        assert pub.file == applications.APPLICATIONS[key].weights_file
        assert pub.origin.startswith("https://storage.googleapis.com/") and pub.origin.endswith("/" + pub.file)
    assert downloads.published("resnet50").file_hash == "2cb95161c43110f7111970584f804107"  # keras.src.applications.resnet
    assert downloads.published("mobilenet_v2").file_hash is None  # Keras publishes none for MobileNetV2


@pytest.mark.parametrize("key", sweeps.params(applications.APPLICATIONS))
def test_every_offered_application_has_a_published_file(key):
    assert downloads.published(key).file == applications.APPLICATIONS[key].weights_file


def test_origin_override_and_size_text(monkeypatch):
    monkeypatch.delenv(downloads.ORIGIN_ENV, raising=False)
    assert downloads.url(KEY) == downloads.published(KEY).origin
    monkeypatch.setenv(downloads.ORIGIN_ENV, "http://127.0.0.1:9/mirror/")
    assert downloads.url(KEY) == "http://127.0.0.1:9/mirror/" + downloads.published(KEY).file
    assert downloads.size_text(downloads.size_bytes(KEY)) == "14 MB"  # 3,538,984 float32 parameters
    assert downloads.size_text(2_300_000_000) == "2.3 GB"


def test_download_checks_and_loads(origin):
    server, data, model, cache = origin
    seen = []
    path = downloads.download(KEY, lambda done, total: seen.append((done, total)))
    assert path == cache / applications.APPLICATIONS[KEY].weights_file and path.read_bytes() == data
    assert seen[0] == (0, len(data)) and seen[-1] == (len(data), len(data))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert list(cache.iterdir()) == [path]  # no temporary file left
    app = applications.load_application(KEY)
    assert app.pretrained
    for got, want in zip(app.model.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)
    # a second call finds the cached file: no request
    n = len(server.requests)
    assert downloads.download(KEY) == path and len(server.requests) == n


def test_two_sessions_at_once_download_once(origin):
    server, data, _, cache = origin
    out, errors = [], []

    def ask():
        try:
            out.append(downloads.download(KEY))
        except Exception as err:  # noqa: BLE001 - collected for the assert
            errors.append(err)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors and len(set(out)) == 1 and out[0].read_bytes() == data
    assert server.requests.count(out[0].name) == 1
    assert list(cache.iterdir()) == [out[0]]


def test_wrong_hash_is_refused_and_nothing_is_kept(origin, monkeypatch):
    _, _, _, cache = origin
    pub = downloads.published(KEY)
    monkeypatch.setattr(downloads, "published", lambda key: downloads.Published(pub.file, pub.origin, "0" * 64))
    with pytest.raises(downloads.WeightsError) as err:
        downloads.download(KEY)
    assert err.value.key == "weights.hash" and "does not match" in str(err.value)
    assert list(cache.iterdir()) == []
    assert not applications.load_application(KEY).pretrained


def test_md5_hash_as_keras_publishes_is_accepted(origin, monkeypatch):
    _, data, _, _ = origin
    pub = downloads.published(KEY)
    monkeypatch.setattr(downloads, "published", lambda key: downloads.Published(pub.file, pub.origin, hashlib.md5(data).hexdigest()))
    assert downloads.download(KEY).read_bytes() == data


def test_truncated_download(origin):
    server, _, _, cache = origin
    server.mode = "truncated"
    with pytest.raises(downloads.WeightsError) as err:
        downloads.download(KEY)
    assert err.value.key == "weights.truncated" and "ended early" in str(err.value)
    assert list(cache.iterdir()) == []


def test_stalled_server_times_out(origin):
    server, _, _, cache = origin
    server.mode = "stall"
    server.release.clear()
    try:
        with pytest.raises(downloads.WeightsError) as err:
            downloads.download(KEY, read_timeout=0.5)
    finally:
        server.release.set()
    assert err.value.key == "weights.timeout" and "nothing arrived for 0.5 s" in str(err.value)
    assert list(cache.iterdir()) == []


def test_total_deadline(origin, monkeypatch):
    _, _, _, cache = origin
    with pytest.raises(downloads.WeightsError) as err:
        downloads.download(KEY, total_timeout=-1)
    assert err.value.key == "weights.timeout"
    assert list(cache.iterdir()) == []


def test_http_error(origin):
    server, _, _, _ = origin
    server.mode = "404"
    with pytest.raises(downloads.WeightsError) as err:
        downloads.download(KEY)
    assert err.value.key == "weights.http" and "404" in str(err.value)


def test_server_down(origin, monkeypatch):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there: connection refused
    monkeypatch.setenv(downloads.ORIGIN_ENV, f"http://127.0.0.1:{port}")
    with pytest.raises(downloads.WeightsError) as err:
        downloads.download(KEY)
    assert err.value.key == "weights.unreachable" and "cannot be reached" in str(err.value)


def test_bad_origin_url(origin, monkeypatch):
    monkeypatch.setenv(downloads.ORIGIN_ENV, "nonsense:/x")
    with pytest.raises(downloads.WeightsError) as err:
        downloads.download(KEY)
    assert err.value.key == "weights.unreachable"


def test_switched_off_and_unknown(origin, monkeypatch):
    monkeypatch.setenv(downloads.DISABLE_ENV, "1")
    assert not downloads.enabled()
    with pytest.raises(downloads.WeightsError) as err:
        downloads.download(KEY)
    assert err.value.key == "weights.disabled"
    with pytest.raises(downloads.WeightsError) as err:
        downloads.download("alexnet")
    assert err.value.key == "weights.unknown"


def test_no_writable_cache(origin, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    monkeypatch.setattr(applications, "cache_dirs", lambda: [blocker / "models"])
    with pytest.raises(downloads.WeightsError) as err:
        downloads.download(KEY)
    assert err.value.key == "weights.no_cache"


def test_an_empty_file_is_refused(origin):
    server, data, _, cache = origin
    name = applications.APPLICATIONS[KEY].weights_file
    server.files[name] = b""
    try:
        with pytest.raises(downloads.WeightsError) as err:
            downloads.download(KEY)
    finally:
        server.files[name] = data
    assert err.value.key == "weights.truncated"
    assert list(cache.iterdir()) == []
