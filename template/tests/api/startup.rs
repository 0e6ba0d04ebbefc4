//! The service starts through the runtime and answers its probes.

use reqwest::StatusCode;

use crate::helpers::{TestApp, test_config};

#[tokio::test]
async fn the_service_starts_answers_its_probes_and_stops() {
    let app = TestApp::spawn(test_config()).await;

    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    assert_eq!(app.stop().await.unwrap().cut, 0);
}
