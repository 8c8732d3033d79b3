//! Subcommands: serve (default), migrate, and the operator tools.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::cli_error::CliError;
use crate::clock::SystemClock;
use crate::config::{Settings, Sources};
use crate::db;
use crate::startup::{build_state, Application};

#[derive(Debug, Parser)]
#[command(
    name = "lcspr-tracker",
    version,
    about = "LCSPR Tracker: statutory deadlines for child safeguarding practice reviews"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web service (the default).
    Serve {
        /// Listen address, HOST:PORT (overrides server.bind).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Users: `user add --email E --name N --role R [--agency A]` (sends an invitation).
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// The working-day calendar: import, add a day, add working days to a date.
    Calendar {
        #[command(subcommand)]
        action: CalendarCommand,
    },
    /// The audit trail: `audit verify` checks every link of the hash chain.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
    /// Load a demo partnership: a user for every role and cases at every stage.
    Demo,
    /// Deadline reminders: `reminders run [--at DATETIME] [--dry-run]`.
    Reminders {
        #[command(subcommand)]
        action: RemindersCommand,
    },
    /// Write a consistent archive of every table and document (while the service runs).
    Export {
        /// The archive to write (replaced if it exists; readable by its owner only).
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Load an archive into an empty database, checking every document and the audit chain.
    Import {
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// Master keys of encryption at rest: `keys generate --to FILE`, `keys rotate [--batch N]`.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Exit 0 when the service at URL answers /healthz with 200 (for container health checks).
    Healthcheck {
        #[arg(long, default_value = "http://127.0.0.1:8080/healthz")]
        url: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user and queue their invitation email (a one-time link to set up their account).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, co_chair, programme_manager, business_manager, lead_reviewer, subgroup_member, board_member
        #[arg(long)]
        role: String,
        #[arg(long)]
        agency: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum CalendarCommand {
    /// Load an official gov.uk bank-holidays.json into the database-held calendar.
    Import {
        file: std::path::PathBuf,
        /// Show which pending deadlines would move, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Add a proclaimed one-off bank holiday (or, with --closure, a local closure day).
    AddDay {
        /// england-and-wales, scotland or northern-ireland (not used with --closure).
        #[arg(long)]
        division: Option<String>,
        #[arg(long)]
        date: String,
        #[arg(long)]
        title: String,
        /// A local closure day for the partnership rather than a bank holiday.
        #[arg(long)]
        closure: bool,
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the date N working days from a date (N < 0 counts back); ISO date on line one.
    AddWorkingDays {
        #[arg(long)]
        from: String,
        #[arg(long, allow_hyphen_values = true)]
        days: String,
        #[arg(long)]
        division: Option<String>,
        /// Explain the count below the date, naming every skipped holiday.
        #[arg(long)]
        explain: bool,
    },
}

#[derive(Debug, Subcommand)]
enum RemindersCommand {
    /// One reminder sweep as if at --at (default now), then delivery of the outbox.
    Run {
        /// YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (UTC) or RFC 3339 with an offset; a bare date means
        /// 09:00 UTC.
        #[arg(long)]
        at: Option<String>,
        /// Print what would be queued and sent; write and send nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Write a new master key file (mode 0600) for `security.master_key_file`.
    Generate {
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Move everything encrypted to a new master key (stop the service first); resumes where
    /// an interrupted run stopped.
    Rotate {
        /// Stop after this many cases and files (run again to continue).
        #[arg(long)]
        batch: Option<usize>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute every link of the audit hash chain and report the first broken one.
    Verify,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::from(e.status)
        }
    }
}

fn load_settings() -> Result<Settings, CliError> {
    let settings = Settings::load(&Sources::from_process()).map_err(|e| CliError::new(2, e))?;
    crate::telemetry::init(&settings.log.filter, settings.log.format);
    Ok(settings)
}

/// Opens the database (applying pending migrations).
fn open_db(settings: &Settings) -> Result<db::Pool, CliError> {
    db::connect(&settings.database, settings.database_is_default()).map_err(|e| CliError::new(1, e))
}

fn run(cli: Cli) -> Result<(), CliError> {
    if let Some(Command::Healthcheck { url }) = &cli.command {
        return healthcheck(url);
    }
    let settings = load_settings()?;
    match cli.command.unwrap_or(Command::Serve { bind: None }) {
        Command::Serve { bind } => serve(settings, bind),
        Command::Healthcheck { .. } => unreachable!("handled above"),
        Command::User { action } => crate::cli_admin::user(settings, action_user(action)),
        Command::Calendar { action } => calendar(settings, action),
        Command::Demo => crate::cli_admin::demo(settings),
        Command::Audit {
            action: AuditCommand::Verify,
        } => crate::cli_admin::audit_verify(settings),
        Command::Reminders {
            action: RemindersCommand::Run { at, dry_run },
        } => crate::cli_reminders::run(settings, at.as_deref(), dry_run),
        Command::Export { to } => crate::cli_backup::export(settings, &to),
        Command::Keys {
            action: KeysCommand::Generate { to },
        } => crate::cli_keys::generate(&to),
        Command::Keys {
            action: KeysCommand::Rotate { batch },
        } => crate::cli_keys::rotate(settings, batch),
        Command::Import { from } => crate::cli_backup::import(settings, &from),
        Command::Migrate => {
            let pool = open_db(&settings)?;
            drop(pool);
            println!("migrations applied");
            Ok(())
        }
    }
}

fn serve(settings: Settings, bind: Option<String>) -> Result<(), CliError> {
    let bind = bind.unwrap_or_else(|| settings.server.bind.clone());
    let backend = db::DbUrl::parse(&settings.database.url)
        .map(|u| u.backend_name())
        .unwrap_or("?");
    let state = build_state(settings, Arc::new(SystemClock)).map_err(|e| CliError::new(1, e))?;
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(state, &bind).map_err(|e| CliError::new(1, e))?;
        let addr = app.running.addr;
        tracing::info!(address = %addr, backend, store = %app.state.documents.describe(), "listening on http://{addr}");
        log_base_url(&app.state);
        first_run_link(&app.state).await;
        let shutdown = std::time::Duration::from_secs(app.state.settings.server.shutdown_timeout_secs);
        let handle = app.running.handle();
        let mut server = actix_web::rt::spawn(app.running.server);
        let served = tokio::select! {
            served = &mut server => served,
            signal = stop_signal() => {
                // Stop claiming outbox messages at once; finish what is in flight, all within
                // server.shutdown_timeout_secs.
                deadline_left(shutdown);
                tracing::info!(signal, "stopping: in-flight requests and the message being sent may finish");
                if let Some(jobs) = &app.jobs {
                    jobs.signal();
                }
                handle.stop(true).await;
                server.await
            }
        };
        // Everything holding the state ends inside the runtime (the mail pool needs it).
        for m in app.monitors {
            m.abort();
            let _ = m.await;
        }
        if let Some(jobs) = app.jobs {
            if !jobs.stop_within(deadline_left(shutdown)).await {
                tracing::warn!("the message being sent did not finish in time; it stays claimed and is retried when its claim runs out");
            }
        }
        served
            .map_err(|e| CliError::new(1, format!("server stopped: {e}")))?
            .map_err(|e| CliError::new(1, format!("server stopped: {e}")))?;
        tracing::info!("stopped cleanly");
        Ok(())
    })
}

/// Time left of the shutdown budget, counted from the first call (the signal).
fn deadline_left(budget: std::time::Duration) -> std::time::Duration {
    static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let started = *STARTED.get_or_init(std::time::Instant::now);
    budget.saturating_sub(started.elapsed())
}

/// SIGTERM (containers, systemd) or Ctrl-C.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = tokio::signal::ctrl_c() => "SIGINT",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// A dependency-free HTTP GET: the runtime image has no curl.
fn healthcheck(url: &str) -> Result<(), CliError> {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| CliError::new(2, "--url must be an http:// URL"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let fail = |e: std::io::Error| CliError::new(1, format!("{url}: {e}"));
    let addr = std::net::ToSocketAddrs::to_socket_addrs(authority)
        .map_err(fail)?
        .next()
        .ok_or_else(|| CliError::new(1, format!("{authority}: no address")))?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(3)).map_err(fail)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(fail)?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").map_err(fail)?;
    let mut head = [0u8; 32];
    let n = stream.read(&mut head).map_err(fail)?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        Err(CliError::new(
            1,
            format!("{url}: {}", status_line.lines().next().unwrap_or("")),
        ))
    }
}

fn action_user(action: UserCommand) -> crate::cli_admin::UserAdd {
    let UserCommand::Add {
        email,
        name,
        role,
        agency,
    } = action;
    crate::cli_admin::UserAdd {
        email,
        name,
        role,
        agency,
    }
}

fn calendar(settings: Settings, action: CalendarCommand) -> Result<(), CliError> {
    use crate::cli_admin as admin;
    match action {
        CalendarCommand::Import { file, dry_run } => {
            admin::calendar_import(settings, &file, dry_run)
        }
        CalendarCommand::AddDay {
            division,
            date,
            title,
            closure,
            dry_run,
        } => admin::calendar_add_day(settings, division, &date, &title, closure, dry_run),
        CalendarCommand::AddWorkingDays {
            from,
            days,
            division,
            explain,
        } => admin::add_working_days(settings, &from, &days, division, explain),
    }
}

/// Says which base URL links in emails and feeds use, and where it comes from.
fn log_base_url(state: &crate::state::AppState) {
    let base_url = state.base_url();
    if state.settings.base_url_configured() {
        tracing::info!(%base_url, "links in emails and feeds use service.base_url");
    } else {
        tracing::info!(%base_url, "links in emails and feeds follow the listening address (service.base_url is not set)");
        if state
            .listening
            .get()
            .is_some_and(|a| a.ip().is_unspecified())
        {
            tracing::warn!(%base_url, "listening on every address: set service.base_url to the address people reach the service at");
        }
    }
}

/// On a database with no users, prints the one-time link that creates the first administrator.
/// It goes to the terminal, not the log: the token is a secret until it is used.
async fn first_run_link(state: &crate::state::AppState) {
    let token = state
        .db(|c, st| crate::app::setup::issue_token(c, st.now()))
        .await;
    match token {
        Ok(Some(token)) => {
            let base = state.base_url();
            println!();
            println!("  No users yet. Create the first administrator account here (the link works once):");
            println!("    {base}/setup/{token}");
            println!(
                "  Or stop the service and run `lcspr-tracker demo` to load a demo partnership."
            );
            println!();
            tracing::info!("no users yet: the first-run setup link was printed on the terminal");
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %crate::telemetry::redact(&e.to_string()), "could not issue a first-run setup link")
        }
    }
}
