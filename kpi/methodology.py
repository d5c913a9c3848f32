"""Phương pháp / Methodology, without Streamlit: how every KPI of the registry is defined and how the
dashboard treats the edge cases, in Vietnamese and English.

The KPI texts come from `kpi.metrics.METRICS` (nothing here is written per KPI); the edge-case rules are
those of `kpi.engine`'s module docstring (and README "KPI rules"), written out for officials; the status
colours rule is built from `engine.AMBER_BAND`, the Decision 766 caveat from `kpi.index766`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kpi.engine import AMBER_BAND, REFORM_DAY
from kpi.formatting import format_date, format_decimal, format_value
from kpi.index766 import ESTIMATE_LABEL, GROUPS
from kpi.metrics import METRICS, Metric


@dataclass(frozen=True)
class Rule:
    """One rule of how the dashboard counts, as a title and a text in both languages."""

    id: str
    title_vi: str
    title_en: str
    text_vi: str
    text_en: str

    def title(self, lang: str = "vi") -> str:
        return self.title_en if lang == "en" else self.title_vi

    def text(self, lang: str = "vi") -> str:
        return self.text_en if lang == "en" else self.text_vi


_REFORM = format_date(REFORM_DAY)

# The rules of kpi/engine.py's module docstring, in the order an official meets them.
EDGE_CASES: tuple[Rule, ...] = (
    Rule("end_date", "Ngày kết thúc xử lý", "End date",
         "Hồ sơ ở trạng thái kết thúc (không tiếp nhận, rút, dừng, đã xử lý xong, đã trả kết quả) lấy ngày kết "
         "thúc là ngày có kết quả, nếu không có thì ngày trả kết quả. Hồ sơ kết thúc mà không có cả hai ngày được "
         "coi là vẫn đang giải quyết ở mọi cuối kỳ sau đó và được đếm riêng (hồ sơ kết thúc thiếu ngày) để đơn vị "
         "sửa dữ liệu.",
         "A dossier in a terminal status (not accepted, withdrawn, stopped, finished, result returned) ends on its "
         "finish date, else its return date. A terminal dossier with neither date is treated as still in progress "
         "at every later period end and is counted apart (terminal without end date) so the unit can fix its "
         "data."),
    Rule("day_or_timestamp", "Đúng hạn: so sánh theo ngày", "On time: dates, not timestamps",
         "Hồ sơ đúng hạn khi ngày kết thúc không muộn hơn ngày hẹn trả (so sánh theo ngày, như báo cáo của các "
         "tỉnh; giờ trong ngày không tính). Trước hạn (Biểu 06) là kết thúc trước ngày hẹn trả. Bảng điều khiển "
         "dùng cách so sánh theo ngày; dòng lệnh có thể chọn so sánh theo thời điểm chính xác.",
         "A dossier is on time when its end date is not later than its due date (dates are compared, as the "
         "provinces' reports do; the time of day does not count). Early (Biểu 06) is ending before the due date. "
         "The dashboard compares dates; the command line can compare exact timestamps instead."),
    Rule("no_due_date", "Hồ sơ không có ngày hẹn trả", "No due date",
         "Hồ sơ không có ngày hẹn trả được tính là đúng hạn (không tính là trước hạn) và được đếm trong cảnh báo "
         "chất lượng dữ liệu (hồ sơ thiếu ngày hẹn trả); hồ sơ đang giải quyết không có ngày hẹn là còn trong hạn.",
         "A dossier without a due date counts as on time (not as early) and is counted in a data-quality warning "
         "(missing due dates); one in progress without a due date is within the deadline."),
    Rule("in_progress", "Hồ sơ đang giải quyết tại cuối kỳ", "In progress at the period end",
         "Hồ sơ đã tiếp nhận đến hết ngày cuối kỳ và chưa kết thúc vào ngày đó. Còn trong hạn khi không có ngày hẹn "
         "trả hoặc ngày hẹn trả từ ngày cuối kỳ trở đi; quá hạn khi ngày hẹn trả trước ngày cuối kỳ.",
         "Received by the last day of the period and not ended by then. Within the deadline when it has no due "
         "date or is due on or after the period's last day; overdue when due before it."),
    Rule("supplement", "Chờ bổ sung quá một lần", "Waiting for a supplement after more than one request",
         "Hồ sơ đang chờ bổ sung (trạng thái 5) sau hơn một lần yêu cầu bổ sung được tính là quá hạn ở mọi cuối kỳ: "
         "tệp xuất chỉ cho biết trạng thái hiện tại, không cho biết trạng thái ở từng thời điểm.",
         "A dossier waiting for a supplement (status 5) after more than one request counts as overdue at every "
         "period end: an export carries only the current status, not the status at each date."),
    Rule("not_accepted", "Không tiếp nhận, rút, dừng", "Not accepted, withdrawn, stopped",
         "Hồ sơ không được tiếp nhận, bị rút hoặc bị dừng vẫn được đếm trong số hồ sơ tiếp nhận của kỳ, nhưng không "
         "bao giờ được tính là đã giải quyết; chúng được đếm riêng trong Biểu 06.",
         "Dossiers not accepted, withdrawn or stopped still count among the dossiers received in the period but "
         "are never resolved; Biểu 06 counts them apart."),
    Rule("days_to_resolve", "Số ngày giải quyết", "Days to resolve",
         "Số ngày theo lịch từ ngày tiếp nhận đến ngày kết thúc; thời gian trung bình là tổng số ngày chia cho số "
         "hồ sơ đã giải quyết trong kỳ.",
         "Calendar days from the received date to the end date; the average is their sum over the dossiers "
         "resolved in the period."),
    Rule("unrated", "Hồ sơ chưa được đánh giá", "Unrated dossiers",
         "Hồ sơ không được người dân đánh giá được coi là hài lòng: chỉ đánh giá \"Không hài lòng\" mới bị trừ.",
         "A dossier nobody rated counts as satisfied: only an explicit \"dissatisfied\" rating counts against it."),
    Rule("month", "Theo tháng", "Month by month",
         "Khi xem theo tháng, mỗi tháng của kỳ là một kỳ riêng: chỉ số tính trên hồ sơ tiếp nhận rơi vào tháng "
         "tiếp nhận, chỉ số tính trên hồ sơ đã giải quyết rơi vào tháng kết thúc, hồ sơ đang giải quyết lấy tại "
         "ngày cuối mỗi tháng; so sánh với tháng trước và cùng tháng năm trước.",
         "By month, each month of the period is a period of its own: received-based KPIs fall in the month of "
         "receipt, resolved-based ones in the month the dossier ended, in-progress counts are taken at each "
         "month's end; comparisons are the previous month and the same month a year earlier."),
    Rule("comparisons", "Kỳ so sánh", "Comparison periods",
         "Kỳ gồm các tháng trọn vẹn so với số tháng bằng nó ngay trước đó (tháng, quý, 6 tháng, 9 tháng, năm "
         "trước); kỳ tùy chọn so với khoảng cùng độ dài ngay trước; cùng kỳ năm trước lùi đúng một năm "
         "(29/02 thành 28/02).",
         "A period of whole months compares with as many whole months just before (previous month, quarter, half, "
         "nine months, year); a custom range with the span of equal length just before; the same period last year "
         "is shifted by one year (29 February becomes 28 February)."),
    Rule("locality_eras", f"Địa bàn trước và sau {_REFORM}", f"Localities before and after {_REFORM}",
         f"Từ {_REFORM} không còn cấp huyện (Nghị quyết 202/2025/QH15): bộ lọc và xếp hạng theo huyện chỉ dùng "
         "cho kỳ kết thúc trước ngày này; sau đó dùng xã, phường mới. Mỗi bảng cho biết hệ địa bàn đang dùng. Tỉnh, "
         "huyện, xã không được so sánh qua mốc sắp xếp vì cùng một tên không còn là cùng một địa bàn; \"địa bàn "
         "huyện cũ\" là lớp phân tích gán xã mới về huyện cũ theo danh mục chính thức để vẫn so sánh được.",
         f"Districts were abolished on {_REFORM} (Resolution 202/2025/QH15): district filters and rankings are "
         "only for periods ending before that day; after it, the new communes are used. Every view says which "
         "hierarchy it uses. Provinces, districts and communes are not compared across the reform, since a name "
         "no longer means the same area; the \"former district area\" layer maps new communes to their former "
         "district from the official list so that comparisons stay possible."),
    Rule("no_data", "Mẫu số bằng 0", "Empty denominators",
         "Chỉ số có mẫu số bằng 0 không có giá trị và được hiển thị là \"không có dữ liệu\", không bao giờ là 0%. "
         "Tử số và mẫu số luôn được hiển thị bên cạnh giá trị.",
         "A KPI whose denominator is 0 has no value and is shown as \"no data\" (\"không có dữ liệu\"), never as "
         "0%. The numerator and denominator are always shown beside the value."),
)


def status_rule() -> Rule:
    """The status colours, from engine.AMBER_BAND (green at or above target, amber within the band below,
    red further; mirrored for lower-is-better KPIs)."""
    points = format_decimal(AMBER_BAND["rate"] * 100, 0)
    days = format_decimal(AMBER_BAND["days"], 0)
    return Rule(
        "status_colours", "Màu trạng thái", "Status colours",
        f"Xanh (Đạt): bằng hoặc vượt mục tiêu. Vàng (Gần đạt): thấp hơn mục tiêu không quá {points} điểm phần "
        f"trăm (với thời gian giải quyết: cao hơn mục tiêu không quá {days} ngày). Đỏ (Chưa đạt): xa mục tiêu hơn "
        "nữa. Không có màu khi chỉ số không có giá trị hoặc không có mục tiêu.",
        f"Green (on target): at or above the target. Amber (near target): at most {points} percentage points "
        f"below it (for days to resolve: at most {days} day above it). Red (below target): further away. No "
        "colour when the KPI has no value or no target.",
    )


def index766_rule() -> Rule:
    """The caveat of the Decision 766 estimate, from kpi.index766."""
    total = format_decimal(sum(g.max_points for g in GROUPS), 0)
    scored = [g for g in GROUPS if g.parts]
    names_vi = ", ".join(g.label_vi.lower() for g in scored)
    names_en = ", ".join(g.label_en.lower() for g in scored)
    return Rule(
        "index766", "Bộ chỉ số 766: chỉ là ước tính", "Decision 766 index: an estimate only",
        f"Quyết định 766/QĐ-TTg chấm mỗi tỉnh trên {total} điểm ở {len(GROUPS)} nhóm. Tệp xuất hồ sơ chỉ cho phép "
        f"chấm một phần của các nhóm {names_vi}; phần còn lại không tính được (lý do ghi ở từng nhóm). Điểm hiển thị "
        f"là \"{ESTIMATE_LABEL['vi']}\", không phải điểm chính thức công bố trên Cổng Dịch vụ công quốc gia.",
        f"Decision 766/QĐ-TTg scores each province out of {total} points in {len(GROUPS)} groups. A dossier export "
        f"can score only part of the groups {names_en}; the rest cannot be computed (each group says why). The "
        f"score shown is \"{ESTIMATE_LABEL['en']}\", never the official score published on the national portal.",
    )


def rules() -> tuple[Rule, ...]:
    """Every rule the methodology page lists: the edge cases, the status colours, the 766 caveat."""
    return (*EDGE_CASES, status_rule(), index766_rule())


# --- the KPIs of the registry -----------------------------------------------------------------------


def unit_text(m: Metric, lang: str = "vi") -> str:
    if m.unit == "rate":
        return "tỷ lệ (%)" if lang != "en" else "rate (%)"
    return "số ngày (trung bình)" if lang != "en" else "days (mean)"


def direction_text(m: Metric, lang: str = "vi") -> str:
    if m.higher_is_better:
        return "càng cao càng tốt" if lang != "en" else "higher is better"
    return "càng thấp càng tốt" if lang != "en" else "lower is better"


def target_text(m: Metric, lang: str = "vi") -> str:
    """"≥ 98,00%", "≤ 5,0 ngày", or "không có mục tiêu mặc định"."""
    if m.default_target is None:
        return "không có mục tiêu mặc định" if lang != "en" else "no default target"
    return ("≥ " if m.higher_is_better else "≤ ") + format_value(m.default_target, m.unit, lang)


# (field, Vietnamese header, English header) of a KPI's facts, in the order the page lists them.
METRIC_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("id", "Mã", "ID"),
    ("label", "Chỉ số", "KPI"),
    ("description", "Định nghĩa", "Definition"),
    ("numerator", "Tử số", "Numerator"),
    ("denominator", "Mẫu số", "Denominator"),
    ("source", "Căn cứ", "Source"),
    ("unit", "Đơn vị", "Unit"),
    ("direction", "Chiều", "Direction"),
    ("target", "Mục tiêu mặc định", "Default target"),
)
REGISTRY_LABELS: dict[str, tuple[str, str]] = {name: (vi, en) for name, vi, en in METRIC_FIELDS}


def metric_facts(m: Metric, lang: str = "vi") -> dict[str, str]:
    """A KPI's facts (METRIC_FIELDS) in one language."""
    en = lang == "en"
    return {
        "id": m.id,
        "label": m.label_en if en else m.label_vi,
        "description": m.description_en if en else m.description_vi,
        "numerator": m.numerator_en if en else m.numerator_vi,
        "denominator": m.denominator_en if en else m.denominator_vi,
        "source": m.source,
        "unit": unit_text(m, lang),
        "direction": direction_text(m, lang),
        "target": target_text(m, lang),
    }


