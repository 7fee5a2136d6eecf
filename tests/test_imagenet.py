"""ImageNet pre-staged and verified by its structure, on a tiny tree of real JPEGs (3 classes of 4 training
and 2 validation images) in each validation layout: class folders, flat with Kaggle's labels, flat with the
devkit's. A malformed tree is one line naming the problem and writes nothing; the data stage refuses to
cache ImageNet."""

import shutil

import numpy as np
import pytest
import scipy.io
from PIL import Image

from ncrepro import data, datasets, imagenet
from ncrepro.errors import DataError

WNIDS = ("n00000003", "n00000001", "n00000002")  # written unsorted: classes are the sorted wnids
EXPECTED = {"num_classes": 3, "train_images": 12, "train_per_class": (3, 5), "val_per_class": 2}
VAL_WNIDS = ("n00000002", "n00000003", "n00000001", "n00000001", "n00000003", "n00000002")  # val image i + 1
DEVKIT_IDS = {"n00000001": 3, "n00000002": 1, "n00000003": 2}  # ILSVRC2012_ID: not the sorted order


def jpeg(path, shade):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 6), (shade, 255 - shade, 40)).save(path, "JPEG")


def write_meta(path):
    """A devkit ``meta.mat``: the three classes (leaves) and one synset above them."""
    fields = ["ILSVRC2012_ID", "WNID", "words", "gloss", "num_children", "children", "wordnet_height"]
    synsets = np.empty((1, 4), dtype=[(f, "O") for f in fields])
    rows = [(i, w, "a, b", "g", 0, np.zeros((1, 0)), 0) for w, i in DEVKIT_IDS.items()]
    for k, row in enumerate([*rows, (4, "n09999999", "all", "g", 3, np.array([1, 2, 3]), 1)]):
        synsets[0, k] = row
    scipy.io.savemat(path, {"synsets": synsets})


def write_tree(root, val="folders"):
    """``root/train/<wnid>/*.JPEG`` and a validation split in layout ``val``: ``folders``, ``kaggle``
    (flat, LOC_val_solution.csv), ``devkit`` (flat, meta.mat and the ground truth under the devkit's
    folder) or ``kaggle_tree`` (Kaggle's download: ILSVRC/Data/CLS-LOC/ beside the CSV)."""
    images = root / "ILSVRC" / "Data" / "CLS-LOC" if val == "kaggle_tree" else root
    for k, wnid in enumerate(WNIDS):
        for i in range(4):
            jpeg(images / "train" / wnid / f"{wnid}_{i}.JPEG", 60 * k + i)
    for i, wnid in enumerate(VAL_WNIDS):
        name = f"ILSVRC2012_val_{i + 1:08d}"
        jpeg(images / "val" / (wnid if val == "folders" else "") / f"{name}.JPEG", 30 * i)
    if val in ("kaggle", "kaggle_tree"):
        lines = ["ImageId,PredictionString"]
        lines += [f"ILSVRC2012_val_{i + 1:08d},{w} 1 2 7 5 {w} 0 0 3 3 " for i, w in enumerate(VAL_WNIDS)]
        (root / "LOC_val_solution.csv").write_text("\n".join(lines) + "\n")
    if val == "devkit":
        devkit = root / "ILSVRC2012_devkit_t12" / "data"
        devkit.mkdir(parents=True)
        write_meta(devkit / "meta.mat")
        (devkit / "ILSVRC2012_validation_ground_truth.txt").write_text("".join(f"{DEVKIT_IDS[w]}\n" for w in VAL_WNIDS))
    return root


def tree_files(root):
    return sorted((p.relative_to(root), p.stat().st_size) for p in root.rglob("*"))


def test_a_tree_with_class_folders_is_verified_and_indexed(tmp_path):
    root = write_tree(tmp_path / "imagenet")
    index = imagenet.verify_imagenet(root, **EXPECTED)
    assert index.classes == ("n00000001", "n00000002", "n00000003") and index.val_labels == "folders"
    assert index.labels["train"] == [0] * 4 + [1] * 4 + [2] * 4
    assert index.files["train"][4] == "train/n00000002/n00000002_0.JPEG"
    assert index.labels["test"] == [0, 0, 1, 1, 2, 2]
    assert index.files["test"][0] == "val/n00000001/ILSVRC2012_val_00000003.JPEG"
    # the digest: the same for the same files anywhere, another when a file changes
    assert imagenet.verify_imagenet(shutil.copytree(root, tmp_path / "copy"), **EXPECTED).digest == index.digest
    Image.new("RGB", (9, 6)).save(root / "train" / "n00000001" / "n00000001_0.JPEG", "JPEG")
    assert imagenet.verify_imagenet(root, **EXPECTED).digest != index.digest


@pytest.mark.parametrize("layout", ["kaggle", "devkit", "kaggle_tree"])
def test_a_flat_validation_split_is_labelled_by_its_label_files(tmp_path, layout):
    root = write_tree(tmp_path / "imagenet", val=layout)
    index = imagenet.verify_imagenet(root, **EXPECTED)
    assert index.val_labels == ("devkit" if layout == "devkit" else "LOC_val_solution.csv")
    assert index.files["test"] == [f"val/ILSVRC2012_val_{i:08d}.JPEG" for i in range(1, 7)]
    assert index.labels["test"] == [1, 2, 0, 0, 2, 1]  # the sorted position of each image's wnid
    assert index.root == (root / "ILSVRC" / "Data" / "CLS-LOC" if layout == "kaggle_tree" else root)


