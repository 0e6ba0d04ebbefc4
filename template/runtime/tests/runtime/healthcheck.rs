use service_runtime::healthcheck;

use crate::helpers::{spawn, test_config};

#[tokio::test]
async fn passes_against_a_running_server() {
    let app = spawn(test_config()).await;

    assert_eq!(healthcheck::check(app.addr).await, Ok(()));
}

#[tokio::test]
async fn fails_when_nothing_listens() {
    let app = spawn(test_config()).await;
    let addr = app.addr;
    app.stop().await.unwrap();

    let reason = healthcheck::check(addr).await.unwrap_err();

    assert!(reason.starts_with("error sending request"), "{reason}");
}
