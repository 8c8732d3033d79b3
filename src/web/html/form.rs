//! A submitted HTML form (with repeated names for checkboxes), and what every form handler
//! shares: the form's values for the templates, the three-field dates, field errors in GOV.UK
//! wording, and one-time form ids.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::{see_other, HtmlError, Page, PageResult};
use crate::domain::input::FieldError;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::forms::date_from_form;
use crate::web::session::{claim_form, settle_form};

/// Largest form accepted: a gov.uk bank holiday file carried to the confirm step fits.
pub const FORM_LIMIT: usize = 1 << 20;

/// The form extractor's settings: the size limit, and a page (not text) for a body that cannot
/// be read.
pub fn config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(FORM_LIMIT)
        .error_handler(|err, req: &HttpRequest| {
            let message =
                AppError::bad_request("form", format!("the form could not be read: {err}"));
            match req.app_data::<web::Data<AppState>>() {
                Some(state) => HtmlError::new(state, None, message).into(),
                None => err.into(),
            }
        })
}

/// The fields of a submitted form, in order, names repeated for checkboxes.
#[derive(Debug, Clone, Default)]
pub struct FormData {
    pairs: Vec<(String, String)>,
}

impl From<Vec<(String, String)>> for FormData {
    fn from(pairs: Vec<(String, String)>) -> FormData {
        FormData { pairs }
    }
}

impl FormData {
    /// A form from (name, value) pairs.
    pub fn of(pairs: &[(&str, &str)]) -> FormData {
        FormData::from(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        )
    }

    /// The last value given for `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value given for `name`, blank ones left out.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Every (name, value) pair, in the order sent.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.pairs.retain(|(k, _)| k != name);
        self.pairs.push((name.to_string(), value.into()));
    }

    /// Refuses control characters (other than tab and line breaks) in any field, naming it
    /// (a 422; PostgreSQL cannot store a NUL, and nobody types one).
    pub fn check_text(&self) -> Result<(), AppError> {
        let mut errors: Vec<FieldError> = vec![];
        for (k, v) in &self.pairs {
            let bad = crate::domain::input::check_text(k)
                .and_then(|()| crate::domain::input::check_text(v));
            if let Err(m) = bad {
                if !errors.iter().any(|e| &e.field == k) {
                    errors.push(FieldError::new(k.clone(), m));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(errors))
        }
    }

    /// Name → last value.
    pub fn map(&self) -> HashMap<String, String> {
        self.pairs.iter().cloned().collect()
    }

    /// The values for the form macros: a string per name, or a list for the names in `lists`
    /// (checkboxes). Hidden security fields are left out.
    pub fn values(&self, lists: &[&str]) -> Map<String, Value> {
        let mut out = Map::new();
        for (k, v) in &self.pairs {
            if k == "csrf_token" || k == "form_id" {
                continue;
            }
            if lists.contains(&k.as_str()) {
                let entry = out.entry(k.clone()).or_insert_with(|| Value::Array(vec![]));
                if let Value::Array(items) = entry {
                    items.push(Value::String(v.clone()));
                }
            } else {
                out.insert(k.clone(), Value::String(v.clone()));
            }
        }
        out
    }

    /// A three-field date as `YYYY-MM-DD`: `Ok(None)` when all three are blank; a problem is
    /// an error in the Design System's words, naming the field to mark.
    pub fn date(&self, name: &str, what: &str) -> Result<Option<NaiveDate>, FieldError> {
        date_from_form(&self.map(), name, what)
    }

    /// Puts a date's three fields in the form (to show it in a date input).
    pub fn set_date(&mut self, name: &str, date: NaiveDate) {
        use chrono::Datelike;
        self.set(&format!("{name}-day"), date.day().to_string());
        self.set(&format!("{name}-month"), date.month().to_string());
        self.set(&format!("{name}-year"), date.year().to_string());
    }
}

/// A field error from the service in the Design System's style: a sentence that names the
/// field when the message does not ("cannot be in the future" → "The date … cannot be …").
pub fn humanise(
    errors: Vec<FieldError>,
    label_of: impl Fn(&str) -> Option<String>,
) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| {
            let m = e.message.trim().trim_end_matches('.');
            let starts_bare = ["cannot ", "must ", "is ", "has "]
                .iter()
                .any(|p| m.starts_with(p));
            let message = match label_of(&e.field) {
                Some(label) if starts_bare => format!("{label} {m}"),
                _ => super::sentence(m),
            };
            FieldError::new(e.field, message)
        })
        .collect()
}

/// Adds the errors of `more` about fields `errors` says nothing of yet (a date's parts count as
/// its field), so a form shows every problem at once.
pub fn add_uncovered(errors: &mut Vec<FieldError>, more: Vec<FieldError>) {
    let covered: Vec<String> = errors
        .iter()
        .map(|e| date_base(&e.field).to_string())
        .collect();
    errors.extend(
        more.into_iter()
            .filter(|e| !covered.iter().any(|c| c == date_base(&e.field))),
    );
}

/// The field a date's part belongs to (`occurred_on-day` → `occurred_on`).
pub fn date_base(field: &str) -> &str {
    field
        .trim_end_matches("-day")
        .trim_end_matches("-month")
        .trim_end_matches("-year")
}

