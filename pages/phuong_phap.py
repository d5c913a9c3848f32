"""Being written (issue 4)."""

from kpi import ui

selection = ui.filters()
ui.page_header("phuong_phap", "phuong_phap", selection)
