//! Helpers for review documents: multipart bodies, test files, the store on disk, and a case
//! with a lead reviewer appointed.

use serde_json::Value;

use super::api::User;
use super::walk::{Cast, Step};
use super::TestApp;

pub const BOUNDARY: &str = "----lcspr-test-boundary";

/// A multipart body: the text fields in order, then the file (if any) as the `file` field.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A small PDF whose content depends on `n`: the header, one object, the trailer.
pub fn pdf(n: u8) -> Vec<u8> {
    let mut v = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n% ".to_vec();
    v.extend(std::iter::repeat_n(b'a' + n, 20_000));
    v.extend_from_slice(b"\nxref\n0 2\ntrailer\n<< /Root 1 0 R >>\nstartxref\n9\n%%EOF\n");
    v
}

/// The start of a Windows executable, padded.
pub fn executable() -> Vec<u8> {
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec();
    exe.extend(std::iter::repeat_n(0u8, 2000));
    exe
}

impl TestApp {
    /// Files in the store (excluding the temporary folder) and in the temporary folder.
    pub fn stored_files(&self) -> (usize, usize) {
        let dir = std::path::PathBuf::from(&self.state.settings.documents.dir);
        let count = |p: &std::path::Path| std::fs::read_dir(p).map(|d| d.count()).unwrap_or(0);
        let mut stored = 0;
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                if e.file_name() != "tmp" {
                    stored += count(&e.path());
                }
            }
        }
        (stored, count(&dir.join("tmp")))
    }
}

/// A case in review with `reviewer` appointed to it (events from 5 to 28 January 2026).
pub async fn appointed_case(app: &TestApp, pm: &User, chair: &User, reviewer: &User) -> String {
    let case = app.open_case(pm, "2026-01-05", "Child D").await;
    let id = case["id"].as_str().unwrap().to_string();
    let cast = Cast {
        pm,
        chair,
        board: None,
        reviewer: Some(reviewer),
    };
    app.walk(
        &id,
        &cast,
        &[
            ("2026-01-06", Step::Sin),
            ("2026-01-20", Step::RapidReview),
            ("2026-01-26", Step::PanelAgrees),
            ("2026-01-27", Step::Decided),
            ("2026-01-28", Step::Appointed),
        ],
    )
    .await;
    id
}

impl TestApp {
    pub async fn upload(
        &self,
        user: &User,
        case_id: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> (u16, Value) {
        // A pooled connection the server has just closed fails before anything is sent
        // (`Connect`), which a loaded machine makes likely: only then is the upload sent again.
        let mut attempt = 0;
        let mut resp = loop {
            attempt += 1;
            match self
                .client
                .post(self.url(&format!("/api/v1/cases/{case_id}/documents")))
                .bearer_auth(&user.token)
                .insert_header((
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                ))
                .send_body(multipart(fields, file))
                .await
            {
                Ok(resp) => break resp,
                Err(awc::error::SendRequestError::Connect(e)) if attempt < 3 => {
                    eprintln!("upload: connection failed before sending ({e}); sending again");
                }
                Err(e) => panic!("the upload to {case_id} got no answer: {e:?}"),
            }
        };
        let body = resp.body().limit(10_000_000).await.unwrap();
        (
            resp.status().as_u16(),
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        )
    }

    pub async fn download(
        &self,
        user: &User,
        url: &str,
    ) -> (u16, Vec<u8>, Option<String>, Option<String>) {
        let mut resp = self
            .client
            .get(self.url(url))
            .bearer_auth(&user.token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("the download of {url} got no answer: {e:?}"));
        let h = |n: &str| {
            resp.headers()
                .get(n)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let (cd, nosniff) = (h("content-disposition"), h("x-content-type-options"));
        let body = resp.body().limit(10_000_000).await.unwrap();
        (resp.status().as_u16(), body.to_vec(), cd, nosniff)
    }
}
