"""The one registry of KPIs (DOMAIN.md §6, targets §8).

Each KPI is one record: id, labels, descriptions, what its numerator and denominator count, the decision
it comes from, unit, direction, default target, and two SQL aggregate expressions. Pages, reports and the
tests iterate `METRICS`; adding a KPI is adding one record here and one case in tests/test_metrics.py.

The SQL expressions aggregate "window measure rows" that `kpi.engine` builds (one row per reporting window
and dimension combination, from the pre-aggregated tables of `kpi.aggregates`, or one per window and dossier
from `dossiers` on the reference path); every measure is a count of dossiers in that row:

- `received`: received within the period (`received_at`), and of those `received_fee` (fee_vnd > 0),
  `received_paid_online` (with a fee and paid online), `received_digitized`, `received_not_accepted` (3),
  `received_withdrawn` (7), `received_stopped` (8);
- `resolved`: status 9/10 with its end date (finished, else returned) within the period, and of those
  `resolved_on_time` (end date on or before the due date, or end timestamp on or before the due timestamp
  with on_time_by="timestamp"; no due date: on time), `resolved_early` (end date before the due date),
  `resolved_e_result`, `resolved_satisfied` (on time and not rated dissatisfied), `resolved_no_due`, and
  `resolved_days` (the sum of calendar days from the received date to the end date);
- `in_progress`: received by the period end and not ended (terminal status with an end date) by then, and of
  those `in_progress_overdue` (due date before the period end, or waiting for a supplement, status 5, after
  more than one request), `in_progress_no_due`, `in_progress_terminal`; `carried_over`: in progress the day
  before the period starts;
- and the dimension columns, among them `channel`, `service_level` and `procedure_code`.

Counts are sums of these columns (wrapped in coalesce(..., 0)); distinct procedures are counted among the rows
with dossiers received (`distinct_procedures`).

The expressions are fixed strings written here, never built from user input.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One KPI. `unit` is "rate" (a 0-1 ratio) or "days" (a mean); `additive` is False when the
    numerator and denominator of groups do not sum to the total (distinct counts)."""

    id: str
    label_vi: str
    label_en: str
    description_vi: str
    description_en: str
    numerator_vi: str
    numerator_en: str
    denominator_vi: str
    denominator_en: str
    source: str
    unit: str
    higher_is_better: bool
    default_target: float | None
    numerator_sql: str
    denominator_sql: str
    additive: bool = True




def total(measure: str, condition: str | None = None) -> str:
    """The SQL sum of a measure column over the window measure rows, 0 when there are none."""
    where = f" FILTER (WHERE {condition})" if condition else ""
    return f"coalesce(sum({measure}){where}, 0)"


def distinct_procedures(condition: str) -> str:
    """The SQL count of distinct procedure codes among the rows meeting `condition`. Written as the length of
    the distinct list of the rows' codes: the same count as count(DISTINCT procedure_code) FILTER (...), but
    DuckDB applies the filter before collecting (for count DISTINCT it hashes every row), which halves the cost
    of this KPI on large stores."""
    return f"coalesce(len(list_distinct(list(procedure_code) FILTER (WHERE {condition}))), 0)"


_RESOLVED = total("resolved")
_RECEIVED = total("received")
_RESOLVED_VI, _RESOLVED_EN = "Số hồ sơ đã giải quyết trong kỳ", "Dossiers resolved in the period"
_RECEIVED_VI, _RECEIVED_EN = "Số hồ sơ tiếp nhận trong kỳ", "Dossiers received in the period"
_D766 = "Quyết định 766/QĐ-TTg ngày 23/6/2022 (Bộ chỉ số phục vụ người dân, doanh nghiệp)"
_R76 = "Nghị quyết 76/NQ-CP năm 2025 (Chương trình tổng thể cải cách hành chính)"
_C01 = "Thông tư 01/2020/TT-VPCP (Biểu số 06/VPCP/KSTT)"

