//! Exports: one table of cells written as CSV (RFC 4180, UTF-8 with a byte order mark so Excel
//! reads it) or XLSX (`rust_xlsxwriter`, dates as real dates), and the audit entry every export
//! writes. A text cell that a spreadsheet could run (it begins with `=`, `+`, `-`, `@`, a tab or
//! a carriage return) is neutralised in CSV with a leading apostrophe (OWASP "CSV injection");
//! XLSX text cells are strings, never formulas, so they are written as they are.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::access::{identity_in_lists, visible_case, visible_or_refuse};
use super::audit::{self, Entry};
use super::cases::{list, trail, view};
use super::reports::tables;
use super::Actor;
use crate::db::{write_tx, DbConnection};
use crate::error::AppError;
use crate::state::AppState;
use crate::text_enum;

text_enum! {
    /// What an endpoint answers with (`format=`).
    pub enum Format {
        Json = ("json", "JSON"),
        Csv = ("csv", "CSV"),
        Xlsx = ("xlsx", "Excel (XLSX)"),
    }
}

impl Format {
    /// `format=`, JSON (or the page) when absent; an error naming `format` otherwise.
    pub fn parse(q: Option<&str>) -> Result<Format, AppError> {
        match q.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(Format::Json),
            Some(s) => s
                .parse()
                .map_err(|m: String| AppError::bad_request("format", m)),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Number(f64),
    Date(NaiveDate),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<NaiveDate> for Cell {
    fn from(d: NaiveDate) -> Cell {
        Cell::Date(d)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(n)
    }
}

impl From<usize> for Cell {
    fn from(n: usize) -> Cell {
        Cell::Int(n as i64)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Empty, Into::into)
    }
}

/// A table to export: its name (the file's and the sheet's), column headings and rows.
#[derive(Debug, Clone)]
pub struct Table {
    /// A file name stem, e.g. `cases` (letters, digits and dashes).
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(name: impl Into<String>, columns: &[&str]) -> Table {
        Table {
            name: name.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: vec![],
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len(), "a cell for each column");
        self.rows.push(row);
    }

    /// The file name for `format`, e.g. `cases-2026-11-28.csv`.
    pub fn file_name(&self, format: Format, today: NaiveDate) -> String {
        let stem: String = self
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        format!("{stem}-{today}.{}", format.as_str())
    }

    /// The bytes in `format` (CSV or XLSX).
    pub fn write(&self, format: Format) -> Result<Vec<u8>, AppError> {
        match format {
            Format::Csv => self.csv(),
            Format::Xlsx => self.xlsx(),
            Format::Json => Err(AppError::internal(anyhow::anyhow!(
                "a table is written as CSV or XLSX"
            ))),
        }
    }

    fn csv(&self) -> Result<Vec<u8>, AppError> {
        let mut out = "\u{feff}".as_bytes().to_vec();
        {
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(&mut out);
            w.write_record(self.columns.iter().map(|c| neutralise(c)))
                .map_err(AppError::internal)?;
            for row in &self.rows {
                w.write_record(row.iter().map(|c| match c {
                    Cell::Text(s) => neutralise(s),
                    Cell::Int(n) => n.to_string(),
                    Cell::Number(x) => x.to_string(),
                    Cell::Date(d) => d.to_string(),
                    Cell::Empty => String::new(),
                }))
                .map_err(AppError::internal)?;
            }
            w.flush().map_err(AppError::internal)?;
        }
        Ok(out)
    }

