"""Every KPI in plain pandas, written straight from DOMAIN.md §6 (day granularity).

Two uses: the baseline the KPI benchmark compares the DuckDB engine with, and an independent oracle the
tests compare the engine's numerators and denominators with. It deliberately shares no code with
`kpi.engine`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

TERMINAL = [3, 7, 8, 9, 10]
RESOLVED = [9, 10]
COLUMNS = ["procedure_code", "channel", "service_level", "received_at", "due_at", "finished_at", "returned_at",
           "status", "supplement_count", "fee_vnd", "paid_online", "digitized", "e_result", "rating"]


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Per-dossier values that do not depend on the period: days, end day."""
    out = frame.copy()
    terminal = out["status"].isin(TERMINAL)
    end = out["finished_at"].where(out["finished_at"].notna(), out["returned_at"])
    out["end_day"] = end.where(terminal).dt.normalize()
    out["received_day"] = out["received_at"].dt.normalize()
    out["due_day"] = out["due_at"].dt.normalize()
    return out


def window_counts(d: pd.DataFrame, start: dt.date, end: dt.date, by: str | None) -> pd.DataFrame:
    """Numerator and denominator of every KPI for one window [start, end], per group of `by`."""
    f, t = pd.Timestamp(start), pd.Timestamp(end)
    received = d["received_day"].between(f, t)
    resolved = d["status"].isin(RESOLVED) & d["end_day"].between(f, t)
    on_time = d["due_day"].isna() | (d["end_day"] <= d["due_day"])
    in_progress = (d["received_day"] <= t) & (d["end_day"].isna() | (d["end_day"] > t))
    overdue = in_progress & (((d["due_day"] < t) & d["due_day"].notna())
                             | ((d["status"] == 5) & (d["supplement_count"].fillna(0) > 1)))
    online = d["channel"] == "online"
    paid = d["fee_vnd"].fillna(0) > 0
    days = (d["end_day"] - d["received_day"]).dt.days
    flags = pd.DataFrame({
        "on_time_rate__num": resolved & on_time, "on_time_rate__den": resolved,
        "progress_766__num": (resolved & on_time) | (in_progress & ~overdue),
        "progress_766__den": resolved | in_progress,
        "online_dossier_rate__num": received & online, "online_dossier_rate__den": received,
        "full_online_dossier_rate__num": received & online & (d["service_level"] == "full_online"),
        "full_online_dossier_rate__den": received,
        "online_payment_rate__num": received & paid & d["paid_online"].fillna(False).astype(bool),
        "online_payment_rate__den": received & paid,
        "digitization_rate__num": received & d["digitized"].fillna(False).astype(bool),
        "digitization_rate__den": received,
        "e_result_rate__num": resolved & d["e_result"].fillna(False).astype(bool), "e_result_rate__den": resolved,
        "satisfaction_rate__num": resolved & on_time & (d["rating"].fillna("") != "dissatisfied"),
        "satisfaction_rate__den": resolved,
        "postal_share__num": received & (d["channel"] == "postal"), "postal_share__den": received,
        "avg_days_to_resolve__num": np.where(resolved, days.fillna(0), 0),
        "avg_days_to_resolve__den": resolved,
    }).astype("int64")
    keys = d[by].fillna("\x00") if by else pd.Series("", index=d.index)
    sums = flags.groupby(keys.values).sum()
    services = d.loc[received, ["procedure_code", "service_level"]].assign(key=keys[received].values)
    full = services[services["service_level"] == "full_online"].groupby("key")["procedure_code"].nunique()
    online_services = services[services["service_level"].isin(["full_online", "partial_online"])]
    sums["full_online_service_share__num"] = full.reindex(sums.index).fillna(0).astype("int64")
    sums["full_online_service_share__den"] = (online_services.groupby("key")["procedure_code"].nunique()
                                              .reindex(sums.index).fillna(0).astype("int64"))
    sums.index = [None if k == "\x00" else k for k in sums.index] if by else [None] * len(sums)
    return sums


def kpi_frame(d: pd.DataFrame, start: dt.date, end: dt.date, by: str | None,
              windows: list[tuple[dt.date, dt.date]] = ()) -> pd.DataFrame:
    """Long frame (group, metric, numerator, denominator, value) for the period, and the same for the
    extra comparison windows (as the engine computes the previous and the year-earlier periods)."""
    frames = []
    for role, (f, t) in [("current", (start, end)), *[(f"w{i}", w) for i, w in enumerate(windows)]]:
        sums = window_counts(d, f, t, by)
        metrics = sorted({c.split("__")[0] for c in sums.columns})
        for m in metrics:
            part = pd.DataFrame({"group": sums.index, "metric": m, "numerator": sums[f"{m}__num"].values,
                                 "denominator": sums[f"{m}__den"].values, "role": role})
            frames.append(part)
    out = pd.concat(frames, ignore_index=True)
    out["value"] = np.where(out["denominator"] > 0, out["numerator"] / out["denominator"].where(
        out["denominator"] > 0, 1), np.nan)
    return out