METRICS: tuple[Metric, ...] = (
    Metric(
        id="on_time_rate",
        label_vi="Tỷ lệ giải quyết đúng hạn",
        label_en="On-time resolution rate",
        description_vi=(
            "Tỷ lệ hồ sơ đã giải quyết trong kỳ có ngày kết thúc xử lý trước hoặc đúng ngày hẹn trả. "
            "Đây là thước đo cơ bản nhất về việc giữ lời hẹn với người dân, doanh nghiệp; người đứng đầu "
            "đơn vị chịu trách nhiệm về mọi hồ sơ trễ hạn."
        ),
        description_en=(
            "Share of the dossiers resolved in the period whose processing ended on or before the due date. "
            "It is the most basic measure of keeping the promise made to citizens and businesses; the head "
            "of each unit answers for every late dossier."
        ),
        numerator_vi="Số hồ sơ đã giải quyết trong kỳ trước hạn hoặc đúng hạn",
        numerator_en="Dossiers resolved in the period early or on the due date",
        denominator_vi=_RESOLVED_VI,
        denominator_en=_RESOLVED_EN,
        source=f"{_C01}; {_D766}",
        unit="rate",
        higher_is_better=True,
        default_target=0.98,
        numerator_sql=total("resolved_on_time"),
        denominator_sql=_RESOLVED,
    ),
    Metric(
        id="progress_766",
        label_vi="Chỉ số tiến độ giải quyết (766)",
        label_en="Processing progress index (766)",
        description_vi=(
            "Tỷ lệ hồ sơ được xử lý đúng tiến độ: hồ sơ đã giải quyết đúng hạn cộng hồ sơ đang giải quyết "
            "còn trong hạn tại cuối kỳ, trên tổng hồ sơ đã giải quyết và đang giải quyết. Khác với tỷ lệ "
            "đúng hạn, chỉ số này tính cả hồ sơ tồn đọng quá hạn; nhân với 20 là điểm nhóm tiến độ của "
            "Bộ chỉ số 766 (ước tính từ dữ liệu hồ sơ)."
        ),
        description_en=(
            "Share of dossiers handled on schedule: resolved on time plus still in progress within the "
            "deadline at the period end, over all resolved and in-progress dossiers. Unlike the on-time "
            "rate it also counts the overdue backlog; times 20 it estimates the progress group of the "
            "Decision 766 index."
        ),
        numerator_vi="Hồ sơ đã giải quyết trước hạn, đúng hạn + hồ sơ đang giải quyết trong hạn cuối kỳ",
        numerator_en="Resolved early or on time + in progress within the deadline at the period end",
        denominator_vi="Hồ sơ đã giải quyết trong kỳ + hồ sơ đang giải quyết cuối kỳ",
        denominator_en="Resolved in the period + in progress at the period end",
        source=_D766,
        unit="rate",
        higher_is_better=True,
        default_target=None,
        # resolved and in progress exclude each other (end date within vs after the period)
        numerator_sql=f"{total('resolved_on_time')} + {total('in_progress')} - {total('in_progress_overdue')}",
        denominator_sql=f"{_RESOLVED} + {total('in_progress')}",
    ),
    Metric(
        id="full_online_service_share",
        label_vi="Tỷ lệ DVCTT toàn trình có phát sinh hồ sơ",
        label_en="Share of full-online services",
        description_vi=(
            "Trong các thủ tục được cung cấp dưới dạng dịch vụ công trực tuyến (toàn trình hoặc một phần) có "
            "phát sinh hồ sơ trong kỳ, tỷ lệ thủ tục toàn trình. Cho biết mức độ người dân có thể làm trọn "
            "thủ tục trên mạng mà không phải đến cơ quan."
        ),
        description_en=(
            "Among the procedures offered as online public services (full or partial) that received at "
            "least one dossier in the period, the share offered full-process online. It shows how far "
            "people can complete a procedure without visiting an office."
        ),
        numerator_vi="Số thủ tục DVCTT toàn trình có phát sinh hồ sơ trong kỳ",
        numerator_en="Distinct procedures with full-online dossiers received in the period",
        denominator_vi="Số thủ tục DVCTT (toàn trình, một phần) có phát sinh hồ sơ trong kỳ",
        denominator_en="Distinct procedures with full- or partly-online dossiers received in the period",
        source=f"{_R76}; {_D766}",
        unit="rate",
        higher_is_better=True,
        default_target=0.80,
        numerator_sql=distinct_procedures("received > 0 AND service_level = 'full_online'"),
        denominator_sql=distinct_procedures("received > 0 AND service_level IN ('full_online', 'partial_online')"),
        additive=False,
    ),
    Metric(
        id="online_dossier_rate",
        label_vi="Tỷ lệ hồ sơ trực tuyến",
        label_en="Online submission rate",
        description_vi=(
            "Tỷ lệ hồ sơ tiếp nhận trong kỳ được nộp trực tuyến. Là thước đo chính về việc chuyển đổi số "
            "trong giải quyết thủ tục; đạt 50% là đủ điểm tiêu chí này của Bộ chỉ số 766."
        ),
        description_en=(
            "Share of the dossiers received in the period that were submitted online. The main measure of "
            "digital uptake; 50% earns the full points of this criterion in the Decision 766 index."
        ),
        numerator_vi="Số hồ sơ tiếp nhận trực tuyến trong kỳ",
        numerator_en="Dossiers received online in the period",
        denominator_vi=_RECEIVED_VI,
        denominator_en=_RECEIVED_EN,
        source=_D766,
        unit="rate",
        higher_is_better=True,
        default_target=0.50,
        numerator_sql=total("received", "channel = 'online'"),
        denominator_sql=_RECEIVED,
    ),
    Metric(
        id="full_online_dossier_rate",
        label_vi="Tỷ lệ hồ sơ trực tuyến toàn trình",
        label_en="Full-online dossier rate",
        description_vi=(
            "Tỷ lệ hồ sơ tiếp nhận trong kỳ được nộp trực tuyến theo dịch vụ công toàn trình. Cho biết bao "
            "nhiêu hồ sơ được xử lý hoàn toàn trên môi trường mạng, từ nộp đến nhận kết quả."
        ),
        description_en=(
            "Share of the dossiers received in the period that were submitted online under a full-process "
            "online service: how much of the workload is handled end to end online."
        ),
        numerator_vi="Số hồ sơ tiếp nhận trực tuyến của DVCTT toàn trình trong kỳ",
        numerator_en="Dossiers received online under a full-online service in the period",
        denominator_vi=_RECEIVED_VI,
        denominator_en=_RECEIVED_EN,
        source="Chỉ tiêu năm 2024 của Chính phủ về dịch vụ công trực tuyến toàn trình; " + _D766,
        unit="rate",
        higher_is_better=True,
        default_target=0.30,
        numerator_sql=total("received", "channel = 'online' AND service_level = 'full_online'"),
        denominator_sql=_RECEIVED,
    ),
    Metric(
        id="online_payment_rate",
        label_vi="Tỷ lệ thanh toán trực tuyến",
        label_en="Online payment rate",
        description_vi=(
            "Trong các hồ sơ tiếp nhận trong kỳ có phí, lệ phí, tỷ lệ hồ sơ đã thanh toán trực tuyến. "
            "Thanh toán trực tuyến giúp người dân không phải đến nộp tiền và là một nhóm điểm riêng của "
            "Bộ chỉ số 766."
        ),
        description_en=(
            "Among the dossiers received in the period that carry a fee, the share paid online. Online "
            "payment spares people a trip to pay and is a scoring group of its own in the 766 index."
        ),
        numerator_vi="Số hồ sơ có phí, lệ phí được thanh toán trực tuyến",
        numerator_en="Fee-bearing dossiers paid online",
        denominator_vi="Số hồ sơ tiếp nhận trong kỳ có phí, lệ phí",
        denominator_en="Dossiers received in the period with a fee",
        source=f"{_R76}; {_D766}",
        unit="rate",
        higher_is_better=True,
        default_target=0.80,
        numerator_sql=total("received_paid_online"),
        denominator_sql=total("received_fee"),
    ),
    Metric(
        id="digitization_rate",
        label_vi="Tỷ lệ số hóa hồ sơ",
        label_en="Dossier digitisation rate",
        description_vi=(
            "Tỷ lệ hồ sơ tiếp nhận trong kỳ có thành phần hồ sơ được số hóa. Số hóa là điều kiện để tái sử "
            "dụng dữ liệu, người dân không phải nộp lại giấy tờ đã nộp; nhóm số hóa chiếm 22 điểm của "
            "Bộ chỉ số 766."
        ),
        description_en=(
            "Share of the dossiers received in the period with digitised components. Digitisation lets "
            "data be reused so people need not submit the same papers again; digitisation weighs 22 "
            "points in the 766 index."
        ),
        numerator_vi="Số hồ sơ tiếp nhận trong kỳ được số hóa",
        numerator_en="Dossiers received in the period with digitised components",
        denominator_vi=_RECEIVED_VI,
        denominator_en=_RECEIVED_EN,
        source=_D766,
        unit="rate",
        higher_is_better=True,
        default_target=0.80,
        numerator_sql=total("received_digitized"),
        denominator_sql=_RECEIVED,
    ),
    Metric(
        id="e_result_rate",
        label_vi="Tỷ lệ cấp kết quả điện tử",
        label_en="Electronic result rate",
        description_vi=(
            "Tỷ lệ hồ sơ đã giải quyết trong kỳ có kết quả điện tử. Kết quả điện tử được lưu và dùng lại cho "
            "các thủ tục sau, là một phần của nhóm chỉ số số hóa trong Bộ chỉ số 766."
        ),
        description_en=(
            "Share of the dossiers resolved in the period that were issued an electronic result, which is "
            "stored and reused by later procedures; part of the digitisation group of the 766 index."
        ),
        numerator_vi="Số hồ sơ đã giải quyết trong kỳ có kết quả điện tử",
        numerator_en="Dossiers resolved in the period with an electronic result",
        denominator_vi=_RESOLVED_VI,
        denominator_en=_RESOLVED_EN,
        source=_D766,
        unit="rate",
        higher_is_better=True,
        default_target=None,
        numerator_sql=total("resolved_e_result"),
        denominator_sql=_RESOLVED,
    ),
    Metric(
        id="satisfaction_rate",
        label_vi="Mức độ hài lòng (766, phần hồ sơ)",
        label_en="Satisfaction (766, dossier part)",
        description_vi=(
            "Tỷ lệ hồ sơ đã giải quyết trong kỳ không bị đánh giá \"Không hài lòng\" và không quá hạn; hồ sơ "
            "chưa được đánh giá được tính là hài lòng. Phản ánh trải nghiệm của người dân, phần tính được "
            "từ dữ liệu hồ sơ của nhóm hài lòng trong Bộ chỉ số 766."
        ),
        description_en=(
            "Share of the dossiers resolved in the period that were neither rated dissatisfied nor late; "
            "unrated dossiers count as satisfied. It reflects the citizen's experience: the part of the 766 "
            "satisfaction group that a dossier export can compute."
        ),
        numerator_vi="Số hồ sơ đã giải quyết trong kỳ không bị đánh giá không hài lòng và không quá hạn",
        numerator_en="Resolved in the period, not rated dissatisfied and not late",
        denominator_vi=_RESOLVED_VI,
        denominator_en=_RESOLVED_EN,
        source=_D766,
        unit="rate",
        higher_is_better=True,
        default_target=0.90,
        numerator_sql=total("resolved_satisfied"),
        denominator_sql=_RESOLVED,
    ),
    Metric(
        id="postal_share",
        label_vi="Tỷ lệ hồ sơ qua BCCI",
        label_en="Postal (BCCI) share",
        description_vi=(
            "Tỷ lệ hồ sơ tiếp nhận trong kỳ qua dịch vụ bưu chính công ích. Cho biết kênh bưu chính có giúp "
            "người dân ở xa không phải đến trực tiếp hay không."
        ),
        description_en=(
            "Share of the dossiers received in the period through the public postal service, showing "
            "whether the postal channel spares distant citizens a trip to the desk."
        ),
        numerator_vi="Số hồ sơ tiếp nhận qua BCCI trong kỳ",
        numerator_en="Dossiers received by public post in the period",
        denominator_vi=_RECEIVED_VI,
        denominator_en=_RECEIVED_EN,
        source=(
            "Quyết định 45/2016/QĐ-TTg (tiếp nhận hồ sơ, trả kết quả qua dịch vụ bưu chính công ích); " + _C01
        ),
        unit="rate",
        higher_is_better=True,
        default_target=None,
        numerator_sql=total("received", "channel = 'postal'"),
        denominator_sql=_RECEIVED,
    ),
    Metric(
        id="avg_days_to_resolve",
        label_vi="Thời gian giải quyết trung bình",
        label_en="Average days to resolve",
        description_vi=(
            "Số ngày trung bình từ ngày tiếp nhận đến ngày kết thúc xử lý của các hồ sơ đã giải quyết trong "
            "kỳ (ngày lịch). Bổ sung cho tỷ lệ đúng hạn: đơn vị có thể đúng hạn nhưng vẫn chậm hơn nơi "
            "khác, hoặc rút ngắn thời gian so với quy định."
        ),
        description_en=(
            "Mean calendar days from receipt to the end of processing over the dossiers resolved in the "
            "period. It complements the on-time rate: a unit can be on time yet slower than its peers, or "
            "beat the statutory time."
        ),
        numerator_vi="Tổng số ngày giải quyết của các hồ sơ đã giải quyết trong kỳ",
        numerator_en="Sum of days from receipt to end over dossiers resolved in the period",
        denominator_vi=_RESOLVED_VI,
        denominator_en=_RESOLVED_EN,
        source=f"{_C01}; {_D766}",
        unit="days",
        higher_is_better=False,
        default_target=None,
        numerator_sql=total("resolved_days"),
        denominator_sql=_RESOLVED,
    ),
)

METRIC_BY_ID: dict[str, Metric] = {m.id: m for m in METRICS}


def metric(metric_id: str) -> Metric:
    """The metric with this id; a clear error listing the known ids otherwise."""
    try:
        return METRIC_BY_ID[metric_id]
    except KeyError:
        raise ValueError(f"unknown metric {metric_id!r}; known: {', '.join(METRIC_BY_ID)}") from None
