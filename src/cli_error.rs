//! The failure of a command, shared by `cli.rs` and the command modules beside it.

/// A start-up or command failure: the message for the operator and the exit status.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub status: u8,
}

impl CliError {
    pub fn new(status: u8, message: impl std::fmt::Display) -> Self {
        CliError {
            message: message.to_string(),
            status,
        }
    }
}
