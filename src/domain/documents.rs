//! Review documents: their kinds, and which file types are accepted, decided by content
//! (magic bytes), never by name.

use crate::text_enum;

text_enum! {
    /// What a document is.
    pub enum DocumentKind {
        TermsOfReference = ("terms_of_reference", "Terms of reference"),
        DraftReport = ("draft_report", "Draft report"),
        FinalReport = ("final_report", "Final report"),
        SummaryReport = ("summary_report", "Summary report"),
        PressStatement = ("press_statement", "Press statement"),
        BriefingNote = ("briefing_note", "Briefing note"),
        Slides = ("slides", "Slides"),
        LearningBriefing = ("learning_briefing", "Learning briefing"),
        FamilyLetter = ("family_letter", "Letter to the family"),
        Other = ("other", "Other"),
    }
}

impl DocumentKind {
    /// A report whose versions are recorded as case events.
    pub fn is_report(self) -> bool {
        matches!(
            self,
            DocumentKind::DraftReport | DocumentKind::FinalReport | DocumentKind::SummaryReport
        )
    }

    /// The report sent before publication (its versions get locked when sent).
    pub fn is_publishable_report(self) -> bool {
        matches!(
            self,
            DocumentKind::FinalReport | DocumentKind::SummaryReport
        )
    }
}

text_enum! {
    /// An accepted document format.
    pub enum FileType {
        Pdf = ("application/pdf", "PDF"),
        Docx = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word document (DOCX)"),
        Xlsx = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel workbook (XLSX)"),
        Pptx = ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "PowerPoint presentation (PPTX)"),
        Odt = ("application/vnd.oasis.opendocument.text", "OpenDocument text (ODT)"),
        Text = ("text/plain; charset=utf-8", "Plain text"),
    }
}

impl FileType {
    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Docx => "docx",
            FileType::Xlsx => "xlsx",
            FileType::Pptx => "pptx",
            FileType::Odt => "odt",
            FileType::Text => "txt",
        }
    }

    /// "PDF, Word document (DOCX), …" for error messages.
    pub fn accepted_list() -> String {
        FileType::ALL
            .iter()
            .map(|t| t.label())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Decides the type from the start of the file (`head`, up to 64 KiB) and its end (`tail`, the
/// last 64 KiB, where a ZIP keeps its central directory and a PDF its trailer). `None`: not an
/// accepted type.
pub fn detect(head: &[u8], tail: &[u8]) -> Option<FileType> {
    if head.starts_with(b"%PDF-") {
        return is_pdf(head, tail).then_some(FileType::Pdf);
    }
    if head.starts_with(b"PK\x03\x04") {
        return detect_zip(head, tail);
    }
    if is_plain_text(head) && !looks_like_markup(head) {
        return Some(FileType::Text);
    }
    None
}

/// Markup a browser would render or run: HTML, SVG, XML. Refused even as plain text.
const MARKUP: [&[u8]; 10] = [
    b"<html",
    b"<script",
    b"<svg",
    b"<?xml",
    b"<!doctype",
    b"<iframe",
    b"<body",
    b"<head",
    b"<object",
    b"<embed",
];

fn contains_ignoring_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Text that starts with a tag, or holds one of [`MARKUP`] near its start.
fn looks_like_markup(head: &[u8]) -> bool {
    let start = head.get(..4096).unwrap_or(head);
    let trimmed = start
        .strip_prefix("\u{feff}".as_bytes())
        .unwrap_or(start)
        .trim_ascii_start();
    trimmed.starts_with(b"<") || MARKUP.iter().any(|m| contains_ignoring_case(start, m))
}

/// A PDF's structure, by strict rules: the header (`%PDF-1.0` to `%PDF-1.7`, or `%PDF-2.0`) on
/// its own line, an indirect object near the start, and at the end a `startxref` with its offset
/// followed by `%%EOF` in the last 1 KiB. No markup near the start (a PDF header before HTML).
fn is_pdf(head: &[u8], tail: &[u8]) -> bool {
    let version_ok = matches!(
        head.get(5..9),
        Some([b'1', b'.', b'0'..=b'7', b'\r' | b'\n'] | [b'2', b'.', b'0', b'\r' | b'\n'])
    );
    let has_object = head
        .windows(4)
        .any(|w| w == b" obj" || w == b"\nobj" || w == b"\robj");
    let last_kib = &tail[tail.len().saturating_sub(1024)..];
    let Some(eof) = last_kib.windows(5).rposition(|w| w == b"%%EOF") else {
        return false;
    };
    let before_eof = &last_kib[..eof];
    let Some(sx) = before_eof.windows(9).rposition(|w| w == b"startxref") else {
        return false;
    };
    let offset = before_eof[sx + 9..].trim_ascii();
    let offset_ok = !offset.is_empty() && offset.iter().all(u8::is_ascii_digit);
    let start = head.get(..4096).unwrap_or(head);
    version_ok
        && has_object
        && offset_ok
        && !MARKUP.iter().any(|m| contains_ignoring_case(start, m))
}

fn u16_at(b: &[u8], i: usize) -> Option<usize> {
    Some(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]) as usize)
}

