//! LCSPR Tracker: serious child safeguarding incidents and Local Child Safeguarding Practice
//! Reviews, driven against their statutory deadlines. See docs/ARCHITECTURE.md.

pub mod app;
pub mod backup;
pub mod calendars;
pub mod cli;
mod cli_admin;
mod cli_backup;
mod cli_error;
mod cli_keys;
mod cli_reminders;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod keys;
pub mod mail;
pub mod metrics;
pub mod rev_cache;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod utc;
pub mod web;
