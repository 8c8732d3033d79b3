//! A minimal browser for the HTML pages: it keeps cookies, sends forms with our Origin (or
//! another, or none), and does not follow redirects, so tests see each 303.

use std::cell::RefCell;
use std::collections::BTreeMap;

use awc::http::header::HeaderMap;

use super::api::PASSWORD;
use super::TestApp;

/// One answer.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> &str {
        self.header("location").unwrap_or("")
    }

    /// The `Set-Cookie` header for `name`, whole.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(str::to_string)
    }

    /// The value of a hidden field (the last one with that name: the page's own form comes
    /// after the layout's sign-out form).
    pub fn hidden(&self, name: &str) -> String {
        hidden(&self.body, name)
    }

    /// The `<main>` element.
    pub fn main(&self) -> &str {
        let start = self.body.find("<main").unwrap_or(0);
        let end = self
            .body
            .find("</main>")
            .map_or(self.body.len(), |i| i + "</main>".len());
        &self.body[start..end]
    }
}

pub fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    html.rmatch_indices(&needle)
        .next()
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .unwrap_or_default()
}

pub struct Browser<'a> {
    pub app: &'a TestApp,
    cookies: RefCell<BTreeMap<String, String>>,
    /// The Origin header sent with forms; `None` sends none.
    pub origin: Option<String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            cookies: RefCell::new(BTreeMap::new()),
            origin: Some(app.base.clone()),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.borrow().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .borrow_mut()
            .insert(name.to_string(), value.to_string());
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .borrow()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&self, headers: &HeaderMap) {
        for c in headers
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
        {
            let pair = c.split(';').next().unwrap_or("");
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let removed = value.is_empty() || c.contains("Max-Age=0");
            let mut jar = self.cookies.borrow_mut();
            if removed {
                jar.remove(name);
            } else {
                jar.insert(name.to_string(), value.to_string());
            }
        }
    }

    /// A POST carrying the session's cookies and, unless a test removed it, our Origin.
    fn post_request(&self, path: &str) -> awc::ClientRequest {
        let mut req = self
            .app
            .client
            .post(self.app.url(path))
            .insert_header(("cookie", self.cookie_header()));
        if let Some(origin) = &self.origin {
            req = req.insert_header(("origin", origin.as_str()));
        }
        req
    }

    /// Reads a response, keeping the cookies it sets.
    async fn answer(
        &self,
        mut resp: awc::ClientResponse<
            impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
                + Unpin,
        >,
    ) -> Answer {
        let body = resp.body().limit(50_000_000).await.expect("body");
        let headers = resp.headers().clone();
        self.keep(&headers);
        Answer {
            status: resp.status().as_u16(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        let resp = self
            .app
            .client
            .get(self.app.url(path))
            .insert_header(("cookie", self.cookie_header()))
            .send()
            .await
            .expect("request");
        self.answer(resp).await
    }

    /// Posts a form (`application/x-www-form-urlencoded`), names repeated as given.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let req = self.post_request(path);
        let resp = req.send_form(&fields).await.expect("request");
        self.answer(resp).await
    }

    /// Posts a `multipart/form-data` form: the text fields in order, then the file (as the
    /// browser sends a form whose file input comes last).
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> Answer {
        use super::documents::{multipart, BOUNDARY};
        let req = self.post_request(path).insert_header((
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ));
        let resp = req
            .send_body(multipart(fields, file))
            .await
            .expect("request");
        self.answer(resp).await
    }

    /// Fills in a case's upload form, freshly fetched, and sends it with `file`.
    pub async fn upload(
        &self,
        case_id: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> Answer {
        let path = format!("/cases/{case_id}/documents/new");
        let form = self.get(&path).await;
        assert_eq!(form.status, 200, "{}", form.main());
        let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
        let mut all = vec![("csrf_token", csrf.as_str()), ("form_id", form_id.as_str())];
        all.extend_from_slice(fields);
        self.post_multipart(&path, &all, file).await
    }

    /// Gets a file: the status, the headers and the bytes as sent.
    pub async fn get_bytes(&self, path: &str) -> (u16, HeaderMap, Vec<u8>) {
        let mut resp = self
            .app
            .client
            .get(self.app.url(path))
            .insert_header(("cookie", self.cookie_header()))
            .send()
            .await
            .expect("request");
        let body = resp.body().limit(50_000_000).await.expect("body");
        (
            resp.status().as_u16(),
            resp.headers().clone(),
            body.to_vec(),
        )
    }

    /// Signs in through the page with `password`; returns the answer to the POST.
    pub async fn sign_in_with(&self, email: &str, password: &str, next: &str) -> Answer {
        let form = self.get("/sign-in").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.hidden("csrf_token");
        self.post(
            "/sign-in",
            &[
                ("csrf_token", &csrf),
                ("email", email),
                ("password", password),
                ("next", next),
            ],
        )
        .await
    }

    /// Signs in a test user (`TestApp::user`), asserting the redirect home.
    pub async fn sign_in(&self, email: &str) -> Answer {
        let a = self.sign_in_with(email, PASSWORD, "/").await;
        assert_eq!(a.status, 303, "sign in: {}", a.body);
        a
    }
}
