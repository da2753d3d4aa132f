"""The committed data-contract document matches the code."""

from pathlib import Path

from training.contract_doc import contract_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-contract.md"


def test_docs_data_contract_is_up_to_date() -> None:
    assert DOC.read_text() == contract_markdown(), (
        "docs/data-contract.md is stale: run `python -m training.contract_doc > "
        "docs/data-contract.md`"
    )
