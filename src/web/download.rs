//! An export as a download, for the API and the pages alike: the table written as CSV or XLSX,
//! as an attachment with a plain file name.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::HttpResponse;
use chrono::NaiveDate;

use crate::app::export::{Format, Table};
use crate::error::AppError;

pub fn respond(table: &Table, format: Format, today: NaiveDate) -> Result<HttpResponse, AppError> {
    let bytes = table.write(format)?;
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(table.file_name(format, today))],
        })
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes))
}

/// What an endpoint with `format=` answers, built on the database thread and turned into a
/// response after it.
pub enum Answer {
    Json(serde_json::Value),
    File {
        table: Table,
        format: Format,
        today: NaiveDate,
    },
}

impl Answer {
    pub fn file(table: Table, format: Format, today: NaiveDate) -> Answer {
        Answer::File {
            table,
            format,
            today,
        }
    }

    pub fn respond(self) -> Result<HttpResponse, AppError> {
        match self {
            Answer::Json(v) => Ok(HttpResponse::Ok().json(v)),
            Answer::File {
                table,
                format,
                today,
            } => respond(&table, format, today),
        }
    }
}
