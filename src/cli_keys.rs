//! `keys generate --to FILE` and `keys rotate [--batch N]` (see [`crate::app::rotation`]).

use std::path::Path;

use crate::app::rotation;
use crate::cli_error::CliError;
use crate::config::Settings;
use crate::crypto;
use crate::db;

/// Writes a new master key file (mode 0600); refuses to replace an existing file.
pub fn generate(to: &Path) -> Result<(), CliError> {
    let (bytes, key) = crypto::MasterKey::generate();
    crypto::write_key_file(to, &bytes).map_err(|e| CliError::new(1, e))?;
    println!(
        "wrote master key {} to {} (readable by its owner only); keep a copy apart from the database backups",
        key.id(),
        to.display()
    );
    Ok(())
}

pub fn rotate(settings: Settings, batch: Option<usize>) -> Result<(), CliError> {
    if batch == Some(0) {
        return Err(CliError::new(2, "--batch must be at least 1"));
    }
    let key_file = crypto::key_path(&settings).ok_or_else(|| {
        CliError::new(
            2,
            "key `security.master_key_file` is required on PostgreSQL: it names the key to rotate",
        )
    })?;
    if !key_file.exists() {
        return Err(CliError::new(
            2,
            format!(
                "key `security.master_key_file`: {} does not exist",
                key_file.display()
            ),
        ));
    }
    let pool = db::connect(&settings.database, settings.database_is_default())
        .map_err(|e| CliError::new(1, e))?;
    let mut conn = pool.get().map_err(|e| CliError::new(1, e))?;
    let raw = crate::store::from_settings(&settings.documents).map_err(|e| CliError::new(2, e))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(1, e))?;
    let now = chrono::Utc::now().naive_utc();
    let done = runtime
        .block_on(rotation::rotate(
            &mut conn,
            raw.as_ref(),
            &key_file,
            now,
            batch,
        ))
        .map_err(|e| {
            CliError::new(
                1,
                format!("keys rotate stopped: {e}; run it again to continue"),
            )
        })?;
    let resumed = if done.resumed { " (resumed)" } else { "" };
    println!(
        "master key {} → {}{resumed}: {} cases and {} files moved to the new key in this run ({} files were not encrypted before)",
        done.previous_key_id, done.key_id, done.rows, done.files, done.plain_files
    );
    match done.retired {
        Some(retired) if done.finished => println!(
            "done: {} now holds the new key; the old one is kept as {}: keep it with the backups made before this rotation (they need it), or destroy it",
            key_file.display(),
            retired.display()
        ),
        _ => println!(
            "stopped after the batch: run `lcspr-tracker keys rotate` again to continue (until then the new key stays in {})",
            crypto::next_key_path(&key_file).display()
        ),
    }
    Ok(())
}
