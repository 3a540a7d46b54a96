//! Lists: page sizes, opaque keyset tokens that walk every record once and refuse tampering
//! with a 400, and the number filters, each checked against the unfiltered list.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::{Value, json};

use crate::harness::*;
use crate::http::form_encode;

fn ids(v: &[Value]) -> BTreeSet<String> {
    v.iter()
        .map(|n| n["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Adds `count` numbers `+1415555{start..}` to the provider's pool in one batch.
async fn add_batch(w: &World, start: u32, count: u32) -> Vec<Value> {
    let numbers: Vec<Value> = (start..start + count)
        .map(|i| json!({"phone_number": e164(i).as_str()}))
        .collect();
    let r = w
        .app
        .post("/v2/phone/numbers")
        .bearer(&w.provider_client.token)
        .json(&json!({ "numbers": numbers }))
        .send()
        .await
        .expect(201);
    let v = r.json();
    assert_eq!(v["total_records"], count, "{v}");
    v["phone_numbers"].as_array().must("phone_numbers").clone()
}

async fn pages_walk_every_number_once(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    add_batch(&w, 1000, 64).await;
    let all = app.list_all(t, "/v2/phone/numbers", "").await;
    assert_eq!(
        all.len(),
        64 + 8,
        "the provider sees 8 fixture numbers and 64 new"
    );

    // Default 30; 300 allowed; 0 and 301 are 400 naming page_size.
    let first = app.get_as(t, "/v2/phone/numbers").await.expect(200).json();
    assert_eq!(first["page_size"], 30);
    assert_eq!(first["phone_numbers"].as_array().map(Vec::len), Some(30));
    assert_eq!(first["total_records"], 72);
    assert!(
        first["next_page_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let max = app
        .get_as(t, "/v2/phone/numbers?page_size=300")
        .await
        .expect(200)
        .json();
    assert_eq!(max["phone_numbers"].as_array().map(Vec::len), Some(72));
    assert_eq!(max["next_page_token"], "", "one page holds everything");
    for bad in ["0", "301", "-1", "abc", "99999999999"] {
        for base in [
            "/v2/phone/numbers",
            "/v2/phone/numbers/unassigned",
            "/v2/accounts",
            "/v2/audit",
        ] {
            let r = app
                .get_as(t, &format!("{base}?page_size={bad}"))
                .await
                .expect_error(400, "invalid_input");
            assert!(
                r.message().contains("page_size"),
                "{}: {}",
                r.what,
                r.text()
            );
        }
    }

    // Walk with page size 7: in creation order, each once, totals right, last token empty.
    let mut walked: Vec<String> = Vec::new();
    let mut next = String::new();
    let mut pages = 0;
    loop {
        let mut url = "/v2/phone/numbers?page_size=7".to_string();
        if !next.is_empty() {
            url.push_str(&format!("&next_page_token={}", form_encode(&next)));
        }
        let page = app.get(&url).bearer(t).send().await.expect(200).json();
        pages += 1;
        assert_eq!(page["total_records"], 72, "{url}");
        assert_eq!(page["page_size"], 7, "{url}");
        let items = page["phone_numbers"].as_array().must("items");
        assert!(items.len() <= 7);
        walked.extend(
            items
                .iter()
                .map(|n| n["id"].as_str().unwrap_or_default().to_string()),
        );
        next = page["next_page_token"].as_str().must("token").to_string();
        if next.is_empty() {
            break;
        }
        assert_eq!(items.len(), 7, "{url}: only the last page is short");
        assert!(pages < 20, "too many pages");
    }
    assert_eq!(pages, 11, "72 numbers in pages of 7");
    let unique: BTreeSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), walked.len(), "no number twice");
    assert_eq!(unique.len(), 72, "every number once");
    let mut sorted = walked.clone();
    sorted.sort();
    assert_eq!(walked, sorted, "creation (id) order");
    assert_eq!(ids(&all), walked.iter().cloned().collect::<BTreeSet<_>>());
}

async fn tampered_page_tokens_are_400(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    add_batch(&w, 1000, 10).await;
    for base in ["/v2/phone/numbers", "/v2/accounts", "/v2/audit"] {
        let page = app
            .get_as(t, &format!("{base}?page_size=2"))
            .await
            .expect(200)
            .json();
        let good = page["next_page_token"].as_str().must("token").to_string();
        assert!(!good.is_empty(), "{base}: a second page");
        let mut flipped_first = good.clone().into_bytes();
        flipped_first[0] = if flipped_first[0] == b'A' { b'B' } else { b'A' };
        let flipped_first = String::from_utf8(flipped_first).must("ascii");
        let mut flipped_last = good.clone().into_bytes();
        let l = flipped_last.len() - 1;
        flipped_last[l] = if flipped_last[l] == b'_' { b'-' } else { b'_' };
        let flipped_last = String::from_utf8(flipped_last).must("ascii");
        let bad = [
            URL_SAFE_NO_PAD.encode(rand_bytes(24)),
            STANDARD.encode(rand_bytes(30)),
            good[..good.len() / 2].to_string(),
            good[..good.len() - 1].to_string(),
            flipped_first,
            flipped_last,
            format!("{good}AAAA"),
            "not base64 at all!".to_string(),
            "%%%%".to_string(),
            "\u{e9}t\u{e9}".to_string(),
            URL_SAFE_NO_PAD.encode("np1.not-a-uuid"),
            URL_SAFE_NO_PAD.encode("np1."),
            URL_SAFE_NO_PAD.encode("np2.0195f3c2-0000-7000-8000-000000000001"),
            URL_SAFE_NO_PAD.encode([0xff, 0xfe, 0xfd]),
            "A".repeat(5000),
            URL_SAFE_NO_PAD.encode(format!("np1.{}", "9".repeat(3000))),
        ];
        for token in bad {
            let url = format!("{base}?next_page_token={}", form_encode(&token));
            let r = app.get(&url).bearer(t).send().await;
            assert_eq!(
                (r.status, r.code().as_str()),
                (400, "invalid_page_token"),
                "{base} with token {:?}: {}",
                token.chars().take(60).collect::<String>(),
                r.text()
            );
        }
        // An empty token is the first page.
        app.get_as(t, &format!("{base}?next_page_token="))
            .await
            .expect(200);
    }
}

fn rand_bytes(n: usize) -> Vec<u8> {
    let u = uuid::Uuid::new_v4();
    u.as_bytes().iter().cycle().take(n).copied().collect()
}

/// Every filter narrows to exactly the numbers whose view matches it, for the provider (pool
/// positions) and for the customer (assigned/unassigned).
async fn filters_narrow_correctly(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    // Variety: a toll-free number, a London number, a mobile, pending, contact center.
    for body in [
        json!({"phone_number": "+18005550100", "status": "pending"}),
        json!({"phone_number": "020 7183 8750", "country": "GB", "product": "phone"}),
        json!({"phone_number": "+447400123456", "product": "contact_center",
               "customization": {"capacity": "multiple", "voice_direction": "both",
                 "messaging": "none", "outbound_dialer": false, "outbound_cli_shared": false}}),
        json!({"phone_number": e164(2000).as_str(), "status": "active", "type": "toll_free"}),
    ] {
        app.post("/v2/phone/numbers")
            .bearer(t)
            .json(&body)
            .send()
            .await
            .expect(201);
    }
    for (viewer, token) in [
        ("provider", t.clone()),
        ("customer", w.customer_client.token.clone()),
    ] {
        let all = app.list_all(&token, "/v2/phone/numbers", "").await;
        assert!(all.len() >= 3, "{viewer} sees numbers");
        let s = |n: &Value, k: &str| n[k].as_str().unwrap_or_default().to_string();
        type Pred = Box<dyn Fn(&Value) -> bool>;
        let mut cases: Vec<(String, Pred)> = Vec::new();
        for p in ["free", "returned", "in_use", "assigned", "unassigned"] {
            cases.push((
                format!("position={p}"),
                Box::new(move |n: &Value| n["position"] == p),
            ));
        }
        for st in ["active", "pending"] {
            cases.push((
                format!("status={st}"),
                Box::new(move |n: &Value| n["status"] == st),
            ));
        }
        // `normal` is accepted on input as the portal's word for active.
        cases.push((
            "status=normal".into(),
            Box::new(|n: &Value| n["status"] == "active"),
        ));
        for p in ["phone", "contact_center", "unallocated"] {
            cases.push((
                format!("product={p}"),
                Box::new(move |n: &Value| n["product"] == p),
            ));
        }
        for ty in ["local", "mobile", "toll_free", "national"] {
            cases.push((
                format!("type={ty}"),
                Box::new(move |n: &Value| n["type"] == ty),
            ));
        }
        for c in ["US", "GB", "gb", "FR"] {
            let up = c.to_uppercase();
            cases.push((
                format!("country={c}"),
                Box::new(move |n: &Value| n["country"] == up.as_str()),
            ));
        }
        for c in [&w.customer, &w.root_customer, &w.res_customer] {
            let id = c.id.to_string();
            cases.push((
                format!("customer_id={id}"),
                Box::new(move |n: &Value| n["customer_id"] == id.as_str()),
            ));
        }
        for a in [true, false] {
            cases.push((
                format!("assigned={a}"),
                Box::new(move |n: &Value| {
                    n["assignees"].as_array().is_some_and(|x| !x.is_empty()) == a
                }),
            ));
        }
        for (q, prefix) in [
            ("prefix=%2B1415", "+1415"),
            ("prefix=1415", "+1415"),
            ("prefix=%2B44", "+44"),
            ("prefix=1800", "+1800"),
        ] {
            cases.push((
                q.to_string(),
                Box::new(move |n: &Value| s(n, "phone_number").starts_with(prefix)),
            ));
        }
        for digits in ["5550102", "7183", "0100", "99999"] {
            cases.push((
                format!("contains={digits}"),
                Box::new(move |n: &Value| s(n, "phone_number").contains(digits)),
            ));
        }
        cases.push((
            "position=free&country=US".into(),
            Box::new(|n: &Value| n["position"] == "free" && n["country"] == "US"),
        ));
        let mut narrowed = 0;
        for (q, pred) in &cases {
            let expected: BTreeSet<String> =
                ids(&all.iter().filter(|n| pred(n)).cloned().collect::<Vec<_>>());
            let got = ids(&app.list_all(&token, "/v2/phone/numbers", q).await);
            assert_eq!(
                got, expected,
                "{viewer}: ?{q} narrows to the matching numbers"
            );
            if !got.is_empty() && got.len() < all.len() {
                narrowed += 1;
            }
            // /unassigned is the list with assigned=false (which it imposes over `assigned`).
            if q.starts_with("assigned=") {
                continue;
            }
            let un = ids(&app
                .list_all(&token, "/v2/phone/numbers/unassigned", q)
                .await);
            let exp_un: BTreeSet<String> = ids(&all
                .iter()
                .filter(|n| pred(n) && n["assignees"].as_array().is_none_or(|a| a.is_empty()))
                .cloned()
                .collect::<Vec<_>>());
            assert_eq!(un, exp_un, "{viewer}: /unassigned?{q}");
        }
        assert!(
            narrowed >= if viewer == "provider" { 15 } else { 4 },
            "{viewer}: only {narrowed} filters narrowed the list; the world lacks variety"
        );
    }
    // Known parameters with bad values are 400 naming the parameter; unknown ones are ignored.
    for (q, name) in [
        ("position=lost", "position"),
        ("status=dead", "status"),
        ("product=car", "product"),
        ("type=satellite", "type"),
        ("country=XX", "country"),
        ("country=USA", "country"),
        ("customer_id=nope", "customer_id"),
        ("assigned=maybe", "assigned"),
        ("prefix=abc", "prefix"),
        ("contains=12a", "contains"),
        ("contains=", "contains"),
    ] {
        let r = app
            .get_as(t, &format!("/v2/phone/numbers?{q}"))
            .await
            .expect_error(400, "invalid_input");
        assert!(r.message().contains(name), "?{q}: {}", r.text());
    }
    app.get_as(t, "/v2/phone/numbers?cachebuster=123&_=1")
        .await
        .expect(200);
}

/// `sort`: every order walks every number once, in that order, across pages; a token from one
/// order still continues another; a word that is no order is a 400 naming `sort`.
async fn sorts_order_every_page(db: &TestDb) {
    let w = World::new(db).await;
    let (app, t) = (&w.app, &w.provider_client.token);
    // Added later but smaller: the E.164 order is not the order of adding.
    add_batch(&w, 3000, 40).await;
    add_batch(&w, 1000, 40).await;
    let added = app.list_all(t, "/v2/phone/numbers", "").await;
    assert_eq!(added.len(), 88);
    let field = |v: &[Value], f: &str| -> Vec<String> {
        v.iter()
            .map(|n| n[f].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let ids_added = field(&added, "id");
    let mut by_e164 = added.clone();
    by_e164.sort_by_key(|n| n["phone_number"].as_str().unwrap_or_default().to_string());
    let e164_up = field(&by_e164, "phone_number");
    assert_ne!(
        field(&added, "phone_number"),
        e164_up,
        "the two orders differ"
    );
    for (sort, want) in [
        ("added", ids_added.clone()),
        ("added_desc", ids_added.iter().rev().cloned().collect()),
        ("phone_number", field(&by_e164, "id")),
        (
            "phone_number_desc",
            field(&by_e164, "id").into_iter().rev().collect(),
        ),
    ] {
        let got = app
            .list_all(t, "/v2/phone/numbers", &format!("sort={sort}"))
            .await;
        assert_eq!(field(&got, "id"), want, "sort={sort}");
    }
    // A page token of the creation order, sent with an E.164 order, goes on after that number.
    let first = app
        .get_as(t, "/v2/phone/numbers?page_size=5")
        .await
        .expect(200)
        .json();
    let token = first["next_page_token"].as_str().must("token");
    let fifth = first["phone_numbers"][4]["phone_number"]
        .as_str()
        .must("e164");
    let next = app
        .get_as(
            t,
            &format!(
                "/v2/phone/numbers?page_size=5&sort=phone_number&next_page_token={}",
                form_encode(token)
            ),
        )
        .await
        .expect(200)
        .json();
    let at = e164_up.iter().position(|e| e == fifth).must("listed");
    assert_eq!(
        field(
            next["phone_numbers"].as_array().must("items"),
            "phone_number"
        ),
        e164_up[at + 1..at + 6].to_vec()
    );
    for bad in ["newest", "phone", "1", "added%20desc"] {
        let r = app
            .get_as(t, &format!("/v2/phone/numbers?sort={bad}"))
            .await
            .expect_error(400, "invalid_input");
        assert!(r.message().contains("sort"), "{bad}: {}", r.text());
    }
}

backend_tests!(
    sorts_order_every_page,
    pages_walk_every_number_once,
    tampered_page_tokens_are_400,
    filters_narrow_correctly,
);
