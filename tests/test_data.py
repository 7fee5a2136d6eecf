"""Dataset staging through the real native-format readers, on tiny files written in each format."""

import dataclasses
import gzip
import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from ncrepro import data
from ncrepro.data import DataError, RawFile

RNG = np.random.default_rng(0)


def idx_bytes(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_idx_dataset(directory: Path, n: int = 20, gz: bool = True):
    arrays = {}
    for split, stem in (("train", "train"), ("test", "t10k")):
        x = RNG.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        y = np.arange(n, dtype=np.uint8) % 10
        arrays[split] = (x, y)
        for kind, arr in (("images-idx3", x), ("labels-idx1", y)):
            blob = idx_bytes(arr)
            name = f"{stem}-{kind}-ubyte"
            if gz:
                (directory / f"{name}.gz").write_bytes(gzip.compress(blob, mtime=0))
            else:
                (directory / name).write_bytes(blob)
    return arrays


def patch_checksums(monkeypatch, name: str, directory: Path, content: bool = False):
    """Point the registry's checksums at the tiny files (the real ones only match the real data)."""
    spec = data.DATASETS[name]
    files = {}
    for split, raws in spec.files.items():
        new = []
        for raw in raws:
            path = data.find_raw_file(directory, raw)
            if content:
                new.append(RawFile(raw.name, "0" * 32, data.md5_content(path)))
            else:
                new.append(RawFile(raw.name, md5(path), None))
        files[split] = tuple(new)
    monkeypatch.setitem(data.DATASETS, name, dataclasses.replace(spec, files=files))


def data_config(tmp_path, name, staged):
    return {"root": str(tmp_path / "cache"), "prestaged": {name: str(staged)}, "download": False}


@pytest.mark.parametrize("name", ["mnist", "fashionmnist", "kmnist"])
def test_idx_prestaged_roundtrip(tmp_path, monkeypatch, name):
    staged = tmp_path / "staged"
    staged.mkdir()
    arrays = write_idx_dataset(staged)
    patch_checksums(monkeypatch, name, staged)
    paths = data.stage(name, data_config(tmp_path, name, staged))
    for split, path in zip(data.SPLITS, paths, strict=True):
        blob = data.load_cached(path)
        x, y = arrays[split]
        assert torch.equal(blob["x"], torch.from_numpy(x[:, None]))
        assert torch.equal(blob["y"], torch.from_numpy(y.astype(np.int64)))


def test_recompressed_copy_verified_on_content(tmp_path, monkeypatch):
    """Debian's copy is recompressed: the .gz MD5 differs, the decompressed content matches."""
    staged = tmp_path / "staged"
    staged.mkdir()
    write_idx_dataset(staged)
    patch_checksums(monkeypatch, "fashionmnist", staged, content=True)
    for f in staged.iterdir():  # recompress at another level: new file bytes, same content
        f.write_bytes(gzip.compress(gzip.decompress(f.read_bytes()), compresslevel=1, mtime=0))
    data.stage("fashionmnist", data_config(tmp_path, "fashionmnist", staged))


def test_corrupt_file_is_a_checksum_error_and_writes_nothing(tmp_path, monkeypatch):
    staged = tmp_path / "staged"
    staged.mkdir()
    write_idx_dataset(staged)
    patch_checksums(monkeypatch, "mnist", staged)
    victim = staged / "train-images-idx3-ubyte.gz"
    victim.write_bytes(victim.read_bytes()[:-50])  # truncated
    cfg = data_config(tmp_path, "mnist", staged)
    with pytest.raises(DataError, match="checksum error: .*train-images-idx3-ubyte.gz"):
        data.stage("mnist", cfg)
    assert not (tmp_path / "cache").exists()


def test_env_variable_prestaging_takes_precedence(tmp_path, monkeypatch):
    staged = tmp_path / "env"
    staged.mkdir()
    write_idx_dataset(staged)
    patch_checksums(monkeypatch, "kmnist", staged)
    monkeypatch.setenv("NCREPRO_PRESTAGED_KMNIST", str(staged))
    cfg = {"root": str(tmp_path / "cache"), "prestaged": {"kmnist": "/nonexistent"}, "download": False}
    assert len(data.stage("kmnist", cfg)) == 2


def test_cifar_pickles(tmp_path, monkeypatch):
    for name, label_key, files in (
        (
            "cifar10",
            b"labels",
            {
                "train": ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"],
                "test": ["test_batch"],
            },
        ),
        ("cifar100", b"fine_labels", {"train": ["train"], "test": ["test"]}),
    ):
        staged = tmp_path / name
        staged.mkdir()
        expected = {}
        for split, names in files.items():
            xs, ys = [], []
            for f in names:
                x = RNG.integers(0, 256, size=(4, 3072), dtype=np.uint8)
                y = list(RNG.integers(0, 10, size=4))
                with open(staged / f, "wb") as fh:
                    pickle.dump({b"data": x, label_key: y}, fh)
                xs.append(x.reshape(-1, 3, 32, 32))
                ys += y
            expected[split] = (np.concatenate(xs), np.array(ys))
        patch_checksums(monkeypatch, name, staged)
        paths = data.stage(name, data_config(tmp_path, name, staged))
        for split, path in zip(data.SPLITS, paths, strict=True):
            blob = data.load_cached(path)
            assert torch.equal(blob["x"], torch.from_numpy(expected[split][0]))
            assert blob["y"].tolist() == expected[split][1].tolist()


def test_stl10_binary_is_column_major(tmp_path, monkeypatch):
    staged = tmp_path / "stl"
    staged.mkdir()
    expected = {}
    for split in ("train", "test"):
        img = RNG.integers(0, 256, size=(3, 3, 96, 96), dtype=np.uint8)  # N, C, H, W
        img.transpose(0, 1, 3, 2).tofile(staged / f"{split}_X.bin")  # stored column-major
        np.array([1, 10, 5], dtype=np.uint8).tofile(staged / f"{split}_y.bin")
        expected[split] = img
    patch_checksums(monkeypatch, "stl10", staged)
    paths = data.stage("stl10", data_config(tmp_path, "stl10", staged))
    blob = data.load_cached(paths[0])
    assert torch.equal(blob["x"], torch.from_numpy(expected["train"]))
    assert blob["y"].tolist() == [0, 9, 4]


def test_svhn_mat(tmp_path, monkeypatch):
    import scipy.io

    staged = tmp_path / "svhn"
    staged.mkdir()
    for split in ("train", "test"):
        x = RNG.integers(0, 256, size=(32, 32, 3, 5), dtype=np.uint8)
        scipy.io.savemat(staged / f"{split}_32x32.mat", {"X": x, "y": np.array([[10], [1], [2], [3], [10]])})
    patch_checksums(monkeypatch, "svhn", staged)
    paths = data.stage("svhn", data_config(tmp_path, "svhn", staged))
    blob = data.load_cached(paths[0])
    assert blob["x"].shape == (5, 3, 32, 32) and blob["y"].tolist() == [0, 1, 2, 3, 0]


def test_offline_download_says_how_to_prestage(tmp_path, monkeypatch):
    import urllib.error

    import torchvision.datasets as tvd

    class Offline:
        def __init__(self, *args, **kwargs):
            raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(tvd, "CIFAR10", Offline)
    with pytest.raises(DataError) as info:
        data.stage("cifar10", {"root": str(tmp_path), "download": True})
    msg = str(info.value)
    assert "download failed" in msg and "NCREPRO_PRESTAGED_CIFAR10" in msg and "\n" not in msg


def test_downloads_off_without_copy(tmp_path):
    with pytest.raises(DataError, match="downloads are off"):
        data.stage("svhn", {"root": str(tmp_path), "download": False})


def test_digits_split_and_subset():
    xtr, ytr = data.digits_split("train")
    xte, yte = data.digits_split("test")
    assert len(xtr) + len(xte) == 1797 and np.bincount(yte).tolist() == [30] * 10
    assert xtr.dtype == np.uint8 and xtr.max() == 255
    y = torch.from_numpy(ytr)
    idx = data.balanced_subset(y, 100, 10, seed=0)
    assert torch.bincount(y[idx]).tolist() == [100] * 10
    assert torch.equal(idx, data.balanced_subset(y, 100, 10, seed=0))
    with pytest.raises(DataError, match="fewer than per_class"):
        data.balanced_subset(y, 1000, 10)


def test_setting_tensors_shape_and_standardisation(tmp_path):
    data.stage("digits", {"root": str(tmp_path)})
    t = data.setting_tensors(
        {"dataset": "digits", "per_class": 50, "shape": [3, 16, 16]}, tmp_path / "digits" / "train.pt"
    )
    assert t.x.shape == (500, 3, 16, 16)
    assert torch.allclose(t.x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    block = {"dataset": "digits", "per_class": 50, "shape": [3, 16, 16]}
    test = data.setting_tensors(block, tmp_path / "digits" / "test.pt", tmp_path / "digits" / "train.pt")
    whole = data.load_cached(tmp_path / "digits" / "test.pt")["y"]
    assert torch.equal(test.y, whole) and test.mean == t.mean  # the whole test split, the training subset's scaling
    padded = data.to_shape(torch.ones(2, 1, 28, 28), [1, 32, 32], "pad")
    assert padded.shape == (2, 1, 32, 32) and padded[0, 0, 0, 0] == 0 and padded[0, 0, 2, 2] == 1


def test_a_class_subset_keeps_those_classes_relabelled_in_order_in_both_splits(tmp_path):
    data.stage("digits", {"root": str(tmp_path)})
    train_file, test_file = tmp_path / "digits" / "train.pt", tmp_path / "digits" / "test.pt"
    block = {"dataset": "digits", "classes": [7, 2, 5], "per_class": 40}
    t = data.setting_tensors(block, train_file)
    assert t.num_classes == 3 and torch.bincount(t.y).tolist() == [40, 40, 40]
    whole = data.load_cached(train_file)
    first_seven = whole["x"][whole["y"] == 7][0].float() / 255.0
    sevens = t.x[t.y == 0] * torch.tensor(t.std)[:, None, None].float() + torch.tensor(t.mean)[:, None, None].float()
    assert torch.isclose(sevens, first_seven).flatten(1).all(1).any()  # label 0 holds the dataset's 7s
    test = data.setting_tensors(block, test_file, train_file)
    assert torch.bincount(test.y).tolist() == [30, 30, 30] and test.num_classes == 3
    shuffled = data.setting_tensors({**block, "random_labels": 1.0, "random_labels_rule": "permutation"}, train_file)
    assert sorted(shuffled.y.unique().tolist()) == [0, 1, 2]


@pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist").is_dir(), reason="Debian's dataset-fashion-mnist is not installed"
)
def test_debian_fashion_mnist_is_the_real_data(tmp_path):
    paths = data.stage(
        "fashionmnist",
        {"root": str(tmp_path), "prestaged": {"fashionmnist": "/usr/share/datasets/fashion-mnist"}, "download": False},
    )
    train = data.load_cached(paths[0])
    assert train["x"].shape == (60000, 1, 28, 28) and torch.bincount(train["y"]).tolist() == [6000] * 10
