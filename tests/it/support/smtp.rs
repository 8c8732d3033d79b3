//! A small SMTP server on loopback for the tests: enough of RFC 5321 for lettre (EHLO/HELO,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT). It records every message it accepts, can be stopped
//! (closing its connections) and started again on the same port, can refuse recipients, and
//! can be slowed down.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::rt::task::JoinHandle;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA, dot-unstuffed, lines joined with CRLF.
    pub data: String,
}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<Received>>,
    delay: Mutex<Duration>,
    refuse_recipients: Mutex<bool>,
    connections: Mutex<Vec<JoinHandle<()>>>,
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Mutex<Option<JoinHandle<()>>>,
}

impl SmtpSink {
    /// Listens on a free loopback port.
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind SMTP sink");
        let addr = listener.local_addr().unwrap();
        let sink = SmtpSink {
            addr,
            shared: Arc::new(Shared::default()),
            acceptor: Mutex::new(None),
        };
        sink.serve(listener);
        sink
    }

    /// `smtp://127.0.0.1:<port>` for `mail.smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    fn serve(&self, listener: TcpListener) {
        let shared = self.shared.clone();
        let task = actix_web::rt::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let conn = actix_web::rt::spawn(session(stream, shared.clone()));
                shared.connections.lock().unwrap().push(conn);
            }
        });
        *self.acceptor.lock().unwrap() = Some(task);
    }

    /// Stops listening and drops every open connection, as a server going down does.
    pub async fn stop(&self) {
        let acceptor = self.acceptor.lock().unwrap().take();
        if let Some(t) = acceptor {
            t.abort();
            let _ = t.await;
        }
        let conns: Vec<_> = self.shared.connections.lock().unwrap().drain(..).collect();
        for c in conns {
            c.abort();
            let _ = c.await;
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("rebind the SMTP sink on its port");
        self.serve(listener);
    }

    pub fn messages(&self) -> Vec<Received> {
        self.shared.messages.lock().unwrap().clone()
    }

    /// Each DATA takes this long to be accepted.
    pub fn set_delay(&self, d: Duration) {
        *self.shared.delay.lock().unwrap() = d;
    }

    /// Answer every RCPT with a permanent 550.
    pub fn refuse_recipients(&self, refuse: bool) {
        *self.shared.refuse_recipients.lock().unwrap() = refuse;
    }
}

async fn session(stream: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut from = String::new();
    let mut to: Vec<String> = vec![];
    macro_rules! reply {
        ($s:expr) => {
            if write.write_all($s.as_bytes()).await.is_err() {
                return;
            }
        };
    }
    reply!("220 sink.test ESMTP test sink\r\n");
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            reply!("250-sink.test\r\n250 8BITMIME\r\n");
        } else if upper.starts_with("HELO") {
            reply!("250 sink.test\r\n");
        } else if upper.starts_with("MAIL FROM:") {
            from = cmd[10..].trim().to_string();
            to.clear();
            reply!("250 2.1.0 OK\r\n");
        } else if upper.starts_with("RCPT TO:") {
            if *shared.refuse_recipients.lock().unwrap() {
                reply!("550 5.1.1 mailbox unavailable\r\n");
            } else {
                to.push(cmd[8..].trim().trim_matches(['<', '>']).to_string());
                reply!("250 2.1.5 OK\r\n");
            }
        } else if upper == "DATA" {
            if to.is_empty() {
                reply!("503 5.5.1 no recipients\r\n");
                continue;
            }
            reply!("354 end data with <CR><LF>.<CR><LF>\r\n");
            let mut data: Vec<String> = vec![];
            loop {
                line.clear();
                match lines.read_line(&mut line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let l = line.trim_end_matches(['\r', '\n']);
                if l == "." {
                    break;
                }
                // The client doubled any leading dot.
                data.push(l.strip_prefix('.').unwrap_or(l).to_string());
            }
            let delay = *shared.delay.lock().unwrap();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            shared.messages.lock().unwrap().push(Received {
                from: from.clone(),
                to: std::mem::take(&mut to),
                data: data.join("\r\n"),
            });
            reply!("250 2.0.0 queued\r\n");
        } else if upper == "RSET" {
            to.clear();
            reply!("250 2.0.0 OK\r\n");
        } else if upper.starts_with("NOOP") {
            reply!("250 2.0.0 OK\r\n");
        } else if upper == "QUIT" {
            reply!("221 2.0.0 bye\r\n");
            return;
        } else {
            reply!("502 5.5.2 not implemented\r\n");
        }
    }
}

impl Received {
    /// A header's value, continuation lines unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    pub fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }

    /// The whole message with every quoted-printable or base64 body part decoded, so tests can
    /// search what a reader would see.
    pub fn decoded(&self) -> String {
        let mut out = String::new();
        let mut encoding = String::from("7bit");
        let mut in_body = false;
        let mut body: Vec<&str> = vec![];
        let flush = |body: &mut Vec<&str>, encoding: &str, out: &mut String| {
            let joined = body.join("\r\n");
            let text = match encoding {
                "quoted-printable" => decode_qp(&joined),
                "base64" => decode_base64(&joined.replace("\r\n", "")),
                _ => joined,
            };
            out.push_str(&text);
            out.push('\n');
            body.clear();
        };
        for line in self.data.split("\r\n") {
            if line.starts_with("--") {
                flush(&mut body, &encoding, &mut out);
                out.push_str(line);
                out.push('\n');
                in_body = false;
                encoding = "7bit".into();
                continue;
            }
            if in_body {
                body.push(line);
                continue;
            }
            if line.is_empty() {
                in_body = true;
            } else if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("Content-Transfer-Encoding") {
                    encoding = v.trim().to_ascii_lowercase();
                }
            }
            out.push_str(line);
            out.push('\n');
        }
        flush(&mut body, &encoding, &mut out);
        out
    }
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_base64(s: &str) -> String {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = vec![];
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let Some(v) = value(c) else { continue };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl super::TestApp {
    /// The app on `today` (`YYYY-MM-DD`), sending its mail over SMTP to `sink`.
    pub async fn with_smtp(today: &str, sink: &SmtpSink) -> super::TestApp {
        let url = sink.url();
        super::TestApp::spawn_with(today.parse().expect("a date"), move |s| {
            s.mail.transport = lcspr_tracker::config::MailTransportKind::Smtp;
            s.mail.smtp_url = url.into();
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoders() {
        assert_eq!(decode_qp("caf=C3=A9 =3D ok=\r\nmore"), "café = okmore");
        assert_eq!(decode_base64("Q2hpbGQgUQ=="), "Child Q");
    }
}