def test_imagenet_is_registered_prestaged_only_and_never_cached(tmp_path, monkeypatch):
    spec = datasets.DATASETS["imagenet"]
    assert (spec.num_classes, spec.shape, spec.min_per_class, spec.train_size) == (1000, (3, 224, 224), 732, 1281167)
    assert not spec.files and spec.torchvision_class is None
    root = write_tree(tmp_path / "imagenet")
    config = {"root": str(tmp_path / "cache"), "prestaged": {"imagenet": str(root)}}
    with pytest.raises(DataError, match="imagenet: read per batch") as info:
        data.stage("imagenet", config)
    assert "\n" not in str(info.value) and not (tmp_path / "cache").exists()
    # where the tree is found: the environment, the config, the data root's raw/imagenet
    assert imagenet.imagenet_dir(config) == root
    assert imagenet.imagenet_dir({"root": str(tmp_path / "cache")}) is None
    with pytest.raises(DataError, match="imagenet: no pre-staged copy; pre-stage imagenet") as info:
        imagenet.locate_imagenet({"root": str(tmp_path / "cache")})
    assert "\n" not in str(info.value)
    moved = shutil.move(root, tmp_path / "cache" / "raw" / "imagenet")
    assert imagenet.locate_imagenet({"root": str(tmp_path / "cache")}, **EXPECTED).root == moved
    monkeypatch.setenv("NCREPRO_PRESTAGED_IMAGENET", str(tmp_path))
    assert imagenet.imagenet_dir(config) == tmp_path


def corrupt(path):
    path.write_bytes(b"not a JPEG")


@pytest.mark.parametrize(
    ("layout", "damage", "message"),
    [
        ("folders", lambda r: shutil.rmtree(r / "train" / "n00000002"), "train: 2 class folders, ImageNet has 3"),
        ("folders", lambda r: (r / "train" / "misc").mkdir(), "misc: not a WordNet id"),
        ("folders", lambda r: corrupt(r / "train" / "n00000003" / "n00000003_2.JPEG"), "JPEG: unreadable image"),
        ("folders", lambda r: corrupt(r / "val" / "n00000001" / "ILSVRC2012_val_00000003.JPEG"), "unreadable image"),
        (
            "folders",
            lambda r: [(r / "train" / "n00000001" / f"n00000001_{i}.JPEG").unlink() for i in (0, 1)],
            "n00000001: 2 images, an ImageNet training class has 3 to 5",
        ),
        ("folders", lambda r: jpeg(r / "train" / "n00000001" / "extra.JPEG", 0), "train: 13 images, ImageNet has 12"),
        ("folders", lambda r: jpeg(r / "train" / "stray.JPEG", 0), "stray.JPEG: an image outside the class folders"),
        (
            "folders",
            lambda r: (r / "val" / "n00000002" / "ILSVRC2012_val_00000001.JPEG").unlink(),
            "class n00000002 has 1 validation images, ImageNet's have 2",
        ),
        ("folders", lambda r: shutil.rmtree(r / "val" / "n00000003"), "val: no folder for class n00000003"),
        ("folders", lambda r: (r / "val" / "n00000009").mkdir(), "a folder of no training class, n00000009"),
        ("folders", lambda r: jpeg(r / "val" / "x.JPEG", 0), "val: both class folders and loose images"),
        ("folders", lambda r: shutil.rmtree(r / "val"), "val: not found; pre-stage imagenet"),
        (
            "kaggle",
            lambda r: (r / "LOC_val_solution.csv").write_text(
                "\n".join((r / "LOC_val_solution.csv").read_text().splitlines()[:-1])
            ),
            "ILSVRC2012_val_00000006.JPEG: no label in the LOC_val_solution.csv labels",
        ),
        (
            "kaggle",
            lambda r: (r / "LOC_val_solution.csv").write_text("id,label\n"),
            "first line must be 'ImageId,PredictionString'",
        ),
        ("kaggle", lambda r: (r / "LOC_val_solution.csv").unlink(), "flat validation images without labels"),
        (
            "devkit",
            lambda r: (r / "ILSVRC2012_devkit_t12" / "data" / "ILSVRC2012_validation_ground_truth.txt").write_text(
                "2\n3\n1\n"
            ),
            "ILSVRC2012_val_00000004.JPEG: no label in the devkit labels",
        ),
        (
            "devkit",
            lambda r: (r / "ILSVRC2012_devkit_t12" / "data" / "ILSVRC2012_validation_ground_truth.txt").write_text(
                "2\n4\n"
            ),
            "line 2: '4' is not an ILSVRC2012_ID of meta.mat",
        ),
        ("devkit", lambda r: corrupt(r / "ILSVRC2012_devkit_t12" / "data" / "meta.mat"), "not the devkit's meta.mat"),
    ],
)
def test_a_malformed_tree_is_one_line_and_writes_nothing(tmp_path, layout, damage, message):
    root = write_tree(tmp_path / "imagenet", val=layout)
    damage(root)
    before = tree_files(tmp_path)
    with pytest.raises(DataError, match=message) as info:
        imagenet.verify_imagenet(root, **EXPECTED)
    assert "\n" not in str(info.value) and tree_files(tmp_path) == before, str(info.value)


def test_the_published_counts_are_the_defaults(tmp_path):
    """A tiny tree is not ImageNet: its class count is refused under the published sizes."""
    root = write_tree(tmp_path / "imagenet")
    with pytest.raises(DataError, match="3 class folders, ImageNet has 1000"):
        imagenet.verify_imagenet(root)
