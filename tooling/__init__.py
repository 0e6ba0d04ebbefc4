"""Python helpers for the template repository: rendering, Cargo.lock templating, cargo runs."""
