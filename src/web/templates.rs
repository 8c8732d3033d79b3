//! Page templates: every file under `templates/` is compiled into the binary (build.rs), so it
//! runs from any folder. Pages extend `layout.html` and import `macros/forms.html` and
//! `macros/components.html`; see those files for the variables and parameters they take.

use actix_web::http::header::ContentType;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;
use tera::{Context, Tera};

use crate::error::AppError;
pub use crate::mail::templates::escape_html;
use crate::state::AppState;

include!(concat!(env!("OUT_DIR"), "/embedded_templates.rs"));

/// Every embedded template with the filters registered; autoescaping is on for `.html`.
pub fn try_build() -> tera::Result<Tera> {
    let mut tera = Tera::default();
    super::filters::register(&mut tera);
    tera.autoescape_on(vec![".html", ".svg"]);
    tera.set_escape_fn(escape_html);
    tera.add_raw_templates(EMBEDDED_TEMPLATES.iter().copied())?;
    Ok(tera)
}

/// As [`try_build`]; the templates are compiled in and tested, so failure is a bug.
pub fn build() -> Tera {
    try_build().unwrap_or_else(|e| panic!("the embedded templates do not parse: {e:?}"))
}

/// The signed-in user as the layout shows them (navigation, sign-out).
#[derive(Debug, Clone, Serialize)]
pub struct LayoutUser {
    pub name: String,
    /// Shows the admin links (Users, Calendar, Outbox, Agencies, Members).
    pub is_admin: bool,
    /// Shows the Meetings link (every role with case content).
    #[serde(default)]
    pub meetings: bool,
    /// Shows the Cases link (every role that may see a case; not the administrator).
    #[serde(default)]
    pub cases: bool,
}

/// The context every page starts from: `service_name` and `partnership_name`. A page adds
/// `page_title`, and when signed in `user` ([`LayoutUser`]) and `csrf_token`; optionally
/// `nav_current` and `errors`.
pub fn base_context(state: &AppState) -> Context {
    let mut ctx = Context::new();
    ctx.insert("service_name", &state.settings.service.name);
    ctx.insert("partnership_name", &state.settings.partnership.name);
    ctx
}

/// Renders `template` to a string; a failure is an internal error (logged, never shown).
pub fn render_string(state: &AppState, template: &str, ctx: &Context) -> Result<String, AppError> {
    state
        .templates
        .render(template, ctx)
        .map_err(|e| AppError::internal(anyhow::anyhow!("rendering {template}: {e:?}")))
}

/// Renders `template` as a `text/html` page with `status`.
pub fn render_page(
    state: &AppState,
    status: StatusCode,
    template: &str,
    ctx: &Context,
) -> Result<HttpResponse, AppError> {
    let body = render_string(state, template, ctx)?;
    Ok(HttpResponse::build(status)
        .content_type(ContentType::html())
        .body(body))
}

