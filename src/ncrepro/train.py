"""Training of one (setting, seed): data resident as tensors, batches by index, checkpoints at the
setting's epochs, resumable and deterministic.

Layout under ``out_dir`` (``results/<scale>/train/<setting>/seed<seed>/``):

- ``ckpt/epoch<EEEE>.pt`` -- model state at each checkpoint epoch (epoch 0 = initialisation);
- ``ckpt/resume.pt`` -- model, optimiser and scheduler state after the last finished epoch;
- ``history.parquet`` -- loss, accuracy and learning rate per epoch;
- ``manifest.json`` -- the resolved setting, the content digest of the data, and every checkpoint with
  its SHA-256 (written last: its presence means training finished; the statistics stage verifies each
  checkpoint against it).

The checkpoints, the resume state and the manifest are written and verified by
:class:`ncrepro.checkpoints.CheckpointStore`. The checkpoint directory is not a declared Snakemake output,
so a killed job keeps it and the rerun resumes from ``resume.pt`` -- when, and only when, it was made by the
same resolved setting and seed from the same data (setting digest and data digest match) and its
checkpoints are intact; otherwise it is discarded. The order of samples in epoch ``e`` depends only on
``(seed, e)``, so an interrupted and resumed run is bit-identical to an uninterrupted one on CPU.

With ``train.devices`` N > 1, N processes train the run data-parallel on the same global batches
(:mod:`ncrepro.distributed`): rank 0 writes every file above, and every rank resumes from its resume state.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from .checkpoints import CheckpointStore
from .data import setting_tensors
from .digests import setting_digest
from .distributed import Group, devices_of, launch
from .environment import log_environment, machine, resolve_device, software
from .errors import TrainingDiverged  # noqa: F401  (raised here; ncrepro.train.TrainingDiverged)
from .io import atomic_write_parquet, load_torch
from .models import build_model
from .progress import progress as progress_bar
from .regimes import fits, steady


def configure_torch(threads: int, device: torch.device, log: bool = True) -> None:
    """Deterministic numerics and the configured thread count. On CUDA: cuBLAS's fixed workspace
    (``CUBLAS_WORKSPACE_CONFIG``, read when its first handle is made, so before any CUDA computation),
    deterministic cuDNN without autotuning, and a warning (not an error) for an operation that has no
    deterministic CUDA kernel. Logs the software and device (:func:`ncrepro.environment.log_environment`)."""
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.set_num_threads(threads)
    use_deterministic_algorithms(warn_only=device.type == "cuda")
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    if log:
        log_environment(device, deterministic=True)


def use_deterministic_algorithms(warn_only: bool) -> None:
    """``torch.use_deterministic_algorithms(True)`` without its import of ``torch._inductor.config``
    (2.5 s of every training and statistics process with torch 2.14, to set a flag of the compiler,
    which nothing here uses); the public call where torch lacks the private setter."""
    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None:
        torch.use_deterministic_algorithms(True, warn_only=warn_only)
    else:
        setter(True, warn_only=warn_only)


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The sample order of one epoch: a permutation that depends only on (seed, epoch)."""
    gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=gen)


