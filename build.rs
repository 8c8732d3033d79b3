//! Build script: fetches the front-end packages pinned by `package-lock.json` with `npm ci` into
//! `$OUT_DIR/npm/`, and writes two tables that `include_bytes!`/`include_str!` the files the
//! binary serves and renders, so it runs from any folder:
//! - `$OUT_DIR/embedded_assets.rs`: GOV.UK Frontend and MOJ Frontend compiled CSS, JS and assets,
//!   and everything under `static/`;
//!
//! The GDS Transport font is licensed only for services on gov.uk, which this is not: its files
//! are not embedded, and the `@font-face` rules are stripped from the GOV.UK stylesheet, whose
//! own font stacks then fall back to Arial (or the system's sans-serif).
//! - `$OUT_DIR/embedded_templates.rs`: everything under `templates/`.
//!
//! It also makes Cargo rebuild when the migrations change (they are embedded by diesel).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

const GOVUK_DIST: &str = "node_modules/govuk-frontend/dist/govuk";
const MOJ_DIST: &str = "node_modules/@ministryofjustice/frontend/moj";

/// (url path, file inside `$OUT_DIR/npm`) for the compiled files served under /static.
const VENDOR_FILES: &[(&str, &str)] = &[
    (
        "/static/govuk-frontend.min.css",
        "node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css",
    ),
    (
        "/static/govuk-frontend.min.js",
        "node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js",
    ),
    (
        "/static/moj-frontend.min.css",
        "node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.css",
    ),
    (
        "/static/moj-frontend.min.js",
        "node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.js",
    ),
];

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    for watched in [
        "build.rs",
        "package.json",
        "package-lock.json",
        "static",
        "templates",
        "migrations",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }
    println!("cargo:rerun-if-env-changed=NPM");

    let npm_dir = out.join("npm");
    fetch_packages(&manifest, &npm_dir);

    let mut assets = BTreeMap::new();
    for (url, file) in VENDOR_FILES {
        let path = npm_dir.join(file);
        let path = if url.ends_with(".css") {
            without_font_faces(&path, &out.join("css"))
        } else {
            path
        };
        add_asset(&mut assets, url.to_string(), path);
    }
    // The GOV.UK CSS asks for its images under /assets; so does MOJ's for its icons. The fonts
    // are left out (see the module comment).
    for dist in [GOVUK_DIST, MOJ_DIST] {
        let root = npm_dir.join(dist).join("assets");
        for (rel, path) in files_under(&root) {
            if rel.ends_with(".map") || rel.starts_with("fonts/") {
                continue;
            }
            add_asset(&mut assets, format!("/assets/{rel}"), path);
        }
    }
    for (rel, path) in files_under(&manifest.join("static")) {
        add_asset(&mut assets, format!("/static/{rel}"), path);
    }
    write_assets(&out.join("embedded_assets.rs"), &assets);

    let templates = files_under(&manifest.join("templates"));
    write_templates(&out.join("embedded_templates.rs"), &templates);
}

