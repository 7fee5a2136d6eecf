"""Command line: ``ncrepro <stage> ...`` -- what each Snakemake rule runs -- plus ``list-figures``
and ``check-config`` for people. Errors the user can fix print one line and exit with status 2."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .config import ConfigError


def _json(text: str):
    return json.loads(text)


def _json_file(path: str):
    """The JSON of a spec file (a job's resolved spec, ``results/<scale>/specs/``)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"{path}: not a readable JSON spec ({exc})") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ncrepro", description=__doc__)
    p.add_argument("--version", action="version", version=f"ncrepro {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("data", help="stage a dataset into cached tensor files")
    s.add_argument("--dataset", required=True)
    s.add_argument("--data-config", type=_json, required=True, help="the config's data block as JSON")

    s = sub.add_parser("train", help="train one (setting, seed)")
    s.add_argument("--setting", type=_json, required=True, help="resolved setting as JSON")
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--data", required=True, help="cached training split (.pt)")
    s.add_argument("--out", required=True, help="run directory")
    s.add_argument("--device", default="auto")
    s.add_argument("--threads", type=int, default=1)

    s = sub.add_parser("stats", help="per-layer statistics of the checkpoints of one run")
    s.add_argument("--manifest", required=True)
    s.add_argument("--epochs", type=int, nargs="+", required=True)
    s.add_argument("--data", required=True, help="cached training split (.pt)")
    s.add_argument("--split-data", default=None, help="cached split to measure instead (default: training)")
    s.add_argument("--split", default="train", help="name of the measured split, recorded in the file")
    s.add_argument("--out-dir", required=True, help="writes epoch<E>.npz per checkpoint here")
    s.add_argument("--device", default="auto")
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--memory-mb", type=int, default=None, help="memory the job may use on the CPU (its batch fits)")
    s.add_argument(
        "--reference-stats", default=None, help="the run's training-split statistics: also classify by their means"
    )

    s = sub.add_parser("transfer", help="few-shot transfer of the checkpoints of one run (Review Fig. 10)")
    s.add_argument("--manifest", required=True)
    s.add_argument("--epochs", type=int, nargs="+", required=True)
    s.add_argument("--data", required=True, help="cached training split (.pt)")
    s.add_argument("--test-data", required=True, help="cached test split (.pt)")
    s.add_argument("--out", required=True, help="the table (.parquet)")
    s.add_argument("--device", default="auto")
    s.add_argument("--threads", type=int, default=1)

    s = sub.add_parser("metrics", help="tidy metric tables of one run")
    s.add_argument("--manifest", required=True)
    s.add_argument("--stats", nargs="+", required=True)
    s.add_argument("--out-metrics", required=True)
    s.add_argument("--out-geodesic", required=True)

    s = sub.add_parser("surrogate", help="solve one surrogate model")
    s.add_argument("--spec", type=_json, required=True, help="the resolved surrogate spec (JSON)")
    s.add_argument("--out", required=True)
    s.add_argument("--threads", type=int, default=1)
    s = sub.add_parser("figure", help="build one figure (PDF, figdata, claims)")
    s.add_argument("--kind", required=True, help="the figure kind (ncrepro.figures)")
    s.add_argument("--runs", nargs="*", default=[], help="the figure's setting of each run input, in order")
    for name in ("metrics", "metrics-test", "geodesic", "stats", "transfer", "data", "surrogates"):
        s.add_argument(f"--{name}", nargs="*", default=[], help=f"the figure's {name} inputs")
    s.add_argument("--pdf", required=True)
    s.add_argument("--figdata", required=True)
    s.add_argument("--claims", required=True)
    s.add_argument("--claims-table", default=None, help="also write the claims as a TSV table here")
    s.add_argument(
        "--spec",
        type=_json_file,
        required=True,
        dest="meta",
        help="the figure's resolved spec, a JSON file (results/<scale>/specs/figures/<id>.json)",
    )

    s = sub.add_parser("list-figures", help="print every figure id with its description")
    s.add_argument("--scale", default="paper")
    _configfile_argument(s)

    s = sub.add_parser("results", help="the results page: every built figure's claims, per paper and scale")
    s.add_argument("--results", default="results", help="the workflow's results directory")
    s.add_argument("--out", default="docs/results.md")

    s = sub.add_parser("plan", help="what a set of figures costs: runs, FLOPs, disk, memory, GPU-hours")
    s.add_argument("figures", nargs="*", help="figure ids (default: every implemented figure)")
    s.add_argument("--scale", default="paper")
    _configfile_argument(s)
    s.add_argument("--tflops", type=float, default=None, help="sustained GPU throughput assumed, TFLOP/s")
    s.add_argument("--out", default=None, help="also write the plan as Markdown here")
    s.add_argument("--readme", default=None, help="update the per-paper table in this README's plan block")

    s = sub.add_parser("check-config", help="validate the configuration")
    _configfile_argument(s)
    s.add_argument("--scale", default=None)
    return p


def _configfile_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--configfile",
        nargs="+",
        default=None,
        help="config files merged in order, as Snakemake's --configfile (default: the shipped config/config.yaml);"
        " papers/ and scales/ beside them replace the shipped ones",
    )


def list_figures(scale: str = "paper", configfiles: list[str] | None = None, out=sys.stdout) -> None:
    from .config import load_file

    resolved = load_file(configfiles, scale)
    width = max(len(f) for f in resolved.figures)
    for fig in resolved.figures.values():
        status = "ready  " if fig.implemented else "pending"
        print(f"{fig.id:<{width}}  {status}  {fig.number:<10}  {fig.caption}", file=out)
    n_ready = len(resolved.implemented_figures())
    print(
        f"{n_ready} of {len(resolved.figures)} figures can be built; build one with "
        f"`snakemake --cores 2 figures/<id>.pdf --config scale=smoke|quick|paper`",
        file=out,
    )
    out.flush()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from . import stages
    from .errors import DataError, TrainingDiverged

    try:
        if args.command == "data":
            stages.stage_data(args.dataset, args.data_config)
        elif args.command == "train":
            stages.stage_train(args.setting, args.seed, args.data, args.out, args.device, args.threads)
        elif args.command == "stats":
            stages.stage_stats(
                args.manifest,
                args.epochs,
                args.data,
                args.out_dir,
                args.device,
                args.threads,
                args.split_data,
                args.split,
                args.memory_mb,
                args.reference_stats,
            )
        elif args.command == "transfer":
            stages.stage_transfer(
                args.manifest, args.epochs, args.data, args.test_data, args.out, args.device, args.threads
            )
        elif args.command == "metrics":
            stages.stage_metrics(args.manifest, args.stats, args.out_metrics, args.out_geodesic)
        elif args.command == "surrogate":
            stages.stage_surrogate(args.spec, args.out, args.threads)
        elif args.command == "figure":
            from .figures import INPUTS, FigureInputs

            inputs = FigureInputs(
                **{name: tuple(getattr(args, name)) for name in (*INPUTS, "surrogates", "runs")},
            )
            stages.stage_figure(args.kind, inputs, args.pdf, args.figdata, args.claims, args.meta, args.claims_table)
        elif args.command == "list-figures":
            list_figures(args.scale, args.configfile)
        elif args.command == "results":
            from .config import load_file
            from .results import count_text, write_results

            for scale, n in write_results(load_file(), args.results, args.out).items():
                print(f"{scale}: {count_text(n)}")
            print(f"results: {args.out}")
        elif args.command == "plan":
            from .config import load_file
            from .io import atomic_write_text
            from .plan import markdown, plan, throughput, totals, update_readme

            resolved = load_file(args.configfile, args.scale)
            tflops, source = (args.tflops, "given with --tflops") if args.tflops else throughput()
            runs, solves = plan(resolved, args.figures or resolved.implemented_figures(), tflops)
            print(totals(runs).round(2).to_string())
            print(f"GPU-hours at {tflops:.3g} TFLOP/s ({source})")
            if args.out:
                atomic_write_text(args.out, markdown(runs, solves, resolved.scale, tflops, source))
                print(f"plan: {args.out}")
            if args.readme:
                try:
                    update_readme(args.readme, runs, tflops)
                except ValueError as exc:
                    raise ConfigError(str(exc)) from None
        elif args.command == "check-config":
            from .config import load_file

            resolved = load_file(args.configfile, args.scale)
            print(
                f"config ok: scale={resolved.scale}, {len(resolved.settings)} settings, {len(resolved.figures)} figures"
            )
    except BrokenPipeError:  # `ncrepro list-figures | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ConfigError, DataError, TrainingDiverged, OSError) as exc:
        print(f"ncrepro: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
