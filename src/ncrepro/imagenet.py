"""ImageNet (ILSVRC-2012 classification), pre-staged only and verified by its structure: no checksum of
an unpacked tree is published, so its class set, its image counts, every validation image's label and
every image's header are checked, and its content digest is a fingerprint of its file list and sizes.

The layout is torchvision's (``torchvision.datasets.ImageNet`` once it has unpacked the archives):
``DIR/train/<wnid>/*.JPEG``, and the validation images either in class folders, ``DIR/val/<wnid>/*.JPEG``,
or flat, ``DIR/val/ILSVRC2012_val_<8 digits>.JPEG``, labelled by one of

- Kaggle's ``LOC_val_solution.csv`` in DIR: the header ``ImageId,PredictionString`` and a line
  ``ILSVRC2012_val_00008726,n02119789 255 142 454 329 ...`` per image (the first word of the prediction
  string is the image's wnid, then its boxes). Kaggle's own tree, ``DIR/ILSVRC/Data/CLS-LOC/{train,val}``
  beside the CSV, is read as it is;
- the devkit's ``meta.mat`` and ``ILSVRC2012_validation_ground_truth.txt``, in DIR or in
  ``DIR/ILSVRC2012_devkit_t12/data`` (where ``ILSVRC2012_devkit_t12.tar.gz`` unpacks them): ``meta.mat``'s
  ``synsets`` whose ``num_children`` is 0 are the 1,000 classes, each with its ``ILSVRC2012_ID`` (1..1000)
  and ``WNID``; line i of the text file is the ``ILSVRC2012_ID`` of ``ILSVRC2012_val_<i, 8 digits>.JPEG``.

The classes are the sorted wnids and a class's index its position (torchvision's order). The validation
split is the project's test split.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .datasets import (
    IMAGENET_CLASSES,
    IMAGENET_TRAIN_IMAGES,
    IMAGENET_TRAIN_PER_CLASS,
    IMAGENET_VAL_PER_CLASS,
    _image_files,
    _open_image,
    prestaged_dir,
)
from .errors import DataError

WNID = re.compile(r"n\d{8}")
VAL_IMAGE = re.compile(r"ILSVRC2012_val_(\d{8})")
KAGGLE_TREE = Path("ILSVRC", "Data", "CLS-LOC")
KAGGLE_VAL_LABELS = "LOC_val_solution.csv"
DEVKIT_DIRS = (Path("."), Path("ILSVRC2012_devkit_t12", "data"))
DEVKIT_META = "meta.mat"
DEVKIT_VAL_LABELS = "ILSVRC2012_validation_ground_truth.txt"
FROM_ARCHIVES = "copy it again from the ILSVRC-2012 archives"


@dataclass(frozen=True)
class ImageNetIndex:
    """A verified ImageNet tree: where its images are, its classes (sorted wnids; a class's index is its
    position), per split (``train``, and ``test``: ILSVRC-2012's validation images) the image files relative
    to ``root`` and their labels, what labels the validation images (``folders``, ``LOC_val_solution.csv`` or
    ``devkit``), and its content digest."""

    root: Path
    classes: tuple[str, ...]
    files: dict[str, list[str]]
    labels: dict[str, list[int]]
    val_labels: str
    digest: str


def imagenet_hint() -> str:
    return (
        "pre-stage imagenet: a directory DIR with train/<wnid>/*.JPEG and val/<wnid>/*.JPEG (or a flat val/ with"
        " Kaggle's LOC_val_solution.csv or the devkit's meta.mat and ILSVRC2012_validation_ground_truth.txt),"
        " at <data.root>/raw/imagenet (resources/data/raw/imagenet), or set `data: prestaged: imagenet: DIR` in"
        " config/config.yaml or NCREPRO_PRESTAGED_IMAGENET=DIR"
    )


def imagenet_dir(data_config: dict) -> Path | None:
    """The pre-staged ImageNet tree: ``$NCREPRO_PRESTAGED_IMAGENET``, else the config's
    ``data.prestaged.imagenet``, else ``<data.root>/raw/imagenet``, whichever exists first."""
    staged = prestaged_dir("imagenet", data_config)
    default = Path(data_config["root"]) / "raw" / "imagenet"
    return staged if staged is not None else default if default.is_dir() else None


def locate_imagenet(data_config: dict, **expected) -> ImageNetIndex:
    """The pre-staged ImageNet tree of ``data_config``, verified (``expected``: :func:`verify_imagenet`'s
    counts)."""
    directory = imagenet_dir(data_config)
    if directory is None:
        raise DataError(f"imagenet: no pre-staged copy; {imagenet_hint()}")
    return verify_imagenet(directory, **expected)


def _class_folders(split_dir: Path) -> tuple[list[str], list[Path]]:
    """The class folders of a split (sorted) and the image files directly in it."""
    if not split_dir.is_dir():
        raise DataError(f"{split_dir}: not found; {imagenet_hint()}")
    folders = sorted(p.name for p in split_dir.iterdir() if p.is_dir())
    for name in folders:
        if not WNID.fullmatch(name):
            raise DataError(
                f"{split_dir / name}: not a WordNet id (ImageNet's class folders are n + 8 digits); move it out"
            )
    return folders, _image_files(split_dir)


def _kaggle_labels(path: Path) -> dict[str, str]:
    """Kaggle's ``LOC_val_solution.csv``: the wnid of each validation image, by image name without suffix."""
    out = {}
    with open(path, newline="") as fh:
        rows = csv.reader(fh)
        if next(rows, None) != ["ImageId", "PredictionString"]:
            raise DataError(
                f"{path}: not Kaggle's validation labels (its first line must be 'ImageId,PredictionString');"
                f" {FROM_ARCHIVES}"
            )
        for number, row in enumerate(rows, start=2):
            words = row[1].split() if len(row) == 2 else []
            if not words or not WNID.fullmatch(words[0]):
                raise DataError(
                    f"{path}: line {number}: expected 'ImageId,<wnid> <box> ...', got {','.join(row)!r};"
                    f" {FROM_ARCHIVES}"
                )
            out[row[0]] = words[0]
    return out


def _devkit_labels(directory: Path) -> dict[str, str]:
    """The devkit's validation labels (``meta.mat`` and ``ILSVRC2012_validation_ground_truth.txt`` in
    ``directory``): the wnid of each validation image, by image name without suffix."""
    import scipy.io

    meta = directory / DEVKIT_META
    try:
        synsets = scipy.io.loadmat(meta, squeeze_me=True)["synsets"]
        leaves = synsets[synsets["num_children"] == 0]
        wnid_of = {int(i): str(w) for i, w in zip(leaves["ILSVRC2012_ID"], leaves["WNID"], strict=True)}
    except (OSError, ValueError, KeyError, IndexError, TypeError, scipy.io.matlab.MatReadError) as exc:
        raise DataError(f"{meta}: not the devkit's meta.mat ({type(exc).__name__}); {FROM_ARCHIVES}") from exc
    out = {}
    truth = directory / DEVKIT_VAL_LABELS
    for number, line in enumerate(truth.read_text().splitlines(), start=1):
        if not line.strip().isdigit() or int(line) not in wnid_of:
            raise DataError(
                f"{truth}: line {number}: {line.strip()!r} is not an ILSVRC2012_ID of {meta.name}; {FROM_ARCHIVES}"
            )
        out[f"ILSVRC2012_val_{number:08d}"] = wnid_of[int(line)]
    return out


def _flat_val_labels(directory: Path, root: Path) -> tuple[dict[str, str], str]:
    """The labels of a flat ``val/``: Kaggle's CSV (in ``directory`` or ``root``), else the devkit's files."""
    for where in dict.fromkeys((directory, root)):
        if (where / KAGGLE_VAL_LABELS).is_file():
            return _kaggle_labels(where / KAGGLE_VAL_LABELS), KAGGLE_VAL_LABELS
    for sub in DEVKIT_DIRS:
        if all((directory / sub / name).is_file() for name in (DEVKIT_META, DEVKIT_VAL_LABELS)):
            return _devkit_labels(directory / sub), "devkit"
    raise DataError(
        f"{root / 'val'}: flat validation images without labels: put {KAGGLE_VAL_LABELS}, or the devkit's"
        f" {DEVKIT_META} and {DEVKIT_VAL_LABELS}, in {directory}"
    )


def _train_split(root: Path, num_classes: int, train_images: int, per_class: tuple[int, int]):
    """The classes, the files and the labels of ``train/``, its counts verified."""
    classes, loose = _class_folders(root / "train")
    if loose:
        raise DataError(f"{loose[0]}: an image outside the class folders of train/; move it into its class folder")
    if len(classes) != num_classes:
        raise DataError(f"{root / 'train'}: {len(classes)} class folders, ImageNet has {num_classes}; {FROM_ARCHIVES}")
    files, labels = [], []
    for label, wnid in enumerate(classes):
        found = _image_files(root / "train" / wnid)
        if not per_class[0] <= len(found) <= per_class[1]:
            raise DataError(
                f"{root / 'train' / wnid}: {len(found)} images, an ImageNet training class has {per_class[0]}"
                f" to {per_class[1]}; {FROM_ARCHIVES}"
            )
        files += [f"train/{wnid}/{p.name}" for p in found]
        labels += [label] * len(found)
    if len(files) != train_images:
        raise DataError(f"{root / 'train'}: {len(files)} images, ImageNet has {train_images}; {FROM_ARCHIVES}")
    return tuple(classes), files, labels


def _val_split(directory: Path, root: Path, classes: tuple[str, ...], per_class: int):
    """The files and the labels of ``val/`` (class folders, or flat with a label file), its counts verified;
    and what labelled them."""
    folders, loose = _class_folders(root / "val")
    if folders and loose:
        raise DataError(f"{root / 'val'}: both class folders and loose images; keep one layout")
    if not folders and not loose:
        raise DataError(f"{root / 'val'}: no images; {FROM_ARCHIVES}")
    index = {wnid: label for label, wnid in enumerate(classes)}
    if folders:
        missing = sorted(set(classes) - set(folders)) or sorted(set(folders) - set(classes))
        if missing:
            what = "no folder for class" if missing[0] in index else "a folder of no training class,"
            raise DataError(f"{root / 'val'}: {what} {missing[0]}; {FROM_ARCHIVES}")
        pairs = [(f"val/{wnid}/{p.name}", index[wnid]) for wnid in classes for p in _image_files(root / "val" / wnid)]
        source = "folders"
    else:
        names, source = _flat_val_labels(directory, root)
        pairs = []
        for path in loose:
            wnid = names.get(path.stem)
            if wnid is None:
                raise DataError(f"{path}: no label in the {source} labels; {FROM_ARCHIVES}")
            if wnid not in index:
                raise DataError(f"{path}: labelled {wnid}, which is no training class; {FROM_ARCHIVES}")
            pairs.append((f"val/{path.name}", index[wnid]))
    counts = [0] * len(classes)
    for _, label in pairs:
        counts[label] += 1
    for label, count in enumerate(counts):
        if count != per_class:
            raise DataError(
                f"{root / 'val'}: class {classes[label]} has {count} validation images, ImageNet's have {per_class};"
                f" {FROM_ARCHIVES}"
            )
    return [f for f, _ in pairs], [label for _, label in pairs], source


def verify_imagenet(
    directory: Path | str,
    *,
    num_classes: int = IMAGENET_CLASSES,
    train_images: int = IMAGENET_TRAIN_IMAGES,
    train_per_class: tuple[int, int] = IMAGENET_TRAIN_PER_CLASS,
    val_per_class: int = IMAGENET_VAL_PER_CLASS,
) -> ImageNetIndex:
    """An ImageNet tree verified by its structure and indexed: ``num_classes`` class folders named by wnid
    in ``train/``, ``train_images`` training images with ``train_per_class`` (smallest, largest) per class,
    ``val_per_class`` validation images of each training class, every validation image labelled, every
    image readable by its header (not decoded). Anything else is a one-line :class:`DataError`. Its digest
    (SHA-256, 16 hex digits) is of every file's split, path, size and label."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory}: not a directory; {imagenet_hint()}")
    root = directory / KAGGLE_TREE if (directory / KAGGLE_TREE / "train").is_dir() else directory
    classes, train_files, train_labels = _train_split(root, num_classes, train_images, train_per_class)
    val_files, val_labels, source = _val_split(directory, root, classes, val_per_class)
    files, labels = {"train": train_files, "test": val_files}, {"train": train_labels, "test": val_labels}
    h = hashlib.sha256()
    for split in files:
        for name, label in zip(files[split], labels[split], strict=True):
            path = root / name
            try:
                _open_image(path, decode=False)
            except DataError as exc:
                raise DataError(f"{exc}; {FROM_ARCHIVES}") from exc
            h.update(f"{split}\t{name}\t{path.stat().st_size}\t{label}\n".encode())
    return ImageNetIndex(root, classes, files, labels, source, h.hexdigest()[:16])
