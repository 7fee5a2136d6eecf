"""Command line: ``ncrepro <stage> ...`` -- what each Snakemake rule runs (:mod:`ncrepro.commands`) -- plus
``list-figures``, ``explain``, ``plan``, ``results`` and ``check-config`` for people. Errors the user can fix
print one line and exit with status 2."""

from __future__ import annotations

import argparse
import os
import sys

from .commands import add_stage_parsers, stage_arguments
from .errors import ConfigError
from .version import __version__


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ncrepro", description=__doc__)
    p.add_argument("--version", action="version", version=f"ncrepro {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    add_stage_parsers(sub)

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

    s = sub.add_parser("explain", help="one figure: its settings and where each key is set, its jobs, its code")
    s.add_argument("figure", help="a figure id")
    s.add_argument("--scale", default="paper")
    _configfile_argument(s)
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


def run_figure(args: argparse.Namespace) -> None:
    from .figures import INPUTS, FigureInputs
    from .stages import stage_figure

    options = stage_arguments("figure", args)
    inputs = FigureInputs(**{name: tuple(options.pop(name)) for name in (*INPUTS, "surrogates", "runs")})
    stage_figure(inputs=inputs, **options)


def run_results(args: argparse.Namespace) -> None:
    from .config import load_file
    from .results import count_text, write_results

    for scale, n in write_results(load_file(), args.results, args.out).items():
        print(f"{scale}: {count_text(n)}")
    print(f"results: {args.out}")


def run_plan(args: argparse.Namespace) -> None:
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


def run_check_config(args: argparse.Namespace) -> None:
    from .config import load_file
    from .figures.catalogue import check_kinds

    resolved = load_file(args.configfile, args.scale)
    check_kinds(resolved)
    print(f"config ok: scale={resolved.scale}, {len(resolved.settings)} settings, {len(resolved.figures)} figures")


def run_explain(args: argparse.Namespace) -> None:
    from .config import load_file
    from .explain import explain

    print(explain(load_file(args.configfile, args.scale), args.figure))


# Commands with a handler of their own; every other command calls its stage function (ncrepro.stages).
HANDLERS = {
    "figure": run_figure,
    "list-figures": lambda args: list_figures(args.scale, args.configfile),
    "results": run_results,
    "plan": run_plan,
    "check-config": run_check_config,
    "explain": run_explain,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from . import stages
    from .errors import DataError, TrainingDiverged

    try:
        if args.command in HANDLERS:
            HANDLERS[args.command](args)
        else:
            getattr(stages, f"stage_{args.command}")(**stage_arguments(args.command, args))
    except BrokenPipeError:  # `ncrepro list-figures | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ConfigError, DataError, TrainingDiverged, OSError) as exc:
        print(f"ncrepro: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
