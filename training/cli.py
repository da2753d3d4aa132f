"""The ``jenjang`` command line: one entry point for data work, training and serving."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from recommender.config import Settings, configure_threads, disable_telemetry, get_settings
from recommender.data.io import DataSourceError, read_tables
from recommender.data.schema import PROFILES
from recommender.data.validate import Problem, Report, validate

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Jenjang: career-path and training recommender for ASN.",
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)  # never break a path or a message in two
MAX_PRINTED = 500


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        for problem in exc.errors():
            where = ".".join(str(x) for x in problem["loc"]) or "settings"
            err.print(
                f"[red]error:[/red] {escape(where)}: {escape(problem['msg'])}", highlight=False
            )
        raise typer.Exit(2) from exc


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    disable_telemetry()
    configure_threads()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    _settings()


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the raw tables to.")],
    employees: Annotated[int, typer.Option(min=1, help="Number of employees.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 7,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    chunk_size: Annotated[int, typer.Option(min=1000, help="Employees per chunk.")] = 50_000,
    partitioned: Annotated[
        bool | None,
        typer.Option(
            "--partitioned/--single-files",
            help="Tables that grow with employees as folders of Parquet parts (default: above "
            "200,000 employees).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Generate a synthetic Kemnaker-like organisation (raw tables, with NIPs)."""
    from training.synthetic.generate import Progress as Step
    from training.synthetic.generate import generate as run

    if fmt not in ("parquet", "csv"):
        raise typer.BadParameter(f"'{fmt}' is not parquet or csv", param_hint="--format")
    with _progress() as bar:
        task = bar.add_task("simulating", total=employees)

        def tick(step: Step) -> None:
            bar.update(
                task, completed=step.employees_done, description=f"chunk {step.chunk}/{step.chunks}"
            )

        rows = run(employees, seed, out, fmt, chunk_size, tick, partitioned=partitioned)
    _print_counts("Generated", rows, out)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} employees"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


