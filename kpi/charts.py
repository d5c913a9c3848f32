"""Plotly figures the pages show, built from engine frames (Streamlit-free). Every figure speaks the
chosen language, writes numbers the Vietnamese way (decimal comma, thousands dot) and colours KPI values
by their status against target. Plotly reads a few HTML tags in labels, titles and hover text (<a href>, <b>,
<br>): names from the data are written there escaped (kpi.formatting.html_escape), and kept as they are in
customdata, which tells a click's unit."""

from __future__ import annotations

import base64
import math

import pandas as pd
import plotly.graph_objects as go

from kpi.formatting import format_int, format_value, html_escape
from kpi.metrics import metric

STATUS_HEX = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", None: "#90a4ae"}
_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def separators(lang: str) -> str:
    """Plotly's decimal and thousands separators: Vietnamese ("98,23%", "1.234") in both languages, like
    every number the dashboard writes (kpi.formatting)."""
    return ",."


def _scale(unit: str) -> float:
    return 100.0 if unit == "rate" else 1.0


def _title(title: str | None) -> str | None:
    return None if title is None else html_escape(title)


def _labels(names: object) -> list[str]:
    """Names from the data as Plotly shows them literally."""
    return [html_escape(n) for n in names]


def _axis_title(unit: str, lang: str) -> str:
    if unit == "rate":
        return "%"
    return "ngày" if lang != "en" else "days"


def ranking_bar(frame: pd.DataFrame, metric_id: str, lang: str = "vi", *, title: str | None = None) -> go.Figure:
    """Horizontal bars of one KPI per group (best on top), coloured by status, with the target line.
    `frame` has columns group, value, target, status, numerator, denominator (kpi_table rows of one
    metric); the group name is each bar's customdata, so a click tells which unit was chosen."""
    m = metric(metric_id)
    data = frame[frame["value"].notna()].copy()
    data = data.sort_values("value", ascending=not m.higher_is_better)
    scale = _scale(m.unit)
    figure = go.Figure(go.Bar(
        x=[v * scale for v in data["value"]], y=_labels(data["group"]), orientation="h",
        marker_color=[STATUS_HEX.get(s, STATUS_HEX[None]) for s in data["status"]],
        customdata=list(data["group"]),
        text=[format_value(v, m.unit, lang) for v in data["value"]], textposition="auto",
        hovertext=[f"{html_escape(g)}: {format_value(v, m.unit, lang)} ({n:,}/{d:,})".replace(",", ".")
                   for g, v, n, d in zip(data["group"], data["value"], data["numerator"], data["denominator"],
                                         strict=True)],
        hoverinfo="text",
    ))
    targets = data["target"].dropna().unique()
    if len(targets) == 1:
        figure.add_vline(x=float(targets[0]) * scale, line_dash="dash", line_color="#37474f",
                         annotation_text=("Mục tiêu" if lang != "en" else "Target"), annotation_position="top")
    figure.update_layout(
        title=_title(title), height=max(320, 26 * len(data) + 120), margin=_MARGIN, separators=separators(lang),
        yaxis={"autorange": "reversed", "automargin": True, "type": "category"},
        xaxis={"title": _axis_title(m.unit, lang), "ticksuffix": "%" if m.unit == "rate" else ""},
        showlegend=False, clickmode="event+select",
    )
    return figure


def trend_line(frame: pd.DataFrame, metric_id: str, lang: str = "vi", *, title: str | None = None) -> go.Figure:
    """One KPI month by month (`frame`: kpi_table by month of one metric: group = "YYYY-MM", value,
    target), with the target as a dashed line; months without a value leave a gap, not a zero."""
    m = metric(metric_id)
    scale = _scale(m.unit)
    months = pd.to_datetime(frame["group"] + "-01")
    values = [None if v is None or pd.isna(v) else v * scale for v in frame["value"]]
    figure = go.Figure(go.Scatter(x=months, y=values, mode="lines+markers", name=_title(title) or m.id,
                                  connectgaps=False, line={"color": "#1565c0"}))
    targets = frame["target"].dropna()
    if not targets.empty:
        figure.add_scatter(x=months, y=[None if pd.isna(v) else v * scale for v in frame["target"]], mode="lines",
                           name="Mục tiêu" if lang != "en" else "Target", line={"dash": "dash", "color": "#37474f"})
    figure.update_layout(title=_title(title), height=340, margin=_MARGIN, separators=separators(lang),
                         xaxis={"tickformat": "%m/%Y"},
                         yaxis={"title": _axis_title(m.unit, lang), "ticksuffix": "%" if m.unit == "rate" else ""},
                         legend={"orientation": "h"})
    return figure


