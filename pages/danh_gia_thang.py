"""Being written (issue 4)."""

from kpi import ui

selection = ui.filters()
ui.page_header("danh_gia_thang", "danh_gia_thang", selection)