def _print_counts(title: str, rows: dict[str, int], where: Path | str) -> None:
    table = RichTable(title=f"{title}: {where}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in rows.items():
        table.add_row(name, f"{count:,}")
    console.print(table)


def _read(source: str) -> dict:
    try:
        return read_tables(source)
    except DataSourceError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc


def _print_problems(problems: list[Problem]) -> None:
    for p in problems[:MAX_PRINTED]:
        colour = "red" if p.severity == "error" else "yellow"
        value = f" value={p.value!r}" if p.value is not None else ""
        line = escape(f"{p}{value}")
        console.print(f"[{colour}]{p.severity}[/{colour}] {line}", highlight=False)
    if len(problems) > MAX_PRINTED:
        console.print(f"... and {len(problems) - MAX_PRINTED:,} more (use --report FILE for all)")


def _write_report(report: Report, path: Path) -> None:
    import pandas as pd

    pd.DataFrame([p.__dict__ for p in report.problems]).to_csv(path, index=False)
    console.print(f"full problem list written to {path}")


def _check_profile(profile: str | None) -> None:
    if profile is not None and profile not in PROFILES:
        raise typer.BadParameter(
            f"'{profile}' is not one of {', '.join(PROFILES)}", param_hint="--profile"
        )


@app.command("validate")
def validate_cmd(
    data: Annotated[
        str | None,
        typer.Argument(
            help="Folder of CSV/Parquet files or SQL URL (default: the demo's raw tables)."
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(help="full, interactions or standards (default: guessed from the tables)."),
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Write every problem to this CSV.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Check raw tables against the data contract; list every problem; exit 1 if any error."""
    _check_profile(profile)
    source = data or str(_settings().raw_dir)
    frames = _read(source)
    result = validate(frames, profile)
    counts = {name: len(df) for name, df in frames.items()}
    if as_json:
        print(
            json.dumps(
                {
                    "ok": result.ok,
                    "rows": counts,
                    "problems": [p.__dict__ for p in result.problems],
                },
                default=str,
            )
        )
    else:
        _print_counts("Rows per table", counts, source)
        _print_problems(result.problems)
        n_err = len(result.errors)
        console.print(
            f"[{'green' if result.ok else 'red'}]{n_err:,} error(s), "
            f"{len(result.problems) - n_err:,} warning(s)[/]"
        )
    if report:
        _write_report(result, report)
    raise typer.Exit(0 if result.ok else 1)


@app.command()
def ingest(
    data: Annotated[
        str | None,
        typer.Argument(help="Raw tables: folder or SQL URL (default: the demo's raw tables)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for clean tables (default: the demo's clean folder)."),
    ] = None,
    profile: Annotated[str | None, typer.Option(help="full, interactions or standards.")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 if any row was rejected.")] = False,
) -> None:
    """Validate, normalise and pseudonymise; write clean Parquet and quarantine rejected rows."""
    from training.ingest import QUARANTINE
    from training.ingest import ingest as run

    _check_profile(profile)
    settings = _settings()
    source = data or str(settings.raw_dir)
    target = out or settings.clean_dir
    try:
        result, outcomes = run(source, target, settings.pseudonym_key.get_secret_value(), profile)
    except DataSourceError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    table = RichTable(title=f"Ingested into {target}")
    for col in ("table", "kept", "rejected", "note"):
        table.add_column(col, justify="right" if col in ("kept", "rejected") else "left")
    for o in outcomes:
        note = o.failed or (f"see {QUARANTINE}/{o.table}.csv" if o.rejected else "")
        table.add_row(o.table, f"{o.kept:,}", f"{o.rejected:,}", note)
    console.print(table)
    for p in result.problems:
        if p.row is None:
            console.print(f"[yellow]{p.severity}[/yellow] {escape(str(p))}", highlight=False)
    rejected = sum(o.rejected for o in outcomes)
    missing = [p for p in result.errors if p.rule == "missing_table"]
    raise typer.Exit(1 if missing or (strict and rejected) else 0)


@app.command()
def summary(
    data: Annotated[
        Path | None, typer.Option(help="Clean tables folder (default: the demo's clean tables).")
    ] = None,
) -> None:
    """Print a summary of the clean organisation: people, positions, training, 20-JP rule."""
    from training.summary import summarise

    try:
        lines = summarise(data or _settings().clean_dir)
    except DataSourceError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    for line in lines:
        console.print(line, highlight=False)


train_app = typer.Typer(no_args_is_help=True, help="Train a model, log it to MLflow, register it.")
evaluate_app = typer.Typer(
    no_args_is_help=True, help="Evaluate a registered model and the baselines on the test period."
)
promote_app = typer.Typer(
    no_args_is_help=True, help="Promote a model to champion through the quality-and-parity gate."
)
app.add_typer(train_app, name="train")
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(promote_app, name="promote")

DataOpt = Annotated[
    Path | None,
    typer.Option("--data", help="Clean tables folder (default: the demo's clean tables)."),
]


def _steps() -> tuple[Progress, Any]:
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task("starting", total=None)
    return bar, lambda text: bar.update(task, description=text)


def _clean_dir(data: Path | None) -> Path:
    path = data or _settings().clean_dir
    if not Path(path).is_dir():
        err.print(
            f"[red]error:[/red] clean data folder '{escape(str(path))}' does not exist: "
            "run `make run` or `jenjang ingest RAW --out CLEAN`"
        )
        raise typer.Exit(2)
    return Path(path)


@train_app.command("programs")
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

    folder = _clean_dir(data)
    bar, step = _steps()
    cfg = programs.ProgramsConfig(use_decisions=decisions)
    try:
        with bar:
            summary = programs.train(_settings(), folder, cfg, step, dask=dask)
    except (DecisionsError, DaskConnectionError) as exc:
        _fail(exc)
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


@evaluate_app.command("programs")
def evaluate_programs(
    data: DataOpt = None,
    model: Annotated[str, typer.Option(help="Alias or version to evaluate.")] = "challenger",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score a registered programme ranker and the baselines on the test year."""
    from training import programs

    folder = _clean_dir(data)
    bar, step = _steps()
    try:
        with bar:
            results = programs.evaluate(_settings(), folder, model, programs.ProgramsConfig(), step)
    except LookupError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    head = programs.headline(results)
    if as_json:
        print(json.dumps(head))
    else:
        _print_rankers(head)


@promote_app.command("programs")
def promote_programs(
    model: Annotated[str, typer.Option(help="Alias or version to promote.")] = "challenger",
    accept_fairness_risk: Annotated[
        str | None,
        typer.Option(
            "--accept-fairness-risk",
            metavar="REASON",
            help="Promote although the exposure rule fails (all other checks must pass); "
            "the reason is logged with the decision on the run.",
        ),
    ] = None,
) -> None:
    """Make the challenger the champion if it beats the champion and passes group parity."""
    from training import programs

    try:
        decision = programs.promote(
            _settings(), programs.ProgramsConfig(), model, accept_fairness_risk
        )
    except LookupError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    _print_decision(decision)


def _fail(exc: Exception) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(str(exc))}")
    raise typer.Exit(2) from exc


def _str_or_none(path: Path | None) -> str | None:
    return str(path) if path is not None else None


@train_app.command("careers")
def train_careers(data: DataOpt = None) -> None:
    """Train the next-position ranker (LambdaRank), evaluate against the markov and similarity
    baselines, log to MLflow and register it as jenjang-careers@challenger."""
    from recommender.careers.rules import RulesError
    from training import careers

    folder = _clean_dir(data)
    cfg = careers.CareersConfig(rules=_str_or_none(_settings().career_rules))
    bar, step = _steps()
    try:
        with bar:
            summary = careers.train(_settings(), folder, cfg, step)
    except RulesError as exc:
        _fail(exc)
    _print_careers(careers.headline(summary["test"]))
    _print_fairness_summary(summary)
    console.print(
        f"registered {summary['model']} version {summary['version']} "
        f"(run {summary['run_id']}) as @challenger"
    )


def _print_careers(head: dict[str, dict[str, Any]]) -> None:
    table = RichTable(title="Test period: next position (full ranking of all positions)")
    cols = ("hit@1", "hit@5", "mrr", "ndcg@5")
    table.add_column("ranker")
    for c in cols:
        table.add_column(c, justify="right")
    table.add_column("queries", justify="right")
    for name, figures in head.items():
        table.add_row(name, *(f"{figures[c]:.4f}" for c in cols), str(figures["queries"]))
    console.print(table)
    for base in ("markov", "similarity"):
        vs = head["model"][f"vs_{base}"]
        lo, hi = vs["mrr"]["diff_ci"]
        console.print(
            f"model vs {base}: MRR {100 * vs['mrr']['lift']:+.1f} % "
            f"(difference 95 % CI [{lo:.4f}, {hi:.4f}]), "
            f"Hit@5 {100 * vs['hit@5']['lift']:+.1f} %"
        )


@evaluate_app.command("careers")
def evaluate_careers(
    data: DataOpt = None,
    model: Annotated[str, typer.Option(help="Alias or version to evaluate.")] = "challenger",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score a registered next-position ranker and the baselines on the test year."""
    from recommender.careers.rules import RulesError
    from training import careers

    folder = _clean_dir(data)
    cfg = careers.CareersConfig(rules=_str_or_none(_settings().career_rules))
    bar, step = _steps()
    try:
        with bar:
            results = careers.evaluate(_settings(), folder, model, cfg, step)
    except (LookupError, RulesError) as exc:
        _fail(exc)
    head = careers.headline(results)
    if as_json:
        print(json.dumps(head))
    else:
        _print_careers(head)


@promote_app.command("careers")
def promote_careers(
    model: Annotated[str, typer.Option(help="Alias or version to promote.")] = "challenger",
    accept_fairness_risk: Annotated[
        str | None,
        typer.Option(
            "--accept-fairness-risk",
            metavar="REASON",
            help="Promote although the exposure rule fails (all other checks must pass); "
            "the reason is logged with the decision on the run.",
        ),
    ] = None,
) -> None:
    """Make the challenger the champion if it beats the champion's MRR and passes parity."""
    from training import careers

    try:
        decision = careers.promote(
            _settings(), careers.CareersConfig(), model, accept_fairness_risk
        )
    except LookupError as exc:
        _fail(exc)
    _print_decision(decision)


def _print_decision(decision: dict[str, Any]) -> None:
    colour = {"promoted": "green", "refused": "red"}.get(decision["decision"], "yellow")
    console.print(f"[{colour}]{decision['decision']}[/]: version {decision['version']}")
    for reason in decision["reasons"]:
        console.print(f"  - {escape(reason)}", highlight=False)


fairness_app = typer.Typer(
    no_args_is_help=True,
    help="Exposure of career-advancing items in the top 10 by group (docs/fairness.md).",
)
app.add_typer(fairness_app, name="fairness")
FairVersion = Annotated[
    str, typer.Option("--version", help="Alias or version number (default: the champion).")
]
FairJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@fairness_app.command("programs")
def fairness_programs(
    version: FairVersion = "champion", data: DataOpt = None, as_json: FairJson = False
) -> None:
    """Exposure of career-advancing programmes in the top 10 by sex, region, age band and
    grade for a registered version: the table logged on its run, or recomputed from the data
    (and then logged) for a version trained before the fairness step."""
    _fairness("programs", version, data, as_json)


@fairness_app.command("careers")
def fairness_careers(
    version: FairVersion = "champion", data: DataOpt = None, as_json: FairJson = False
) -> None:
    """Exposure of career-advancing positions (a higher tier) in the top 10 by sex, region, age
    band and grade for a registered version (logged table, or recomputed and logged)."""
    _fairness("careers", version, data, as_json)


def _fairness(kind: str, version: str, data: Path | None, as_json: bool) -> None:
    from recommender.programs.ranker import ModelIntegrityError
    from training import fairness, registry

    settings = _settings()
    name = f"jenjang-{kind}"
    try:
        mv = registry.model_version(settings, name, version, f"jenjang train {kind}")
    except LookupError as exc:
        _fail(exc)
    report, source, same_data = fairness.load(settings, mv.run_id, kind), "logged", True
    folder = None
    if report is None:
        from recommender.careers.rules import RulesError

        folder = _clean_dir(data)
        bar, step = _steps()
        try:
            with bar:
                report, same_data = fairness.recompute(
                    settings, kind, mv.run_id, folder, step, _str_or_none(settings.career_rules)
                )
        except (ModelIntegrityError, RulesError, ValueError, FileNotFoundError) as exc:
            _fail(exc)
        fairness.log(settings, mv.run_id, report)
        source = "recomputed"
    if as_json:
        head = {"model": name, "version": str(mv.version), "run_id": mv.run_id, "source": source}
        print(json.dumps({**head, "same_data": same_data, **report.to_dict()}))
        return
    what = "programmes" if kind == "programs" else "positions (a higher tier)"
    years = ", ".join(str(y) for y in report.years)
    console.print(
        f"{name} version {mv.version} (run {mv.run_id}): exposure of career-advancing {what} "
        f"in the top {report.k}, test year {years}, {report.people:,} people "
        f"({report.excluded_top} at the top of the ladder not measured)",
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


def _employee_key(identifier: str) -> str:
    """A NIP (any spelling) -> its pseudonym; a pseudonym (e_...) as is. Never echoes a NIP."""
    import pandas as pd

    from recommender.data.normalize import normalize_nip
    from recommender.pseudonym import PREFIX, pseudonymise

    if identifier.startswith(PREFIX):
        return identifier
    parsed = normalize_nip(pd.Series([identifier]))
    nip = parsed.values.iloc[0]
    if nip is None:
        err.print(
            "[red]error:[/red] EMPLOYEE is neither a valid 18-digit NIP nor a pseudonym (e_...)"
        )
        raise typer.Exit(2)
    return pseudonymise(str(nip), _settings().pseudonym_key.get_secret_value())


@app.command("next-positions")
def next_positions_cmd(
    employee: Annotated[str, typer.Argument(help="NIP (any spelling) or pseudonym (e_...).")],
    data: DataOpt = None,
    date: Annotated[
        str | None, typer.Option(help="Decision date YYYY-MM-DD (default: today).")
    ] = None,
    k: Annotated[int, typer.Option(min=1, max=50, help="How many positions.")] = 5,
    eligible_only: Annotated[
        bool, typer.Option("--eligible-only", help="Only positions allowed now.")
    ] = False,
    jp_limit: Annotated[int, typer.Option(min=1, help="JP limit of a path to eligible.")] = 80,
    budget: Annotated[
        float | None, typer.Option(min=0, help="Budget limit of a path (IDR).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Next positions for one employee: eligibility in words, readiness, reasons and the
    programmes that close the gap (champion models; standards-only without a careers model)."""
    import pandas as pd

    from recommender.careers.rules import RulesError
    from training import advice

    key = _employee_key(employee)
    folder = _clean_dir(data)
    try:
        at = pd.Timestamp(date) if date else pd.Timestamp.today().normalize()
    except ValueError:
        err.print(f"[red]error:[/red] --date {escape(str(date))!s} is not a date (YYYY-MM-DD)")
        raise typer.Exit(2) from None
    try:
        result = advice.next_positions(
            _settings(), folder, key, at, k, eligible_only, jp_limit, budget
        )
    except (RulesError, LookupError) as exc:
        _fail(exc)
    if as_json:
        print(json.dumps(result, default=str))
        return
    _print_next(result)


def _print_next(result: dict[str, Any]) -> None:
    console.print(
        f"Next positions on {result['date']} ({result['mode']} ranking; "
        f"career rules {escape(result['rules_version'])})",
        highlight=False,
    )
    if not result["suggestions"]:
        console.print("no position qualifies with these options")
    for s in result["suggestions"]:
        r = s["readiness"]
        jpm = "not assessed" if r["jpm"] is None else f"JPM {r['jpm']:.1f} % ({r['category']})"
        state = "[green]eligible[/]" if s["eligible"] else "[yellow]not yet eligible[/]"
        console.print(
            f"\n{s['rank']}. {escape(s['title'])} ({s['tier']}) — {state}; {jpm}", highlight=False
        )
        if s["rule"]:
            console.print(f"   rule {s['rule']} ({escape(s['legal_basis'])})", highlight=False)
        for line in s["not_yet"]:
            console.print(f"   - {escape(line)}", highlight=False)
        for line in s["reasons"]:
            console.print(f"   · {escape(line)}", highlight=False)
        p = s["path"]
        if p:
            if p["programs"]:
                console.print(
                    f"   path: JPM {p['jpm_before']} → {p['jpm_after']} in {p['jp_total']} JP",
                    highlight=False,
                )
                for prog in p["programs"]:
                    console.print(f"     + {escape(prog['title'])}: {escape(prog['why'])}")
            elif p["message"]:
                console.print(f"   path: {escape(p['message'])}", highlight=False)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    demo: Annotated[
        bool, typer.Option("--demo", help="Print a demo API key and example requests first.")
    ] = False,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Addresses of reverse proxies whose X-Forwarded-For is believed (comma "
            "separated); default: none, the client is the TCP peer.",
        ),
    ] = None,
) -> None:
    """Start the recommendation service (FastAPI on uvicorn); OpenAPI docs at /docs."""
    import uvicorn

    _clean_dir(None)
    if demo and _settings().env == "production":
        err.print(
            "[red]error:[/red] --demo makes accounts and API keys whose secrets are written "
            "in clear into the demo folder: refused with JENJANG_ENV=production",
            highlight=False,
        )
        raise typer.Exit(2)
    from recommender.api.memory import reexec_with_arena_limit

    # start again with glibc's arenas capped, before any thread allocates (docs/reliability.md)
    reexec_with_arena_limit(_settings().malloc_arenas)
    if demo:
        _print_demo(host, port)
    uvicorn.run(
        "recommender.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,  # paths carry NIPs: no access log
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
    )


def _print_demo(host: str, port: int) -> None:
    """Migrate the database, make (once) an lms and an admin demo key kept in the demo folder,
    and print example requests for a demo employee (by pseudonym: no NIP on screen)."""
    import pandas as pd

    from recommender.store.db import make_engine, make_sessionmaker, upgrade
    from recommender.store.keys import create_key

    settings = _settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    keyfile = settings.data_dir / ".demo-keys.json"
    if keyfile.exists():
        keys = json.loads(keyfile.read_text())
    else:
        with make_sessionmaker(engine).begin() as session:
            keys = {
                "lms": create_key(session, ["lms"], label="demo lms"),
                "admin": create_key(session, ["admin"], label="demo admin"),
            }
        keyfile.write_text(json.dumps(keys))
        keyfile.chmod(0o600)
    emp = pd.read_parquet(
        settings.clean_dir / "employees.parquet", columns=["employee_id", "unit_id", "status"]
    )
    who = str(emp["employee_id"].iloc[0])
    logins = _demo_users(settings, make_sessionmaker(engine), emp)
    base = f"http://{host}:{port}"
    console.print(f"Jenjang is starting on {base} (OpenAPI docs: {base}/docs)", highlight=False)
    console.print(f"HR pages: {base}/  demo sign-in (also in {logins['file']}):", highlight=False)
    console.print(
        f"  reviewer  {logins['reviewer']} / {logins['reviewer_password']}"
        f"  (unit {logins['unit']})\n  HR admin  {logins['admin']} / {logins['admin_password']}",
        highlight=False,
    )
    console.print(f"demo API keys (also in {keyfile}):", highlight=False)
    console.print(f"  lms   {keys['lms']}\n  admin {keys['admin']}", highlight=False)
    h = f"-H 'X-API-Key: {keys['lms']}'"
    examples = (
        f"curl {h} {base}/v1/employees/{who}/recommendations/programs?k=5",
        f"curl {h} -H 'Accept-Language: en' {base}/v1/employees/{who}/recommendations/positions",
        f"curl {h} '{base}/v1/employees/{who}/development-plan?budget=15000000'",
        f"curl -H 'X-API-Key: {keys['admin']}' -X POST {base}/v1/admin/reload",
    )
    console.print("try (the demo accepts pseudonyms as ids; the LMS sends NIPs):", highlight=False)
    for line in examples:
        console.print(f"  {line}", highlight=False, soft_wrap=True)


def _demo_users(settings: Any, factory: Any, employees: Any) -> dict[str, str]:
    """Make (once) a demo HR admin and a demo reviewer bound to the unit with most active
    staff; passwords are random and kept in the demo folder (mode 600)."""
    import secrets

    from recommender.store import users

    path = settings.data_dir / ".demo-users.json"
    if path.exists():
        found: dict[str, str] = json.loads(path.read_text())
        with factory() as session:
            if users.get_user(session, found["admin"]) is not None:
                return {**found, "file": str(path)}
    active = employees[employees["status"] == "active"]
    unit = str(active["unit_id"].value_counts().index[0])
    logins = {
        "admin": "demo.admin",
        "admin_password": secrets.token_urlsafe(9),
        "reviewer": "demo.reviewer",
        "reviewer_password": secrets.token_urlsafe(9),
        "unit": unit,
    }
    with factory.begin() as session:
        for name in ("demo.admin", "demo.reviewer"):
            if users.get_user(session, name) is not None:
                users.set_password(session, name, logins[f"{name[5:]}_password"])
        if users.get_user(session, "demo.admin") is None:
            users.create_user(
                session,
                username="demo.admin",
                password=logins["admin_password"],
                role="admin",
                units=None,
            )
        if users.get_user(session, "demo.reviewer") is None:
            users.create_user(
                session,
                username="demo.reviewer",
                password=logins["reviewer_password"],
                role="reviewer",
                units=[unit],
            )
    path.write_text(json.dumps(logins))
    path.chmod(0o600)
    return {**logins, "file": str(path)}


@app.command("online-metrics")
def online_metrics_cmd(
    window_days: Annotated[
        int, typer.Option(min=1, max=3650, help="Attribution window without a request id.")
    ] = 90,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Click, enrol and completion rates per model version from the served lists and the LMS
    events; logged as online.* metrics on each version's training run in MLflow."""
    from training.online import online_metrics

    result = online_metrics(_settings(), window_days)
    if as_json:
        print(json.dumps(result))
        return
    if not result["versions"]:
        console.print("nothing served yet: the recommendation log is empty")
        return
    table = RichTable(title="Online metrics per model version")
    cols = (
        "lists",
        "impressions",
        "click_rate",
        "enrol_rate",
        "completion_rate",
        "hr_reviews",
        "hr_approval_rate",
    )
    table.add_column("model@version")
    for col in (*cols, "logged to run"):
        table.add_column(col, justify="right")
    for key, fig in result["versions"].items():
        values = [
            "—" if c not in fig else f"{fig[c]:.3f}" if c.endswith("_rate") else f"{fig[c]:.0f}"
            for c in cols
        ]
        table.add_row(key, *values, result["runs"].get(key, "(not registered)"))
    console.print(table)


@app.command("models")
def models_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """List registered models: versions, aliases, run ids and headline test metrics."""
    from training import tracking

    models = tracking.registered_models(_settings())
    if as_json:
        print(json.dumps({"models": models}))
        return
    if not models:
        console.print("no registered models yet: run `jenjang train programs`")
    for m in models:
        table = RichTable(title=m["name"])
        keys = (
            ("mrr", "hit_at_5") if m["name"].endswith("careers") else ("ndcg_at_10", "recall_at_10")
        )
        for col in ("version", "aliases", "run id", *(k.replace("_at_", "@") for k in keys)):
            table.add_column(col)
        for v in m["versions"]:
            met = v["metrics"]
            table.add_row(
                str(v["version"]),
                ", ".join(v["aliases"]),
                v["run_id"],
                *(f"{met.get(k, float('nan')):.4f}" for k in keys),
            )
        console.print(table)


batch_app = typer.Typer(
    no_args_is_help=True,
    help="Recommendations for every active employee as partitioned Parquet (docs/batch.md).",
)
app.add_typer(batch_app, name="batch")
BatchOut = Annotated[
    Path, typer.Option("--out", help="Folder for part-*.parquet and _manifest.json.")
]
BatchDask = Annotated[
    str | None,
    typer.Option(
        "--dask",
        help="'local' (a 2-worker LocalCluster) or a scheduler address tcp://host:port; "
        "default: in-process.",
    ),
]
BatchSize = Annotated[
    int, typer.Option("--partition-size", min=1, help="Employees per partition (one task each).")
]
BatchDate = Annotated[
    str | None, typer.Option("--date", help="As-of date YYYY-MM-DD (default: today).")
]
BatchOverwrite = Annotated[
    bool, typer.Option("--overwrite", help="Replace a different batch run in --out.")
]
BatchLocal = Annotated[
    bool,
    typer.Option(
        "--local-models",
        help="Use the verified local copies under models/ (what the service last loaded), "
        "not the MLflow registry.",
    ),
]
BatchJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
BatchToDb = Annotated[
    bool,
    typer.Option(
        "--to-db",
        help="Also load the rows into the application database (JENJANG_DATABASE_URL, "
        "table batch_recommendations; resumable).",
    ),
]


def _batch(
    kind: str,
    out: Path,
    k: int,
    dask: str | None,
    partition_size: int,
    data: Path | None,
    date: str | None,
    overwrite: bool,
    local_models: bool,
    as_json: bool,
    to_db: bool = False,
) -> None:
    import pandas as pd

    from recommender.careers.rules import RulesError
    from recommender.programs.ranker import ModelIntegrityError
    from training import batch

    folder = _clean_dir(data)
    try:
        at = pd.Timestamp(date) if date else pd.Timestamp.today().normalize()
    except ValueError:
        err.print(f"[red]error:[/red] --date {escape(str(date))} is not a date (YYYY-MM-DD)")
        raise typer.Exit(2) from None
    if dask is not None and dask != "local" and "://" not in dask:
        err.print("[red]error:[/red] --dask must be 'local' or a scheduler address tcp://host:port")
        raise typer.Exit(2)
    req = batch.Request(kind, out, k, at.normalize(), folder, partition_size, dask, overwrite)
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[count]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=as_json,
    )
    task = bar.add_task("loading models", total=None, count="")

    def say(done: int, total: int, message: str) -> None:
        count = f"{done:,}/{total:,} employees" if total else ""
        bar.update(task, completed=done, total=total or None, description=message, count=count)

    loaded = None
    try:
        with bar:
            result = batch.run_batch(req, _settings(), local_models=local_models, progress=say)
            if to_db:
                from training.batch_db import load_batch

                loaded = load_batch(out, _settings().database_url, say)
    except (batch.BatchError, RulesError, ModelIntegrityError, OSError) as exc:
        _fail(exc)
    m, t = result.manifest, result.timings
    rate = t["scored_employees"] / t["score_s"] if t["score_s"] > 0 else 0.0
    if as_json:
        print(
            json.dumps(
                {
                    "out": str(out),
                    "kind": kind,
                    "k": k,
                    "as_of": m["as_of"],
                    "model": m["model"],
                    "partitions": len(m["partitions"]),
                    "written": result.written,
                    "skipped": result.skipped,
                    **m["totals"],
                    "timings": t,
                    "employees_per_s": rate,
                    "database": None if loaded is None else vars(loaded),
                }
            )
        )
        return
    tot = m["totals"]
    version = m["model"]["version"] or "none (standards-only)"
    console.print(
        f"{kind} top-{k} as of {m['as_of']} with {m['model']['name']} version {version}: "
        f"{tot['employees']:,} employees, {tot['rows']:,} rows in {len(m['partitions'])} "
        f"partition(s) ({result.written} written, {result.skipped} already complete) "
        f"in {escape(str(out))}",
        highlight=False,
    )
    if tot["fewer_than_k"]:
        console.print(
            f"{tot['fewer_than_k']:,} employee(s) have fewer than {k} candidates "
            f"({tot['without_rows']:,} none)",
            highlight=False,
        )
    done = f"{rate:,.0f} employees/s scoring" if result.written else "nothing left to do"
    console.print(
        f"{t['total_s']:.1f} s ({t['prepare_s']:.1f} s preparing; {done})", highlight=False
    )
    if loaded is not None:
        console.print(
            f"database: batch {loaded.batch_id}: {loaded.loaded} partition(s) loaded "
            f"({loaded.rows:,} rows), {loaded.skipped} already there",
            highlight=False,
        )


@batch_app.command("programs")
def batch_programs(
    out: BatchOut,
    k: Annotated[int, typer.Option(min=1, max=50, help="Programmes per employee.")] = 50,
    dask: BatchDask = None,
    partition_size: BatchSize = 10_000,
    data: DataOpt = None,
    date: BatchDate = None,
    overwrite: BatchOverwrite = False,
    local_models: BatchLocal = False,
    as_json: BatchJson = False,
    to_db: BatchToDb = False,
) -> None:
    """Top-k programmes for every active employee (the service's ranking, scores and reason
    codes), resumable: a rerun finishes what an interrupted one left."""
    _batch(
        "programs",
        out,
        k,
        dask,
        partition_size,
        data,
        date,
        overwrite,
        local_models,
        as_json,
        to_db,
    )


@batch_app.command("positions")
def batch_positions(
    out: BatchOut,
    k: Annotated[int, typer.Option(min=1, max=20, help="Positions per employee.")] = 5,
    dask: BatchDask = None,
    partition_size: BatchSize = 10_000,
    data: DataOpt = None,
    date: BatchDate = None,
    overwrite: BatchOverwrite = False,
    local_models: BatchLocal = False,
    as_json: BatchJson = False,
    to_db: BatchToDb = False,
) -> None:
    """Top-k next positions for every active employee (the service's ranking, eligibility and
    reason codes; standards-only without a careers model), resumable."""
    _batch(
        "positions",
        out,
        k,
        dask,
        partition_size,
        data,
        date,
        overwrite,
        local_models,
        as_json,
        to_db,
    )


db_app = typer.Typer(no_args_is_help=True, help="The application database (docs/store.md).")
keys_app = typer.Typer(no_args_is_help=True, help="API keys of the service (scopes lms, admin).")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
UrlOpt = Annotated[
    str | None, typer.Option("--url", help="Database URL (default: JENJANG_DATABASE_URL).")
]


def _db_fail(exc: Exception, url: str) -> NoReturn:
    """A database error in one line, with the URL's password hidden; exit 2."""
    from recommender.store.db import display_url

    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    err.print(
        f"[red]error:[/red] database {escape(display_url(url))}: {escape(reason)}", highlight=False
    )
    raise typer.Exit(2) from exc


@db_app.command("upgrade")
def db_upgrade(url: UrlOpt = None) -> None:
    """Create or migrate the application tables to the newest revision (Alembic)."""
    from sqlalchemy.exc import SQLAlchemyError

    from recommender.store import db

    target = url or _settings().database_url
    try:
        before = db.current_revision(target)
        db.upgrade(target)
    except SQLAlchemyError as exc:
        _db_fail(exc, target)
    head = db.head_revision()
    state = "already at" if before == head else f"upgraded from {before or 'empty'} to"
    console.print(f"database {escape(db.display_url(target))} {state} revision {head}")


@contextlib.contextmanager
def _keys_session(url: str | None) -> Iterator[Any]:
    """A transaction on the database at ``url``, which must be migrated to the newest revision."""
    from sqlalchemy.exc import SQLAlchemyError

    from recommender.store import db

    target = url or _settings().database_url
    path = db.sqlite_file(target)
    if path is not None and not path.exists():
        err.print(
            f"[red]error:[/red] no database at {escape(str(path))}: run `jenjang db upgrade` first",
            highlight=False,
        )
        raise typer.Exit(2)
    try:
        current = db.current_revision(target)
    except SQLAlchemyError as exc:
        _db_fail(exc, target)
    if current != db.head_revision():
        err.print(
            f"[red]error:[/red] database {escape(db.display_url(target))} is at revision "
            f"{current or 'none'}, not {db.head_revision()}: run `jenjang db upgrade` first",
            highlight=False,
        )
        raise typer.Exit(2)
    engine = db.make_engine(target)
    try:
        with db.make_sessionmaker(engine).begin() as session:
            yield session
    except SQLAlchemyError as exc:
        _db_fail(exc, target)
    finally:
        engine.dispose()


@keys_app.command("create")
def keys_create(
    scope: Annotated[
        list[str],
        typer.Option("--scope", help="lms or admin (repeat for both).", show_default=False),
    ],
    unit: Annotated[
        list[str] | None,
        typer.Option("--unit", help="Limit the key to this unit (repeatable; default: all)."),
    ] = None,
    label: Annotated[str, typer.Option(help="What the key is for (shown in the list).")] = "",
    url: UrlOpt = None,
) -> None:
    """Make an API key. The key is printed alone on the last line, once: store it now."""
    from recommender.store import keys

    try:
        scopes = keys.check_scopes(scope)
    except ValueError as exc:
        err.print(f"[red]error:[/red] --scope: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from exc
    with _keys_session(url) as session:
        key = keys.create_key(session, scopes, unit, label)
    units = ", ".join(sorted(set(unit or ()))) or "all"
    console.print(
        f"created key {keys.key_id_of(key)}: scopes {', '.join(scopes)}; units {escape(units)}"
        + (f"; label {escape(label)}" if label else ""),
        highlight=False,
    )
    console.print("the key is shown only this once; only its hash is stored:", highlight=False)
    print(key, flush=True)


@keys_app.command("list")
def keys_list(
    url: UrlOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """List API keys (id, display prefix, scopes, units, label, dates); never the keys."""
    from recommender.store import keys

    with _keys_session(url) as session:
        records = keys.list_keys(session)
    if as_json:
        rows = [
            {
                "key_id": r.key_id,
                "prefix": r.prefix,
                "scopes": list(r.scopes),
                "units": None if r.units is None else list(r.units),
                "label": r.label,
                "created_at": r.created_at.isoformat(),
                "revoked_at": None if r.revoked_at is None else r.revoked_at.isoformat(),
            }
            for r in records
        ]
        print(json.dumps({"keys": rows}))
        return
    if not records:
        console.print("no API keys yet: `jenjang keys create --scope lms`")
        return
    table = RichTable(title="API keys")
    table.add_column("key id", no_wrap=True, min_width=14)
    table.add_column("prefix", no_wrap=True, min_width=12)
    for col in ("scopes", "units", "label", "created", "revoked"):
        table.add_column(col)
    for r in records:
        table.add_row(
            r.key_id,
            r.prefix + "…",
            ", ".join(r.scopes),
            "all" if r.units is None else ", ".join(r.units),
            escape(r.label),
            f"{r.created_at:%Y-%m-%d}",
            "" if r.revoked_at is None else f"{r.revoked_at:%Y-%m-%d}",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="Key id (k_..., from `jenjang keys list`).")],
    url: UrlOpt = None,
) -> None:
    """Revoke an API key: it stops working at once."""
    from recommender.store import keys

    with _keys_session(url) as session:
        known = {r.key_id: r for r in keys.list_keys(session)}
        changed = keys.revoke(session, key_id)
    if key_id not in known:
        err.print(f"[red]error:[/red] no API key {escape(key_id)}", highlight=False)
        raise typer.Exit(2)
    console.print(f"key {escape(key_id)} " + ("revoked" if changed else "was already revoked"))


users_app = typer.Typer(
    no_args_is_help=True, help="Accounts of the HR web pages (roles reviewer, admin)."
)
app.add_typer(users_app, name="users")
PasswordOpt = Annotated[
    str,
    typer.Option(
        "--password",
        prompt="Password",
        hide_input=True,
        confirmation_prompt=True,
        help="8 to 256 characters (default: asked twice, hidden).",
        show_default=False,
    ),
]


@contextlib.contextmanager
def _users_session(url: str | None) -> Iterator[Any]:
    """Migrate the database at ``url`` to the newest revision, then a transaction on it."""
    from sqlalchemy.exc import SQLAlchemyError

    from recommender.store import db

    target = url or _settings().database_url
    try:
        db.upgrade(target)
    except SQLAlchemyError as exc:
        _db_fail(exc, target)
    with _keys_session(target) as session:
        yield session


def _check_unit_ids(units: list[str], data: Path | None) -> None:
    """Refuse unit ids missing from the clean ``units`` table (exit 2); warn without one."""
    import pandas as pd

    folder = data or _settings().clean_dir
    path = Path(folder) / "units.parquet"
    if not path.is_file():
        err.print(
            f"[yellow]warning:[/yellow] no clean units table at {escape(str(path))}: "
            "unit ids not checked",
            highlight=False,
        )
        return
    try:
        known = set(pd.read_parquet(path, columns=["unit_id"])["unit_id"].astype(str))
    except (OSError, ValueError, KeyError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        err.print(
            f"[red]error:[/red] cannot read {escape(str(path))}: {escape(reason)}",
            highlight=False,
        )
        raise typer.Exit(2) from exc
    unknown = sorted({u.strip() for u in units if u.strip()} - known)
    if unknown:
        err.print(
            f"[red]error:[/red] --unit: unknown unit {escape(', '.join(unknown))} "
            f"(not in {escape(str(path))})",
            highlight=False,
        )
        raise typer.Exit(2)


@users_app.command("create")
def users_create(
    username: Annotated[
        str, typer.Option("--username", help="3 to 64 of a-z 0-9 . _ - (stored lower-cased).")
    ],
    role: Annotated[str, typer.Option("--role", help="reviewer or admin.")],
    password: PasswordOpt,
    unit: Annotated[
        list[str] | None,
        typer.Option("--unit", help="A unit a reviewer sees (repeatable; required for reviewer)."),
    ] = None,
    data: DataOpt = None,
    url: UrlOpt = None,
) -> None:
    """Make an account of the HR pages: a reviewer (some units) or an admin (every unit).

    Unit ids are checked against the clean units table when there is one.
    """
    from recommender.store import users

    units = [u for u in unit or () if u.strip()]
    try:
        users.normalise_username(username)
        if role not in users.ROLES:
            raise ValueError(f"--role must be {' or '.join(users.ROLES)}")
        users.check_password(password)
    except ValueError as exc:
        _fail(exc)
    if units and role == "reviewer":
        _check_unit_ids(units, data)
    try:
        with _users_session(url) as session:
            user = users.create_user(
                session, username=username, password=password, role=role, units=units or None
            )
            name, scope = user.username, users.units_of(user)
    except (ValueError, LookupError) as exc:
        _fail(exc)
    seen = "all units" if scope is None else "units " + ", ".join(sorted(scope))
    console.print(f"created {role} {escape(name)}: {escape(seen)}", highlight=False)


@users_app.command("list")
def users_list(
    url: UrlOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """List accounts (name, role, units, dates, lock); never the password hashes."""
    from recommender.store import users

    with _users_session(url) as session:
        rows: list[dict[str, Any]] = [
            {
                "username": u.username,
                "user_id": u.user_id,
                "role": u.role,
                "units": None if u.units is None else list(u.units),
                "created_at": u.created_at.isoformat(),
                "last_login_at": None if u.last_login_at is None else u.last_login_at.isoformat(),
                "disabled_at": None if u.disabled_at is None else u.disabled_at.isoformat(),
                "locked_until": None if u.locked_until is None else u.locked_until.isoformat(),
                "failed_logins": u.failed_logins,
            }
            for u in users.list_users(session)
        ]
    if as_json:
        print(json.dumps({"users": rows}))
        return
    if not rows:
        console.print(
            "no users yet: `jenjang users create --username NAME --role admin`", highlight=False
        )
        return
    table = RichTable(title="Users of the HR pages")
    table.add_column("username", no_wrap=True)
    for col in ("role", "units", "created", "last sign-in", "disabled", "locked until"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            escape(str(r["username"])),
            str(r["role"]),
            "all" if r["units"] is None else escape(", ".join(r["units"])),
            str(r["created_at"])[:10],
            str(r["last_login_at"] or "")[:16].replace("T", " "),
            str(r["disabled_at"] or "")[:10],
            str(r["locked_until"] or "")[:19].replace("T", " "),
        )
    console.print(table)


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(help="The account to disable.")],
    url: UrlOpt = None,
) -> None:
    """Disable an account: it can no longer sign in and its sessions end at once."""
    from recommender.store import users

    try:
        with _users_session(url) as session:
            changed = users.disable_user(session, username)
    except LookupError as exc:
        _fail(exc)
    name = escape(username.strip().lower())
    console.print(f"user {name} " + ("disabled" if changed else "was already disabled"))


@users_app.command("password")
def users_password(
    username: Annotated[str, typer.Argument(help="The account whose password to set.")],
    password: PasswordOpt,
    url: UrlOpt = None,
) -> None:
    """Set a new password (asked twice, hidden); also unlocks the account and ends its
    sessions."""
    from recommender.store import users

    try:
        users.check_password(password)
        with _users_session(url) as session:
            users.set_password(session, username, password)
    except (ValueError, LookupError) as exc:
        _fail(exc)
    console.print(f"password of {escape(username.strip().lower())} changed; sessions ended")


bench_app = typer.Typer(
    no_args_is_help=True, help="Benchmarks of this checkout (figures in docs/benchmarks.md)."
)
app.add_typer(bench_app, name="bench")


@bench_app.command("serve")
def bench_serve(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    duration: Annotated[float, typer.Option(min=1, help="Seconds measured per load.")] = 10.0,
    runs: Annotated[int, typer.Option(min=1, max=9, help="Repeat the loads; medians.")] = 1,
) -> None:
    """Load-test the service: trivial, cached and uncached programme answers, with targets.

    Starts `jenjang serve` with one worker on the demo organisation (throw-away database and
    key) and loads it with wrk on loopback (installed with apt-get when missing, as root).
    """
    from recommender.config import PROJECT_DIR

    if not (PROJECT_DIR / "benchmarks" / "bench_serve.py").exists():
        err.print("[red]error:[/red] benchmarks/ is not here: run from a checkout", highlight=False)
        raise typer.Exit(2)
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))  # benchmarks/ is part of the checkout, not the wheel
    from benchmarks import bench_serve as bench

    argv = ["--duration", str(duration), "--runs", str(runs)] + (["--json"] if as_json else [])
    raise typer.Exit(bench.main(argv))


@bench_app.command("batch")
def bench_batch(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    sizes: Annotated[
        str, typer.Option(help="Organisation sizes, comma-separated.")
    ] = "10000,100000",
    dask: Annotated[
        bool, typer.Option("--dask/--no-dask", help="Also run on a 2-worker LocalCluster.")
    ] = True,
) -> None:
    """Time batch programmes top-50 for generated organisations (cached under data/bench/),
    in-process and on a 2-worker LocalCluster, with peak memory and the 4.3 M extrapolation."""
    from recommender.config import PROJECT_DIR

    if not (PROJECT_DIR / "benchmarks" / "bench_batch.py").exists():
        err.print("[red]error:[/red] benchmarks/ is not here: run from a checkout", highlight=False)
        raise typer.Exit(2)
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))  # benchmarks/ is part of the checkout, not the wheel
    from benchmarks import bench_batch as bench

    argv = ["--sizes", sizes] + ([] if dask else ["--no-dask"]) + (["--json"] if as_json else [])
    raise typer.Exit(bench.main(argv))


external_app = typer.Typer(
    no_args_is_help=True,
    help="Run the pipeline on public data it was not designed for (see docs/external-data.md).",
)
app.add_typer(external_app, name="external")


@external_app.command("xuetangx")
def external_xuetangx(
    train: Annotated[
        Path, typer.Option("--train", help="Train file: username, course_id, ... (CSV or .gz).")
    ],
    test: Annotated[Path, typer.Option("--test", help="Test file: each learner's later courses.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Interactions-only mode on XuetangX-format files: model vs popularity and item_knn.

    Fits the ranker on the train file only, ranks every untaken course for the learners in
    both files and scores the rankings against the test file (NDCG@10, Recall@10, ...).
    """
    from training.external import xuetangx

    key = _settings().pseudonym_key.get_secret_value()
    bar, step = _steps()
    try:
        with bar:
            result = xuetangx.run(train, test, key, step=step)
    except xuetangx.ExternalDataError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from exc
    if as_json:
        print(json.dumps(xuetangx.headline(result)))
        return
    table, lines = xuetangx.report_table(result)
    console.print(table)
    for line in lines:
        console.print(escape(line), highlight=False)


@external_app.command("onet")
def external_onet(
    truth: Annotated[
        Path,
        typer.Option(
            "--truth",
            help="Ranked occupation pairs: O*NET-SOC Code, Related O*NET-SOC Code, Index.",
        ),
    ],
    onet_dir: Annotated[
        Path | None,
        typer.Option(
            "--onet-dir",
            help="O*NET files (default: ../shared/data/external/onet beside the repo).",
        ),
    ] = None,
    retune: Annotated[
        bool, typer.Option("--tune", help="Re-choose the parameters on the tune half first.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Standards-only mode on O*NET: model vs cosine on related occupations.

    Maps occupations to positions, skills and knowledge to requirements and job zones to tiers,
    ranks every other position for each source occupation of the truth file and reports
    Recall@10 and MRR on the held-out half and on all sources.
    """
    from training.external import onet

    folder = onet_dir or onet.default_onet_dir()
    if not folder.is_dir():
        err.print(
            f"[red]error:[/red] O*NET folder '{escape(str(folder))}' not found (pass --onet-dir)",
            highlight=False,
        )
        raise typer.Exit(2)
    bar, step = _steps()
    try:
        with bar:
            result = onet.run(truth, folder, retune=retune, step=step)
    except onet.ExternalDataError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from exc
    if as_json:
        print(json.dumps(onet.headline(result)))
        return
    table, lines = onet.report_table(result)
    console.print(table)
    for line in lines:
        console.print(escape(line), highlight=False)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
