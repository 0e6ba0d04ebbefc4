//! Tests of the service's own routes (`src/api.rs`). This file is yours, like
//! `src/api.rs`: the template creates it once and never changes it afterwards.
//! `TestApp::spawn(test_config())` (in `helpers.rs`) starts the service on a
//! free loopback port; `app.get("/orders")` calls it. README, "Your code".
