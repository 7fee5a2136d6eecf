"""A user's own dataset (data.custom): an .npz or an image-folder tree, probed when the configuration
loads and read whole by the data stage into the same cached tensor files as the registered datasets.
Malformed data is one line naming the file and what is wrong, and writes nothing."""

import os
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from ncrepro import config, data, datasets
from ncrepro.errors import DataError


def images(n_per_class: int, classes: int = 3, size=(6, 5), channels: int | None = None, seed: int = 0):
    """Class-structured uint8 images (N x H x W, or N x H x W x C) and their labels, class by class."""
    rng = np.random.default_rng(seed)
    shape = (classes * n_per_class, *size) + ((channels,) if channels else ())
    y = np.repeat(np.arange(classes), n_per_class)
    x = np.clip(rng.normal(60, 20, shape) + 50 * y.reshape(-1, *[1] * (len(shape) - 1)), 0, 255).astype(np.uint8)
    return x, y


def write_npz(path, **overrides):
    x_train, y_train = images(8)
    x_test, y_test = images(3, seed=1)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test} | overrides
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def write_folder(root, per_class=(4, 2), classes=("cat", "dog", "emu"), size=(6, 5), mode="L"):
    """<root>/{train,test}/<class>/<i>.png, PIL-written."""
    rng = np.random.default_rng(0)
    for split, n in zip(("train", "test"), per_class, strict=True):
        for k, name in enumerate(classes):
            (root / split / name).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                shape = (size[1], size[0]) + ((3,) if mode == "RGB" else ())
                pixels = np.clip(rng.normal(60 + 50 * k, 20, shape), 0, 255).astype(np.uint8)
                Image.fromarray(pixels, mode).save(root / split / name / f"{i}.png")
    return root


def test_npz_dataset_is_read_verified_and_cached_with_its_digest(tmp_path):
    path = write_npz(tmp_path / "mine.npz")
    spec = datasets.probe_custom("mine", {"path": str(path)})
    assert (spec.num_classes, spec.shape, spec.min_per_class, spec.family) == (3, (1, 6, 5), 8, "npz")
    files = data.stage("mine", {"root": str(tmp_path / "data"), "custom": {"mine": {"path": str(path)}}})
    blob = data.load_cached(files[0])
    x, y = images(8)
    assert torch.equal(blob["x"], torch.from_numpy(x[:, None])) and torch.equal(blob["y"], torch.from_numpy(y))
    assert blob["num_classes"] == 3 and blob["dataset"] == "mine"
    assert blob["digest"] == data.load_cached(files[1])["digest"] == data.content_digest(datasets.read_custom(path))
    # N x H x W x C images become N x C x H x W
    rgb = write_npz(tmp_path / "rgb.npz", x_train=images(8, channels=3)[0], x_test=images(3, channels=3, seed=1)[0])
    assert datasets.probe_custom("rgb", {"path": str(rgb)}).shape == (3, 6, 5)
    assert datasets.read_custom(rgb)["train"][0].shape == (24, 3, 6, 5)


def test_image_folder_dataset_is_read_in_class_folder_order(tmp_path):
    root = write_folder(tmp_path / "tree")
    spec = datasets.probe_custom("tree", {"path": str(root)})
    assert (spec.num_classes, spec.shape, spec.min_per_class, spec.family) == (3, (1, 5, 6), 4, "folder")
    splits = datasets.read_custom(root)
    x, y = splits["train"]
    assert x.shape == (12, 1, 5, 6) and x.dtype == np.uint8 and y.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    first = np.asarray(Image.open(root / "train" / "cat" / "0.png"))
    assert np.array_equal(x[0, 0], first)
    color = write_folder(tmp_path / "color", mode="RGB")
    assert datasets.probe_custom("color", {"path": str(color)}).shape == (3, 5, 6)
    assert datasets.read_custom(color)["test"][0].shape == (6, 3, 5, 6)


