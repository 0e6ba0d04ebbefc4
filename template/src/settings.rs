//! The service's own settings: `APP_*` variables read at start-up together
//! with the runtime's, under the same rules. This file is yours: the template
//! creates it once and never changes it afterwards, so a template update
//! cannot collide with what you add here. README, "Your code".
//!
//! List a variable in [`VARIABLES`] (the runtime refuses any other `APP_*`
//! name), give it a field in [`Settings`] and read it in `from_lookup` with
//! [`service_runtime::config::setting`]; handlers find it in
//! `state.config.settings`.

use service_runtime::config::ConfigError;

/// The `APP_*` variables read here, besides the runtime's.
pub const VARIABLES: &[&str] = &[];

/// The values of [`VARIABLES`].
#[derive(Debug, Clone, Default)]
pub struct Settings {}

impl service_runtime::Settings for Settings {
    const VARIABLES: &'static [&'static str] = VARIABLES;

    /// Reads the settings; `get` gives a variable's value (`None` when unset
    /// or empty).
    fn from_lookup(_get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {})
    }
}
