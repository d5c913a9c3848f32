-- egov-kpi store. Canonical dossier record of DOMAIN.md §3; every statement is idempotent so that
-- opening a database applies it safely. Personal data of exports (names, phones, addresses, ID numbers)
-- has no column here on purpose.

CREATE SEQUENCE IF NOT EXISTS import_id_seq START 1;

-- One row per imported file: what was read and what it did to the store.
CREATE TABLE IF NOT EXISTS imports (
    import_id     INTEGER PRIMARY KEY DEFAULT nextval('import_id_seq'),
    file_name     VARCHAR   NOT NULL,
    file_sha256   VARCHAR   NOT NULL,
    file_format   VARCHAR   NOT NULL,          -- csv | xlsx | xls
    encoding      VARCHAR,                     -- text files: utf-8, utf-8-sig, utf-16, cp1258
    delimiter     VARCHAR,                     -- text files
    sheet_name    VARCHAR,                     -- workbooks
    header_row    INTEGER   NOT NULL,          -- 1-based row of the header in the file
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP,
    rows_read     INTEGER   NOT NULL DEFAULT 0, -- data rows, blank and total rows excluded
    inserted      INTEGER   NOT NULL DEFAULT 0,
    updated       INTEGER   NOT NULL DEFAULT 0,
    unchanged     INTEGER   NOT NULL DEFAULT 0,
    rejected      INTEGER   NOT NULL DEFAULT 0,
    warnings      INTEGER   NOT NULL DEFAULT 0,
    skipped       INTEGER   NOT NULL DEFAULT 0  -- blank and total rows, not counted as read
);

-- Which header of the file became which canonical column; ignored columns have canonical NULL
-- (their names only, never their values).
CREATE TABLE IF NOT EXISTS import_columns (
    import_id  INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    header     VARCHAR NOT NULL,
    canonical  VARCHAR
);

-- The dossier store: one row per dossier_code, the most advanced version seen (DOMAIN §3 re-import rule).
CREATE TABLE IF NOT EXISTS dossiers (
    dossier_code      VARCHAR   NOT NULL,
    procedure_code    VARCHAR   NOT NULL,      -- base code N.NNNNNN (unit suffix removed)
    procedure_name    VARCHAR,
    sector            VARCHAR,
    agency_code       VARCHAR,                 -- from the export, else parsed from dossier_code
    agency_name       VARCHAR,
    agency_level      VARCHAR CHECK (agency_level IN ('province', 'district', 'commune')),
    province          VARCHAR,
    district          VARCHAR,
    commune           VARCHAR,
    channel           VARCHAR   NOT NULL CHECK (channel IN ('direct', 'online', 'postal')),
    service_level     VARCHAR CHECK (service_level IN ('full_online', 'partial_online', 'offline')),
    received_at       TIMESTAMP_S NOT NULL,    -- to the second: exports carry no finer time, and it is a third
    due_at            TIMESTAMP_S,             -- of the microsecond type's size (kpi.db: older stores converted)
    finished_at       TIMESTAMP_S,
    returned_at       TIMESTAMP_S,
    status            TINYINT   NOT NULL CHECK (status BETWEEN 1 AND 10),
    supplement_count  INTEGER,
    fee_vnd           BIGINT,
    paid_online       BOOLEAN,
    digitized         BOOLEAN,
    e_result          BOOLEAN,
    rating            VARCHAR CHECK (rating IN ('very_satisfied', 'satisfied', 'dissatisfied')),
    import_id         INTEGER   NOT NULL       -- the import that last wrote this row
);

-- Rows refused by an import, one row per problem (a row may have several), never personal data.
CREATE TABLE IF NOT EXISTS rejected_rows (
    import_id    INTEGER NOT NULL,
    row_number   INTEGER NOT NULL,             -- 1-based row in the file, as a spreadsheet shows it
    column_name  VARCHAR NOT NULL,             -- canonical column
    header       VARCHAR,                      -- the file's own header for that column
    value        VARCHAR,
    reason       VARCHAR NOT NULL
);

-- Optional values that could not be read: stored empty, one row per value.
CREATE TABLE IF NOT EXISTS import_warnings (
    import_id    INTEGER NOT NULL,
    row_number   INTEGER NOT NULL,
    column_name  VARCHAR NOT NULL,
    header       VARCHAR,
    value        VARCHAR,
    reason       VARCHAR NOT NULL
);