def test_a_changed_file_changes_the_fingerprint_and_the_digest(tmp_path):
    path = write_npz(tmp_path / "mine.npz")
    before = (datasets.source_fingerprint(path), data.content_digest(datasets.read_custom(path)))
    x_train, y_train = images(8)
    x_train[0, 0, 0] ^= 1
    write_npz(path, x_train=x_train)
    os.utime(path, ns=(1, 1))
    after = (datasets.source_fingerprint(path), data.content_digest(datasets.read_custom(path)))
    assert before[0] != after[0] and before[1] != after[1]
    cfg = {"root": "r", "custom": {"mine": {"path": str(path)}}, "prestaged": {"mnist": "/nope"}}
    assert datasets.stage_config(cfg, "mine") == {"root": "r", "custom": cfg["custom"], "source": after[0]}
    assert datasets.stage_config(cfg, "digits") == {"root": "r", "source": ""}


def _pickled(path):
    np.savez(path, x_train=np.array([object()] * 3, dtype=object), y_train=[0, 1, 2], x_test=[0], y_test=[0])


def _bad_npz(**overrides):
    return lambda path: write_npz(path, **overrides)


def _bad_folder(edit):
    def make(path):
        write_folder(path)
        edit(path)

    return make


def _empty_class(root):
    for f in (root / "train" / "dog").iterdir():
        f.unlink()


def _garbage_image(root):
    (root / "train" / "cat" / "0.png").write_bytes(b"definitely not a png")


def _mixed_sizes(root):
    Image.fromarray(np.zeros((7, 6), np.uint8)).save(root / "test" / "emu" / "1.png")


def _bomb(root):
    # a 1-bit 5000 x 5000 PNG of a few kilobytes: too large to be a dataset image, refused before decoding
    Image.new("1", (5000, 5000)).save(root / "train" / "emu" / "big.png")


def _class_only_in_train(root):
    (root / "train" / "fox").mkdir()
    Image.fromarray(np.zeros((5, 6), np.uint8)).save(root / "train" / "fox" / "0.png")


def _not_a_zip(path):
    path.write_bytes(b"PK not really a zip archive")


MALFORMED = [
    ("data.npz", _bad_npz(y_test=None), "missing y_test"),
    ("data.npz", _bad_npz(x_train=images(8)[0].astype(np.float32)), "x_train is float32; images must be uint8"),
    ("data.npz", _bad_npz(x_test=np.zeros((9, 6, 5, 4), np.uint8)), "x_test has shape (9, 6, 5, 4)"),
    ("data.npz", _bad_npz(y_train=np.repeat(np.arange(3), 8) - 1), "y_train has negative labels"),
    ("data.npz", _bad_npz(y_test=np.array([0, 1, 2, 3, 0, 1, 2, 0, 1])), "y_test has labels up to 3"),
    ("data.npz", _bad_npz(y_test=np.array([0, 1, 0, 1, 0, 1, 0, 1, 0])), "no samples of class 2 in the test split"),
    ("data.npz", _bad_npz(y_train=np.arange(5)), "x_train has 24 images but y_train 5 labels"),
    ("data.npz", _bad_npz(y_train=np.repeat(np.arange(3.0), 8)), "y_train must be a 1-d integer array"),
    ("data.npz", _bad_npz(x_test=np.zeros((9, 7, 5), np.uint8)), "train images (1, 6, 5) and test images (1, 7, 5)"),
    ("data.npz", _pickled, "holds pickled objects"),
    ("data.npz", _not_a_zip, "not a readable .npz"),
    ("tree", _bad_folder(_empty_class), "empty class folder"),
    ("tree", _bad_folder(_garbage_image), "0.png: unreadable image"),
    ("tree", _bad_folder(_mixed_sizes), "1.png: 6x7 image among 6x5 images"),
    ("tree", _bad_folder(_bomb), "big.png: 5000x5000 pixels is too large for a dataset image"),
    ("tree", _bad_folder(_class_only_in_train), "train/ and test/ have different class folders"),
    ("data.txt", lambda p: p.write_text("x"), "neither an .npz file nor an image-folder directory"),
    ("absent.npz", lambda p: None, "file not found"),
]


