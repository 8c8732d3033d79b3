//! The operator commands behind `lcspr-tracker user|calendar|audit …`. Each opens the database
//! (applying pending migrations) and runs the same use cases as the web service.

use std::sync::Arc;

use crate::app::calendar::{self as cal, Change, NewDay};
use crate::app::{audit, users};
use crate::cli_error::CliError;
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::domain::calendar::{DayKind, Division};
use crate::domain::input::parse_date;
use crate::error::AppError;
use crate::startup::build_state;
use crate::state::AppState;

pub struct UserAdd {
    pub email: String,
    pub name: String,
    pub role: String,
    pub agency: Option<String>,
}

fn state(settings: Settings) -> Result<AppState, CliError> {
    build_state(settings, Arc::new(SystemClock)).map_err(|e| CliError::new(1, e))
}

fn conn(st: &AppState) -> Result<crate::db::PooledConn, CliError> {
    st.pool
        .get()
        .map_err(|e| CliError::new(1, format!("database: {e}")))
}

/// A use-case error as a command failure: refusals are the user's to fix (status 2).
fn failed(e: AppError) -> CliError {
    match e {
        AppError::Invalid(fields) => CliError::new(
            2,
            fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        AppError::BadRequest(f) => CliError::new(2, format!("{}: {}", f.field, f.message)),
        other => CliError::new(1, other),
    }
}

/// Adds a user by invitation: the invitation email (a one-time link to choose their own
/// password or sign in with single sign-on) goes through the outbox, delivered by the running
/// service (or `reminders run`). No password is typed or printed here.
pub fn user(settings: Settings, cmd: UserAdd) -> Result<(), CliError> {
    let role = cmd
        .role
        .parse()
        .map_err(|m| CliError::new(2, format!("--role: {m}")))?;
    users::validate_details(&cmd.email, &cmd.name).map_err(failed)?;
    let st = state(settings)?;
    let mut c = conn(&st)?;
    let invited = crate::app::accounts::invite(
        &mut c,
        &st,
        None,
        crate::app::accounts::Invite {
            email: cmd.email,
            name: cmd.name,
            role,
            agency: cmd.agency,
        },
    )
    .map_err(failed)?;
    println!(
        "added user {} ({}) with id {}; the invitation email is queued (its link works until {})",
        invited.user.name, invited.user.role, invited.user.id, invited.invitation_expires_at
    );
    Ok(())
}

fn print_moved(moved: &[crate::app::recalc::Moved], dry_run: bool) {
    let verb = if dry_run { "would move" } else { "moved" };
    if moved.is_empty() {
        println!("no pending deadline {verb}");
    }
    for m in moved {
        println!(
            "{} {}: {} {verb} from {} to {}",
            m.reference, m.rule, m.label, m.from, m.to
        );
    }
}

/// Which pending deadlines the change moves: made, or with `dry_run` only previewed.
fn preview_or_apply(
    settings: Settings,
    change: &Change,
    dry_run: bool,
) -> Result<Vec<crate::app::recalc::Moved>, CliError> {
    let st = state(settings)?;
    let mut c = conn(&st)?;
    if dry_run {
        cal::preview(&mut c, &st, change)
    } else {
        cal::apply(&mut c, &st, None, change)
    }
    .map_err(failed)
}

pub fn calendar_import(
    settings: Settings,
    file: &std::path::Path,
    dry_run: bool,
) -> Result<(), CliError> {
    let json = std::fs::read_to_string(file)
        .map_err(|e| CliError::new(2, format!("{}: {e}", file.display())))?;
    let change = Change::import(&json).map_err(|e| match e {
        AppError::Invalid(f) => CliError::new(2, format!("{}: {}", file.display(), f[0].message)),
        other => failed(other),
    })?;
    let moved = preview_or_apply(settings, &change, dry_run)?;
    if let Change::Import { feed, .. } = &change {
        for d in feed.divisions() {
            let years = feed
                .covered_years(d)
                .map(|r| format!("{}–{}", r.start(), r.end()))
                .unwrap_or_default();
            let n = feed.events(d).map_or(0, <[_]>::len);
            println!(
                "{}: {n} bank holidays ({years}){}",
                d,
                if dry_run {
                    " (not imported: dry run)"
                } else {
                    " imported"
                }
            );
        }
    }
    print_moved(&moved, dry_run);
    Ok(())
}

pub fn calendar_add_day(
    settings: Settings,
    division: Option<String>,
    date: &str,
    title: &str,
    closure: bool,
    dry_run: bool,
) -> Result<(), CliError> {
    let date = parse_date(date).map_err(|m| CliError::new(2, format!("--date: {m}")))?;
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(CliError::new(
            2,
            "--title: give the holiday's name (up to 200 characters)",
        ));
    }
    let division = match (division, closure) {
        (Some(_), true) => {
            return Err(CliError::new(
                2,
                "--division: a closure day applies to the partnership, not a division",
            ))
        }
        (Some(d), false) => Some(
            d.parse::<Division>()
                .map_err(|e| CliError::new(2, format!("--division: {e}")))?,
        ),
        (None, true) => None,
        (None, false) => Some(
            settings
                .partnership
                .division
                .parse::<Division>()
                .map_err(|e| CliError::new(2, e))?,
        ),
    };
    let change = Change::AddDay(NewDay {
        division,
        date,
        title: title.to_string(),
        kind: if closure {
            DayKind::Closure
        } else {
            DayKind::Proclaimed
        },
    });
    let moved = preview_or_apply(settings, &change, dry_run)?;
    if !dry_run {
        println!("added {date} ({title})");
    }
    print_moved(&moved, dry_run);
    Ok(())
}