def heatmap(frame: pd.DataFrame, metric_id: str, lang: str = "vi", *, title: str | None = None) -> go.Figure:
    """Units × months of one KPI (`frame`: columns group, month "YYYY-MM", value); empty cells have no
    value (no dossier), never 0."""
    m = metric(metric_id)
    scale = _scale(m.unit)
    grid = frame.pivot_table(index="group", columns="month", values="value", aggfunc="first", dropna=False)
    grid = grid.sort_index()
    z = [[None if pd.isna(v) else v * scale for v in row] for row in grid.to_numpy()]
    text = [[format_value(None if pd.isna(v) else v, m.unit, lang) for v in row] for row in grid.to_numpy()]
    colours = "RdYlGn" if m.higher_is_better else "RdYlGn_r"
    figure = go.Figure(go.Heatmap(
        z=z, x=[f"{c[5:7]}/{c[:4]}" for c in grid.columns], y=_labels(grid.index), colorscale=colours,
        text=text, hovertemplate="%{y} · %{x}: %{text}<extra></extra>", xgap=1, ygap=1,
        colorbar={"ticksuffix": "%" if m.unit == "rate" else ""},
    ))
    figure.update_layout(title=_title(title), height=max(320, 22 * len(grid) + 120), margin=_MARGIN,
                         separators=separators(lang), yaxis={"automargin": True, "type": "category"},
                         xaxis={"type": "category"})
    return figure


def bubble_map(frame: pd.DataFrame, metric_id: str, lang: str = "vi", *, title: str | None = None) -> go.Figure:
    """Communes as circles at their centroids: size = dossiers received, colour = the KPI (grey without a
    value). `frame`: columns commune, lat, lon, received, value, numerator, denominator.

    Drawn on plain longitude/latitude axes with a degree of latitude 1/cos(lat) times as long as one of
    longitude (the local shape of the map): no base map, no tiles and no WebGL map engine, so it renders
    offline and quickly in any browser."""
    m = metric(metric_id)
    scale = _scale(m.unit)
    biggest = max(int(frame["received"].max()), 1)
    figure = go.Figure()
    for has_value in (False, True):
        part = frame[frame["value"].notna() == has_value]
        if part.empty:
            continue
        hover = [f"{html_escape(c)}: {format_value(v, m.unit, lang)} ({format_int(n)}/{format_int(d)}) · "
                 f"{format_int(r)} {'hồ sơ' if lang != 'en' else 'dossiers'}"
                 for c, v, n, d, r in zip(part["commune"], part["value"], part["numerator"], part["denominator"],
                                          part["received"], strict=True)]
        marker = {"size": [5 + 20 * math.sqrt(max(r, 0) / biggest) for r in part["received"]], "opacity": 0.8}
        if has_value:
            marker.update(color=[v * scale for v in part["value"]],
                          colorscale="RdYlGn" if m.higher_is_better else "RdYlGn_r", showscale=True,
                          colorbar={"title": {"text": _axis_title(m.unit, lang)},
                                    "ticksuffix": "%" if m.unit == "rate" else ""})
        else:
            marker["color"] = STATUS_HEX[None]
        figure.add_trace(go.Scatter(
            x=list(part["lon"]), y=list(part["lat"]), mode="markers", marker=marker, text=hover,
            hoverinfo="text", customdata=list(part["commune"]),
            name=("Có giá trị" if lang != "en" else "With a value") if has_value else
            ("Không có dữ liệu" if lang != "en" else "No data"),
        ))
    middle = (float(frame["lat"].max()) + float(frame["lat"].min())) / 2
    axis = {"showgrid": False, "zeroline": False, "showticklabels": False, "title": None}
    figure.update_layout(
        title=_title(title), height=560, margin=_MARGIN, separators=separators(lang), showlegend=False,
        plot_bgcolor="white", xaxis=axis, yaxis={**axis, "scaleanchor": "x",
                                                 "scaleratio": 1 / math.cos(math.radians(middle))},
    )
    return figure