@pytest.mark.parametrize("name,make,message", MALFORMED, ids=[m for _, _, m in MALFORMED])
def test_malformed_data_is_one_line_naming_the_file_and_writes_nothing(tmp_path, base_config, name, make, message):
    """Each case: the configuration refuses it (one line, the key path and the file), and the data stage
    refuses it too, leaving the cached files of the dataset's earlier, valid version untouched."""
    path = tmp_path / name
    make(path)
    root = tmp_path / "data"
    good = write_npz(tmp_path / "good.npz")
    earlier = data.stage("mine", {"root": str(root), "custom": {"mine": {"path": str(good)}}})
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in earlier}

    base_config["data"]["custom"] = {"mine": {"path": str(path)}}
    with pytest.raises(config.ConfigError) as exc:
        config.load(base_config)
    text = str(exc.value)
    assert "\n" not in text and text.startswith("config: data.custom.mine: ") and message in text, text
    assert str(tmp_path) in text

    with pytest.raises(DataError) as exc:
        data.stage("mine", {"root": str(root), "custom": {"mine": {"path": str(path)}}})
    assert "\n" not in str(exc.value) and message in str(exc.value)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in earlier} == before
    assert sorted(p.name for p in (root / "mine").iterdir()) == ["test.pt", "train.pt"]


def test_a_truncated_image_is_refused_by_the_data_stage(tmp_path):
    """A file whose header reads but whose pixels do not is found when the stage decodes it."""
    root = write_folder(tmp_path / "tree", size=(40, 40))
    png = root / "train" / "dog" / "1.png"
    png.write_bytes(png.read_bytes()[:60])
    with pytest.raises(DataError, match=r"1\.png: unreadable image"):
        data.stage("tree", {"root": str(tmp_path / "data"), "custom": {"tree": {"path": str(root)}}})
    assert not (tmp_path / "data").exists()


def test_names_and_sizes_are_checked_against_the_data(tmp_path, base_config):
    path = write_npz(tmp_path / "mine.npz")
    base_config["data"]["custom"] = {"cifar10": {"path": str(path)}}
    with pytest.raises(config.ConfigError, match="data.custom.cifar10: .*the name of a registered dataset"):
        config.load(base_config)
    base_config["data"]["custom"] = {"mine": {"path": str(path)}}
    base_config["overrides"] = {"settings": {"pfc_fashionmnist": {"data": {"dataset": "mine", "per_class": 9}}}}
    with pytest.raises(
        config.ConfigError, match=r"pfc_fashionmnist.data.per_class: 9 is more than the smallest class of mine \(8"
    ):
        config.load(base_config)
    base_config["overrides"] = {"settings": {"pfc_fashionmnist": {"data": {"dataset": "mien"}}}}
    with pytest.raises(config.ConfigError, match="unknown dataset 'mien'; known: .*mine .*data.custom"):
        config.load(base_config)
    base_config["overrides"] = {"settings": {"pfc_fashionmnist": {"data": {"dataset": "mine", "per_class": 8}}}}
    resolved = config.load(base_config)
    assert resolved.settings["pfc_fashionmnist"]["data"]["dataset"] == "mine"
    assert resolved.figure_meta("pfc_fashionmnist")["datasets"] == {
        "mine": {"num_classes": 3, "shape": [1, 6, 5], "custom": True}
    }


def test_a_zip_member_that_is_not_an_array_is_refused(tmp_path):
    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w") as z:
        for key in datasets.NPZ_KEYS:
            z.writestr(f"{key}.npy", b"\x93NUMPY garbage")
    with pytest.raises(DataError, match="odd.npz: not a readable .npz"):
        datasets.read_custom(path)


def test_registry_sizes_of_the_offline_datasets_match_their_data():
    """The registry's split size and smallest class (per_class checks, the cost plan) against the data
    for the datasets generated here; the torchvision ones carry their published sizes."""
    for name, split in (("digits", data.digits_split), ("synthetic", data.synthetic_split)):
        _, y = split("train")
        spec = datasets.DATASETS[name]
        assert (spec.train_size, spec.min_per_class, spec.num_classes) == (len(y), np.bincount(y).min(), len(set(y)))


