"""``next-positions``: the next positions of one employee, from the command line.

:mod:`training.advice` (the models: about a second) is imported inside the command, so that
``jenjang --help`` does not pay for it.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import pandas as pd
import typer
from rich.markup import escape

from recommender.careers.rules import RulesError
from recommender.cli.common import DataOpt, JsonOpt, clean_dir, console, err, fail, settings
from recommender.data.normalize import normalize_nip
from recommender.pseudonym import PREFIX, pseudonymise


def employee_key(*, identifier: str) -> str:
    """A NIP (any spelling) -> its pseudonym; a pseudonym (e_...) as is. Never echoes a NIP;
    exits 2 (typer.Exit) for anything else."""
    if identifier.startswith(PREFIX):
        return identifier
    parsed = normalize_nip(pd.Series([identifier]))
    nip = parsed.values.iloc[0]
    if nip is None:
        err.print(
            "[red]error:[/red] EMPLOYEE is neither a valid 18-digit NIP nor a pseudonym (e_...)"
        )
        raise typer.Exit(2)
    return pseudonymise(str(nip), settings().pseudonym_key.get_secret_value())


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
    as_json: JsonOpt = False,
) -> None:
    """Next positions for one employee: eligibility in words, readiness, reasons and the
    programmes that close the gap (champion models; standards-only without a careers model)."""
    from training import advice

    key = employee_key(identifier=employee)
    folder = clean_dir(data=data)
    try:
        at = pd.Timestamp(date) if date else pd.Timestamp.today().normalize()
    except ValueError:
        err.print(f"[red]error:[/red] --date {escape(str(date))!s} is not a date (YYYY-MM-DD)")
        raise typer.Exit(2) from None
    try:
        result = advice.next_positions(
            settings(), folder, key, at, k, eligible_only, jp_limit, budget
        )
    except (RulesError, LookupError) as exc:
        fail(exc=exc)
    if as_json:
        print(json.dumps(result, default=str))
        return
    _print_next(result)


def rankers_of(*, head: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ranker entries of ``evaluate careers --json`` (dicts with an MRR), without the
    top-level figures of the evaluation over everyone."""
    return {k: v for k, v in head.items() if isinstance(v, dict) and "mrr" in v}


def print_everyone(*, head: dict[str, Any]) -> None:
    """Print the evaluation over everyone of ``evaluate careers`` (its top-level keys, see
    training/careers_eval.py); prints nothing when ``head`` has none."""
    if "move_auc" not in head:
        return
    lo, hi = head["move_auc_diff_ci"]
    console.print(
        f"\nWho moves up in {head['everyone_year']} ({head['move_people']} people active on "
        f"1 January, {100 * head['move_rate']:.1f} % moved up; fitted on {head['move_fit_year']}):"
        f" AUC {head['move_auc']:.3f} vs tenure-and-grade {head['move_auc_baseline']:.3f} "
        f"(difference 95 % CI [{lo:.3f}, {hi:.3f}]); Brier {head['move_brier']:.4f} vs "
        f"{head['move_brier_baseline']:.4f}",
        highlight=False,
    )
    console.print(
        f"Verdict on 1 January vs {head['verdict_upward_moves']} upward moves: eligible now "
        f"{head['verdict_recall_now']:.3f}, within 12 months {head['verdict_recall_12m']:.3f}; "
        f"of {head['verdict_called_now']} people eligible now for a higher post, "
        f"{head['verdict_precision_now']:.3f} moved up",
        highlight=False,
    )
    names = list(rankers_of(head=head))
    for kind, row in head.get("by_move_type", {}).items():
        figures = ", ".join(
            f"{n} {row[n]['mrr']:.3f}/{row[n]['hit@5']:.3f}" for n in names if n in row
        )
        console.print(f"  {kind} ({row['n']}), MRR/Hit@5: {figures}", highlight=False)


def horizon_line(*, item: dict[str, Any]) -> str:
    """The verdict's horizon of one answer item in words: "eligible from D (within N months):
    years_in_post on D1, rating on D2", or the conditions time does not meet."""
    if item["eligible_by"] is None:
        return "not eligible by time alone: " + ", ".join(item["blocked"])
    within = f" (within {item['horizon_months']} months)" if item["eligible_within_horizon"] else ""
    pending = ", ".join(f"{p['condition']} on {p['met_on']}" for p in item["pending"])
    return f"eligible from {item['eligible_by']}{within}: {pending}"


def _print_next(result: dict[str, Any]) -> None:
    console.print(
        f"Next positions on {result['date']} ({result['mode']} ranking; "
        f"career rules {escape(result['rules_version'])})",
        highlight=False,
    )
    if not result["suggestions"]:
        console.print("no position qualifies with these options")
    for s in result["suggestions"]:
        _print_suggestion(s)


def _print_suggestion(s: dict[str, Any]) -> None:
    r = s["readiness"]
    jpm = "not assessed" if r["jpm"] is None else f"JPM {r['jpm']:.1f} % ({r['category']})"
    state = "[green]eligible[/]" if s["eligible"] else "[yellow]not yet eligible[/]"
    console.print(
        f"\n{s['rank']}. {escape(s['title'])} ({s['tier']}) — {state}; {jpm}", highlight=False
    )
    if s["rule"]:
        console.print(f"   rule {s['rule']} ({escape(s['legal_basis'])})", highlight=False)
    if not s["eligible_now"]:
        console.print(f"   {horizon_line(item=s)}", highlight=False)
    for line in s["not_yet"]:
        console.print(f"   - {escape(line)}", highlight=False)
    for line in s["reasons"]:
        console.print(f"   · {escape(line)}", highlight=False)
    p = s["path"]
    if not p:
        return
    if p["programs"]:
        console.print(
            f"   path: JPM {p['jpm_before']} → {p['jpm_after']} in {p['jp_total']} JP",
            highlight=False,
        )
        for prog in p["programs"]:
            console.print(f"     + {escape(prog['title'])}: {escape(prog['why'])}")
    elif p["message"]:
        console.print(f"   path: {escape(p['message'])}", highlight=False)
