"""Being written (issue 4)."""

from kpi import ui

selection = ui.filters()
ui.page_header("so_nganh", "so_nganh", selection)