pub fn add_working_days(
    settings: Settings,
    from: &str,
    days: &str,
    division: Option<String>,
    explain: bool,
) -> Result<(), CliError> {
    let from = parse_date(from).map_err(|m| CliError::new(2, format!("--from: {m}")))?;
    let days: i32 = days
        .trim()
        .parse()
        .map_err(|_| CliError::new(2, format!("--days: {days:?} is not a whole number")))?;
    let division = match division {
        Some(d) => d
            .parse::<Division>()
            .map_err(|e| CliError::new(2, format!("--division: {e}")))?,
        None => settings
            .partnership
            .division
            .parse::<Division>()
            .map_err(|e| CliError::new(2, e))?,
    };
    let st = state(settings)?;
    let mut c = conn(&st)?;
    let calendar = st.calendars.current(&mut c).map_err(failed)?;
    let r = calendar
        .add_working_days(division, from, days)
        .map_err(|e| CliError::new(2, e))?;
    println!("{}", r.date);
    if explain {
        println!("{}", r.describe());
        for d in r.skipped.iter() {
            println!("  skipped {} {}", d.date.format("%a %-d %b %Y"), d.title);
        }
    }
    Ok(())
}

pub fn audit_verify(settings: Settings) -> Result<(), CliError> {
    let st = state(settings)?;
    let mut c = conn(&st)?;
    match audit::verify(&mut c).map_err(|e| CliError::new(1, e))? {
        audit::Verification::Intact { entries } => {
            println!("audit trail intact: {entries} entries verified");
            Ok(())
        }
        audit::Verification::Broken { seq, reason } => Err(CliError::new(
            1,
            format!("audit trail broken at entry {seq}: {reason}"),
        )),
    }
}

pub fn demo(settings: Settings) -> Result<(), CliError> {
    let st = state(settings)?;
    let mut c = conn(&st)?;
    if crate::demo::load(&st, &mut c).map_err(failed)? {
        println!(
            "Demo partnership loaded. Sign in with any of these (password {}):",
            crate::demo::DEMO_PASSWORD
        );
    } else {
        println!(
            "The demo partnership is already loaded. Its sign-ins (password {}):",
            crate::demo::DEMO_PASSWORD
        );
    }
    let mfa_roles = st.settings.auth.mfa_required_roles.clone();
    for (email, name, role, _) in crate::demo::DEMO_USERS {
        let star = if mfa_roles.contains(&role) { " *" } else { "" };
        println!("  {email:<28} {name} ({}){star}", role.label());
    }
    if !mfa_roles.is_empty() {
        println!(
            "* two-step verification: the code from an authenticator app given the key {} \
             (or `oathtool --totp -b {}`)",
            crate::demo::DEMO_TOTP_SECRET,
            crate::demo::DEMO_TOTP_SECRET
        );
    }
    Ok(())
}
