"""Per-kind model commands: ``train``, ``evaluate``, ``promote`` and ``fairness``, one
subcommand per kind of the pipeline registry (:data:`training.pipeline.PIPELINES`, keyed by
:class:`training.kinds.Kind`), generated in one loop over :data:`KIND_COMMANDS`. A kind adds its
own ``train`` command (its options: ``train programs --no-decisions --dask``) and how its
headline is printed; ``evaluate``, ``promote`` and ``fairness`` are the same for every kind and
call the pipeline's contract.

The training modules (LightGBM, MLflow: about a second) are imported inside the commands, so
that ``jenjang --help`` and the other commands do not pay for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from recommender.careers.rules import RulesError
from recommender.cli.common import DataOpt, JsonOpt, clean_dir, console, err, fail, settings
from training.cli.careers import print_everyone, rankers_of
from training.cli.common import steps, str_or_none
from training.kinds import Kind

train_app = typer.Typer(no_args_is_help=True, help="Train a model, log it to MLflow, register it.")
evaluate_app = typer.Typer(
    no_args_is_help=True, help="Evaluate a registered model and the baselines on the test period."
)
#: Exit code of ``jenjang promote`` when the gate refuses the candidate (its failed checks are
#: printed first); 0 = promoted or already the champion, 2 = a usage or lookup error.
REFUSED_EXIT = 3
promote_app = typer.Typer(
    no_args_is_help=True,
    help="Promote a model to champion through the quality-and-parity gate and the exposure "
    f"rule. Exits {REFUSED_EXIT} when the gate refuses it (the failed checks are printed), 2 on "
    "a usage error, 0 when promoted or already the champion.",
)
fairness_app = typer.Typer(
    no_args_is_help=True,
    help="Exposure of career-advancing items in the top 10 by group (docs/fairness.md).",
)
ModelOpt = Annotated[str, typer.Option(help="Alias or version to evaluate.")]
AblationOpt = Annotated[
    bool,
    typer.Option(
        "--ablation",
        help="programs only: retrain without each feature group (training.ablation) and print "
        "and log (on the model's run) the NDCG@10 change with paired bootstrap intervals.",
    ),
]
PromoteModelOpt = Annotated[str, typer.Option(help="Alias or version to promote.")]
FairnessRiskOpt = Annotated[
    str | None,
    typer.Option(
        "--accept-fairness-risk",
        metavar="REASON",
        help="Promote although the exposure rule fails (all other checks must pass), for an "
        "agency that documents why; the reason is logged with the decision on the run. "
        "Without it a failing model is refused (exit 3).",
    ),
]
MinParityOpt = Annotated[
    float | None,
    typer.Option(
        "--min-parity",
        metavar="FLOOR",
        min=0.0,
        max=1.0,
        help="Parity floor of the gate (lowest/highest group figure; default: the model's own, "
        "0.8); lower only for organisations too small for stable group figures.",
        show_default=False,
    ),
]
FairVersion = Annotated[
    str, typer.Option("--version", help="Alias or version number (default: the champion).")
]


def _parity(min_parity: float | None) -> dict[str, float]:
    return {} if min_parity is None else {"min_parity": min_parity}


# ------------------------------------------------------------------------------- programs
def train_programs(
    data: DataOpt = None,
    decisions: Annotated[
        bool,
        typer.Option(
            "--decisions/--no-decisions",
            help="Use the HR review decisions of the application database as labels.",
        ),
    ] = True,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            help="Fit with LightGBM's Dask estimator: 'local' (a 2-worker LocalCluster) or a "
            "scheduler address tcp://host:port (docs/programs-model.md); default: this machine.",
        ),
    ] = None,
) -> None:
    """Train the programme ranker (LambdaRank), evaluate against the baselines, log to MLflow
    and register it as jenjang-programs@challenger. HR decisions (approve / reject / replace
    on the review pages) relabel the train and validation years (docs/programs-model.md)."""
    from training import programs
    from training.decisions import DecisionsError
    from training.distributed import DaskConnectionError

    folder = clean_dir(data=data)
    bar, step = steps()
    cfg = programs.ProgramsConfig(use_decisions=decisions)
    try:
        with bar:
            summary = programs.train(settings(), folder, cfg, step, dask=dask)
    except (DecisionsError, DaskConnectionError) as exc:
        fail(exc=exc)
    _print_rankers(programs.headline(summary["test"]))
    used = summary.get("decisions", {})
    if used.get("enabled"):
        console.print(
            f"HR decisions: {used.get('read', 0)} read, {used.get('applied', 0)} applied as "
            f"labels, {used.get('held_out_test', 0)} in the test year held out, "
            f"{used.get('outside_split', 0)} outside the split years",
            highlight=False,
        )
    _print_fairness_summary(summary)
    _print_registered(summary)


def _print_registered(summary: dict[str, Any]) -> None:
    console.print(
        f"registered {summary['model']} version {summary['version']} "
        f"(run {summary['run_id']}) as @challenger"
    )


def _print_fairness_summary(summary: dict[str, Any]) -> None:
    """One line per attribute: the exposure ratio of career-advancing items by group."""
    from training import fairness

    report = fairness.Report.from_dict(summary["fairness"])
    console.print(f"exposure of career-advancing items in the top {report.k} by group:")
    for a in report.attributes:
        console.print(f"  {fairness.ratio_line(a, report.min_group)}", highlight=False)


def _print_rankers(head: dict[str, dict[str, Any]]) -> None:
    table = RichTable(title="Test period (full candidate ranking)")
    cols = ("ndcg@10", "ndcg@5", "recall@10", "map@10", "mrr", "coverage", "non_classical_jp_share")
    table.add_column("ranker")
    for c in cols:
        table.add_column(c, justify="right")
    for name, figures in head.items():
        table.add_row(name, *(f"{figures[c]:.4f}" for c in cols))
    console.print(table)
    model = head["model"]
    lo, hi = model["diff_ci_vs_best"]
    console.print(
        f"model vs best baseline ({model['best_baseline']}): "
        f"{100 * model['lift_vs_best']:+.1f} % NDCG@10, difference 95 % CI "
        f"[{lo:.4f}, {hi:.4f}]; vs popularity {100 * model['lift_vs_popularity']:+.1f} %"
    )


# -------------------------------------------------------------------------------- careers
def train_careers(data: DataOpt = None) -> None:
    """Train the next-position ranker (LambdaRank), evaluate against the markov and similarity
    baselines, log to MLflow and register it as jenjang-careers@challenger."""
    from training import careers

    folder = clean_dir(data=data)
    cfg = careers.CareersConfig(rules=str_or_none(path=settings().career_rules))
    bar, step = steps()
    try:
        with bar:
            summary = careers.train(settings(), folder, cfg, step)
    except RulesError as exc:
        fail(exc=exc)
    _print_careers(careers.headline(summary["test"]))
    _print_fairness_summary(summary)
    _print_registered(summary)


def _print_careers(head: dict[str, Any]) -> None:
    """The movers' table (every ranker), the model against each baseline, then the evaluation
    over everyone (training/careers_eval.py)."""
    rankers = rankers_of(head=head)
    table = RichTable(title="Test period: next position (full ranking of all positions)")
    cols = ("hit@1", "hit@5", "mrr", "ndcg@5")
    table.add_column("ranker")
    for c in cols:
        table.add_column(c, justify="right")
    table.add_column("queries", justify="right")
    for name, figures in rankers.items():
        table.add_row(name, *(f"{figures[c]:.4f}" for c in cols), str(figures["queries"]))
    console.print(table)
    for base in (name for name in rankers if name != "model"):
        vs = rankers["model"].get(f"vs_{base}")
        if vs is None:
            continue
        lo, hi = vs["mrr"]["diff_ci"]
        console.print(
            f"model vs {base}: MRR {100 * vs['mrr']['lift']:+.1f} % "
            f"(difference 95 % CI [{lo:.4f}, {hi:.4f}]), "
            f"Hit@5 {100 * vs['hit@5']['lift']:+.1f} %"
        )
    print_everyone(head=head)


def _print_decision(decision: dict[str, Any]) -> None:
    """The decision and its reasons; a refusal lists the failed checks first, on stderr too,
    and exits :data:`REFUSED_EXIT`."""
    colour = {"promoted": "green", "refused": "red"}.get(decision["decision"], "yellow")
    console.print(f"[{colour}]{decision['decision']}[/]: version {decision['version']}")
    for reason in decision["reasons"]:
        console.print(f"  - {escape(reason)}", highlight=False)
    if decision["decision"] != "refused":
        return
    failed = decision.get("failed") or decision["reasons"]
    err.print(f"[red]refused[/red]: version {decision['version']}; failed checks:")
    for reason in failed:
        err.print(f"  - {escape(reason)}", highlight=False)
    raise typer.Exit(REFUSED_EXIT)


# ------------------------------------------------------------------------------- fairness
def _recompute(kind: Kind, run_id: str, folder: Path) -> tuple[Any, bool]:
    """The fairness report of run ``run_id`` recomputed from ``folder`` and logged on the run;
    (report, same data as the run trained on). Exits 2 when it cannot be computed."""
    from recommender.programs.ranker import ModelIntegrityError
    from training import fairness
    from training.pipeline import recompute_fairness

    current = settings()
    bar, step = steps()
    try:
        with bar:
            report, same_data = recompute_fairness(
                settings=current,
                kind=kind,
                run_id=run_id,
                data=folder,
                progress=step,
                rules=str_or_none(path=current.career_rules),
            )
    except (ModelIntegrityError, RulesError, ValueError, FileNotFoundError) as exc:
        fail(exc=exc)
    fairness.log(current, run_id, report)
    return report, same_data


def _fairness(kind: Kind, items: str, version: str, data: Path | None, as_json: bool) -> None:
    from training import fairness, registry

    name = kind.model_name
    try:
        mv = registry.model_version(settings(), name, version, kind.train_command)
    except LookupError as exc:
        fail(exc=exc)
    report, source, same_data = fairness.load(settings(), mv.run_id, kind.value), "logged", True
    folder = None
    if report is None:
        folder = clean_dir(data=data)
        report, same_data = _recompute(kind, mv.run_id, folder)
        source = "recomputed"
    if as_json:
        head = {"model": name, "version": str(mv.version), "run_id": mv.run_id, "source": source}
        print(json.dumps({**head, "same_data": same_data, **report.to_dict()}))
        return
    years = ", ".join(str(y) for y in report.years)
    console.print(
        f"{name} version {mv.version} (run {mv.run_id}): exposure of career-advancing {items} "
        f"in the top {report.k}, test year {years}, {report.people:,} people "
        f"({report.excluded_top} at the top of the ladder, {report.excluded_legal} who cannot "
        f"advance before retirement and {report.none_attainable} with nothing attainable not "
        "measured)",
        highlight=False,
    )
    if folder is not None:
        console.print(f"no table on the run: recomputed from {folder} and logged on the run")
        if not same_data:
            err.print("[yellow]warning:[/yellow] these data are not the ones the run trained on")
    _print_fairness(report)


def _print_fairness(report: Any) -> None:
    from training import fairness

    table = RichTable()
    for column in ("attribute", "group", "n", "exposure", "95 % CI", "flag"):
        table.add_column(column, justify="right" if column in ("n", "exposure") else "left")
    for row in fairness.rows(report):
        table.add_row(*row)
    console.print(table)
    for a in report.attributes:
        console.print(f"  {fairness.ratio_line(a, report.min_group)}", highlight=False)


# ------------------------------------------------------------------ generated per kind
@dataclass(frozen=True)
class KindCommands:
    """What the commands of one kind add to the pipeline's own operations: its ``train``
    command (own options), how it prints a headline, the help of the generated commands, the
    items its fairness report is about, and whether evaluation reads the career rules of the
    settings."""

    train: Callable[..., None]
    show: Callable[[dict[str, dict[str, Any]]], None]
    evaluate_help: str
    promote_help: str
    fairness_help: str
    items: str
    rules: bool = False


#: One entry per kind of :data:`training.pipeline.PIPELINES` (:class:`training.kinds.Kind`).
KIND_COMMANDS: dict[Kind, KindCommands] = {
    Kind.PROGRAMS: KindCommands(
        train=train_programs,
        show=_print_rankers,
        evaluate_help="Score a registered programme ranker and the baselines on the test year.",
        promote_help="Make the challenger the champion if it beats the champion, passes group "
        "parity and the exposure rule (docs/fairness.md). Exits 3 when refused, printing the "
        "failed checks.",
        fairness_help="Exposure of career-advancing programmes in the top 10 by sex, region, "
        "age band and\ngrade for a registered version: the table logged on its run, or "
        "recomputed from the data\n(and then logged) for a version trained before the "
        "fairness step.",
        items="programmes",
    ),
    Kind.CAREERS: KindCommands(
        train=train_careers,
        show=_print_careers,
        evaluate_help="Score a registered next-position ranker and the baselines on the test year.",
        promote_help="Make the challenger the champion if it beats the champion's MRR, passes "
        "parity and the exposure rule (docs/fairness.md). Exits 3 when refused, printing the "
        "failed checks.",
        fairness_help="Exposure of career-advancing positions (a higher tier) in the top 10 by "
        "sex, region, age\nband and grade for a registered version (logged table, or "
        "recomputed and logged).",
        items="positions (a higher tier)",
        rules=True,
    ),
}


def _evaluate_command(kind: Kind, spec: KindCommands) -> Callable[..., None]:
    def evaluate(
        data: DataOpt = None,
        model: ModelOpt = "challenger",
        as_json: JsonOpt = False,
        ablation: AblationOpt = False,
    ) -> None:
        from training.pipeline import get_pipeline

        pipeline = get_pipeline(kind)
        folder = clean_dir(data=data)
        if ablation:
            _ablation(kind, folder, model, as_json)
            return
        rules = {"rules": str_or_none(path=settings().career_rules)} if spec.rules else {}
        cfg = pipeline.config(**rules)
        bar, step = steps()
        try:
            with bar:
                results = pipeline.evaluate(
                    settings=settings(), data=folder, model=model, cfg=cfg, progress=step
                )
        except (LookupError, RulesError) as exc:
            fail(exc=exc)
        head = pipeline.headline(results=results)
        if as_json:
            print(json.dumps(head))
        else:
            spec.show(head)

    return evaluate


def _ablation(kind: Kind, folder: Path, model: str, as_json: bool) -> None:
    """``evaluate programs --ablation``: retrain without each feature group, print the NDCG@10
    change with its paired interval and log it on the run of ``model``."""
    if kind is not Kind.PROGRAMS:
        fail(exc=ValueError(f"--ablation exists for programs only, not {kind.value}"))
    from training import ablation, programs

    bar, step = steps()
    try:
        with bar:
            result = ablation.run(
                settings=settings(),
                data=folder,
                model=model,
                cfg=programs.ProgramsConfig(),
                progress=step,
            )
    except LookupError as exc:
        fail(exc=exc)
    if as_json:
        print(json.dumps(result))
        return
    full = result["full"]
    table = RichTable(
        title=f"Ablation: NDCG@10 on the test year (full refit {full['ndcg@10']:.4f})"
    )
    for c in ("group without", "features", "ndcg@10", "change", "95 % CI", "relative"):
        table.add_column(c, justify="left" if c in ("group without", "features") else "right")
    for group, row in result["groups"].items():
        lo, hi = row["change_ci"]
        table.add_row(
            group,
            str(len(row["features"])),
            f"{row['ndcg@10']:.4f}",
            f"{row['change']:+.4f}",
            f"[{lo:+.4f}, {hi:+.4f}]",
            f"{100 * row['relative']:+.1f} %",
        )
    console.print(table)
    console.print(f"logged on run {result['run_id']} (version {result['version']})")


def _promote_command(kind: Kind) -> Callable[..., None]:
    def promote(
        model: PromoteModelOpt = "challenger",
        accept_fairness_risk: FairnessRiskOpt = None,
        min_parity: MinParityOpt = None,
    ) -> None:
        from training.pipeline import get_pipeline

        pipeline = get_pipeline(kind)
        cfg = pipeline.config(**_parity(min_parity))
        try:
            decision = pipeline.promote(
                settings=settings(),
                cfg=cfg,
                candidate=model,
                fairness_override=accept_fairness_risk,
            )
        except LookupError as exc:
            fail(exc=exc)
        _print_decision(decision)

    return promote


def _fairness_command(kind: Kind, spec: KindCommands) -> Callable[..., None]:
    def fairness(
        version: FairVersion = "champion", data: DataOpt = None, as_json: JsonOpt = False
    ) -> None:
        _fairness(kind, spec.items, version, data, as_json)

    return fairness


for _kind, _spec in KIND_COMMANDS.items():
    train_app.command(_kind.value)(_spec.train)
    evaluate_app.command(_kind.value, help=_spec.evaluate_help)(_evaluate_command(_kind, _spec))
    promote_app.command(_kind.value, help=_spec.promote_help)(_promote_command(_kind))
    fairness_app.command(_kind.value, help=_spec.fairness_help)(_fairness_command(_kind, _spec))