fn detect_zip(head: &[u8], tail: &[u8]) -> Option<FileType> {
    // OpenDocument: the first entry is an uncompressed `mimetype` holding the type.
    let name_len = u16_at(head, 26)?;
    let extra_len = u16_at(head, 28)?;
    let name = head.get(30..30 + name_len)?;
    if name == b"mimetype" {
        let data = head.get(30 + name_len + extra_len..)?;
        if data.starts_with(b"application/vnd.oasis.opendocument.text") {
            return Some(FileType::Odt);
        }
        return None;
    }
    // Office Open XML: the part names in the central directory say which application.
    let names = central_directory_names(tail);
    let has = |prefix: &[u8]| names.iter().any(|n| n.starts_with(prefix));
    if !names.iter().any(|n| n == b"[Content_Types].xml") {
        return None;
    }
    if has(b"word/") {
        Some(FileType::Docx)
    } else if has(b"xl/") {
        Some(FileType::Xlsx)
    } else if has(b"ppt/") {
        Some(FileType::Pptx)
    } else {
        None
    }
}

/// Entry names from a ZIP's central directory (found through the end-of-central-directory
/// record in the last bytes of the file).
fn central_directory_names(tail: &[u8]) -> Vec<&[u8]> {
    let Some(eocd) = tail.windows(4).rposition(|w| w == b"PK\x05\x06") else {
        return vec![];
    };
    let (Some(size), Some(entries)) = (
        tail.get(eocd + 12..eocd + 16)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize),
        u16_at(tail, eocd + 10),
    ) else {
        return vec![];
    };
    let Some(start) = eocd.checked_sub(size) else {
        return vec![];
    };
    let mut names = vec![];
    let mut i = start;
    for _ in 0..entries {
        if tail.get(i..i + 4) != Some(b"PK\x01\x02") {
            break;
        }
        let (Some(n), Some(x), Some(c)) = (
            u16_at(tail, i + 28),
            u16_at(tail, i + 30),
            u16_at(tail, i + 32),
        ) else {
            break;
        };
        if let Some(name) = tail.get(i + 46..i + 46 + n) {
            names.push(name);
        }
        i += 46 + n + x + c;
    }
    names
}

/// UTF-8 text without NULs or control characters other than tab, newlines and form feed.
/// The last few bytes may be a multi-byte character cut by the sample's end.
fn is_plain_text(head: &[u8]) -> bool {
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return false,
    };
    !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c'))
}

