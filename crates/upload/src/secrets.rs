//! The ticket API token: from the environment variable `ticket_api.token_env` names, or else from
//! the operating system's credential store (Secret Service on Linux, Credential Manager on
//! Windows, Keychain on macOS), where `callsupport token set` puts it.
//!
//! One entry per ticket API (service `callsupport`, account the API's `host:port`), so a computer
//! reporting to two services keeps two tokens. A token is never written to a file or a log; what
//! is logged is where it came from.

use callsupport_config::TicketApiConfig;
use callsupport_error::{Coded, ErrorCode};

/// The credential store's service name for our entries.
const SERVICE: &str = "callsupport";

/// Where a token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Environment,
    Keyring,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the system's credential store cannot be used: {0}")]
    Store(String),
    #[error("the token is empty; give the ticket API token on standard input")]
    Empty,
}

fn entry(api: &TicketApiConfig) -> Result<keyring::Entry, SecretError> {
    keyring::Entry::new(SERVICE, &api.destination_host())
        .map_err(|err| SecretError::Store(err.to_string()))
}

/// The token for `api`: the environment variable first, then the credential store. `None` when
/// neither has one (a store that cannot be reached counts as having none, with a log line).
pub fn submit_token(api: &TicketApiConfig) -> Option<(String, TokenSource)> {
    if let Some(name) = &api.token_env
        && let Ok(token) = std::env::var(name)
        && !token.trim().is_empty()
    {
        return Some((token.trim().to_owned(), TokenSource::Environment));
    }
    match stored_token(api) {
        Ok(found) => found.map(|token| (token, TokenSource::Keyring)),
        Err(err) => {
            log::debug!("no token from the credential store: {err}");
            None
        }
    }
}

/// The token stored for `api`, if any.
pub fn stored_token(api: &TicketApiConfig) -> Result<Option<String>, SecretError> {
    match entry(api)?.get_password() {
        Ok(token) if !token.trim().is_empty() => Ok(Some(token)),
        Ok(_) | Err(keyring::Error::NoEntry) => Ok(None),
        Err(err) => Err(SecretError::Store(err.to_string())),
    }
}

/// Stores `token` for `api` in the credential store, replacing one stored before.
pub fn store_token(api: &TicketApiConfig, token: &str) -> Result<(), SecretError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(SecretError::Empty);
    }
    entry(api)?
        .set_password(token)
        .map_err(|err| SecretError::Store(err.to_string()))?;
    log::info!(
        "a ticket API token was stored for {}",
        api.destination_host()
    );
    Ok(())
}

/// Removes the token stored for `api`; true if there was one.
pub fn forget_token(api: &TicketApiConfig) -> Result<bool, SecretError> {
    match entry(api)?.delete_credential() {
        Ok(()) => {
            log::info!(
                "the ticket API token for {} was removed",
                api.destination_host()
            );
            Ok(true)
        }
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(err) => Err(SecretError::Store(err.to_string())),
    }
}

impl Coded for SecretError {
    fn code(&self) -> ErrorCode {
        match self {
            SecretError::Store(_) => ErrorCode::Io,
            SecretError::Empty => ErrorCode::ReportInvalid,
        }
    }
}