    fn xlsx(&self) -> Result<Vec<u8>, AppError> {
        use rust_xlsxwriter::{ExcelDateTime, Format as Style, Workbook};
        let err = |e: rust_xlsxwriter::XlsxError| AppError::internal(anyhow::anyhow!(e));
        let mut book = Workbook::new();
        let bold = Style::new().set_bold();
        let date = Style::new().set_num_format("yyyy-mm-dd");
        let sheet = book.add_worksheet();
        let title: String = self.name.chars().take(31).collect();
        sheet.set_name(title).map_err(err)?;
        for (i, c) in self.columns.iter().enumerate() {
            sheet
                .write_string_with_format(0, i as u16, c, &bold)
                .map_err(err)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (i, cell) in row.iter().enumerate() {
                let i = i as u16;
                match cell {
                    Cell::Text(s) => sheet.write_string(r, i, s).map(|_| ()),
                    Cell::Int(n) => sheet.write_number(r, i, *n as f64).map(|_| ()),
                    Cell::Number(x) => sheet.write_number(r, i, *x).map(|_| ()),
                    Cell::Date(d) => {
                        use chrono::Datelike;
                        let day = ExcelDateTime::from_ymd(
                            d.year() as u16,
                            d.month() as u8,
                            d.day() as u8,
                        )
                        .map_err(err)?;
                        sheet
                            .write_datetime_with_format(r, i, &day, &date)
                            .map(|_| ())
                    }
                    Cell::Empty => Ok(()),
                }
                .map_err(err)?;
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(err)?;
        sheet.autofit();
        book.save_to_buffer().map_err(err)
    }
}

/// A text cell as CSV writes it: one a spreadsheet would run as a formula gets a leading `'`.
pub fn neutralise(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// What was exported, for the audit: `what` (e.g. `cases`, `annual_report`), the case when it
/// is one case's, the filters as given (a search text only when it is a case reference: it may
/// be a child's name) and how many rows went out.
pub struct Exported<'a> {
    pub what: &'a str,
    pub case_id: Option<&'a str>,
    pub format: Format,
    pub filters: Value,
    pub rows: usize,
}

/// Writes the audit entry of an export.
pub fn audit_export(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    e: Exported<'_>,
) -> Result<(), AppError> {
    write_tx(conn, |c| {
        let mut entry = Entry::ok(Some(actor), "exported")
            .subject(e.what)
            .detail(json!({
                "what": e.what,
                "format": e.format.as_str(),
                "filters": e.filters,
                "rows": e.rows,
            }));
        if let Some(id) = e.case_id {
            entry = entry.case(id);
        }
        audit::append(c, st.now(), entry)
    })?;
    Ok(())
}

/// A search text as the audit may keep it: as typed when it looks like a case reference
/// (letters, digits and dashes, with a digit), otherwise only that there was one.
pub fn audited_search(q: &str) -> Value {
    let reference_like = q.chars().any(|c| c.is_ascii_digit())
        && q.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if reference_like {
        Value::String(q.to_string())
    } else {
        json!({ "withheld": "the search text may name a child", "characters": q.chars().count() })
    }
}

/// The filters of a case-list export as the audit keeps them (see [`audited_search`]).
pub fn list_filters(q: &HashMap<String, String>) -> Value {
    let mut m = serde_json::Map::new();
    for key in ["stage", "deadline_status", "year", "sort", "order"] {
        if let Some(v) = q.get(key).filter(|v| !v.trim().is_empty()) {
            m.insert(key.into(), Value::String(v.clone()));
        }
    }
    if let Some(v) = q.get("q").map(|v| v.trim()).filter(|v| !v.is_empty()) {
        m.insert("q".into(), audited_search(v));
    }
    Value::Object(m)
}

/// The whole filtered case list (not a page) as a table, audited; the child's identity only
/// for the roles that see it.
pub fn cases(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    filter: &list::Filter,
    format: Format,
    filters: Value,
) -> Result<Table, AppError> {
    let rows = list::all(c, st, actor, filter)?;
    let table = tables::cases(&rows, identity_in_lists(actor).then_some(&st.crypto))?;
    audit_export(
        c,
        st,
        actor,
        Exported {
            what: "cases",
            case_id: None,
            format,
            filters,
            rows: table.rows.len(),
        },
    )?;
    Ok(table)
}

/// A case's audit trail as a table, for the roles that may read it (the read and the export are
/// both audited).
pub fn audit_trail(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    format: Format,
) -> Result<Table, AppError> {
    let entries = trail::entries_json(c, st, actor, case_id)?;
    let (case, _) = visible_case(c, actor, case_id)?;
    let table = tables::audit(&case.reference, &entries);
    audit_export(
        c,
        st,
        actor,
        Exported {
            what: "audit_trail",
            case_id: Some(&case.id),
            format,
            filters: Value::Null,
            rows: table.rows.len(),
        },
    )?;
    Ok(table)
}

/// A case's deadlines as a table, audited.
pub fn deadlines(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    format: Format,
) -> Result<Table, AppError> {
    let (case, _) = visible_or_refuse(c, st, actor, case_id, "deadlines_viewed")?;
    let list = view::case_deadlines(c, st, &case)?;
    let table = tables::deadlines(&case.reference, &list);
    audit_export(
        c,
        st,
        actor,
        Exported {
            what: "deadlines",
            case_id: Some(&case.id),
            format,
            filters: Value::Null,
            rows: table.rows.len(),
        },
    )?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_in_csv_and_others_kept() {
        for s in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(s), format!("'{s}"));
        }
        assert_eq!(neutralise("Child Q"), "Child Q");
        let mut t = Table::new("cases", &["Pseudonym", "Aware", "Count"]);
        t.push(vec![
            "=HYPERLINK(\"x\")".into(),
            Cell::Date("2025-05-01".parse().unwrap()),
            Cell::Int(-2),
        ]);
        t.push(vec!["a, \"b\"".into(), Cell::Empty, Cell::Int(3)]);
        let bytes = t.write(Format::Csv).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "\u{feff}Pseudonym,Aware,Count\r\n\"'=HYPERLINK(\"\"x\"\")\",2025-05-01,-2\r\n\"a, \"\"b\"\"\",,3\r\n"
        );
    }

    #[test]
    fn format_names_the_parameter() {
        assert_eq!(Format::parse(None).unwrap(), Format::Json);
        assert_eq!(Format::parse(Some("xlsx")).unwrap(), Format::Xlsx);
        let e = Format::parse(Some("pdf")).unwrap_err();
        assert!(format!("{e:?}").contains("\"format\""), "{e:?}");
    }

    #[test]
    fn search_text_is_kept_only_when_it_is_a_reference() {
        assert_eq!(audited_search("BSCP2025-26-03"), json!("BSCP2025-26-03"));
        assert!(audited_search("Jane Smith")["withheld"].is_string());
    }
}