/// Renders `template` as a 200 `text/html` page.
pub fn render(state: &AppState, template: &str, ctx: &Context) -> Result<HttpResponse, AppError> {
    render_page(state, StatusCode::OK, template, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(extra: serde_json::Value) -> Context {
        let mut value = json!({
            "service_name": "LCSPR Tracker",
            "partnership_name": "Birmingham Safeguarding Children Partnership",
        });
        for (k, v) in extra.as_object().unwrap() {
            value[k] = v.clone();
        }
        Context::from_value(value).unwrap()
    }

    /// Renders a page that extends the layout and uses the given macros.
    fn page(body: &str, extra: serde_json::Value) -> String {
        let mut tera = build();
        let source = format!(
            "{{% extends \"layout.html\" %}}\
             {{% import \"macros/forms.html\" as forms %}}\
             {{% import \"macros/components.html\" as ui %}}\
             {{% block content %}}{body}{{% endblock content %}}"
        );
        tera.add_raw_template("test.html", &source).unwrap();
        tera.render("test.html", &ctx(extra))
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn every_template_parses_and_every_page_renders() {
        let tera = build();
        let names: Vec<&str> = tera.get_template_names().collect();
        for (name, _) in EMBEDDED_TEMPLATES {
            assert!(names.contains(name), "{name} not loaded");
        }
        for name in ["errors/404.html", "errors/403.html", "errors/500.html"] {
            let html = tera.render(name, &ctx(json!({}))).unwrap();
            assert!(html.contains("<html lang=\"en-GB\" class=\"govuk-template\">"));
            assert!(html.contains("<body class=\"govuk-template__body\">"));
        }
        let html = tera
            .render(
                "errors/generic.html",
                &ctx(json!({"heading": "Too many attempts", "message": "Wait."})),
            )
            .unwrap();
        assert!(html.contains("<h1 class=\"govuk-heading-l\">Too many attempts</h1>"));
    }

    #[test]
    fn the_layout_has_no_inline_script_or_style_and_shows_navigation_by_role() {
        let anonymous = page("", json!({}));
        assert!(!anonymous.contains("<script>"));
        assert!(!anonymous.contains("style="));
        assert!(!anonymous.contains("<style"));
        assert!(anonymous.contains("<script src=\"/static/app.js\"></script>"));
        assert!(anonymous.contains("href=\"#main-content\""));
        assert!(anonymous.contains("id=\"main-content\""));
        assert!(!anonymous.contains("Sign out"));
        assert!(anonymous.contains("<title>LCSPR Tracker</title>"));

        let member = page(
            "",
            json!({"user": {"name": "Ann", "is_admin": false, "cases": true}, "csrf_token": "tok<&>",
                   "nav_current": "cases", "page_title": "Cases"}),
        );
        assert!(member.contains("<title>Cases – LCSPR Tracker</title>"));
        assert!(member.contains("href=\"/cases\" aria-current=\"page\""));
        assert!(member.contains("name=\"csrf_token\" value=\"tok&lt;&amp;&gt;\""));
        assert!(member.contains("action=\"/sign-out\""));
        assert!(!member.contains("/admin/users"));

        let admin = page(
            "",
            json!({"user": {"name": "Al", "is_admin": true}, "csrf_token": "t",
                   "errors": [{"field": "x", "message": "m"}], "page_title": "Users"}),
        );
        assert!(admin.contains("<title>Error: Users – LCSPR Tracker</title>"));
        for href in ["/admin/users", "/admin/calendar", "/admin/outbox"] {
            assert!(admin.contains(&format!("href=\"{href}\"")), "{href}");
        }
        // The administrator sees no case content, so no Cases menu.
        assert!(!admin.contains("href=\"/cases\""));
    }

    #[test]
    fn form_macros_show_values_and_inline_errors() {
        let html = page(
            r#"{{ forms::error_summary(errors=errors) }}
               {{ forms::input(name="email", label="Email address", values=form, errors=errors, autocomplete="email", type="email") }}
               {{ forms::input(name="name", label="Full name", values=form, errors=errors, hint="As on their badge") }}
               {{ forms::date_input(name="occurred_on", legend="When", values=form, errors=errors) }}
               {{ forms::radios(name="stage", legend="Stage", items=stages, values=form, errors=errors) }}
               {{ forms::checkboxes(name="flags", legend="Flags", items=stages, values=form) }}
               {{ forms::select(name="pick", label="Pick", items=stages, values=form, empty="Any") }}
               {{ forms::textarea(name="note", label="Note", values=form) }}"#,
            json!({
                "errors": [
                    {"field": "email", "message": "Enter an email address"},
                    {"field": "occurred_on-month", "message": "Date must include a month"},
                ],
                "form": {"email": "<b>", "occurred_on-day": "6", "occurred_on-year": "2026",
                         "stage": "b", "flags": ["a", "b"], "pick": "b", "note": "x < y"},
                "stages": [{"value": "a", "text": "A"}, {"value": "b", "text": "B", "hint": "Bee"}],
            }),
        );
        assert!(html.contains("<a href=\"#email\">Enter an email address</a>"));
        assert!(html.contains("<a href=\"#occurred_on-month\">Date must include a month</a>"));
        assert!(html.contains(
            "<input class=\"govuk-input govuk-input--error\" id=\"email\" name=\"email\" \
             type=\"email\" value=\"&lt;b&gt;\" aria-describedby=\"email-error\" autocomplete=\"email\">"
        ));
        assert!(html.contains(
            "<span class=\"govuk-visually-hidden\">Error:</span> Enter an email address"
        ));
        // No error on `name`: its group is not marked, and its hint describes it.
        assert!(html.contains(
            "id=\"name\" name=\"name\" type=\"text\" value=\"\" aria-describedby=\"name-hint\">"
        ));
        // Date: three fields, only the month marked, values kept.
        assert!(html.contains(
            "govuk-input--width-2\" id=\"occurred_on\" name=\"occurred_on-day\" type=\"text\" inputmode=\"numeric\" value=\"6\""
        ));
        assert!(html.contains(
            "govuk-input--width-2 govuk-input--error\" id=\"occurred_on-month\" name=\"occurred_on-month\""
        ));
        assert!(html.contains("id=\"occurred_on-year\" name=\"occurred_on-year\" type=\"text\" inputmode=\"numeric\" value=\"2026\""));
        assert!(html.contains("aria-describedby=\"occurred_on-hint occurred_on-error\""));
        assert_eq!(html.matches("govuk-form-group--error").count(), 2);
        // Radios, checkboxes, select keep their choice.
        assert!(html.contains("id=\"stage-2\" name=\"stage\" type=\"radio\" value=\"b\" checked aria-describedby=\"stage-2-item-hint\""));
        assert!(html.contains("id=\"stage\" name=\"stage\" type=\"radio\" value=\"a\">"));
        assert!(html.contains("id=\"flags\" name=\"flags\" type=\"checkbox\" value=\"a\" checked>"));
        assert!(html.contains("<option value=\"\">Any</option>"));
        assert!(html.contains("<option value=\"b\" selected>B</option>"));
        assert!(html.contains(">x &lt; y</textarea>"));
    }

    #[test]
    fn a_form_with_no_errors_has_no_summary() {
        let html = page(
            r#"{{ forms::error_summary(errors=[]) }}{{ forms::input(name="q", label="Search") }}"#,
            json!({}),
        );
        assert!(!html.contains("govuk-error-summary"));
        assert!(!html.contains("govuk-form-group--error"));
        assert!(html.contains("id=\"q\" name=\"q\" type=\"text\" value=\"\">"));
    }

    #[test]
    fn component_macros() {
        let html = page(
            r#"{{ ui::deadline_tag(status="missed") }}|{{ ui::deadline_tag(status="met") }}|{{ ui::deadline_tag(status="pending") }}|{{ ui::deadline_tag(status="pending", overdue=true) }}|{{ ui::deadline_tag(status="waived") }}
               {{ ui::summary_list(rows=rows) }}
               {{ ui::notification_banner(heading="Event recorded") }}
               {{ ui::back_link(href="/cases") }}
               {{ ui::pagination(page=5, pages=9, href_prefix="/cases?page=") }}
               {{ forms::button(text="Save") }}{{ forms::button(text="Cancel", kind="secondary", href="/") }}
               {{ forms::csrf(token="c1", form_id="f1") }}|{{ forms::csrf(token="c2") }}|"#,
            json!({"rows": [
                {"key": "Reference", "value": "BSCP2026-27-03"},
                {"key": "Pseudonym", "value": "Child Q", "href": "/cases/1/edit"},
                {"key": "Lines", "value": ["one", "two"]},
            ]}),
        );
        assert!(html.contains(
            "<strong class=\"govuk-tag govuk-tag--red\">Missed</strong>|\
             <strong class=\"govuk-tag govuk-tag--green\">Met</strong>|\
             <strong class=\"govuk-tag govuk-tag--blue\">Pending</strong>|\
             <strong class=\"govuk-tag govuk-tag--red\">Overdue</strong>|\
             <strong class=\"govuk-tag govuk-tag--grey\">Waived</strong>"
        ));
        assert!(html.contains("<a class=\"govuk-link\" href=\"/cases/1/edit\">Change<span class=\"govuk-visually-hidden\"> pseudonym</span></a>"));
        assert_eq!(
            html.matches("govuk-summary-list__row--no-actions").count(),
            2
        );
        assert!(html.contains("one<br>"));
        assert!(html.contains("govuk-notification-banner--success"));
        assert!(html.contains("<a href=\"/cases\" class=\"govuk-back-link\">Back</a>"));
        // 1 … 4 5 6 … 9, with previous and next.
        for n in [1, 4, 5, 6, 9] {
            assert!(
                html.contains(&format!("aria-label=\"Page {n}\"")),
                "page {n}"
            );
        }
        for n in [2, 3, 7, 8] {
            assert!(
                !html.contains(&format!("aria-label=\"Page {n}\"")),
                "page {n}"
            );
        }
        assert_eq!(html.matches("govuk-pagination__item--ellipses").count(), 2);
        assert!(html.contains("href=\"/cases?page=5\" aria-label=\"Page 5\" aria-current=\"page\""));
        assert!(html.contains("href=\"/cases?page=4\" rel=\"prev\""));
        assert!(html.contains("href=\"/cases?page=6\" rel=\"next\""));
        assert!(html.contains("data-prevent-double-click=\"true\""));
        assert!(html.contains(
            "<input type=\"hidden\" name=\"csrf_token\" value=\"c1\">\n\
             <input type=\"hidden\" name=\"form_id\" value=\"f1\">|\
             <input type=\"hidden\" name=\"csrf_token\" value=\"c2\">|"
        ));
        assert!(html.contains("<a href=\"/\" role=\"button\" draggable=\"false\" class=\"govuk-button govuk-button--secondary\""));
    }

    #[test]
    fn escaping_covers_text_and_quoted_attributes_but_leaves_slashes() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
    }

    #[test]
    fn filters_are_registered() {
        let mut tera = build();
        tera.add_raw_template(
            "f.html",
            "{{ d | govuk_date }}|{{ d | short_date }}|{{ q | urlencode }}",
        )
        .unwrap();
        let mut c = Context::new();
        c.insert("d", &chrono::NaiveDate::from_ymd_opt(2026, 1, 6).unwrap());
        c.insert("q", "a b");
        assert_eq!(
            tera.render("f.html", &c).unwrap(),
            "6 January 2026|Tue 6 Jan 2026|a%20b"
        );
    }
}