def metric_markdown(m: Metric, lang: str = "vi") -> str:
    """A KPI's facts as a Markdown list (its label is the heading the page gives it)."""
    facts = metric_facts(m, lang)
    lines = []
    for name, vi, en in METRIC_FIELDS:
        if name == "label":
            continue
        value = f"`{facts[name]}`" if name == "id" else facts[name]
        lines.append(f"- **{en if lang == 'en' else vi}**: {value}")
    return "\n".join(lines)


def registry_frame(lang: str = "vi") -> pd.DataFrame:
    """The whole registry, one row per KPI (columns METRIC_FIELDS), for the downloadable table."""
    return pd.DataFrame([metric_facts(m, lang) for m in METRICS], columns=[name for name, _, _ in METRIC_FIELDS])


def rules_markdown(lang: str = "vi") -> str:
    """Every rule as a Markdown list: bold title, then the text."""
    return "\n".join(f"- **{r.title(lang)}.** {r.text(lang)}" for r in rules())


INDEX766_LABELS: dict[str, tuple[str, str]] = {
    "index_group": ("Nhóm", "Group"),
    "max_points": ("Điểm tối đa", "Maximum points"),
    "parts": ("Phần tính từ dữ liệu hồ sơ", "Parts computed from dossier data"),
    "note": ("Phần không tính được và lý do", "What is not computable and why"),
}


def index766_frame(lang: str = "vi") -> pd.DataFrame:
    """The Decision 766 groups: official maximum, the parts scored from dossier data (with their formula)
    and what cannot be computed and why."""
    en = lang == "en"
    rows = []
    for g in GROUPS:
        parts = "; ".join(f"{p.label_en if en else p.label_vi}: {p.formula}" for p in g.parts)
        rows.append({"index_group": g.label_en if en else g.label_vi, "max_points": int(g.max_points),
                     "parts": parts or ("none" if en else "không có"), "note": g.note_en if en else g.note_vi})
    return pd.DataFrame(rows, columns=list(INDEX766_LABELS))


__all__ = [
    "EDGE_CASES", "INDEX766_LABELS", "METRIC_FIELDS", "REGISTRY_LABELS", "Rule", "direction_text", "index766_frame",
    "index766_rule", "metric_facts", "metric_markdown", "registry_frame", "rules", "rules_markdown", "status_rule",
    "target_text", "unit_text",
]
