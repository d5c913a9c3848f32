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
    received_at       TIMESTAMP NOT NULL,
    due_at            TIMESTAMP,
    finished_at       TIMESTAMP,
    returned_at       TIMESTAMP,
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
