//! The retry-item store and the quota's take-back over the wire against moto, with the table
//! created from template.yaml: due items come from the sparse index in due order, pages do not
//! skip items handled meanwhile, permanent items are never due, and TTL is set.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use common::stack;
use recorder_domain::paging::PageRequest;
use recorder_domain::ports::Deps;
use recorder_domain::sync_log::RetryItem;

mod common;

fn retry(connector: &str, id: &str, due: DateTime<Utc>, permanent: bool) -> RetryItem {
    RetryItem {
        connector_id: connector.into(),
        external_id: id.into(),
        name: Some(format!("{id}.pdf")),
        attempts: 1,
        next_attempt_at: due,
        last_reason: "HTTP 503 backendError".into(),
        fingerprint: Some("v1".into()),
        permanent,
        updated_at: due,
    }
}

async fn due_ids(deps: &Deps, connector: &str, now: DateTime<Utc>, limit: u32) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let page = deps
            .retries
            .list_due(connector, now, &PageRequest::new(Some(limit), cursor))
            .await
            .unwrap();
        for r in page.items {
            // Handled while the listing goes on: imported (deleted) or rescheduled.
            if r.external_id.ends_with('0') {
                deps.retries
                    .delete(connector, &r.external_id)
                    .await
                    .unwrap();
            } else {
                let later = RetryItem {
                    attempts: r.attempts + 1,
                    next_attempt_at: now + Duration::minutes(10),
                    ..r.clone()
                };
                deps.retries.put(&later).await.unwrap();
            }
            ids.push(r.external_id);
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn due_retry_items_are_listed_in_due_order_without_permanent_or_later_ones() {
    let s = stack().await;
    let now = Utc::now().trunc_subsecs(6);
    for i in 0..25 {
        // Due in reverse id order, so due order is not key order.
        let due = now - Duration::seconds(i + 1);
        s.deps
            .retries
            .put(&retry("c1", &format!("f{i:02}"), due, false))
            .await
            .unwrap();
    }
    let mut expected: Vec<String> = (0..25).rev().map(|i| format!("f{i:02}")).collect();
    // Exactly now is due; a microsecond later is not.
    s.deps
        .retries
        .put(&retry("c1", "z-now", now, false))
        .await
        .unwrap();
    expected.push("z-now".into());
    s.deps
        .retries
        .put(&retry(
            "c1",
            "z-later",
            now + Duration::microseconds(1),
            false,
        ))
        .await
        .unwrap();
    s.deps
        .retries
        .put(&retry("c1", "z-perm", now - Duration::hours(1), true))
        .await
        .unwrap();
    s.deps
        .retries
        .put(&retry("c2", "other", now - Duration::hours(1), false))
        .await
        .unwrap();

    assert_eq!(
        due_ids(&s.deps, "c1", now, 7).await,
        expected,
        "every due item once, in due order"
    );
    assert!(
        due_ids(&s.deps, "c1", now, 7).await.is_empty(),
        "handled items are no longer due"
    );
    let rescheduled = s.deps.retries.get("c1", "f01").await.unwrap().unwrap();
    assert_eq!(rescheduled.attempts, 2);
    assert!(s.deps.retries.get("c1", "f10").await.unwrap().is_none());
    let all = s
        .deps
        .retries
        .list("c1", &PageRequest::new(Some(200), None))
        .await
        .unwrap();
    assert_eq!(
        all.items.len(),
        26 - 3 + 2,
        "f00, f10, f20 deleted; later and permanent kept"
    );
    assert!(all.items.iter().all(|r| r.connector_id == "c1"));

    // A cursor from another connector's listing is refused.
    let page = s
        .deps
        .retries
        .list_due(
            "c1",
            now + Duration::hours(1),
            &PageRequest::new(Some(1), None),
        )
        .await
        .unwrap();
    let cursor = page.next_cursor.expect("more than one due");
    assert!(
        s.deps
            .retries
            .list_due(
                "c2",
                now + Duration::hours(1),
                &PageRequest::new(Some(1), Some(cursor))
            )
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_retry_item_round_trips_and_becomes_permanent_without_being_due() {
    let s = stack().await;
    let now = Utc::now().trunc_subsecs(6);
    let item = retry("c1", "big", now - Duration::minutes(1), false);
    s.deps.retries.put(&item).await.unwrap();
    assert_eq!(
        s.deps.retries.get("c1", "big").await.unwrap(),
        Some(item.clone())
    );

    let permanent = RetryItem {
        permanent: true,
        last_reason: "exceeds Google's 10 MB export limit".into(),
        ..item
    };
    s.deps.retries.put(&permanent).await.unwrap();
    assert_eq!(
        s.deps.retries.get("c1", "big").await.unwrap(),
        Some(permanent)
    );
    let due = s
        .deps
        .retries
        .list_due(
            "c1",
            now + Duration::days(1),
            &PageRequest::new(Some(50), None),
        )
        .await
        .unwrap();
    assert!(due.items.is_empty(), "a permanent failure is never due");

    let raw = aws_sdk_dynamodb::Client::new(&s.sdk)
        .get_item()
        .table_name(&s.config.table_name)
        .key("pk", AttributeValue::S("RETRIES#c1".into()))
        .key("sk", AttributeValue::S("RETRY#big".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(raw["entity"].as_s().unwrap(), "retry_item");
    assert!(!raw.contains_key("gsi1pk"), "off the due index");
    let ttl: i64 = raw["expires_at"].as_n().unwrap().parse().unwrap();
    assert!(ttl > (now + Duration::days(150)).timestamp());

    s.deps.retries.delete("c1", "big").await.unwrap();
    s.deps.retries.delete("c1", "big").await.unwrap();
    assert!(s.deps.retries.get("c1", "big").await.unwrap().is_none());
}

#[tokio::test]
async fn imports_taken_back_free_quota_and_never_go_below_zero() {
    let s = stack().await;
    let usage = &s.deps.usage;
    assert_eq!(
        usage.reserve_imports("o", "2026-11", 3, 3).await.unwrap(),
        Ok(3)
    );
    assert_eq!(
        usage.reserve_imports("o", "2026-11", 1, 3).await.unwrap(),
        Err(3)
    );
    usage.release_imports("o", "2026-11", 1).await.unwrap();
    assert_eq!(
        usage.reserve_imports("o", "2026-11", 1, 3).await.unwrap(),
        Ok(3)
    );
    usage.release_imports("o", "2026-11", 5).await.unwrap();
    usage.release_imports("o", "2026-10", 1).await.unwrap();
    assert_eq!(
        usage.reserve_imports("o", "2026-11", 1, 3).await.unwrap(),
        Err(3),
        "taking back more than was counted takes back nothing"
    );
    assert_eq!(
        usage.reserve_imports("o", "2026-10", 3, 3).await.unwrap(),
        Ok(3),
        "a month with nothing counted stays at zero"
    );
}