# ---- Mini-ImageNet in its common distributed layout (tiny files written here) ----


@pytest.fixture
def tiny_mini(monkeypatch):
    """Mini-ImageNet's structure at a tenth of a tenth: 2 + 1 + 1 classes of 4 images, the last one the
    test split."""
    monkeypatch.setattr(datasets, "MINI_IMAGENET_CLASSES", (2, 1, 1))
    monkeypatch.setattr(datasets, "MINI_IMAGENET_PER_CLASS", 4)
    monkeypatch.setattr(datasets, "MINI_IMAGENET_TEST_PER_CLASS", 1)


def write_mini(root, size=84, drop=None):
    """Split files and JPEGs: class c's images have every pixel 40 + 50 c (JPEG keeps flat images)."""
    (root / "images").mkdir(parents=True)
    wnids = [f"n0{c}000000" for c in range(4)]
    for csv_name, classes in (("train.csv", wnids[:2]), ("val.csv", wnids[2:3]), ("test.csv", wnids[3:])):
        lines = ["filename,label"]
        for wnid in classes:
            c = wnids.index(wnid)
            for i in range(4):
                name = f"{wnid}{i:08d}.jpg"
                lines.append(f"{name},{wnid}")
                if name != drop:
                    Image.new("RGB", (size, size), (40 + 50 * c,) * 3).save(root / "images" / name)
        (root / csv_name).write_text("\n".join(lines) + "\n")
    return root


def test_miniimagenet_is_read_in_split_file_order_and_staged_from_a_prestaged_copy(tmp_path, tiny_mini):
    root = write_mini(tmp_path / "mini")
    splits = datasets.read_miniimagenet(root)
    assert splits["train"][0].shape == (12, 3, 84, 84) and splits["test"][0].shape == (4, 3, 84, 84)
    assert splits["train"][1].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3] and splits["test"][1].tolist() == [
        0,
        1,
        2,
        3,
    ]
    assert [int(x.mean().round()) for x in splits["test"][0]] == [40, 90, 140, 190]  # label = split-file order
    paths = data.stage("miniimagenet", {"root": str(tmp_path / "cache"), "prestaged": {"miniimagenet": str(root)}})
    assert data.load_cached(paths[0])["x"].shape == (12, 3, 84, 84)
    with pytest.raises(DataError, match="miniimagenet: no pre-staged copy; pre-stage miniimagenet"):
        data.stage("miniimagenet", {"root": str(tmp_path / "other")})


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda root: (root / "val.csv").unlink(), "val.csv: not found"),
        (lambda root: (root / "test.csv").write_text("name,wnid\n"), "first line must be 'filename,label'"),
        (lambda root: (root / "test.csv").write_text("filename,label\nx.jpg\n"), "line 2: expected 'filename,label'"),
        (
            lambda root: (root / "test.csv").write_text((root / "val.csv").read_text()),
            "class n02000000 is also in another split file",
        ),
        (
            lambda root: (root / "train.csv").write_text("\n".join((root / "train.csv").read_text().splitlines()[:-1])),
            "class n01000000 has 3 images",
        ),
        (
            lambda root: (root / "images" / "n0300000000000001.jpg").unlink(),
            "n0300000000000001.jpg: listed in the split",
        ),
        (
            lambda root: Image.new("RGB", (80, 84)).save(root / "images" / "n0000000000000002.jpg"),
            "80x84 image, Mini-ImageNet's are 84x84",
        ),
    ],
)
def test_a_malformed_miniimagenet_copy_is_one_line_and_writes_nothing(tmp_path, tiny_mini, damage, message):
    root = write_mini(tmp_path / "mini")
    damage(root)
    with pytest.raises(DataError, match=message) as info:
        data.stage("miniimagenet", {"root": str(tmp_path / "cache"), "prestaged": {"miniimagenet": str(root)}})
    assert "\n" not in str(info.value) and not (tmp_path / "cache").exists()
