"""egov-kpi: administrative-reform KPIs from one-stop dossier exports.

Streamlit-free by design (only `kpi.ui` imports Streamlit): the importer, the store and the KPI
engine serve the dashboard, the CLI and the tests alike.
"""
