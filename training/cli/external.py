"""``jenjang external``: the pipeline on public data it was not designed for
(docs/external-data.md).

The XuetangX runner (LightGBM and the collaborative baselines) is imported inside its command, so
that ``jenjang --help`` does not pay for it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from recommender.cli.common import JsonOpt, console, err, settings
from training.cli.common import steps
from training.external import onet

external_app = typer.Typer(
    no_args_is_help=True,
    help="Run the pipeline on public data it was not designed for (see docs/external-data.md).",
)


@external_app.command("xuetangx")
def external_xuetangx(
    train: Annotated[
        Path, typer.Option("--train", help="Train file: username, course_id, ... (CSV or .gz).")
    ],
    test: Annotated[Path, typer.Option("--test", help="Test file: each learner's later courses.")],
    as_json: JsonOpt = False,
) -> None:
    """Interactions-only mode on XuetangX-format files: model vs popularity, item_knn, EASE
    and RP3beta.

    Tunes EASE and RP3beta and fits the ranker on a slice carved from the train file only,
    ranks every untaken course for the learners in both files and scores the rankings against
    the test file (NDCG@10, Recall@10, ...).
    """
    from training.external import xuetangx

    key = settings().pseudonym_key.get_secret_value()
    bar, step = steps()
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
    as_json: JsonOpt = False,
) -> None:
    """Standards-only mode on O*NET: model vs cosine on related occupations.

    Maps occupations to positions, skills and knowledge to requirements and job zones to tiers,
    ranks every other position for each source occupation of the truth file and reports
    Recall@10 and MRR on the held-out half and on all sources.
    """
    folder = onet_dir or onet.default_onet_dir()
    if not folder.is_dir():
        err.print(
            f"[red]error:[/red] O*NET folder '{escape(str(folder))}' not found (pass --onet-dir)",
            highlight=False,
        )
        raise typer.Exit(2)
    bar, step = steps()
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
