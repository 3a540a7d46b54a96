//! The seeds (`seeds/` beside SPEC.md) walked end to end through HTTP, one case per seed: 000 a
//! cloud peering provider and a customer connected through Provider Exchange, 001 a master
//! account with sub accounts and its free pool, 002 the number-management API's examples as
//! written and every endpoint of its tables, 003 a master reseller, a reseller and an
//! enterprise, 004 a business with business units and programs. Only the root accounts and
//! their first API clients come from the harness; everything else (child accounts, clients,
//! trunks, carriers, numbers, every move) goes through the API, and every refusal a seed implies
//! is asserted with its HTTP status, its `code` and the `rule` it cites (input errors, 400, and
//! a deactivated account's 401 cite none).

use std::collections::BTreeSet;

use numberpool::service::{Actor, CreateAccount};
use numberpool_domain::{Account, AccountKind};
use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::{Value, json};

use crate::harness::*;
use crate::http::Resp;

/// The code of a refusal by a SPEC rule (R-ALLOC-1 aside, which is a 409 `conflict`).
const RULE: &str = "rule_violation";
const NUMBERS: &str = "/v2/phone/numbers";
const CONNECTIONS: &str = "/v2/provider_exchange/connections";
const CUSTOMERS: &str = "/v2/provider_exchange/customers";

/// Refusals: the status, the error `code` (with a message) and the `rule` the body cites.
trait Refusal {
    fn refused(self, status: u16, code: &str, rule: &str) -> Value;
    /// 404 `not_found`, R-SEC-1: absent, or outside the caller's scope.
    fn not_found(self) -> Value;
}

impl Refusal for Resp {
    #[track_caller]
    fn refused(self, status: u16, code: &str, rule: &str) -> Value {
        let r = self.expect_error(status, code);
        let v = r.json();
        assert_eq!(
            v["rule"].as_str(),
            Some(rule),
            "{}: expected rule {rule}: {v}",
            r.what
        );
        v
    }

    #[track_caller]
    fn not_found(self) -> Value {
        self.refused(404, "not_found", "R-SEC-1")
    }
}

/// One caller: the server and a bearer token.
#[derive(Clone, Copy)]
struct As<'a> {
    app: &'a App,
    token: &'a str,
}

impl<'a> As<'a> {
    fn new(app: &'a App, token: &'a str) -> Self {
        Self { app, token }
    }

    async fn get(self, path: &str) -> Resp {
        self.app.get(path).bearer(self.token).send().await
    }

    async fn post(self, path: &str, body: Value) -> Resp {
        self.app
            .post(path)
            .bearer(self.token)
            .json(&body)
            .send()
            .await
    }

    /// A POST without a body (release, unbind, deactivate, …).
    async fn call(self, path: &str) -> Resp {
        self.app.post(path).bearer(self.token).send().await
    }

    async fn patch(self, path: &str, body: Value) -> Resp {
        self.app
            .patch(path)
            .bearer(self.token)
            .json(&body)
            .send()
            .await
    }

    async fn delete(self, path: &str) -> Resp {
        self.app.delete(path).bearer(self.token).send().await
    }

    /// `POST /v2/phone/numbers` of one number; 201 and the number.
    async fn add(self, body: Value) -> Value {
        self.post(NUMBERS, body).await.expect(201).json()
    }

    /// `GET` of a number; 200 and the number as this caller sees it.
    async fn number(self, e164: &str) -> Value {
        self.get(&num(e164)).await.expect(200).json()
    }

    /// The E.164 forms of every number this caller lists (all pages).
    async fn listed(self) -> BTreeSet<String> {
        self.app
            .list_all(self.token, NUMBERS, "")
            .await
            .iter()
            .map(|n| n["phone_number"].as_str().must("phone_number").to_string())
            .collect()
    }

    /// `POST /v2/accounts`: a child account (below `parent`, else below the caller); its id.
    async fn create_account(self, name: &str, kind: &str, parent: Option<&str>) -> String {
        let mut body = json!({"name": name, "kind": kind});
        if let Some(p) = parent {
            body["parent_id"] = json!(p);
        }
        let v = self.post("/v2/accounts", body).await.expect(201).json();
        assert_eq!(v["kind"], kind, "{v}");
        assert_eq!(v["status"], "active", "{v}");
        id(&v)
    }

    /// An API client of `account` (the caller's or one below it) created through
    /// `POST /v2/api_clients`, and a token for it from `POST /oauth/token`.
    async fn client_token(self, account: &str) -> String {
        let v = self
            .post("/v2/api_clients", json!({"account_id": account}))
            .await
            .expect(201)
            .json();
        assert_eq!(v["account_id"], account, "{v}");
        self.app
            .token(
                v["client_id"].as_str().must("client_id"),
                v["client_secret"].as_str().must("client_secret"),
                None,
            )
            .await
    }

    /// `POST /v2/sip_trunks`; the trunk's id.
    async fn trunk(self, name: &str, region: &str) -> String {
        let v = self
            .post("/v2/sip_trunks", json!({"name": name, "region": region}))
            .await
            .expect(201)
            .json();
        id(&v)
    }

    /// `POST /v2/carriers` (`voice` or `sms`); the carrier's id.
    async fn carrier(self, kind: &str, name: &str) -> String {
        let v = self
            .post("/v2/carriers", json!({"kind": kind, "name": name}))
            .await
            .expect(201)
            .json();
        id(&v)
    }
}

/// A root account (a provider, or a customer that connects to providers), made as the operator
/// makes it (`numberpool account create`).
async fn root(app: &App, name: &str, kind: AccountKind, allow_external_numbers: bool) -> Account {
    app.service
        .create_account(
            &Actor::operator(),
            CreateAccount {
                name: name.to_string(),
                kind,
                parent_id: None,
                allow_external_numbers,
            },
        )
        .await
        .must(name)
}

#[track_caller]
fn id(v: &Value) -> String {
    v["id"].as_str().must("id").to_string()
}

/// A local US number of these walks, `+1415555` and four digits.
fn local(i: u32) -> String {
    e164(i).as_str().to_string()
}

/// `/v2/phone/numbers/{numberId}` by E.164.
fn num(e164: &str) -> String {
    format!("{NUMBERS}/{}", enc(e164))
}

/// A move or sub-resource of a number: `/v2/phone/numbers/{numberId}/{what}`.
fn num_op(e164: &str, what: &str) -> String {
    format!("{}/{what}", num(e164))
}

fn account(id: &str) -> String {
    format!("/v2/accounts/{id}")
}

fn customization(capacity: &str, direction: &str, dialer: bool, cli_shared: bool) -> Value {
    json!({"capacity": capacity, "voice_direction": direction, "messaging": "none",
           "outbound_dialer": dialer, "outbound_cli_shared": cli_shared})
}

/// Seed 002's shape: the names of the capabilities that are on.
fn capabilities(voice: bool, sms: bool) -> Value {
    let on = [("voice", voice), ("sms", sms)];
    json!(
        on.iter()
            .filter(|(_, on)| *on)
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
    )
}

fn user(id: &str) -> Value {
    json!({"assignee_type": "user", "assignee_id": id, "display_name": id})
}

/// The row of `customer` in a page of `GET /v2/provider_exchange/customers`.
#[track_caller]
fn customer_row<'v>(page: &'v Value, customer: &str) -> Option<&'v Value> {
    page["customers"]
        .as_array()
        .must("customers")
        .iter()
        .find(|c| c["account_id"] == customer)
}

/// The offboarding check for `action` (and, for Provider Exchange actions, `provider`).
#[track_caller]
fn check<'v>(off: &'v Value, action: &str, provider: Option<&str>) -> &'v Value {
    off["checks"]
        .as_array()
        .must("checks")
        .iter()
        .find(|c| c["action"] == action && provider.is_none_or(|p| c["provider_id"] == p))
        .unwrap_or_else(|| panic!("no {action} check: {off}"))
}