-- Pre-aggregated KPI tables, kept by kpi/aggregates.py inside every import's transaction (`update_aggregates`:
-- the changed dossiers' contributions added, or `refresh_aggregates`: rebuilt from `dossiers`). Their dimension columns are the dossier columns the engine groups, filters and scopes
-- by (province ... service_level), so the same SQL runs on them; measures are counts of dossiers.

-- Per (day, dimensions): dossiers received that day (received_at) and resolved that day (status 9/10 whose end
-- date, finished_at else returned_at, is that day). _day/_ts: on time by date or by exact timestamp.
CREATE TABLE IF NOT EXISTS kpi_daily (
    day                     DATE NOT NULL,
    province VARCHAR, district VARCHAR, commune VARCHAR, agency_name VARCHAR,
    agency_level VARCHAR, sector VARCHAR, procedure_code VARCHAR, channel VARCHAR, service_level VARCHAR,
    received                INTEGER NOT NULL,
    received_fee            INTEGER NOT NULL,  -- fee_vnd > 0
    received_paid_online    INTEGER NOT NULL,  -- fee_vnd > 0 and paid_online
    received_digitized      INTEGER NOT NULL,
    received_not_accepted   INTEGER NOT NULL,  -- status 3
    received_withdrawn      INTEGER NOT NULL,  -- status 7
    received_stopped        INTEGER NOT NULL,  -- status 8
    resolved                INTEGER NOT NULL,
    resolved_on_time_day    INTEGER NOT NULL,  -- no due date, or end date <= due date
    resolved_on_time_ts     INTEGER NOT NULL,  -- no due date, or end <= due timestamp
    resolved_early          INTEGER NOT NULL,  -- end date < due date
    resolved_e_result       INTEGER NOT NULL,
    resolved_satisfied_day  INTEGER NOT NULL,  -- on time (by date) and not rated dissatisfied
    resolved_satisfied_ts   INTEGER NOT NULL,
    resolved_days           BIGINT  NOT NULL,  -- sum of calendar days from received date to end date
    resolved_no_due         INTEGER NOT NULL
);

-- The same per (first day of the month, dimensions): kpi_daily summed by month.
CREATE TABLE IF NOT EXISTS kpi_monthly (
    month                   DATE NOT NULL,
    province VARCHAR, district VARCHAR, commune VARCHAR, agency_name VARCHAR,
    agency_level VARCHAR, sector VARCHAR, procedure_code VARCHAR, channel VARCHAR, service_level VARCHAR,
    received INTEGER NOT NULL, received_fee INTEGER NOT NULL, received_paid_online INTEGER NOT NULL,
    received_digitized INTEGER NOT NULL, received_not_accepted INTEGER NOT NULL,
    received_withdrawn INTEGER NOT NULL, received_stopped INTEGER NOT NULL, resolved INTEGER NOT NULL,
    resolved_on_time_day INTEGER NOT NULL, resolved_on_time_ts INTEGER NOT NULL, resolved_early INTEGER NOT NULL,
    resolved_e_result INTEGER NOT NULL, resolved_satisfied_day INTEGER NOT NULL,
    resolved_satisfied_ts INTEGER NOT NULL, resolved_days BIGINT NOT NULL, resolved_no_due INTEGER NOT NULL
);

-- Dossiers in progress, as changes per (day, dimensions): +1 on the day a dossier starts counting, -1 on the
-- day it stops. In progress at day t: received on or before t and no end date on or before t. overdue_day:
-- also due date < t (or waiting for a supplement after more than one request); overdue_ts: due date <= t
-- (due timestamp before the end of day t); open_no_due: no due date; open_terminal: a terminal status
-- (an end date after t, or none at all).
CREATE TABLE IF NOT EXISTS kpi_open_deltas (
    day            DATE NOT NULL,
    province VARCHAR, district VARCHAR, commune VARCHAR, agency_name VARCHAR,
    agency_level VARCHAR, sector VARCHAR, procedure_code VARCHAR, channel VARCHAR, service_level VARCHAR,
    open           INTEGER NOT NULL,
    overdue_day    INTEGER NOT NULL,
    overdue_ts     INTEGER NOT NULL,
    open_no_due    INTEGER NOT NULL,
    open_terminal  INTEGER NOT NULL
);