/// The errors as the page shows them, in the order of the form's fields (`known`); one that
/// names no field of the form comes first, without a link.
pub fn for_page(errors: Vec<FieldError>, known: &[String]) -> Vec<FieldError> {
    let position = |field: &str| {
        let base = date_base(field);
        known.iter().position(|k| k == base).map_or(0, |i| i + 1)
    };
    let mut errors = errors;
    errors.sort_by_key(|e| position(&e.field));
    errors
        .into_iter()
        .map(|e| {
            let base = date_base(&e.field);
            if known.iter().any(|k| k == base) {
                e
            } else {
                FieldError::new("", e.message)
            }
        })
        .collect()
}

/// A form a signed-in user submitted, its origin and CSRF token checked: the preamble every
/// state-changing page handler shares, as an extractor. [`Posted::once`] adds the one-time
/// form id.
pub struct Posted {
    pub page: Page,
    pub form: FormData,
}

impl FromRequest for Posted {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Posted, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let page = Page::from_request(req, payload);
        let form = web::Form::<Vec<(String, String)>>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let page = page.await?;
            let form = FormData::from(form.await?.into_inner());
            page.check_form(&req, &form)?;
            Ok(Posted { page, form })
        })
    }
}

/// What a one-time form's action came to.
pub enum Outcome {
    /// Done: go there (a second submission of the same form is sent there too).
    Redirect(String),
    /// Not done (the form is shown again with its errors): the form may be sent again.
    Again(HttpResponse),
}

impl Posted {
    /// Runs `act` once for the form's one-time id: a second submission is answered with the
    /// first one's redirect (or `fallback` while the first is still running) and does nothing.
    pub async fn once(
        &self,
        fallback: &str,
        act: impl AsyncFnOnce() -> Result<Outcome, HtmlError>,
    ) -> PageResult {
        if let Claim::Done(resp) = claim(&self.page, &self.form, fallback).await? {
            return Ok(resp);
        }
        let outcome = act().await;
        let result = match &outcome {
            Ok(Outcome::Redirect(to)) => Some(to.as_str()),
            _ => None,
        };
        settle(&self.page, &self.form, result).await?;
        match outcome? {
            Outcome::Redirect(to) => Ok(see_other(&to)),
            Outcome::Again(resp) => Ok(resp),
        }
    }
}

/// What to do with a submitted one-time form.
pub enum Claim {
    /// First submission: go ahead, then [`settle`].
    Fresh,
    /// Submitted before: answer with this redirect instead of acting again.
    Done(actix_web::HttpResponse),
}

/// Claims the form's one-time id for the user. A second submission of the same form is
/// answered with the first one's result (or `fallback` while the first is still running).
pub async fn claim(page: &Page, form: &FormData, fallback: &str) -> Result<Claim, HtmlError> {
    let form_id = form.get("form_id").to_string();
    let fallback = fallback.to_string();
    page.db(move |c, st, actor| claim_form(c, &form_id, &actor.user_id, st.now()))
        .await
        .map(|found| match found {
            None => Claim::Fresh,
            Some(url) if url.is_empty() => Claim::Done(see_other(&fallback)),
            Some(url) => Claim::Done(see_other(&url)),
        })
}

/// Records where a claimed form led (`Some`), or releases the claim so the corrected form can
/// be sent again (`None`).
pub async fn settle(page: &Page, form: &FormData, result: Option<&str>) -> Result<(), HtmlError> {
    let form_id = form.get("form_id").to_string();
    let result = result.map(str::to_string);
    page.db(move |c, _, _| settle_form(c, &form_id, result.as_deref()))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_names_are_lists_when_asked() {
        let f = FormData::of(&[
            ("criteria", "a"),
            ("criteria", "c"),
            ("note", "x"),
            ("csrf_token", "secret"),
        ]);
        assert_eq!(f.all("criteria"), vec!["a", "c"]);
        assert_eq!(f.get("criteria"), "c");
        assert_eq!(f.get("missing"), "");
        let v = f.values(&["criteria"]);
        assert_eq!(v["criteria"], serde_json::json!(["a", "c"]));
        assert_eq!(v["note"], "x");
        assert!(!v.contains_key("csrf_token"));
    }

    #[test]
    fn service_messages_become_sentences_that_name_the_field() {
        let out = humanise(
            vec![
                FieldError::new("due_on", "cannot be before the date the action is added"),
                FieldError::new("rationale", "enter the rationale"),
            ],
            |f| (f == "due_on").then(|| "The due date".to_string()),
        );
        assert_eq!(
            out[0].message,
            "The due date cannot be before the date the action is added"
        );
        assert_eq!(out[1].message, "Enter the rationale");
        let page = for_page(
            vec![
                FieldError::new("note", "Enter a note"),
                FieldError::new("occurred_on-year", "Year must include 4 numbers"),
                FieldError::new("type", "Not now"),
            ],
            &["occurred_on".to_string(), "note".to_string()],
        );
        let fields: Vec<&str> = page.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["", "occurred_on-year", "note"]);
    }
}