/// Runs `npm ci` unless the last run in `npm_dir` used the same lockfile and left every
/// file we need.
fn fetch_packages(manifest: &Path, npm_dir: &Path) {
    let lock = read(&manifest.join("package-lock.json"));
    let package = read(&manifest.join("package.json"));
    let up_to_date = fs::read(npm_dir.join("package-lock.json")).ok().as_ref() == Some(&lock)
        && fs::read(npm_dir.join("package.json")).ok().as_ref() == Some(&package)
        && VENDOR_FILES
            .iter()
            .all(|(_, file)| npm_dir.join(file).is_file())
        && npm_dir.join(GOVUK_DIST).join("assets/fonts").is_dir();
    if up_to_date {
        return;
    }
    fs::create_dir_all(npm_dir).unwrap_or_else(|e| fail(&format!("{}: {e}", npm_dir.display())));
    write(&npm_dir.join("package.json"), &package);
    write(&npm_dir.join("package-lock.json"), &lock);

    let npm = env::var("NPM").unwrap_or_else(|_| "npm".to_string());
    let status = Command::new(&npm)
        .args([
            "ci",
            "--omit=dev",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
        ])
        .current_dir(npm_dir)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => fail(&format!(
            "`{npm} ci` failed ({s}) in {}: it fetches GOV.UK Frontend and MOJ Frontend, pinned \
             by package-lock.json, from the npm registry",
            npm_dir.display()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => fail(&format!(
            "`{npm}` was not found. Node.js with npm is needed to build lcspr-tracker: the build \
             fetches GOV.UK Frontend with `npm ci` and compiles it into the binary. Install \
             Node.js and npm (Debian: `apt-get install nodejs npm`), or set NPM to the npm \
             program."
        )),
        Err(e) => fail(&format!("cannot run `{npm}`: {e}")),
    }
    for (_, file) in VENDOR_FILES {
        if !npm_dir.join(file).is_file() {
            fail(&format!(
                "`npm ci` did not produce {file}: has the package layout changed?"
            ));
        }
    }
}

/// A copy of the stylesheet at `path`, in `dir`, without its `@font-face` rules.
fn without_font_faces(path: &Path, dir: &Path) -> PathBuf {
    let css = String::from_utf8(read(path))
        .unwrap_or_else(|e| fail(&format!("{}: not UTF-8: {e}", path.display())));
    let stripped = strip_font_faces(&css);
    fs::create_dir_all(dir).unwrap_or_else(|e| fail(&format!("{}: {e}", dir.display())));
    let name = path.file_name().expect("a file name");
    let to = dir.join(name);
    write_if_changed(&to, &stripped);
    to
}

/// Removes every `@font-face { … }` rule (they hold no nested braces).
fn strip_font_faces(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(at) = rest.find("@font-face") {
        out.push_str(&rest[..at]);
        match rest[at..].find('}') {
            Some(end) => rest = &rest[at + end + 1..],
            None => fail("an @font-face rule in a stylesheet is not closed"),
        }
    }
    out.push_str(rest);
    out
}

/// Every file under `root`, keyed by its path relative to `root` with `/` separators, sorted.
fn files_under(root: &Path) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    if root.is_dir() {
        walk(root, root, &mut found);
    }
    found
}

fn walk(root: &Path, dir: &Path, found: &mut BTreeMap<String, PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| fail(&format!("{}: {e}", dir.display())));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| fail(&format!("{}: {e}", dir.display())))
            .path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, found);
        } else {
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            found.insert(rel, path);
        }
    }
}

fn add_asset(assets: &mut BTreeMap<String, PathBuf>, url: String, path: PathBuf) {
    if let Some(previous) = assets.get(&url) {
        fail(&format!(
            "two assets would be served at {url}: {} and {}",
            previous.display(),
            path.display()
        ));
    }
    assets.insert(url, path);
}

fn content_type(url: &str) -> &'static str {
    let ext = url.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" if url.ends_with("/manifest.json") => "application/manifest+json",
        "json" | "map" => "application/json",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn write_assets(to: &Path, assets: &BTreeMap<String, PathBuf>) {
    let mut code = String::from(
        "/// Generated by build.rs: (url path, content type, bytes) of every embedded asset.\n\
         pub static EMBEDDED_ASSETS: &[(&str, &str, &[u8])] = &[\n",
    );
    for (url, path) in assets {
        writeln!(
            code,
            "    ({url:?}, {:?}, include_bytes!({:?})),",
            content_type(url),
            absolute(path)
        )
        .expect("write to string");
    }
    code.push_str("];\n");
    write_if_changed(to, &code);
}

fn write_templates(to: &Path, templates: &BTreeMap<String, PathBuf>) {
    let mut code = String::from(
        "/// Generated by build.rs: (name relative to templates/, source) of every template.\n\
         pub static EMBEDDED_TEMPLATES: &[(&str, &str)] = &[\n",
    );
    for (name, path) in templates {
        writeln!(code, "    ({name:?}, include_str!({:?})),", absolute(path))
            .expect("write to string");
    }
    code.push_str("];\n");
    write_if_changed(to, &code);
}

fn absolute(path: &Path) -> String {
    let path = fs::canonicalize(path).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    path.to_str()
        .unwrap_or_else(|| fail(&format!("{}: path is not UTF-8", path.display())))
        .to_string()
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", path.display())))
}

fn write(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes)
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", path.display())))
}

fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(text) {
        write(path, text.as_bytes());
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}
