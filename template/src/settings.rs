//! The service's own settings: `APP_*` variables read at start-up together
//! with the template's (`config.rs`), under the same rules. This file is
//! yours: the template creates it once and never changes it afterwards, so a
//! template update cannot collide with what you add here. README, "Your code".
//!
//! List a variable in [`VARIABLES`] (`config.rs` refuses any other `APP_*`
//! name), give it a field in [`Settings`] and read it in
//! [`Settings::from_lookup`] with `config::setting`; handlers find it in
//! `state.config.settings`.

use crate::config::ConfigError;

/// The `APP_*` variables read here, besides the template's.
pub const VARIABLES: &[&str] = &[];

/// The values of [`VARIABLES`], in [`Config::settings`](crate::Config::settings).
#[derive(Debug, Clone, Default)]
pub struct Settings {}

impl Settings {
    /// Reads the settings; `get` gives a variable's value (`None` when unset
    /// or empty).
    ///
    /// # Errors
    ///
    /// The first variable whose value breaks its rule.
    pub fn from_lookup(_get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {})
    }
}