/// A file name safe to show and to put in `Content-Disposition`: letters, digits, spaces and
/// `._-()`, at most 100 characters, never empty, never starting with a dot.
pub fn sanitise_file_name(name: &str, fallback_ext: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut out: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    out = out.trim().trim_start_matches('.').to_string();
    if out.is_empty() || out.chars().all(|c| c == '_') {
        out = format!("document.{fallback_ext}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        // A stored (uncompressed) ZIP, enough for the detector.
        let mut out = vec![];
        let mut central = vec![];
        for (name, data) in entries {
            let offset = out.len() as u32;
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            central.extend_from_slice(b"PK\x01\x02");
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        let cd_size = central.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&cd_size.to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    fn detect_all(b: &[u8]) -> Option<FileType> {
        detect(b, b)
    }

    const MINIMAL_PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\nxref\n0 2\ntrailer\n<< /Root 1 0 R >>\nstartxref\n44\n%%EOF\n";

    #[test]
    fn a_pdf_needs_its_header_and_its_trailer() {
        assert_eq!(detect_all(MINIMAL_PDF), Some(FileType::Pdf));
        // The probe's file: a PDF header, then HTML.
        assert_eq!(
            detect_all(b"%PDF-1.4\n<html><script>alert(1)</script></html>"),
            None
        );
        let mut polyglot = b"%PDF-1.7\n1 0 obj\n<html><script>x</script>".to_vec();
        polyglot.extend_from_slice(b"\nstartxref\n9\n%%EOF\n");
        assert_eq!(detect_all(&polyglot), None);
        let cut = &MINIMAL_PDF[..MINIMAL_PDF.len() - 7];
        assert_eq!(detect_all(cut), None, "no %%EOF");
        assert_eq!(detect_all(b"%PDF-9.9\n1 0 obj\nstartxref\n1\n%%EOF"), None);
    }

    #[test]
    fn html_svg_and_xml_are_not_plain_text() {
        for markup in [
            &b"<!DOCTYPE html><html><body>hi</body></html>"[..],
            b"  <svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
            b"<?xml version=\"1.0\"?><note/>",
            b"\xef\xbb\xbf<html>",
            b"Minutes\n<script>alert(1)</script>\n",
            b"Notes <IFRAME src=x>",
        ] {
            assert_eq!(
                detect_all(markup),
                None,
                "{}",
                String::from_utf8_lossy(markup)
            );
        }
        assert_eq!(
            detect_all(b"If x < 3 and y > 2, the review meets.\n"),
            Some(FileType::Text)
        );
    }

    #[test]
    fn detects_each_accepted_type_by_content() {
        assert_eq!(detect_all(MINIMAL_PDF), Some(FileType::Pdf));
        let docx = zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", b"<w/>"),
        ]);
        assert_eq!(detect_all(&docx), Some(FileType::Docx));
        let xlsx = zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/workbook.xml", b"<x/>"),
        ]);
        assert_eq!(detect_all(&xlsx), Some(FileType::Xlsx));
        let pptx = zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("ppt/presentation.xml", b"<p/>"),
        ]);
        assert_eq!(detect_all(&pptx), Some(FileType::Pptx));
        let odt = zip(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", b"<c/>"),
        ]);
        assert_eq!(detect_all(&odt), Some(FileType::Odt));
        assert_eq!(
            detect_all("Minutes of the review meeting — 3 March\n".as_bytes()),
            Some(FileType::Text)
        );
    }

    #[test]
    fn refuses_everything_else() {
        assert_eq!(
            detect_all(b"MZ\x90\0\x03\0\0\0\x04\0"),
            None,
            "Windows executable"
        );
        assert_eq!(
            detect_all(b"\x7fELF\x02\x01\x01\0"),
            None,
            "Linux executable"
        );
        assert_eq!(detect_all(b"\x89PNG\r\n\x1a\n"), None);
        let plain_zip = zip(&[("a.exe", b"MZ")]);
        assert_eq!(
            detect_all(&plain_zip),
            None,
            "a ZIP that is not an Office document"
        );
        let ods = zip(&[(
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        )]);
        assert_eq!(detect_all(&ods), None);
        assert_eq!(detect_all(b"text with a \0 NUL"), None);
        assert_eq!(detect_all(b""), None);
    }

    #[test]
    fn a_cut_multibyte_character_at_the_end_is_still_text() {
        let mut s = "café ".repeat(10).into_bytes();
        s.extend_from_slice(&"é".as_bytes()[..1]);
        assert_eq!(detect_all(&s), Some(FileType::Text));
    }

    #[test]
    fn file_names_are_sanitised() {
        assert_eq!(sanitise_file_name("../../etc/passwd", "txt"), "passwd");
        assert_eq!(
            sanitise_file_name("C:\\Users\\x\\Report \"final\".pdf", "pdf"),
            "Report _final_.pdf"
        );
        assert_eq!(sanitise_file_name("..hidden", "pdf"), "hidden");
        assert_eq!(sanitise_file_name("日本語", "pdf"), "document.pdf");
        assert_eq!(sanitise_file_name("", "docx"), "document.docx");
        assert_eq!(sanitise_file_name(&"a".repeat(300), "pdf").len(), 100);
    }
}
