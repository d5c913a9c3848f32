"""Being written (issue 4)."""

from kpi import ui

selection = ui.filters()
ui.page_header("tong_quan", "tong_quan", selection)