-- The running totals of kpi_open_deltas at every month end from the first to the last month with a received
-- dossier (aggregate_state); all-zero rows are left out. In progress at day t = the snapshot at the last
-- month end <= t + the deltas after that month end up to t.
CREATE TABLE IF NOT EXISTS kpi_open_snapshots (
    month_end      DATE NOT NULL,
    province VARCHAR, district VARCHAR, commune VARCHAR, agency_name VARCHAR,
    agency_level VARCHAR, sector VARCHAR, procedure_code VARCHAR, channel VARCHAR, service_level VARCHAR,
    open           INTEGER NOT NULL,
    overdue_day    INTEGER NOT NULL,
    overdue_ts     INTEGER NOT NULL,
    open_no_due    INTEGER NOT NULL,
    open_terminal  INTEGER NOT NULL
);

-- When the tables above were last built or updated, from how many dossiers (they match the store while this is
-- its count), and the month ends the snapshots cover (NULL for an empty store). No row: never built (a database
-- from before these tables).
CREATE TABLE IF NOT EXISTS aggregate_state (
    built_at         TIMESTAMP NOT NULL,
    dossiers         BIGINT    NOT NULL,
    first_month_end  DATE,
    last_month_end   DATE,
    definition       INTEGER   -- kpi.aggregates.AGGREGATES_DEFINITION of the build: another one is rebuilt
);
ALTER TABLE aggregate_state ADD COLUMN IF NOT EXISTS definition INTEGER;  -- stores from before the column
-- true: the tables are a national roll-up of provincial exports (kpi/rollup.py), with no dossier behind them.
ALTER TABLE aggregate_state ADD COLUMN IF NOT EXISTS rolled_up BOOLEAN;

-- A roll-up's sources: one row per provincial export folder (kpi/rollup.py).
CREATE TABLE IF NOT EXISTS rollup_sources (
    folder           VARCHAR   NOT NULL,
    provinces        VARCHAR[] NOT NULL,
    dossiers         BIGINT    NOT NULL,
    first_month_end  DATE,
    last_month_end   DATE,
    exported_at      TIMESTAMP
);

-- The steering committee's follow-ups (việc giao): a task per unit and KPI assigned at a meeting that reviewed
-- the period [period_start, period_end]. Written only by kpi/followups.py; imports, re-imports and aggregate
-- rebuilds never touch it. unit_dimension is an engine dimension and unit its value as the filters use it;
-- metric_id is a registry id (checked by kpi/followups.py, so that a new KPI needs no schema change); owner is
-- a unit or an office, never a citizen.
CREATE SEQUENCE IF NOT EXISTS followup_id_seq START 1;
CREATE TABLE IF NOT EXISTS followups (
    id              INTEGER   PRIMARY KEY DEFAULT nextval('followup_id_seq'),
    period_start    DATE      NOT NULL,
    period_end      DATE      NOT NULL,
    unit_dimension  VARCHAR   NOT NULL
                    CHECK (unit_dimension IN ('province', 'district', 'commune', 'agency', 'sector', 'procedure')),
    unit            VARCHAR   NOT NULL,
    metric_id       VARCHAR   NOT NULL,
    task            VARCHAR   NOT NULL,
    owner           VARCHAR   NOT NULL,
    due_date        DATE      NOT NULL,
    note            VARCHAR   NOT NULL DEFAULT '',
    status          VARCHAR   NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_at      TIMESTAMP NOT NULL,
    done_at         TIMESTAMP,                 -- set when marked done, cleared when reopened
    updated_at      TIMESTAMP NOT NULL,
    CHECK (period_start <= period_end)
);

-- KPI targets set by the provincial office in the dashboard (kpi/targets.py writes it; the engine reads it through
-- kpi.engine.Targets.from_store): one row per KPI and unit, overriding the registry's default. unit '' = every unit,
-- else a group value as the engine groups by (an agency, a district, a commune); target NULL = no target for that
-- KPI (and unit); a rate is a 0-1 ratio, days are days. No row: the registry default. metric_id is a registry id
-- (checked by kpi/targets.py, so that a new KPI needs no schema change).
CREATE TABLE IF NOT EXISTS kpi_targets (
    metric_id   VARCHAR   NOT NULL,
    unit        VARCHAR   NOT NULL DEFAULT '',
    target      DOUBLE,
    updated_at  TIMESTAMP NOT NULL,
    updated_by  VARCHAR   NOT NULL,             -- the administrator's account (an official's e-mail)
    PRIMARY KEY (metric_id, unit)
);