def days_against_promise(frame: pd.DataFrame, lang: str = "vi", *, title: str | None = None) -> go.Figure:
    """Per procedure, the average days to resolve (red when over the promise, green otherwise) beside the
    promised days (grey), the slowest on top. `frame`: columns group, avg_days, promised_days, over_days;
    the group is each bar's customdata, so a click tells which procedure was chosen."""
    days = "ngày" if lang != "en" else "days"
    groups, labels = list(frame["group"]), _labels(frame["group"])
    figure = go.Figure()
    figure.add_bar(
        y=labels, x=list(frame["avg_days"]), orientation="h", customdata=groups,
        name="Thời gian giải quyết TB" if lang != "en" else "Average days to resolve",
        marker_color=[STATUS_HEX["red"] if o > 0 else STATUS_HEX["green"] for o in frame["over_days"]],
        text=[format_value(v, "days", lang) for v in frame["avg_days"]], textposition="auto",
        hovertemplate="%{y}: %{x:.1f} " + days + "<extra></extra>",
    )
    figure.add_bar(
        y=labels, x=list(frame["promised_days"]), orientation="h", customdata=groups,
        name="Thời hạn hẹn trả TB" if lang != "en" else "Promised time (average)", marker_color="#90a4ae",
        hovertemplate="%{y}: %{x:.1f} " + days + "<extra></extra>",
    )
    figure.update_layout(
        title=_title(title), barmode="group", height=max(320, 44 * len(frame) + 120), margin=_MARGIN,
        separators=separators(lang), legend={"orientation": "h"}, clickmode="event+select",
        yaxis={"autorange": "reversed", "automargin": True, "type": "category"}, xaxis={"title": days},
    )
    return figure


def count_heatmap(frame: pd.DataFrame, months: list[str], lang: str = "vi", *,
                  title: str | None = None) -> go.Figure:
    """Units × months of a count (`frame`: columns agency, month "YYYY-MM", dossiers) over the given months,
    units by name; a month without a dossier is an empty cell, so gaps in the data stand out."""
    rows = sorted(set(frame["agency"]))
    counts = {(a, m): int(d) for a, m, d in zip(frame["agency"], frame["month"], frame["dossiers"], strict=True)}
    z = [[counts.get((r, m)) for m in months] for r in rows]
    text = [["" if v is None else format_int(v) for v in row] for row in z]
    unit = "hồ sơ" if lang != "en" else "dossiers"
    figure = go.Figure(go.Heatmap(
        z=z, x=[f"{m[5:7]}/{m[:4]}" for m in months], y=_labels(rows), colorscale="Blues", text=text,
        hovertemplate="%{y} · %{x}: %{text} " + unit + "<extra></extra>", xgap=1, ygap=1,
        colorbar={"title": {"text": unit}},
    ))
    figure.update_layout(title=_title(title), height=max(320, 22 * len(rows) + 120), margin=_MARGIN,
                         separators=separators(lang), yaxis={"automargin": True, "type": "category",
                                                             "autorange": "reversed"},
                         xaxis={"type": "category"})
    return figure


def sparkline_svg(values: list[float | None], *, label: str, width: int = 180, height: int = 40,
                  colour: str = "#1565c0") -> str:
    """A KPI tile's sparkline as a small SVG: the months with a value joined by a line (a month without one
    breaks it, never drawn as 0), the last one marked. A few hundred bytes the browser draws at once, where a
    chart library would start a whole chart per tile on every rerun. `label` is its accessible name."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    title = label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="{height}" viewBox="0 0 {width} {height}" '
           f'preserveAspectRatio="none" role="img" aria-label="{title}"><title>{title}</title>')
    if points:
        low, high = min(v for _, v in points), max(v for _, v in points)
        span, step = (high - low) or 1.0, width / max(len(values) - 1, 1)

        def xy(i: int, v: float) -> str:
            return f"{i * step:.1f},{height - 4 - (v - low) / span * (height - 8):.1f}"

        runs: list[list[str]] = [[]]
        for i, v in enumerate(values):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(xy(i, v))
        for run in runs:
            if len(run) > 1:
                svg += (f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2" '
                        'vector-effect="non-scaling-stroke"/>')
        x, y = xy(*points[-1]).split(",")
        svg += f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>'
    return svg + "</svg>"


def sparkline_img(values: list[float | None], *, label: str, height: int = 40) -> str:
    """`sparkline_svg` as an HTML <img> with the SVG inline as a data URI and `label` as its text alternative:
    Streamlit's st.html keeps an image but strips inline SVG."""
    svg = sparkline_svg(values, label=label, height=height)
    alt = label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{data}" alt="{alt}" style="width:100%;height:{height}px">'