/// The blocker with `code` of a check, asserting its rule, count and numbers.
#[track_caller]
fn assert_blocker(check: &Value, code: &str, rule: &str, numbers: &[&str]) {
    let b = check["blockers"]
        .as_array()
        .must("blockers")
        .iter()
        .find(|b| b["code"] == code)
        .unwrap_or_else(|| panic!("no {code} blocker: {check}"));
    assert_eq!(b["rule"], rule, "{b}");
    assert_eq!(b["count"], numbers.len(), "{b}");
    let shown: BTreeSet<&str> = b["phone_numbers"]
        .as_array()
        .must("phone_numbers")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(shown, numbers.iter().copied().collect(), "{b}");
}

/// The codes of a check's blockers.
fn blocker_codes(check: &Value) -> BTreeSet<String> {
    check["blockers"]
        .as_array()
        .map(|b| {
            b.iter()
                .filter_map(|x| x["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Seed 000: a cloud peering provider and a customer connected through Provider Exchange, from
/// the connection to the provider's deactivation of the customer.
async fn seed_000_cloud_peering_provider_and_connected_customer(db: &TestDb) {
    let app = &spawn_app(db).await;
    let provider = root(app, "Cloud Peering Partner", AccountKind::Provider, false).await;
    let customer = root(app, "Acme Connected", AccountKind::Customer, false).await;
    let other = root(app, "Other Peering Partner", AccountKind::Provider, false).await;
    let (pt, ct, ot) = (
        app.client(&provider, None).await.token,
        app.client(&customer, None).await.token,
        app.client(&other, None).await.token,
    );
    let (p, c, o) = (As::new(app, &pt), As::new(app, &ct), As::new(app, &ot));
    let (pid, cid) = (provider.id.to_string(), customer.id.to_string());
    // Multi-region: two trunks; the provider's voice carrier (its default).
    let east = p.trunk("trunk-east", "us-east").await;
    let west = p.trunk("trunk-west", "us-west").await;
    let carrier = p.carrier("voice", "Peering Carrier").await;

    // The customer grants the provider access by the provider's account number; the provider
    // need not accept. Before that, the provider does not see the customer at all.
    let v = c.get(CONNECTIONS).await.expect(200).json();
    assert_eq!(v["total_records"], 0, "{v}");
    p.get(&account(&cid)).await.not_found();
    c.post(
        CONNECTIONS,
        json!({"provider_account_number": "NO-SUCH-PROVIDER"}),
    )
    .await
    .not_found();
    // Only a root customer connects to providers.
    p.post(
        CONNECTIONS,
        json!({"provider_account_number": other.account_number}),
    )
    .await
    .refused(422, RULE, "R-ACC-1");
    let connect = json!({"provider_account_number": provider.account_number});
    let conn = c
        .post(CONNECTIONS, connect.clone())
        .await
        .expect(201)
        .json();
    assert_eq!(conn["provider_id"], pid.as_str(), "{conn}");
    assert_eq!(conn["provider_name"], "Cloud Peering Partner", "{conn}");
    assert_eq!(
        conn["provider_account_number"],
        provider.account_number.as_str()
    );
    assert_eq!(conn["status"], "connected", "{conn}");
    // Connected already.
    c.post(CONNECTIONS, connect)
        .await
        .refused(422, RULE, "R-ACC-1");
    let v = c.get(CONNECTIONS).await.expect(200).json();
    assert_eq!(v["total_records"], 1, "{v}");
    assert_eq!(v["connections"][0]["status"], "connected", "{v}");

    // The provider's customers: the connected customer, with no numbers yet.
    let page = p.get(CUSTOMERS).await.expect(200).json();
    let row = customer_row(&page, &cid).must("the connected customer is listed");
    assert_eq!(row["name"], "Acme Connected", "{row}");
    assert_eq!(row["account_number"], customer.account_number.as_str());
    assert_eq!(row["relation"], "connected", "{row}");
    assert_eq!(row["connection_status"], "connected", "{row}");
    assert_eq!(row["phone_numbers"], 0, "{row}");
    assert_eq!(page["total_records"], 1, "{page}");
    assert_eq!(page["total_phone_numbers"], 0, "{page}");
    p.get(&account(&cid)).await.expect(200);

    // Add numbers: E.164 only (national format only with a country).
    for bad in ["4155550100", "(415) 555-0100", "+1415555"] {
        p.post(NUMBERS, json!({"phone_number": bad})).await.refused(
            400,
            "invalid_number",
            "R-NUM-2",
        );
    }
    let national = p
        .add(json!({"phone_number": "(415) 555-0190", "country": "US"}))
        .await;
    assert_eq!(national["phone_number"], "+14155550190", "{national}");
    // Customization rules on add.
    let (a, b, cc) = (local(100), local(101), "+18005550100".to_string());
    for (body, rule) in [
        (
            json!({"phone_number": a, "product": "contact_center",
                   "customization": customization("single_contact_center", "both", false, false)}),
            "R-CUST-1",
        ),
        (
            json!({"phone_number": a,
                   "customization": customization("multiple", "inbound_only", true, false)}),
            "R-CUST-2",
        ),
        (
            json!({"phone_number": a,
                   "customization": customization("single_user", "both", false, true)}),
            "R-CUST-3",
        ),
        (
            json!({"phone_number": a,
                   "customization": customization("multiple", "inbound_only", false, true)}),
            "R-CUST-3",
        ),
    ] {
        p.post(NUMBERS, body).await.refused(422, RULE, rule);
    }
    // A: unallocated (open to either product), pending, billing and service info, shared
    // outbound CLI on a multiple-capacity number.
    let v = p
        .add(
            json!({"phone_number": a, "product": "unallocated", "status": "pending",
                    "billing_reference": "BR-100", "service_info": "inbound calls only",
                    "capabilities": capabilities(true, false),
                    "customization": customization("multiple", "both", true, true)}),
        )
        .await;
    assert_eq!(v["product"], "unallocated", "{v}");
    assert_eq!(v["status"], "pending", "{v}");
    assert_eq!(v["type"], "local", "the type is computed when absent: {v}");
    assert_eq!(v["position"], "free", "{v}");
    assert_eq!(v["billing_reference"], "BR-100", "{v}");
    assert_eq!(v["service_info"], "inbound calls only", "{v}");
    assert_eq!(v["customization"]["outbound_cli_shared"], true, "{v}");
    assert_eq!(v["voice_carrier_id"], carrier.as_str(), "{v}");
    assert_eq!(v["source"], "BYOC - Cloud Peering Carrier", "{v}");
    // B: Zoom Phone, Normal (the portal's word; the API says active).
    let v = p
        .add(json!({"phone_number": b, "product": "phone", "status": "normal"}))
        .await;
    assert_eq!(v["product"], "phone", "{v}");
    assert_eq!(v["status"], "active", "{v}");
    // C: Zoom Contact Center, a toll-free number.
    let v = p
        .add(json!({"phone_number": cc, "product": "contact_center"}))
        .await;
    assert_eq!(v["type"], "toll_free", "{v}");
    assert_eq!(v["customization"]["capacity"], "single_user", "{v}");
    // R-NUM-1: the same E.164 again, here or at another provider.
    for who in [p, o] {
        who.post(NUMBERS, json!({"phone_number": a})).await.refused(
            409,
            "number_already_exists",
            "R-NUM-1",
        );
    }
    // The other provider sees neither the numbers nor the customer (R-SEC-1).
    o.get(&num(&a)).await.not_found();
    o.get(&account(&cid)).await.not_found();

    // Allocate to the connected customer: a customer's number needs a SIP trunk.
    let r = p
        .post(&num_op(&a, "allocate"), json!({"account_id": cid}))
        .await
        .expect_error(400, "invalid_input");
    assert!(r.message().contains("sip_trunk_id"), "{}", r.text());
    let v = p
        .post(
            &num_op(&a, "allocate"),
            json!({"account_id": cid, "sip_trunk_id": east,
                   "billing_reference": "BR-100-ACME", "service_info": "inbound calls only"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(v["position"], "in_use", "the provider sees it in use: {v}");
    assert_eq!(v["customer_id"], cid.as_str(), "{v}");
    assert_eq!(v["sip_trunk_id"], east.as_str(), "{v}");
    assert_eq!(v["billing_reference"], "BR-100-ACME", "{v}");
    for n in [&b, &cc] {
        p.post(
            &num_op(n, "allocate"),
            json!({"account_id": cid, "sip_trunk_id": east}),
        )
        .await
        .expect(200);
    }
    // It is with the customer now: not free, so not allocated twice (R-ALLOC-1).
    p.post(
        &num_op(&a, "allocate"),
        json!({"account_id": cid, "sip_trunk_id": east}),
    )
    .await
    .refused(409, "conflict", "R-ALLOC-1");
    let v = c.number(&a).await;
    assert_eq!(v["position"], "unassigned", "the customer's view: {v}");
    assert_eq!(v["service_info"], "inbound calls only", "{v}");
    assert_eq!(
        c.listed().await,
        BTreeSet::from([a.clone(), b.clone(), cc.clone()])
    );
    let page = p.get(CUSTOMERS).await.expect(200).json();
    let row = customer_row(&page, &cid).must("listed");
    assert_eq!(row["phone_numbers"], 3, "{row}");
    assert_eq!(page["total_phone_numbers"], 3, "{page}");

    // Edit a Normal number: billing reference, SIP trunk and service info, nothing else.
    let v = p
        .patch(
            &num(&b),
            json!({"billing_reference": "BR-101", "sip_trunk_id": west,
                   "service_info": "outbound calls only"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(v["billing_reference"], "BR-101", "{v}");
    assert_eq!(v["sip_trunk_id"], west.as_str(), "{v}");
    assert_eq!(v["service_info"], "outbound calls only", "{v}");
    p.patch(&num(&b), json!({"status": "pending"}))
        .await
        .refused(422, RULE, "R-STAT-1");
    p.patch(&num(&b), json!({"type": "mobile"}))
        .await
        .refused(422, RULE, "R-EDIT-1");
    p.patch(&num(&b), json!({"product": "contact_center"}))
        .await
        .refused(422, RULE, "R-PROD-1");
    // A number with a customer keeps a trunk.
    p.patch(&num(&b), json!({"sip_trunk_id": null}))
        .await
        .refused(422, RULE, "R-EDIT-1");
    // The number itself is not a field: remove and re-add it instead.
    let r = p
        .patch(&num(&b), json!({"phone_number": local(199)}))
        .await
        .expect_error(400, "invalid_input");
    assert!(r.message().contains("phone_number"), "{}", r.text());
    assert_eq!(p.number(&b).await["phone_number"], b.as_str());
    // A Pending number may also change its type and become Normal, never go back.
    let v = p
        .patch(&num(&a), json!({"type": "national"}))
        .await
        .expect(200)
        .json();
    assert_eq!(v["type"], "national", "{v}");
    let v = p
        .patch(&num(&a), json!({"status": "normal"}))
        .await
        .expect(200)
        .json();
    assert_eq!(v["status"], "active", "{v}");
    p.patch(&num(&a), json!({"status": "pending"}))
        .await
        .refused(422, RULE, "R-STAT-1");
    // Unallocated becomes a product once; after that it never changes.
    let v = p
        .patch(&num(&a), json!({"product": "phone"}))
        .await
        .expect(200)
        .json();
    assert_eq!(v["product"], "phone", "{v}");
    for product in ["contact_center", "unallocated"] {
        p.patch(&num(&a), json!({"product": product}))
            .await
            .refused(422, RULE, "R-PROD-1");
    }
    // Nor does the customer switch it.
    c.patch(&num(&cc), json!({"product": "phone"}))
        .await
        .refused(422, RULE, "R-PROD-1");
    // Single CC is disabled on a Contact Center number, on edit as on add.
    p.patch(
        &num(&cc),
        json!({"customization": customization("single_contact_center", "both", false, false)}),
    )
    .await
    .refused(422, RULE, "R-CUST-1");

    // The customer assigns numbers to its users; the provider does not (R-MOVE-2).
    let v = c
        .post(&num_op(&a, "assign"), user("u-ada"))
        .await
        .expect(200)
        .json();
    assert_eq!(v["position"], "assigned", "{v}");
    assert_eq!(p.number(&a).await["position"], "in_use");
    p.post(&num_op(&b, "assign"), user("u-provider"))
        .await
        .refused(422, RULE, "R-MOVE-2");
    // Single user capacity: one assignee (R-ASG-1).
    c.post(&num_op(&cc, "assign"), user("u-bob"))
        .await
        .expect(200);
    c.post(&num_op(&cc, "assign"), user("u-carol"))
        .await
        .refused(422, RULE, "R-ASG-1");

    // Numbers with the customer are not deleted (R-DEL-1), assigned or not. On the customer's
    // side a delete is the release, refused while the number is assigned ("the customer must
    // unassign and delete the number so that it is in the returned status").
    for n in [&a, &b] {
        p.delete(&num(n)).await.refused(422, RULE, "R-DEL-1");
    }
    c.delete(&num(&a)).await.refused(422, RULE, "R-MOVE-3");

    // The customer cannot ask to leave while the provider's numbers are assigned (R-ACC-1); the
    // offboarding check lists them, to the customer and to the provider.
    let disconnect = format!("{CONNECTIONS}/{pid}/disconnect");
    c.call(&disconnect).await.refused(422, RULE, "R-ACC-1");
    let off = c
        .get(&format!("{}/offboarding", account(&cid)))
        .await
        .expect(200)
        .json();
    let chk = check(&off, "request_disconnect", Some(&pid));
    assert_eq!(chk["ready"], false, "{off}");
    assert_blocker(chk, "assigned_numbers", "R-ACC-1", &[&a, &cc]);
    let off = p
        .get(&format!("{}/offboarding", account(&cid)))
        .await
        .expect(200)
        .json();
    assert_blocker(
        check(&off, "request_disconnect", Some(&pid)),
        "assigned_numbers",
        "R-ACC-1",
        &[&a, &cc],
    );
    let chk = check(&off, "deactivate_connection", Some(&pid));
    assert_eq!(chk["ready"], false, "{off}");
    assert_eq!(
        blocker_codes(chk),
        BTreeSet::from([
            "disconnect_not_requested".to_string(),
            "provider_numbers_with_customer".to_string()
        ]),
        "{off}"
    );
    assert_blocker(
        chk,
        "provider_numbers_with_customer",
        "R-ACC-1",
        &[&a, &b, &cc],
    );
    // The provider deactivates only after the customer asked to leave (R-ACC-1).
    let deactivate = format!("{CUSTOMERS}/{cid}/deactivate");
    p.call(&deactivate).await.refused(422, RULE, "R-ACC-1");

    // The customer unassigns everything and asks to leave; once is enough.
    for n in [&a, &cc] {
        let v = c.delete(&num_op(n, "assign")).await.expect(200).json();
        assert_eq!(v["position"], "unassigned", "{v}");
    }
    let v = c.call(&disconnect).await.expect(200).json();
    assert_eq!(v["status"], "disconnect_requested", "{v}");
    assert_eq!(v["provider_id"], pid.as_str(), "{v}");
    c.call(&disconnect).await.refused(422, RULE, "R-ACC-1");
    let v = c.get(CONNECTIONS).await.expect(200).json();
    assert_eq!(v["connections"][0]["status"], "disconnect_requested", "{v}");
    // The provider's numbers are no longer assigned, nor new ones allocated.
    c.post(&num_op(&b, "assign"), user("u-dave"))
        .await
        .refused(422, RULE, "R-ACC-1");
    let late = local(102);
    p.add(json!({"phone_number": late})).await;
    p.post(
        &num_op(&late, "allocate"),
        json!({"account_id": cid, "sip_trunk_id": east}),
    )
    .await
    .refused(422, RULE, "R-MOVE-1");
    let page = p.get(CUSTOMERS).await.expect(200).json();
    let row = customer_row(&page, &cid).must("still listed");
    assert_eq!(row["connection_status"], "disconnect_requested", "{row}");
    // The provider still cannot deactivate: its numbers are with the customer (R-ACC-1).
    p.call(&deactivate).await.refused(422, RULE, "R-ACC-1");
    let off = p
        .get(&format!("{}/offboarding", account(&cid)))
        .await
        .expect(200)
        .json();
    let chk = check(&off, "deactivate_connection", Some(&pid));
    assert_eq!(
        blocker_codes(chk),
        BTreeSet::from(["provider_numbers_with_customer".to_string()]),
        "{off}"
    );

    // C holds a toll-free and a contact-center licence while it is with the customer.
    let entitlements = format!("{}/entitlements", account(&cid));
    let v = c.get(&entitlements).await.expect(200).json();
    assert_eq!(v["toll_free"]["used"], 1, "{v}");
    assert_eq!(v["contact_center"]["used"], 1, "{v}");

    // The customer deletes (releases) them: the provider sees them returned and deletes them;
    // the licences are free again.
    for n in [&a, &b, &cc] {
        if n == &a {
            // Seed 000's "Delete" on the customer side, by its REST verb.
            c.delete(&num(n)).await.expect(204);
        } else {
            c.call(&num_op(n, "release")).await.expect(200);
        }
        c.get(&num(n)).await.not_found();
        assert_eq!(p.number(n).await["position"], "returned", "{n}");
    }
    for n in [&a, &b, &cc] {
        p.delete(&num(n)).await.expect(204);
        p.get(&num(n)).await.not_found();
    }
    let v = c.get(&entitlements).await.expect(200).json();
    assert_eq!(v["toll_free"]["used"], 0, "{v}");
    assert_eq!(v["contact_center"]["used"], 0, "{v}");
    let off = p
        .get(&format!("{}/offboarding", account(&cid)))
        .await
        .expect(200)
        .json();
    let chk = check(&off, "deactivate_connection", Some(&pid));
    assert_eq!(chk["ready"], true, "{off}");

    // The provider deactivates the customer, and then no longer sees or provisions it.
    let v = p.call(&deactivate).await.expect(200).json();
    assert_eq!(v["status"], "deactivated", "{v}");
    let v = c.get(CONNECTIONS).await.expect(200).json();
    assert_eq!(v["connections"][0]["status"], "deactivated", "{v}");
    p.get(&account(&cid)).await.not_found();
    p.get(&format!("{}/offboarding", account(&cid)))
        .await
        .not_found();
    p.call(&deactivate).await.not_found();
    p.post(
        &num_op(&late, "allocate"),
        json!({"account_id": cid, "sip_trunk_id": east}),
    )
    .await
    .not_found();
    let page = p.get(CUSTOMERS).await.expect(200).json();
    assert!(customer_row(&page, &cid).is_none(), "{page}");
    assert_eq!(page["total_records"], 0, "{page}");
    // The customer itself carries on.
    let v = c.get(NUMBERS).await.expect(200).json();
    assert_eq!(v["total_records"], 0, "{v}");

    // Seed 000's Add Number form names a SIP trunk (SPEC §2: the number's `sip_trunk`).
    let with_trunk = local(103);
    let v = p
        .post(
            NUMBERS,
            json!({"phone_number": with_trunk, "sip_trunk_id": west}),
        )
        .await
        .expect(201)
        .json();
    assert_eq!(v["sip_trunk_id"], west.as_str(), "{v}");
}

/// Seed 001: a partner master account, its sub accounts and its free number pool: add to the
/// pool, allocate to a sub account, the sub account assigns and releases, the master unbinds
/// and deletes.
async fn seed_001_master_account_sub_accounts_and_free_pool(db: &TestDb) {
    let app = &spawn_app(db).await;
    let master = root(app, "Partner Master", AccountKind::Provider, false).await;
    let mt = app.client(&master, None).await.token;
    let m = As::new(app, &mt);
    let trunk = m.trunk("trunk-master", "us-west").await;
    let sub = m.create_account("Sub Account One", "customer", None).await;
    let st = m.client_token(&sub).await;
    let s = As::new(app, &st);

    // Before the master has a voice carrier its numbers come from "BYOC - Cloud"; after, with
    // the carrier's name, which the sub account sees in the Source column.
    let early = local(200);
    assert_eq!(
        m.add(json!({"phone_number": early})).await["source"],
        "BYOC - Cloud"
    );
    let carrier = m.carrier("voice", "Master Carrier").await;

    // Add a number to the free pool: listed as Free, bound to no sub account.
    let n = local(201);
    let v = m.add(json!({"phone_number": n, "product": "phone"})).await;
    assert_eq!(v["position"], "free", "{v}");
    assert_eq!(v["holder_id"], master.id.to_string(), "{v}");
    assert_eq!(v["customer_id"], Value::Null, "{v}");
    assert_eq!(v["source"], "BYOC - Cloud Master Carrier", "{v}");
    assert_eq!(v["voice_carrier_id"], carrier.as_str(), "{v}");
    let free: BTreeSet<String> = app
        .list_all(&mt, NUMBERS, "position=free")
        .await
        .iter()
        .map(|x| x["phone_number"].as_str().must("phone_number").to_string())
        .collect();
    assert_eq!(free, BTreeSet::from([early.clone(), n.clone()]));
    // The sub account sees nothing of the pool, and adds no numbers of its own (R-ACC-2).
    s.get(&num(&n)).await.not_found();
    assert!(s.listed().await.is_empty());
    s.post(NUMBERS, json!({"phone_number": local(202)}))
        .await
        .refused(422, RULE, "R-ACC-2");

    // Assign (allocate) it to the sub account: a SIP trunk is required, billing reference and
    // service info are optional.
    let r = m
        .post(&num_op(&n, "allocate"), json!({"account_id": sub}))
        .await
        .expect_error(400, "invalid_input");
    assert!(r.message().contains("sip_trunk_id"), "{}", r.text());
    let v = m
        .post(
            &num_op(&n, "allocate"),
            json!({"account_id": sub, "sip_trunk_id": trunk,
                   "billing_reference": "SUB-BR-1", "service_info": "inbound calls only"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(v["position"], "in_use", "{v}");
    assert_eq!(v["customer_id"], sub.as_str(), "{v}");
    assert_eq!(v["sip_trunk_id"], trunk.as_str(), "{v}");

    // The sub account sees it unassigned, with the service info and the source.
    let v = s.number(&n).await;
    assert_eq!(v["position"], "unassigned", "{v}");
    assert_eq!(v["service_info"], "inbound calls only", "{v}");
    assert_eq!(v["billing_reference"], "SUB-BR-1", "{v}");
    assert_eq!(v["source"], "BYOC - Cloud Master Carrier", "{v}");
    let unassigned = s
        .get("/v2/phone/numbers/unassigned")
        .await
        .expect(200)
        .json();
    assert_eq!(unassigned["total_records"], 1, "{unassigned}");
    assert_eq!(unassigned["phone_numbers"][0]["phone_number"], n.as_str());

    // The sub account admin assigns it to an end user.
    let v = s
        .post(&num_op(&n, "assign"), user("u-sub-1"))
        .await
        .expect(200)
        .json();
    assert_eq!(v["position"], "assigned", "{v}");
    assert_eq!(v["assignees"][0]["assignee_id"], "u-sub-1", "{v}");
    assert_eq!(m.number(&n).await["position"], "in_use");

    // While it is with the sub account: the master cannot delete it (R-DEL-1) nor unbind it
    // (R-MOVE-4); the sub account cannot unbind it (R-MOVE-4), and cannot release it while it
    // is assigned (R-MOVE-3), whether it says release or delete ("click Delete to release that
    // number").
    m.delete(&num(&n)).await.refused(422, RULE, "R-DEL-1");
    m.call(&num_op(&n, "unbind"))
        .await
        .refused(422, RULE, "R-MOVE-4");
    s.call(&num_op(&n, "unbind"))
        .await
        .refused(422, RULE, "R-MOVE-4");
    s.delete(&num(&n)).await.refused(422, RULE, "R-MOVE-3");
    s.call(&num_op(&n, "release"))
        .await
        .refused(422, RULE, "R-MOVE-3");

    // The sub account unbinds the user: unassigned again (and nothing left to unassign).
    let v = s.delete(&num_op(&n, "assign")).await.expect(200).json();
    assert_eq!(v["position"], "unassigned", "{v}");
    assert_eq!(v["assignees"], json!([]), "{v}");
    s.delete(&num_op(&n, "assign"))
        .await
        .refused(422, RULE, "R-MOVE-2");
    // Unassigned but still with the sub account: still not the master's to delete.
    m.delete(&num(&n)).await.refused(422, RULE, "R-DEL-1");

    // The sub account deletes (releases) it: gone from its list, Returned for the master.
    let v = s.call(&num_op(&n, "release")).await.expect(200).json();
    assert_eq!(v["holder_id"], master.id.to_string(), "{v}");
    s.get(&num(&n)).await.not_found();
    assert!(s.listed().await.is_empty());
    s.call(&num_op(&n, "release")).await.not_found();
    let v = m.number(&n).await;
    assert_eq!(v["position"], "returned", "{v}");
    assert_eq!(v["customer_id"], Value::Null, "{v}");
    let returned = app.list_all(&mt, NUMBERS, "position=returned").await;
    assert_eq!(returned.len(), 1);
    assert_eq!(returned[0]["phone_number"], n.as_str());

    // The master unbinds it: Free in its pool again, trunk and billing cleared; once.
    let v = m.call(&num_op(&n, "unbind")).await.expect(200).json();
    assert_eq!(v["position"], "free", "{v}");
    assert_eq!(v["sip_trunk_id"], Value::Null, "{v}");
    assert_eq!(v["billing_reference"], Value::Null, "{v}");
    assert_eq!(v["service_info"], Value::Null, "{v}");
    m.call(&num_op(&n, "unbind"))
        .await
        .refused(422, RULE, "R-MOVE-4");
    // A free number is not the master's to release: it has no pool above.
    m.call(&num_op(&n, "release"))
        .await
        .refused(422, RULE, "R-MOVE-3");

    // Free again, it may go to another sub account, which sees nothing of the first one's
    // use: no billing, no service info, no assignee, and its history starts with its own
    // allocation.
    let sub2 = m.create_account("Sub Account Two", "customer", None).await;
    let s2t = m.client_token(&sub2).await;
    let s2 = As::new(app, &s2t);
    s.get(&num_op(&n, "history")).await.not_found();
    m.post(
        &num_op(&n, "allocate"),
        json!({"account_id": sub2, "sip_trunk_id": trunk}),
    )
    .await
    .expect(200);
    let v = s2.number(&n).await;
    assert_eq!(v["position"], "unassigned", "{v}");
    assert_eq!(v["billing_reference"], Value::Null, "{v}");
    assert_eq!(v["service_info"], Value::Null, "{v}");
    assert_eq!(v["assignees"], json!([]), "{v}");
    let h = s2.get(&num_op(&n, "history")).await.expect(200);
    assert_eq!(
        h.json()["events"][0]["action"],
        "number.allocate",
        "{}",
        h.text()
    );
    for earlier in ["u-sub-1", "SUB-BR-1", sub.as_str()] {
        assert!(!h.text().contains(earlier), "{earlier} in {}", h.text());
    }
    s.get(&num(&n)).await.not_found();
    s2.call(&num_op(&n, "release")).await.expect(200);
    m.call(&num_op(&n, "unbind")).await.expect(200);

    // And deletes it from the platform; a second delete finds nothing.
    m.delete(&num(&n)).await.expect(204);
    m.get(&num(&n)).await.not_found();
    m.delete(&num(&n)).await.not_found();
    assert_eq!(m.listed().await, BTreeSet::from([early]));
}

/// Seed 003: a master reseller (a provider), a reseller below it and an enterprise below that:
/// uploads at each level, who may delete whose numbers (R-DEL-2), the enterprise's own numbers
/// when allowed (R-ACC-2), and carriers: the default when none is named, no change while
/// assigned (R-CAP-1).
async fn seed_003_master_reseller_reseller_and_enterprise(db: &TestDb) {
    let app = &spawn_app(db).await;
    let master = root(app, "Master Reseller", AccountKind::Provider, false).await;
    let mt = app.client(&master, None).await.token;
    let m = As::new(app, &mt);
    let trunk = m.trunk("trunk-master", "eu-west").await;
    let voice_default = m.carrier("voice", "Voice Default").await;
    let voice_alt = m.carrier("voice", "Voice Alt").await;
    let sms_default = m.carrier("sms", "SMS Default").await;
    let reseller = m.create_account("Reseller Rho", "reseller", None).await;
    let rt = m.client_token(&reseller).await;
    let r = As::new(app, &rt);
    let enterprise = r
        .create_account("Enterprise Epsilon", "customer", None)
        .await;
    let et = r.client_token(&enterprise).await;
    let e = As::new(app, &et);
    // The tree rule: no reseller below an enterprise, no provider below anything (R-TREE-1).
    r.post(
        "/v2/accounts",
        json!({"name": "Reseller Below", "kind": "reseller", "parent_id": enterprise}),
    )
    .await
    .refused(422, RULE, "R-TREE-1");
    r.post(
        "/v2/accounts",
        json!({"name": "Provider Below", "kind": "provider"}),
    )
    .await
    .refused(422, RULE, "R-TREE-1");

    // The master uploads: voice and SMS on, no carrier named, so the defaults; a fax-only
    // number gets no carrier at all.
    let (mn, fax, rn, en) = (local(300), local(301), local(302), local(303));
    let v = m
        .add(json!({"phone_number": mn, "capabilities": capabilities(true, true)}))
        .await;
    assert_eq!(v["voice_carrier_id"], voice_default.as_str(), "{v}");
    assert_eq!(v["sms_carrier_id"], sms_default.as_str(), "{v}");
    assert_eq!(v["source"], "BYOC - Cloud Voice Default", "{v}");
    // Seed 002's shapes: capabilities by name, times in RFC 3339, the state and city derived
    // from the number (libphonenumber's geocoding data).
    assert_eq!(v["capabilities"], json!(["voice", "sms"]), "{v}");
    assert_eq!(
        (&v["state"], &v["city"]),
        (&json!("CA"), &json!("San Francisco")),
        "{v}"
    );
    for field in ["created_at", "updated_at"] {
        let at = v[field].as_str().must(field);
        assert!(
            at.ends_with('Z')
                && time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                    .is_ok(),
            "{field}: {v}"
        );
    }
    let v = m
        .add(json!({"phone_number": fax,
                    "capabilities": ["fax"], "city": "Daly City"}))
        .await;
    // A city given on upload wins; the state it leaves out is still derived.
    assert_eq!(
        (&v["state"], &v["city"]),
        (&json!("CA"), &json!("Daly City")),
        "{v}"
    );
    assert_eq!(v["voice_carrier_id"], Value::Null, "{v}");
    assert_eq!(v["sms_carrier_id"], Value::Null, "{v}");
    // Voice turned on later, with no carrier named: the default voice carrier.
    let v = m
        .patch(&num(&fax), json!({"capabilities": ["voice", "fax"]}))
        .await
        .expect(200)
        .json();
    assert_eq!(v["voice_carrier_id"], voice_default.as_str(), "{v}");
    assert_eq!(v["sms_carrier_id"], Value::Null, "{v}");
    assert_eq!(v["capabilities"], json!(["voice", "fax"]), "{v}");

    // The master assigns (allocates) its number to the reseller: free in the reseller's pool.
    let v = m
        .post(&num_op(&mn, "allocate"), json!({"account_id": reseller}))
        .await
        .expect(200)
        .json();
    assert_eq!(v["position"], "in_use", "{v}");
    assert_eq!(r.number(&mn).await["position"], "free");
    // The reseller uploads its own: the master's carriers (its provider's) apply.
    let v = r
        .add(json!({"phone_number": rn, "capabilities": capabilities(true, false)}))
        .await;
    assert_eq!(v["uploaded_by"], reseller.as_str(), "{v}");
    assert_eq!(v["position"], "free", "{v}");
    assert_eq!(v["voice_carrier_id"], voice_default.as_str(), "{v}");
    assert_eq!(m.number(&rn).await["position"], "in_use");

    // R-DEL-2 both ways: no Delete for the reseller's upload at the master, nor for the
    // master's at the reseller; and the master's number at the reseller must come back to the
    // master's pool first (R-DEL-1).
    m.delete(&num(&rn)).await.refused(422, RULE, "R-DEL-2");
    r.delete(&num(&mn)).await.refused(422, RULE, "R-DEL-2");
    m.delete(&num(&mn)).await.refused(422, RULE, "R-DEL-1");

    // The reseller assigns both to the enterprise (on its provider's trunk), which sees them.
    for n in [&mn, &rn] {
        let v = r
            .post(
                &num_op(n, "allocate"),
                json!({"account_id": enterprise, "sip_trunk_id": trunk}),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(v["position"], "in_use", "{v}");
        assert_eq!(e.number(n).await["position"], "unassigned");
    }
    assert_eq!(e.listed().await, BTreeSet::from([mn.clone(), rn.clone()]));

    // Without Allow External Numbers the enterprise adds none (R-ACC-2), and it cannot allow
    // itself; the reseller above it can.
    let external = json!({"phone_number": en, "capabilities": capabilities(true, false)});
    e.post(NUMBERS, external.clone())
        .await
        .refused(422, RULE, "R-ACC-2");
    e.patch(
        &account(&enterprise),
        json!({"allow_external_numbers": true}),
    )
    .await
    .refused(422, RULE, "R-ACC-2");
    let v = r
        .patch(
            &account(&enterprise),
            json!({"allow_external_numbers": true}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(v["allow_external_numbers"], true, "{v}");
    // Its own number: external, never in a pool, no provider carrier.
    let v = e.add(external.clone()).await;
    assert_eq!(v["source"], "external", "{v}");
    assert_eq!(v["position"], "unassigned", "{v}");
    assert_eq!(v["uploaded_by"], enterprise.as_str(), "{v}");
    assert_eq!(v["customer_id"], enterprise.as_str(), "{v}");
    assert_eq!(v["voice_carrier_id"], Value::Null, "{v}");
    // Only the enterprise deletes it (R-DEL-2); there is no pool to release it to (R-MOVE-3).
    r.delete(&num(&en)).await.refused(422, RULE, "R-DEL-2");
    e.call(&num_op(&en, "release"))
        .await
        .refused(422, RULE, "R-MOVE-3");
    // Assigned, it is not deleted (R-DEL-1); unassigned, it is.
    e.post(&num_op(&en, "assign"), user("u-ext"))
        .await
        .expect(200);
    e.delete(&num(&en)).await.refused(422, RULE, "R-DEL-1");
    e.delete(&num_op(&en, "assign")).await.expect(200);
    e.delete(&num(&en)).await.expect(204);
    e.get(&num(&en)).await.not_found();
    // Withdrawn, the permission stops further adds.
    r.patch(
        &account(&enterprise),
        json!({"allow_external_numbers": false}),
    )
    .await
    .expect(200);
    e.post(NUMBERS, external)
        .await
        .refused(422, RULE, "R-ACC-2");

    // Carriers change only while the number has no assignee (R-CAP-1): neither naming another
    // carrier nor turning a capability off (which drops its carrier).
    e.post(&num_op(&mn, "assign"), user("u-teams-1"))
        .await
        .expect(200);
    r.patch(&num(&mn), json!({"voice_carrier_id": voice_alt}))
        .await
        .refused(422, RULE, "R-CAP-1");
    r.patch(
        &num(&mn),
        json!({"capabilities": capabilities(true, false)}),
    )
    .await
    .refused(422, RULE, "R-CAP-1");
    let v = m.number(&mn).await;
    assert_eq!(v["voice_carrier_id"], voice_default.as_str(), "{v}");
    assert_eq!(v["sms_carrier_id"], sms_default.as_str(), "{v}");
    e.delete(&num_op(&mn, "assign")).await.expect(200);
    let v = r
        .patch(&num(&mn), json!({"voice_carrier_id": voice_alt}))
        .await
        .expect(200)
        .json();
    assert_eq!(v["voice_carrier_id"], voice_alt.as_str(), "{v}");
    assert_eq!(
        v["source"], "BYOC - Cloud Voice Alt",
        "the source follows the carrier: {v}"
    );

    // Back up the chain: the enterprise releases both to the reseller (its delete is the
    // release); the reseller unbinds and deletes its own upload, and releases the master's to
    // the master, which deletes it.
    for n in [&mn, &rn] {
        if n == &mn {
            e.delete(&num(n)).await.expect(204);
        } else {
            e.call(&num_op(n, "release")).await.expect(200);
        }
        assert_eq!(r.number(n).await["position"], "returned", "{n}");
        r.call(&num_op(n, "unbind")).await.expect(200);
    }
    r.delete(&num(&rn)).await.expect(204);
    m.get(&num(&rn)).await.not_found();
    r.call(&num_op(&mn, "release")).await.expect(200);
    r.get(&num(&mn)).await.not_found();
    assert_eq!(m.number(&mn).await["position"], "returned");
    m.delete(&num(&mn)).await.expect(204);
    assert_eq!(m.listed().await, BTreeSet::from([fax]));

    // Seed 003's upload names a Voice Carrier Name and an SMS Carrier Profile; SPEC §2 uses the
    // default only "when a capability is on and none is named". The source names the carrier.
    let named = local(304);
    let v = m
        .post(
            NUMBERS,
            json!({"phone_number": named, "capabilities": capabilities(true, false),
                   "voice_carrier_id": voice_alt}),
        )
        .await
        .expect(201)
        .json();
    assert_eq!(v["voice_carrier_id"], voice_alt.as_str(), "{v}");
    assert_eq!(v["source"], "BYOC - Cloud Voice Alt", "{v}");
    // A carrier for a capability that is off, and another provider's carrier id, are refused.
    m.post(
        NUMBERS,
        json!({"phone_number": local(305), "capabilities": capabilities(true, false),
               "sms_carrier_id": sms_default}),
    )
    .await
    .expect_error(400, "invalid_input");
    m.post(
        NUMBERS,
        json!({"phone_number": local(306), "voice_carrier_id": sms_default}),
    )
    .await
    .not_found();
}

/// Seed 004: a business (customer) with a business unit and a program below it: numbers moved
/// into units, what a unit admin sees, view assignments, call purpose, removal, toll-free
/// licences (R-ACC-3), and a unit deactivated only once it holds no numbers (R-OFF-1).
async fn seed_004_business_units_and_programs(db: &TestDb) {
    let app = &spawn_app(db).await;
    let provider = root(app, "Numbers Provider", AccountKind::Provider, false).await;
    let pt = app.client(&provider, None).await.token;
    let p = As::new(app, &pt);
    let trunk = p.trunk("trunk-main", "us-central").await;
    let business = p.create_account("Business Beta", "customer", None).await;
    let bt = p.client_token(&business).await;
    let b = As::new(app, &bt);
    let unit = b.create_account("Business Unit West", "unit", None).await;
    let program = b
        .create_account("Program Summer", "unit", Some(&unit))
        .await;
    let (ut, prt) = (b.client_token(&unit).await, b.client_token(&program).await);
    let (u, pr) = (As::new(app, &ut), As::new(app, &prt));
    let other = p.create_account("Other Business", "customer", None).await;
    let other_unit = p.create_account("Other Unit", "unit", Some(&other)).await;
    // The tree rule: a unit is below a customer or a unit, a customer never below a unit.
    p.post(
        "/v2/accounts",
        json!({"name": "Loose Unit", "kind": "unit"}),
    )
    .await
    .refused(422, RULE, "R-TREE-1");
    b.post(
        "/v2/accounts",
        json!({"name": "Nested Business", "kind": "customer", "parent_id": unit}),
    )
    .await
    .refused(422, RULE, "R-TREE-1");

    let (n1, n2, n3) = (local(400), local(401), local(402));
    let (tf1, tf2) = ("+18005550400".to_string(), "+18885550401".to_string());
    for n in [&n1, &n2, &n3, &tf1, &tf2] {
        p.add(json!({"phone_number": n})).await;
    }

    // Toll-free licences: set by the provider above the business, never by the business.
    let entitlements = format!("{}/entitlements", account(&business));
    let v = p
        .patch(
            &account(&business),
            json!({"entitlements": {"toll_free": 1}}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(v["entitlements"]["toll_free"], 1, "{v}");
    b.patch(
        &account(&business),
        json!({"entitlements": {"toll_free": 5}}),
    )
    .await
    .refused(422, RULE, "R-ACC-3");
    let v = b.get(&entitlements).await.expect(200).json();
    assert_eq!(v["toll_free"], json!({"limit": 1, "used": 0}), "{v}");
    assert_eq!(
        v["contact_center"],
        json!({"limit": null, "used": 0}),
        "{v}"
    );

    // The provider allocates to the business; the second toll-free number needs a second
    // licence (R-ACC-3), and the limit cannot go below what is in use.
    for n in [&n1, &n2, &n3, &tf1] {
        p.post(
            &num_op(n, "allocate"),
            json!({"account_id": business, "sip_trunk_id": trunk}),
        )
        .await
        .expect(200);
    }
    let v = b.get(&entitlements).await.expect(200).json();
    assert_eq!(v["toll_free"], json!({"limit": 1, "used": 1}), "{v}");
    let allocate_tf2 = json!({"account_id": business, "sip_trunk_id": trunk});
    p.post(&num_op(&tf2, "allocate"), allocate_tf2.clone())
        .await
        .refused(422, RULE, "R-ACC-3");
    assert_eq!(p.number(&tf2).await["position"], "free");
    p.patch(
        &account(&business),
        json!({"entitlements": {"toll_free": 0}}),
    )
    .await
    .refused(422, RULE, "R-ACC-3");

    // Numbers go down to the business unit and the program; the provider moves none (R-MOVE-2),
    // and no unit outside the business is reachable (R-SEC-1).
    let v = b
        .post(&num_op(&n1, "move"), json!({"account_id": unit}))
        .await
        .expect(200)
        .json();
    assert_eq!(v["holder_id"], unit.as_str(), "{v}");
    assert_eq!(
        v["customer_id"],
        business.as_str(),
        "still the business's: {v}"
    );
    b.post(&num_op(&n2, "move"), json!({"account_id": unit}))
        .await
        .expect(200);
    // The unit admin passes one on to the program below it, not back up.
    let v = u
        .post(&num_op(&n2, "move"), json!({"account_id": program}))
        .await
        .expect(200)
        .json();
    assert_eq!(v["holder_id"], program.as_str(), "{v}");
    pr.post(&num_op(&n2, "move"), json!({"account_id": unit}))
        .await
        .not_found();
    p.post(&num_op(&n3, "move"), json!({"account_id": unit}))
        .await
        .refused(422, RULE, "R-MOVE-2");
    b.post(&num_op(&n3, "move"), json!({"account_id": other_unit}))
        .await
        .not_found();
    p.post(&num_op(&n3, "move"), json!({"account_id": other_unit}))
        .await
        .refused(422, RULE, "R-MOVE-2");

    // Each level sees its own numbers and those below it, nothing else (R-SEC-1).
    assert_eq!(
        b.listed().await,
        BTreeSet::from([n1.clone(), n2.clone(), n3.clone(), tf1.clone()])
    );
    assert_eq!(u.listed().await, BTreeSet::from([n1.clone(), n2.clone()]));
    assert_eq!(pr.listed().await, BTreeSet::from([n2.clone()]));
    for n in [&n3, &tf1] {
        u.get(&num(n)).await.not_found();
        pr.get(&num(n)).await.not_found();
    }
    pr.get(&num(&n1)).await.not_found();
    let v = u.get("/v2/accounts").await.expect(200).json();
    assert_eq!(v["total_records"], 2, "the unit and its program: {v}");

    // Edit: the program sets a display name and call purpose; the business edits the purpose.
    let v = pr
        .patch(
            &num(&n2),
            json!({"display_name": "Summer Hotline", "call_purpose": "Appointment reminders",
                   "program_duration": "2026-06-01 to 2026-08-31"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(v["display_name"], "Summer Hotline", "{v}");
    let v = b
        .patch(&num(&n2), json!({"call_purpose": "Customer care"}))
        .await
        .expect(200)
        .json();
    assert_eq!(v["call_purpose"], "Customer care", "{v}");
    // The unit admin assigns its number to a user.
    u.post(&num_op(&n1, "assign"), user("u-west-1"))
        .await
        .expect(200);

    // View assignments: business, business unit, program, display name, program duration.
    let v = b.get(&num_op(&n2, "assignments")).await.expect(200).json();
    assert_eq!(v["phone_number"], n2.as_str(), "{v}");
    assert_eq!(v["business"]["id"], business.as_str(), "{v}");
    assert_eq!(v["business"]["name"], "Business Beta", "{v}");
    assert_eq!(v["business_unit"]["id"], unit.as_str(), "{v}");
    assert_eq!(v["business_unit"]["name"], "Business Unit West", "{v}");
    assert_eq!(v["program"]["id"], program.as_str(), "{v}");
    assert_eq!(v["program"]["name"], "Program Summer", "{v}");
    assert_eq!(v["display_name"], "Summer Hotline", "{v}");
    assert_eq!(v["call_purpose"], "Customer care", "{v}");
    assert_eq!(v["program_duration"], "2026-06-01 to 2026-08-31", "{v}");
    // The program admin sees the same number, but not the business and unit above it (R-SEC-1).
    let mut seen_by_program = v.clone();
    seen_by_program["business"] = Value::Null;
    seen_by_program["business_unit"] = Value::Null;
    seen_by_program["units"] = json!([{"id": program, "name": "Program Summer"}]);
    assert_eq!(
        pr.get(&num_op(&n2, "assignments")).await.expect(200).json(),
        seen_by_program
    );
    let v = u.get(&num_op(&n1, "assignments")).await.expect(200).json();
    assert_eq!(v["business"], Value::Null, "{v}");
    assert_eq!(v["business_unit"]["id"], unit.as_str(), "{v}");
    assert_eq!(v["program"], Value::Null, "{v}");
    assert_eq!(v["assignees"][0]["assignee_id"], "u-west-1", "{v}");
    let v = b.get(&num_op(&n3, "assignments")).await.expect(200).json();
    assert_eq!(v["business"]["id"], business.as_str(), "{v}");
    assert_eq!(v["business_unit"], Value::Null, "{v}");
    u.get(&num_op(&n3, "assignments")).await.not_found();

    // Remove numbers: the business releases one (Returned at the provider); an assigned one
    // is refused (R-MOVE-3). Removing the toll-free number frees its licence.
    b.call(&num_op(&n3, "release")).await.expect(200);
    b.get(&num(&n3)).await.not_found();
    assert_eq!(p.number(&n3).await["position"], "returned");
    b.call(&num_op(&n1, "release"))
        .await
        .refused(422, RULE, "R-MOVE-3");
    b.call(&num_op(&tf1, "release")).await.expect(200);
    let v = b.get(&entitlements).await.expect(200).json();
    assert_eq!(v["toll_free"], json!({"limit": 1, "used": 0}), "{v}");
    p.post(&num_op(&tf2, "allocate"), allocate_tf2)
        .await
        .expect(200);
    let v = p.get(&entitlements).await.expect(200).json();
    assert_eq!(v["toll_free"], json!({"limit": 1, "used": 1}), "{v}");

    // R-OFF-1: the business unit holds a number and its program another: not deactivated,
    // and the offboarding check says why. A unit never deactivates itself.
    let deactivate = format!("{}/deactivate", account(&unit));
    b.call(&deactivate).await.refused(422, RULE, "R-OFF-1");
    u.call(&deactivate).await.refused(422, RULE, "R-OFF-1");
    let off = b
        .get(&format!("{}/offboarding", account(&unit)))
        .await
        .expect(200)
        .json();
    let chk = check(&off, "deactivate_account", None);
    assert_eq!(chk["ready"], false, "{off}");
    assert_blocker(chk, "numbers_held", "R-OFF-1", &[&n1]);
    assert_blocker(chk, "numbers_held_below", "R-OFF-1", &[&n2]);
    assert_blocker(chk, "assigned_numbers", "R-OFF-1", &[&n1]);
    // Moved back to the business, the unit is empty and is deactivated.
    for n in [&n1, &n2] {
        let v = b
            .post(&num_op(n, "move"), json!({"account_id": business}))
            .await
            .expect(200)
            .json();
        assert_eq!(v["holder_id"], business.as_str(), "{v}");
    }
    let off = b
        .get(&format!("{}/offboarding", account(&unit)))
        .await
        .expect(200)
        .json();
    assert_eq!(
        check(&off, "deactivate_account", None)["ready"],
        true,
        "{off}"
    );
    let v = b.call(&deactivate).await.expect(200).json();
    assert_eq!(v["status"], "deactivated", "{v}");
    b.call(&deactivate).await.refused(422, RULE, "R-OFF-1");
    // Its clients, and those of the program below it, are refused; nothing moves into it.
    for who in [u, pr] {
        who.get(NUMBERS).await.expect_error(401, "unauthorized");
    }
    b.post(&num_op(&n1, "move"), json!({"account_id": unit}))
        .await
        .refused(422, RULE, "R-MOVE-5");
    // Reactivated, it works as before.
    let reactivate = format!("{}/reactivate", account(&unit));
    let v = b.call(&reactivate).await.expect(200).json();
    assert_eq!(v["status"], "active", "{v}");
    b.call(&reactivate).await.refused(422, RULE, "R-OFF-1");
    for who in [u, pr] {
        who.get(NUMBERS).await.expect(200);
    }
    b.post(&num_op(&n1, "move"), json!({"account_id": unit}))
        .await
        .expect(200);
    assert_eq!(u.listed().await, BTreeSet::from([n1.clone()]));

    // Numbers are removed at any level: the program releases its number, the business unit
    // unassigns and releases its own; the provider sees both returned.
    b.post(&num_op(&n2, "move"), json!({"account_id": program}))
        .await
        .expect(200);
    pr.call(&num_op(&n2, "release")).await.expect(200);
    u.delete(&num_op(&n1, "assign")).await.expect(200);
    u.call(&num_op(&n1, "release")).await.expect(200);
    for n in [&n1, &n2] {
        b.get(&num(n)).await.not_found();
        let v = p.number(n).await;
        assert_eq!(v["position"], "returned", "{v}");
        assert_eq!(
            v["display_name"],
            Value::Null,
            "the business's own fields leave: {v}"
        );
        assert_eq!(v["call_purpose"], Value::Null, "{v}");
    }
    assert_eq!(b.listed().await, BTreeSet::from([tf2]));
}

/// Seed 002, the number-management API, as a client written against it would call it: its
/// four examples with their bodies and the response fields they show, then every endpoint of
/// its tables answering (only the base URL, the token and the platform's own ids differ).
async fn seed_002_number_management_api_verbatim(db: &TestDb) {
    let app = &spawn_app(db).await;
    let provider = root(app, "Zoom-like Provider", AccountKind::Provider, false).await;
    let pt = app.client(&provider, None).await.token;
    let p = As::new(app, &pt);
    p.trunk("trunk-1", "us-west").await;
    p.post(
        "/v2/rate_card",
        json!({"country": "US", "number_type": "local", "monthly_cost_cents": 100}),
    )
    .await
    .expect(201);
    let site = p.create_account("Site ABC", "customer", None).await;
    let ct = p.client_token(&site).await;
    let c = As::new(app, &ct);
    // `POST /phone/numbers`: the numbers the search will find, with the seed's capabilities.
    for n in ["+14155551001", "+14155551002"] {
        p.add(json!({"phone_number": n, "capabilities": ["voice", "sms"]}))
            .await;
    }

    // Example: search available numbers, as written.
    let found = p
        .get("/v2/phone/numbers/available?country=US&state=CA&area_code=415&quantity=10")
        .await
        .expect(200)
        .json();
    for (i, n) in ["+14155551001", "+14155551002"].iter().enumerate() {
        let a = &found["available_numbers"][i];
        for (field, want) in [
            ("phone_number", json!(n)),
            ("country", json!("US")),
            ("state", json!("CA")),
            ("city", json!("San Francisco")),
            ("type", json!("local")),
            ("capabilities", json!(["voice", "sms"])),
            ("monthly_cost", json!(1.0)),
        ] {
            assert_eq!(a[field], want, "{field}: {found}");
        }
    }

    // Example: provision numbers, as written (its `site_id` is one of the platform's ids).
    let done = p
        .post(
            "/v2/phone/numbers/provision",
            json!({"phone_numbers": ["+14155551001", "+14155551002"], "site_id": site}),
        )
        .await
        .expect(200)
        .json();
    for (i, n) in ["+14155551001", "+14155551002"].iter().enumerate() {
        let x = &done["provisioned_numbers"][i];
        assert!(x["id"].as_str().is_some_and(|s| !s.is_empty()), "{done}");
        assert_eq!(x["phone_number"], *n, "{done}");
        assert_eq!(x["status"], "active", "{done}");
    }

    // Example: create a port-in request, as written.
    let order = p
        .post(
            "/v2/phone/porting/orders",
            json!({
                "phone_numbers": ["+14155559999"],
                "carrier_name": "Previous Carrier",
                "account_number": "123456789",
                "account_pin": "1234",
                "authorized_person": "John Doe",
                "billing_address": {
                    "address": "123 Main St",
                    "city": "San Francisco",
                    "state": "CA",
                    "zip": "94105"
                },
                "requested_port_date": "2024-02-01"
            }),
        )
        .await
        .expect(201)
        .json();
    assert!(order["order_id"].as_str().is_some(), "{order}");
    assert_eq!(order["status"], "submitted", "{order}");
    assert_eq!(order["phone_numbers"], json!(["+14155559999"]), "{order}");
    assert!(
        order["submitted_at"]
            .as_str()
            .is_some_and(|t| t.len() >= 20 && t.ends_with('Z')),
        "{order}"
    );
    assert_eq!(order["estimated_completion"], "2024-02-01", "{order}");
    let order_path = format!(
        "/v2/phone/porting/orders/{}",
        order["order_id"].as_str().must("order_id")
    );

    // Example: assign a number, as written (by the site that holds it).
    let assigned = c
        .post(
            &num_op("+14155551001", "assign"),
            json!({"assignee_type": "user", "assignee_id": "user_abc123"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        assigned["assignees"][0]["assignee_id"], "user_abc123",
        "{assigned}"
    );

    // Every endpoint of the seed's tables answers: none is 404 for want of the route, none
    // 405.
    let id1 = c.number("+14155551002").await["id"]
        .as_str()
        .must("id")
        .to_string();
    c.get(NUMBERS).await.expect(200);
    c.get(&format!("{NUMBERS}/{id1}")).await.expect(200);
    c.patch(
        &format!("{NUMBERS}/{id1}"),
        json!({"billing_reference": "B-1"}),
    )
    .await
    .expect(200);
    p.get("/v2/phone/numbers/inventory").await.expect(200);
    c.delete(&num_op("+14155551001", "assign"))
        .await
        .expect(200);
    c.get("/v2/phone/numbers/unassigned").await.expect(200);
    // `DELETE /phone/numbers/{numberId}` removes a number its uploader holds free (a customer
    // gives one back with `…/release`: seeds 000, 001 and 003 refuse it a delete, R-DEL-2).
    let spare = p.add(json!({"phone_number": "+14155551003"})).await;
    p.delete(&format!("{NUMBERS}/{}", id(&spare)))
        .await
        .expect(204);
    p.get("/v2/phone/porting/orders").await.expect(200);
    p.get(&order_path).await.expect(200);
    p.patch(&order_path, json!({"status": "pending"}))
        .await
        .expect(200);
    p.post(
        "/v2/phone/porting/validate",
        json!({"phone_numbers": ["+14155559998"]}),
    )
    .await
    .expect(200);
    p.delete(&order_path).await.expect(200);
    let block = p
        .post(
            "/v2/phone/number_blocks",
            json!({"start_number": "+14155552000", "size": 10}),
        )
        .await
        .expect(201)
        .json();
    p.get("/v2/phone/number_blocks").await.expect(200);
    p.delete(&format!("/v2/phone/number_blocks/{}", id(&block)))
        .await
        .expect(200);
    p.add(json!({"phone_number": "+18885550100"})).await;
    p.get("/v2/phone/numbers/toll_free").await.expect(200);
    let tf = p
        .get("/v2/phone/numbers/toll_free/available")
        .await
        .expect(200)
        .json();
    assert_eq!(
        tf["available_numbers"][0]["phone_number"], "+18885550100",
        "{tf}"
    );
    p.post(
        "/v2/phone/numbers/toll_free",
        json!({"phone_numbers": ["+18885550100"], "site_id": site}),
    )
    .await
    .expect(200);
}

backend_tests!(
    seed_000_cloud_peering_provider_and_connected_customer,
    seed_001_master_account_sub_accounts_and_free_pool,
    seed_002_number_management_api_verbatim,
    seed_003_master_reseller_reseller_and_enterprise,
    seed_004_business_units_and_programs,
);
