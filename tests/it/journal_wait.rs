//! `GET /_mockidp/journal?wait=SECONDS`: a test waits for "the app called the token endpoint"
//! instead of sleeping; the wait holds no worker thread.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

async fn journal(url: String) -> (u16, Value, Duration) {
    let started = Instant::now();
    let (status, body) = status_json(http().get(url).send().await.unwrap()).await;
    (status, body, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_wait_returns_when_a_matching_request_arrives() {
    let idp = start().await;
    let token_url = format!(
        "{}/protocol/openid-connect/token",
        idp.issuer_url("iopole").unwrap()
    );
    let admin = idp.admin_url();
    // More waiters than the server has workers (2): were they blocking, nothing would answer.
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn(journal(format!(
                "{admin}/journal?wait=20&endpoint=token&client_id=clientId"
            )))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(waiters.iter().all(|w| !w.is_finished()), "they wait");
    // Another request does not match: they keep waiting.
    cc_basic(&token_url, "iopole-web", "iopole-web-secret").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        waiters.iter().all(|w| !w.is_finished()),
        "only a match ends the wait"
    );
    let made = Instant::now();
    assert_eq!(
        cc_basic(&token_url, "clientId", "clientSecret").await.0,
        200
    );
    for w in waiters {
        let (status, entries, _) = w.await.unwrap();
        assert_eq!(status, 200);
        let entries = entries.as_array().unwrap();
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0]["client_id"], "clientId");
    }
    assert!(made.elapsed() < Duration::from_secs(5));
    // Nothing matching in time: an empty answer once the time is up.
    let seq = {
        let (_, all, _) = journal(format!("{admin}/journal")).await;
        all.as_array().unwrap().last().unwrap()["seq"]
            .as_u64()
            .unwrap()
    };
    let (status, entries, took) =
        journal(format!("{admin}/journal?wait=1&endpoint=token&after={seq}")).await;
    assert_eq!((status, entries), (200, serde_json::json!([])));
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // A match already there answers at once.
    let (_, entries, took) = journal(format!("{admin}/journal?wait=30&client_id=clientId")).await;
    assert_eq!(entries.as_array().unwrap().len(), 1);
    assert!(took < Duration::from_secs(2));
    for bad in ["soon", "-1", "301"] {
        let (status, err, _) = journal(format!("{admin}/journal?wait={bad}")).await;
        assert_eq!(status, 400, "{bad}: {err}");
    }
}

#[tokio::test]
async fn a_namespace_journal_wait_sees_only_its_requests() {
    let idp = start().await;
    let ns = idp.namespace().unwrap();
    let waiter = tokio::spawn(journal(format!(
        "{}/journal?wait=2&endpoint=token",
        ns.admin_url()
    )));
    let root_token = format!(
        "{}/protocol/openid-connect/token",
        idp.issuer_url("iopole").unwrap()
    );
    assert_eq!(
        cc_basic(&root_token, "clientId", "clientSecret").await.0,
        200
    );
    let (_, entries, took) = waiter.await.unwrap();
    assert_eq!(
        entries,
        serde_json::json!([]),
        "the server's request is not the namespace's"
    );
    assert!(took >= Duration::from_millis(1900));
}
