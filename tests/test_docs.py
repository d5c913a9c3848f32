"""Docs tested against the registries: README lists every KPI exactly as the registry says."""

from kpi.docs import README, kpi_table_markdown, with_kpi_table
from kpi.metrics import METRICS


def test_readme_kpi_table_is_generated_from_the_registry() -> None:
    text = README.read_text(encoding="utf-8")
    assert text == with_kpi_table(text), "README's KPI table is stale: run python -m kpi.docs"
    for m in METRICS:
        assert f"| `{m.id}` | {m.label_vi}" in text
    assert kpi_table_markdown().count("\n") == len(METRICS) + 1


def test_readme_documents_every_cli_command() -> None:
    text = README.read_text(encoding="utf-8")
    for command in ("ingest", "sample", "kpis", "form06", "late"):
        assert f"python -m kpi {command}" in text
