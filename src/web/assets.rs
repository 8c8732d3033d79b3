//! The front-end assets compiled into the binary (build.rs): GOV.UK Frontend's images (not its
//! fonts: GDS Transport is licensed only for gov.uk services) under `/assets/` (where its stylesheet looks for them), and the compiled GOV.UK and
//! MOJ Frontend CSS and JS with our own `static/` files under `/static/`.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::http::StatusCode;
use actix_web::{guard, web, HttpRequest, HttpResponse};

use super::error_pages::error_page;
use crate::state::AppState;

include!(concat!(env!("OUT_DIR"), "/embedded_assets.rs"));

static BY_PATH: LazyLock<HashMap<&'static str, (&'static str, &'static [u8])>> =
    LazyLock::new(|| {
        EMBEDDED_ASSETS
            .iter()
            .map(|(path, content_type, bytes)| (*path, (*content_type, *bytes)))
            .collect()
    });

/// The content type and bytes served at `url_path` (for example `/static/app.js`).
pub fn find(url_path: &str) -> Option<(&'static str, &'static [u8])> {
    BY_PATH.get(url_path).copied()
}

/// Every embedded url path, sorted.
pub fn paths() -> impl Iterator<Item = &'static str> {
    EMBEDDED_ASSETS.iter().map(|(path, _, _)| *path)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    let get_or_head = || web::route().guard(guard::Any(guard::Get()).or(guard::Head()));
    cfg.route("/assets/{path:.*}", get_or_head().to(serve))
        .route("/static/{path:.*}", get_or_head().to(serve))
        .route("/favicon.ico", get_or_head().to(favicon));
}

/// Browsers ask for `/favicon.ico` whatever the page says: the service's own icon (not the
/// GOV.UK crown, which is for services on gov.uk only).
async fn favicon() -> HttpResponse {
    match find("/static/favicon.ico") {
        Some((content_type, bytes)) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, content_type))
            .insert_header(CacheControl(vec![
                CacheDirective::Public,
                CacheDirective::MaxAge(86_400),
            ]))
            .body(bytes),
        None => HttpResponse::NotFound().finish(),
    }
}

async fn serve(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match find(req.path()) {
        Some((content_type, bytes)) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, content_type))
            .insert_header(CacheControl(vec![
                CacheDirective::Public,
                CacheDirective::MaxAge(86_400),
            ]))
            .body(bytes),
        None => error_page(&state, StatusCode::NOT_FOUND, &tera::Context::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frontends_and_our_files_are_embedded() {
        for path in [
            "/static/govuk-frontend.min.css",
            "/static/govuk-frontend.min.js",
            "/static/moj-frontend.min.css",
            "/static/moj-frontend.min.js",
            "/static/app.css",
            "/static/app.js",
            "/assets/manifest.json",
        ] {
            let (_, bytes) = find(path).unwrap_or_else(|| panic!("{path} missing"));
            assert!(!bytes.is_empty(), "{path} empty");
        }
        assert!(paths().any(|p| p.starts_with("/assets/images/")));
        // GDS Transport is licensed only for services on gov.uk: neither the files nor the
        // rules that load them are served.
        assert!(!paths().any(|p| p.starts_with("/assets/fonts/")));
        let css = std::str::from_utf8(find("/static/govuk-frontend.min.css").unwrap().1).unwrap();
        assert!(!css.contains("@font-face"));
        assert!(css.contains("arial,sans-serif"));
        assert!(!paths().any(|p| p.ends_with(".map")));
    }

    #[test]
    fn every_url_the_stylesheets_ask_for_is_embedded() {
        for sheet in [
            "/static/govuk-frontend.min.css",
            "/static/moj-frontend.min.css",
        ] {
            let css = std::str::from_utf8(find(sheet).unwrap().1).unwrap();
            let mut rest = css;
            let mut seen = 0;
            while let Some(at) = rest.find("url(") {
                rest = &rest[at + 4..];
                let end = rest.find(')').unwrap();
                let url = rest[..end].trim_matches(|c| c == '"' || c == '\'');
                if !url.starts_with("data:") {
                    assert!(find(url).is_some(), "{sheet} asks for {url}, not embedded");
                    seen += 1;
                }
            }
            assert!(seen > 0, "{sheet} has no url()");
        }
    }

    #[test]
    fn the_scripts_are_es_modules_exporting_init_all() {
        for script in [
            "/static/govuk-frontend.min.js",
            "/static/moj-frontend.min.js",
        ] {
            let js = std::str::from_utf8(find(script).unwrap().1).unwrap();
            assert!(js.contains("initAll"), "{script}");
            assert!(js.contains("export{"), "{script} is not an ES module");
        }
        let app = std::str::from_utf8(find("/static/app.js").unwrap().1).unwrap();
        assert!(app.contains("govuk-frontend-supported"));
        assert!(app.contains("import('/static/govuk-frontend.min.js')"));
        assert!(app.contains("import('/static/moj-frontend.min.js')"));
    }
}