def make_loss(train: dict) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The data-fit loss of logits against integer labels.

    ``ce``: cross-entropy, mean over the batch. ``mse``: squared error against one-hot targets
    (uncentred, unscaled), with ``mse_reduction`` ``mean`` = ``nn.MSELoss()``, the mean over batch x K
    (Zhu et al.'s code; the reading for Perturb Figs. 3-6, docs/papers/perturb-reading.md, "Loss and classifier
    bias"), or ``half_sum`` = 1/2 sum over classes,
    mean over the batch (the fit term 1/(2N) ||W_L ... H_1 - Y||_F^2 of DUFM eq. (1)).
    """
    name = train["loss"]
    if name == "ce":
        return nn.CrossEntropyLoss()
    if name == "mse":
        reduction = train.get("mse_reduction", "mean")

        def mse(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            target = nn.functional.one_hot(y, logits.shape[1]).to(logits.dtype)
            if reduction == "mean":
                return nn.functional.mse_loss(logits, target)
            return 0.5 * (logits - target).pow(2).sum(1).mean()

        return mse
    raise ValueError(f"unknown loss {name!r}")


PARAMETER_GROUPS = ("backbone", "head", "classifier")


def group_weight_decay(train: dict) -> dict[str, float]:
    """Weight decay per parameter group: ``weight_decay`` for every group unless
    ``weight_decay_<group>`` overrides it (Perturb §5: "feature mapping" = backbone, "last layer" =
    classifier incl. its bias, docs/papers/perturb-reading.md, "Weight-decay groups";
    DUFM §6.2: the head matrices and the classifier, not the backbone)."""
    default = train.get("weight_decay", 0.0)
    return {g: train.get(f"weight_decay_{g}", default) for g in PARAMETER_GROUPS}


def parameter_groups(train: dict, model: nn.Module) -> list[dict]:
    """Optimiser parameter groups of the trainable parameters, each with its weight decay."""
    decay = group_weight_decay(train)
    groups = []
    for name, params in model.parameter_groups().items():
        params = [p for p in params if p.requires_grad]
        if params:
            groups.append({"params": params, "weight_decay": decay[name], "name": name})
    return groups


def make_optimizer(train: dict, model: nn.Module) -> torch.optim.Optimizer:
    """SGD (momentum), Adam or L-BFGS over the trainable parameters. Weight decay is coupled L2 (added
    to the gradient); L-BFGS takes no per-group options, so for it the L2 term is added to the loss
    instead (:func:`explicit_l2`)."""
    groups = parameter_groups(train, model)
    name, lr = train["optimizer"], train["lr"]
    if name == "sgd":
        momentum, nesterov = train.get("momentum", 0.0), train.get("nesterov", False)
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=nesterov)
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr, betas=tuple(train.get("betas", (0.9, 0.999))))
    if name == "lbfgs":
        params = [p for g in groups for p in g["params"]]
        history, max_iter = train.get("history_size", 100), train.get("max_iter", 20)
        return torch.optim.LBFGS(params, lr=lr, max_iter=max_iter, history_size=history, line_search_fn="strong_wolfe")
    raise ValueError(f"unknown optimizer {name!r}")


def explicit_l2(train: dict, model: nn.Module) -> torch.Tensor | None:
    """sum_g wd_g / 2 ||theta_g||^2 over trainable parameters, for optimisers without weight decay."""
    if train["optimizer"] != "lbfgs":
        return None
    terms = [
        g["weight_decay"] / 2 * sum(p.pow(2).sum() for p in g["params"])
        for g in parameter_groups(train, model)
        if g["weight_decay"]
    ]
    return sum(terms) if terms else None


class LayerwiseSchedule:
    """Layer-wise training of an MLP (Perturb Fig. 2, App. E.1): outer iteration ``L`` (epochs
    ``(L-1)*E+1 .. L*E``) trains only hidden layer ``L`` (fresh from its construction-time init) and the
    classifier (carried over), with a fresh optimiser; layers ``1..L-1`` are frozen and kept in eval
    mode, so the trunk is a fixed map (the project's reading; docs/papers/perturb-reading.md, "Layer-wise training")."""

    def __init__(self, epochs_per_layer: int):
        self.epochs_per_layer = epochs_per_layer

    def layer_of(self, epoch: int) -> int:
        return max(1, (epoch - 1) // self.epochs_per_layer + 1)

    @staticmethod
    def enter(model: nn.Module, layer: int) -> None:
        backbone = model.backbone
        backbone.active_depth.fill_(layer)
        for i, hidden in enumerate(backbone.hidden):
            hidden.requires_grad_(i == layer - 1)

    @staticmethod
    def freeze_modes(model: nn.Module) -> None:
        backbone = model.backbone
        for hidden in backbone.hidden[: int(backbone.active_depth) - 1]:
            hidden.eval()


def weight_penalty(train: dict, model: nn.Module) -> float:
    """What the optimiser's weight decay minimises: sum_g wd_g / 2 ||theta_g||^2 over the parameter groups."""
    decay = group_weight_decay(train)
    return sum(
        decay[group] / 2 * sum(float(p.detach().double().pow(2).sum()) for p in params)
        for group, params in model.parameter_groups().items()
    )


def checkpoints_through(epoch: int, checkpoints, train: dict) -> list[int]:
    """The checkpoint epochs of a run that stops after ``epoch``: the configured ones up to it, with
    ``train.until`` every ``until.every`` epochs beyond ``epochs``, and ``epoch`` itself (the last)."""
    extended = range(train["epochs"] + train["until"]["every"], epoch + 1, train["until"]["every"])
    return sorted({*(c for c in checkpoints if c <= epoch), *extended, epoch})


def regime_held(history: list[dict], until: dict, checkpoints: list[int]) -> bool:
    """Whether the regime of ``train.until`` held at the end of ``history``, read as the figures' gates
    read it on ``checkpoints`` (the run's checkpoints if it stopped now, :func:`checkpoints_through`):

    - ``fit``: the running training accuracy fits the training set within ``tolerance``
      (:func:`ncrepro.regimes.fits`) at every epoch from the earliest start the window asks: the last
      ``window`` epochs, the ``checkpoints``-th last checkpoint (the ULPM networks' late window needs that
      many measured epochs in the terminal phase), the last checkpoint at or before (1 - ``share``) x the
      epochs run (Review: in the terminal phase over the last quarter). Never from the initialisation.
    - ``settle``: the running objective (fit, feature penalty and weight penalty) at the last and the
      previous checkpoint within ``rtol`` (:func:`ncrepro.regimes.steady`), as DUFM's figures read their
      networks "at convergence".

    The running accuracy of the epoch's batches stands for the network's accuracy at its end (biased low
    where BatchNorm's batch statistics differ from its running ones)."""
    if not history:
        return False
    last = history[-1]["epoch"]
    by_epoch = {h["epoch"]: h for h in history}
    if until["regime"] == "settle":
        previous = [c for c in checkpoints if c < last and c in by_epoch]
        objectives = [by_epoch[e].get("train_objective") for e in (previous or [last])[-1:] + [last]]
        return bool(previous) and None not in objectives and steady(*objectives, until["rtol"])
    starts = []
    if "window" in until:
        starts.append(last - until["window"] + 1)
    if "checkpoints" in until:
        starts.append(checkpoints[-until["checkpoints"]] if len(checkpoints) >= until["checkpoints"] else 0)
    if "share" in until:
        before = [c for c in checkpoints if c <= (1 - until["share"]) * last]
        starts.append(before[-1] if before else 0)
    start = min(starts)
    span = [by_epoch.get(e) for e in range(start, last + 1)]
    return start >= 1 and all(h is not None and fits(h["train_acc"], until["tolerance"]) for h in span)


def training_done(epoch: int, history: list[dict], train: dict, checkpoints) -> bool:
    """Whether training ends after ``epoch``: at ``epochs``; with ``train.until``, at ``epochs`` or a
    checkpoint beyond it (every ``until.every`` epochs) where its regime held (:func:`regime_held`), or at
    its ``max_epochs``. A function of the history alone, so that a resumed run stops where an
    uninterrupted one does."""
    until = train.get("until")
    if epoch < train["epochs"]:
        return False
    if until is None or epoch >= until["max_epochs"]:
        return True
    if (epoch - train["epochs"]) % until["every"]:  # a run stops on its checkpoint grid only
        return False
    return regime_held(history, until, checkpoints_through(epoch, checkpoints, train))


def extended_checkpoint(epoch: int, history: list[dict], train: dict, checkpoints) -> bool:
    """A checkpoint beyond ``epochs`` (``train.until``): every ``until.every`` epochs and at the last."""
    epochs, until = train["epochs"], train.get("until")
    if epoch <= epochs:
        return False
    return (epoch - epochs) % until["every"] == 0 or training_done(epoch, history, train, checkpoints)


def make_schedule(train: dict, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.MultiStepLR:
    """The learning rate times ``gamma`` (default 0.1) at each epoch of ``milestones`` (default none)."""
    return torch.optim.lr_scheduler.MultiStepLR(
        optimizer, milestones=train.get("milestones", []), gamma=train.get("gamma", 0.1)
    )


class Forward(nn.Module):
    """The network's forward pass as the objective reads it: the logits, and the backbone's output where
    the feature penalty needs it (else None) -- one ``forward``, the method DDP synchronises."""

    def __init__(self, model: nn.Module, features: bool):
        super().__init__()
        self.model, self.features = model, features

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.features:
            return self.model.forward_with_backbone_output(x)
        return self.model(x), None


class Trainer:
    """The training of one (setting, seed) on data resident as tensors: the network, its loss, optimiser
    and learning-rate schedule, and where training stands -- ``epoch`` (the last finished; 0 before the
    first), the layer-wise ``stage``, the ``history`` of finished epochs and where the loss stopped being
    finite (``diverged``, with ``train.divergence: record``). The network is initialised from ``seed``.
    ``group`` is this process's place among the processes that train it (:class:`ncrepro.distributed.Group`;
    a group of one by default): ``model`` is the network, ``net`` its forward pass as this process runs it
    (under DDP with several processes)."""

    def __init__(self, setting: dict, seed: int, data, dev: torch.device, group: Group | None = None):
        self.setting, self.seed, self.dev = setting, seed, dev
        self.group = group or Group(device=dev)
        self.train_cfg = setting["train"]
        self.checkpoints = set(setting["checkpoints"])
        self.x, self.y = data.x.to(dev), data.y.to(dev)
        torch.manual_seed(seed)
        model = build_model(setting["model"], tuple(self.x.shape[1:]), data.num_classes).to(dev)
        self.model = self.group.prepare(model)
        self.loss_fn = make_loss(self.train_cfg)
        self.feature_penalty = self.train_cfg.get("feature_penalty", 0.0)
        self.net = self.group.wrap(Forward(self.model, bool(self.feature_penalty)))
        # DUFM eq. (1), §6.2: lambda_H1/2 ||H1||_F^2 over all N samples, estimated per batch as
        # N*lambda/2 * mean ||h||^2 (docs/papers/dufm-reading.md, "Network recipe").
        self.penalty_scale = len(self.y) * self.feature_penalty / 2
        layerwise = self.train_cfg.get("layerwise")
        self.layerwise = LayerwiseSchedule(layerwise["epochs_per_layer"]) if layerwise is not None else None
        self.epoch, self.history, self.diverged = 0, [], None
        self.enter_stage(1)

    @property
    def name(self) -> str:
        return f"{self.setting['name']} seed {self.seed}"

    def enter_stage(self, stage: int) -> None:
        """Begin outer iteration ``stage`` of layer-wise training (:class:`LayerwiseSchedule`; stage 1
        throughout without it) with a fresh optimiser and learning-rate schedule."""
        self.stage = stage
        if self.layerwise:
            self.layerwise.enter(self.model, stage)
        self.optimizer = make_optimizer(self.train_cfg, self.model)
        self.scheduler = make_schedule(self.train_cfg, self.optimizer)

    def restore(self, state: dict) -> None:
        """Continue from a resume state (:meth:`ncrepro.checkpoints.CheckpointStore.latest_resumable`)."""
        self.model.load_state_dict(state["model"])
        if self.layerwise:
            self.enter_stage(state["stage"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.epoch, self.history = state["epoch"], state["history"]
        if self.group.writes:
            print(f"resuming {self.name} from epoch {self.epoch}", file=sys.stderr)

    def resume_state(self) -> dict:
        """What :meth:`ncrepro.checkpoints.CheckpointStore.save_resume` records of the training."""
        return {
            "epoch": self.epoch,
            "stage": self.stage,
            "history": self.history,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
        }

    def done(self) -> bool:
        """Whether training ends after the last finished epoch (:func:`training_done`)."""
        return training_done(self.epoch, self.history, self.train_cfg, self.checkpoints)

    def at_checkpoint(self) -> bool:
        """Whether the last finished epoch is a checkpoint: configured, or :func:`extended_checkpoint`."""
        return self.epoch in self.checkpoints or extended_checkpoint(
            self.epoch, self.history, self.train_cfg, self.checkpoints
        )

    def objective(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(total loss to minimise, data-fit loss, logits) of one batch: the fit, the feature penalty of
        DUFM eq. (1) where ``train.feature_penalty`` is set, and L-BFGS's L2 term (:func:`explicit_l2`).
        An empty batch (a process's slice of a global batch smaller than the number of processes) has
        zero loss, with a gradient (of zeros) for every parameter the forward pass reaches."""
        logits, h1 = self.net(xb)
        total = fit = self.loss_fn(logits, yb) if len(yb) else logits.sum()
        if self.feature_penalty:
            total = fit + self.penalty_scale * h1.pow(2).sum() / max(len(yb), 1)
        l2 = explicit_l2(self.train_cfg, self.model)
        if l2 is not None:
            total = total + l2
        return total, fit, logits

    def evaluate(self, xb: torch.Tensor, yb: torch.Tensor, last: dict, weight: float = 1.0) -> torch.Tensor:
        """The optimiser's closure: the batch's total loss with its gradients (those of ``weight`` times it:
        a process's share of a global batch, :meth:`ncrepro.distributed.Group.part`); ``last`` keeps the
        fit, the total and the logits of this evaluation."""
        self.optimizer.zero_grad(set_to_none=True)
        total, fit, logits = self.objective(xb, yb)
        (total if weight == 1.0 else total * weight).backward()
        last["fit"], last["total"], last["logits"] = fit.detach(), total.detach(), logits.detach()
        return total

    def step(self, xb: torch.Tensor, yb: torch.Tensor, weight: float = 1.0) -> dict[str, torch.Tensor]:
        """One optimiser step on a batch: the fit, total and logits of its last evaluation (L-BFGS
        evaluates several times a step); ``weight`` as :meth:`evaluate` takes it."""
        last: dict[str, torch.Tensor] = {}
        closure = functools.partial(self.evaluate, xb, yb, last, weight)
        if isinstance(self.optimizer, torch.optim.LBFGS):
            self.optimizer.step(closure)
        else:
            closure()
            self.optimizer.step()
        return last

    def run_batches(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One pass over the training data in the epoch's order (:func:`epoch_order`), a step a batch (this
        process's slice of it, :meth:`ncrepro.distributed.Group.part`): the sums over samples of the
        data-fit loss and of the minimised total (float64), and the number of samples classified correctly,
        each added over the processes."""
        n, batch = len(self.y), self.train_cfg["batch_size"]
        order = epoch_order(n, self.seed, self.epoch).to(self.dev)
        fit_sum = torch.zeros((), dtype=torch.float64, device=self.dev)
        total_sum = torch.zeros((), dtype=torch.float64, device=self.dev)
        correct = torch.zeros((), dtype=torch.int64, device=self.dev)
        for start in range(0, n, batch):
            idx, weight = self.group.part(order[start : start + batch])
            yb = self.y[idx]
            last = self.step(self.x[idx], yb, weight)
            fit_sum += last["fit"].double() * len(idx)
            total_sum += last["total"].double() * len(idx)
            correct += (last["logits"].argmax(1) == yb).sum()
        return self.group.sum(fit_sum, total_sum, correct)

    def train_epoch(self) -> dict | None:
        """Train the next epoch: its row of the history (appended), or None where its loss is not finite
        and ``train.divergence`` is ``record`` (then ``diverged`` says where); with ``stop`` (the
        default) a loss that is not finite raises :class:`TrainingDiverged`."""
        self.epoch += 1
        if self.layerwise and self.layerwise.layer_of(self.epoch) != self.stage:
            self.enter_stage(self.layerwise.layer_of(self.epoch))
        self.net.train()
        if self.layerwise:
            self.layerwise.freeze_modes(self.model)
        t0 = time.perf_counter()
        lr = self.optimizer.param_groups[0]["lr"]
        fit_sum, total_sum, correct = self.run_batches()
        self.scheduler.step()
        n = len(self.y)
        train_loss, train_acc = float(fit_sum) / n, float(correct) / n
        if not math.isfinite(train_loss):
            self.diverge(train_loss, lr)
            return None
        # the regularised objective: what the batches minimised, plus the coupled weight decay's penalty
        # (L-BFGS has its L2 term in the batches' loss already)
        coupled = 0.0 if self.train_cfg["optimizer"] == "lbfgs" else weight_penalty(self.train_cfg, self.model)
        row = {
            "epoch": self.epoch,
            "train_loss": train_loss,
            "train_acc": train_acc,
            "train_objective": float(total_sum) / n + coupled,
            "lr": lr,
            "seconds": time.perf_counter() - t0,
        }
        self.history.append(row)
        return row

    def diverge(self, train_loss: float, lr: float) -> None:
        """A loss that is not finite at the last epoch: :class:`TrainingDiverged` with ``train.divergence:
        stop`` (the default); recorded in ``diverged`` with ``record``."""
        if self.train_cfg.get("divergence", "stop") == "stop":
            raise TrainingDiverged(
                f"{self.name}: training loss is {train_loss} at epoch {self.epoch} (lr {lr}); lower the learning rate"
            )
        self.diverged = {"epoch": self.epoch, "train_loss": train_loss, "lr": lr}
        print(f"{self.name}: diverged at epoch {self.epoch} (lr {lr}), recorded", file=sys.stderr)


def network_record(data) -> dict:
    """What every checkpoint records to rebuild a network trained on ``data``: input shape, number of
    classes and the inputs' normalisation."""
    return {
        "in_shape": list(data.x.shape[1:]),
        "num_classes": data.num_classes,
        "normalization": {"mean": data.mean, "std": data.std},
    }


def epoch_bar(setting: dict, seed: int, initial: int, show: bool):
    """The progress of a run in epochs (:func:`ncrepro.progress.progress`), a line an epoch in a log."""
    train = setting["train"]
    return progress_bar(
        initial=initial,
        total=train["until"]["max_epochs"] if "until" in train else train["epochs"],
        disable=not show,
        desc=f"{setting['name']} seed {seed}",
        unit="epoch",
        log_every=0.0,
        mininterval=1.0,
    )


def write_history(out_dir: Path, history: list[dict], setting: dict, seed: int) -> None:
    """``history.parquet``: loss, accuracy, objective and learning rate per epoch (setting and seed in its
    metadata)."""
    hist = pd.DataFrame(history, columns=["epoch", "train_loss", "train_acc", "train_objective", "lr", "seconds"])
    atomic_write_parquet(hist.drop(columns="seconds"), out_dir / "history.parquet", {"setting": setting, "seed": seed})


def run_summary(history: list[dict], dev: torch.device, started: float) -> dict:
    """What the manifest records of a run besides its setting and checkpoints: software, machine, wall
    time since ``started`` (:func:`time.perf_counter`), final running loss and accuracy, epochs run."""
    return {
        "software": software(),
        "machine": machine(dev),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "final_train_acc": history[-1]["train_acc"] if history else None,
        "final_train_loss": history[-1]["train_loss"] if history else None,
        "epochs_run": history[-1]["epoch"] if history else 0,
    }


def run(
    setting: dict,
    seed: int,
    train_cache: Path | str,
    out_dir: Path | str,
    device: str = "auto",
    threads: int = 1,
    progress: bool = True,
) -> Path:
    """Train ``setting`` with ``seed`` on the cached training split; returns the manifest path. With
    ``train.divergence: record`` a loss that stops being finite ends training there: the manifest lists
    the checkpoints written before it and records ``diverged`` (epoch, loss, lr). With ``train.until``
    training goes on past ``epochs`` until its regime held (:func:`training_done`), checkpointed as
    :func:`extended_checkpoint` says; the manifest records ``epochs_run``. With ``train.devices`` N > 1,
    N processes train it on N devices (:mod:`ncrepro.distributed`), each with ``threads`` // N threads
    (at least one)."""
    # A canonical copy (no shared sub-objects), so that checkpoints pickle to the same bytes whether
    # the setting came from the config loader or from JSON on the command line.
    setting = json.loads(json.dumps(setting))
    devices = devices_of(setting)
    args = (setting, seed, train_cache, Path(out_dir), max(1, threads // devices), progress)
    if devices == 1:
        return train_process(Group(device=resolve_device(device)), *args)
    return launch(train_process, devices, device, args)


def shared_resume_state(group: Group, store: CheckpointStore) -> dict | None:
    """The resume state every process continues from: rank 0 checks ``resume.pt``
    (:meth:`ncrepro.checkpoints.CheckpointStore.latest_resumable`, which discards a bad one), and where it
    passed the others read the same file."""
    state = store.latest_resumable() if group.writes else None
    if group.broadcast(state is not None) and state is None:
        state = load_torch(store.resume_path)
    return state


def train_process(
    group: Group, setting: dict, seed: int, train_cache: Path | str, out_dir: Path, threads: int, progress: bool
) -> Path | None:
    """One process's part of :func:`run` on ``group.device`` with ``threads`` threads: every process trains,
    rank 0 writes the checkpoints, the resume state, the history and the manifest, and returns the
    manifest's path (the other ranks None)."""
    dev, writes = group.device, group.writes
    configure_torch(threads, dev, log=writes)
    started = time.perf_counter()
    digest = setting_digest(setting)
    data = setting_tensors(setting["data"], train_cache)
    trainer = Trainer(setting, seed, data, dev, group)
    store = CheckpointStore(out_dir, setting, digest, seed, data.digest, network_record(data))
    state = shared_resume_state(group, store)
    if state is not None:
        trainer.restore(state)
    if writes and trainer.epoch == 0 and 0 in trainer.checkpoints:
        store.save(0, trainer.model.state_dict(), math.nan, math.nan)

    bar = epoch_bar(setting, seed, trainer.epoch, progress and writes)
    while not trainer.done():
        row = trainer.train_epoch()
        if row is None:  # diverged, recorded
            break
        bar.set_postfix(
            loss=f"{row['train_loss']:.4f}", acc=f"{row['train_acc']:.4f}", lr=f"{row['lr']:.2g}", refresh=False
        )
        bar.update(1)
        if writes and trainer.at_checkpoint():
            store.save(trainer.epoch, trainer.model.state_dict(), row["train_loss"], row["train_acc"])
        if writes:
            store.save_resume(**trainer.resume_state())
    bar.close()
    if not writes:
        return None
    write_history(out_dir, trainer.history, setting, seed)
    return store.write_manifest(run_summary(trainer.history, dev, started), trainer.diverged)
