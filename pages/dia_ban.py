"""Being written (issue 4)."""

from kpi import ui

selection = ui.filters()
ui.page_header("dia_ban", "dia_ban", selection)
