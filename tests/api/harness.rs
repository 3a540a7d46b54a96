//! The harness: a real server on 127.0.0.1:0 over a fresh test database, and the named fixture
//! world (built through the service layer, as tests/service does) with API clients whose tokens
//! come from `POST /oauth/token`.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use axum::http::Method;
use numberpool::config::Config;
use numberpool::service::{Actor, CreatedClient, Service};
use numberpool::startup::Application;
use numberpool_domain::{
    Account, AccountKind, Assignee, AssigneeType, CarrierId, E164, Number, TrunkId,
};
use numberpool_store::Store;
use numberpool_store::testing::TestDb;
use serde_json::Value;

pub use crate::common::Must;
use crate::common::fixture::{account, add_one, allocate, attribute, carrier, rate, trunk};
pub use crate::common::fixture::{as_, by_id, e164};
use crate::http::{RequestBuilder, Resp};

/// The four scopes of SPEC §7.
pub const SCOPES: [&str; 4] = [
    "phone:read:admin",
    "phone:write:admin",
    "phone_number:read:admin",
    "phone_number:write:admin",
];

/// A valid US number of the unrelated tenant's world: `+1212555` and four digits.
pub fn tenant_e164(i: u32) -> E164 {
    assert!(i < 10_000, "fixture numbers have four digits");
    E164::parse(&format!("+1212555{i:04}")).must("tenant number")
}

/// `{numberId}` in its E.164 form, URL-encoded.
pub fn enc(e164: &str) -> String {
    e164.replace('+', "%2B")
}

/// The configuration of a test server: port 0, the test database, no rate limit.
pub fn test_config(db: &TestDb) -> Config {
    Config {
        database_url: db.url.clone(),
        listen: "127.0.0.1:0".into(),
        data_dir: std::env::temp_dir(),
        rate_limit_per_second: 0,
        rate_limit_burst: 0,
        ..Default::default()
    }
}

/// A running server.
pub struct App {
    pub addr: SocketAddr,
    pub service: Service,
    pub store: Store,
}

/// A server on a fresh store of `db`, serving in a task of the test's runtime.
pub async fn spawn_app(db: &TestDb) -> App {
    spawn_app_with(db, test_config(db)).await
}

pub async fn spawn_app_with(db: &TestDb, config: Config) -> App {
    let store = db.store().await;
    let app = Application::build_with_store(&config, store.clone())
        .await
        .must("build the application");
    let addr = app.local_addr().must("local address");
    let service = app.service().clone();
    tokio::spawn(async move {
        if let Err(e) = app.run_until_stopped().await {
            panic!("the server stopped: {e}");
        }
    });
    App {
        addr,
        service,
        store,
    }
}

impl App {
    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        RequestBuilder::new(self.addr, method, path)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.req(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.req(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.req(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.req(Method::DELETE, path)
    }

    /// `GET path` with `token` and nothing else.
    pub async fn get_as(&self, token: &str, path: &str) -> Resp {
        self.get(path).bearer(token).send().await
    }

    /// `DELETE path` with `token` and nothing else (no `If-Match`).
    pub async fn delete_as(&self, token: &str, path: &str) -> Resp {
        self.delete(path).bearer(token).send().await
    }

    /// `POST /oauth/token` with HTTP Basic, as is.
    pub async fn token_request(&self, id: &str, secret: &str, scope: Option<&str>) -> Resp {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        self.post("/oauth/token")
            .basic(id, secret)
            .form(&form)
            .send()
            .await
    }

    /// An access token for the client; panics unless the server grants one.
    pub async fn token(&self, id: &str, secret: &str, scope: Option<&str>) -> String {
        let r = self.token_request(id, secret, scope).await.expect(200);
        r.json()["access_token"]
            .as_str()
            .must("access_token in the token response")
            .to_string()
    }

    /// An API client of `account` created through the service (all scopes when `scopes` is
    /// `None`), with a token from `POST /oauth/token`.
    pub async fn client(&self, account: &Account, scopes: Option<&str>) -> Client {
        let c: CreatedClient = self
            .service
            .create_client(&Actor::cli(account.id), account.id, scopes)
            .await
            .must("create client");
        let token = self.token(&c.client_id, &c.client_secret, None).await;
        Client {
            id: c.client_id,
            secret: c.client_secret,
            token,
        }
    }

    /// `GET /openapi.json`.
    pub async fn openapi(&self) -> Value {
        self.get("/openapi.json").send().await.expect(200).json()
    }

    /// Every number `token` sees with the query `q` (e.g. `position=free`), walking all pages.
    /// Checks that the pages add up to `total_records` with no duplicate.
    pub async fn list_all(&self, token: &str, base: &str, q: &str) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut next = String::new();
        let mut total = None;
        for _ in 0..1000 {
            let mut url = format!("{base}?page_size=50");
            if !q.is_empty() {
                url.push('&');
                url.push_str(q);
            }
            if !next.is_empty() {
                url.push_str("&next_page_token=");
                url.push_str(&crate::http::form_encode(&next));
            }
            let page = self.get(&url).bearer(token).send().await.expect(200).json();
            let t = page["total_records"].as_i64().must("total_records");
            assert!(
                total.is_none_or(|x| x == t),
                "{url}: total_records changed while paging"
            );
            total = Some(t);
            for n in page["phone_numbers"].as_array().must("phone_numbers") {
                let id = n["id"].as_str().must("id").to_string();
                assert!(seen.insert(id.clone()), "{url}: {id} listed twice");
                out.push(n.clone());
            }
            next = page["next_page_token"]
                .as_str()
                .must("next_page_token")
                .to_string();
            if next.is_empty() {
                assert_eq!(
                    Some(out.len() as i64),
                    total,
                    "{base}?{q}: the pages add up to total_records"
                );
                return out;
            }
        }
        panic!("{base}?{q}: more than 1000 pages");
    }
}

/// An API client with its secret and a token.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub secret: String,
    pub token: String,
}

/// The fixture world:
///
/// ```text
/// provider ─┬─ reseller ── res_customer
///           ├─ customer ── unit
///           └┈ root_customer (a root customer connected through Provider Exchange)
/// tenant ──── tenant_customer          (an unrelated provider)
/// ```
///
/// with numbers in every position and API clients for the provider, the customer and the tenant.
pub struct World {
    pub app: App,
    pub provider: Account,
    pub reseller: Account,
    pub res_customer: Account,
    pub customer: Account,
    pub unit: Account,
    pub root_customer: Account,
    pub tenant: Account,
    pub tenant_customer: Account,
    pub trunk: TrunkId,
    pub tenant_trunk: TrunkId,
    /// The provider's voice carrier (its default), made after the numbers: they have none.
    pub carrier: CarrierId,
    /// The provider's attribute key `tier` (gold, silver), which no number carries.
    pub attribute: numberpool_domain::AttributeId,
    /// The provider's rate card entry for US local numbers (100 cents).
    pub rate: numberpool_domain::RateId,
    /// Free in the provider's pool.
    pub free: Number,
    /// With the customer, unassigned.
    pub held: Number,
    /// With the customer, assigned to a user.
    pub assigned: Number,
    /// In the customer's unit.
    pub in_unit: Number,
    /// Released by the customer: returned in the provider's pool.
    pub returned: Number,
    /// Allocated to the reseller: free in its pool, in use for the provider.
    pub at_reseller: Number,
    /// The reseller's own upload, allocated to its customer.
    pub res_held: Number,
    /// With the connected root customer.
    pub connected: Number,
    /// The connected root customer's own number.
    pub root_own: Number,
    /// The tenant's free number and one with its customer.
    pub tenant_free: Number,
    pub tenant_held: Number,
    pub provider_client: Client,
    pub customer_client: Client,
    pub tenant_client: Client,
}

impl World {
    /// A server on a fresh database of `db`, with the world in it.
    pub async fn new(db: &TestDb) -> World {
        World::on(spawn_app(db).await).await
    }

    /// The world on a running server.
    pub async fn on(app: App) -> World {
        use AccountKind::*;
        let s = app.service.clone();
        let provider = account(&s, "Provider Prime", Provider, None, false).await;
        let reseller = account(&s, "Reseller Rho", Reseller, Some(&provider), false).await;
        let res_customer =
            account(&s, "Reseller Client Rc", Customer, Some(&reseller), false).await;
        let customer = account(&s, "Customer Kappa", Customer, Some(&provider), false).await;
        let unit = account(&s, "Unit Upsilon", Unit, Some(&customer), false).await;
        let root_customer = account(&s, "Root Customer Rx", Customer, None, true).await;
        s.connect_exchange(&as_(&root_customer), &provider.account_number)
            .await
            .must("connect exchange");
        let tenant = account(&s, "Tenant Tau", Provider, None, false).await;
        let tenant_customer =
            account(&s, "Tenant Customer Tc", Customer, Some(&tenant), false).await;
        let tenant_trunk = trunk(&app.store, &tenant, "trunk-tau").await;
        let trunk = trunk(&app.store, &provider, "trunk-prime").await;

        let add = |who: Account, n: E164| {
            let s = s.clone();
            async move { add_one(&s, &who, &n).await }
        };
        let allocate = |who: Account, n: Number, to: Account, t: Option<TrunkId>| {
            let s = s.clone();
            async move { allocate(&s, &who, &n, &to, t).await }
        };
        let p = provider.clone();
        let free = add(p.clone(), e164(100)).await;
        let held = allocate(
            p.clone(),
            add(p.clone(), e164(101)).await,
            customer.clone(),
            Some(trunk),
        )
        .await;
        let assigned = {
            let n = allocate(
                p.clone(),
                add(p.clone(), e164(102)).await,
                customer.clone(),
                Some(trunk),
            )
            .await;
            s.assign(
                &as_(&customer),
                &by_id(&n),
                Assignee {
                    kind: AssigneeType::User,
                    id: "user-kappa-1".into(),
                    display_name: Some("Kappa One".into()),
                },
            )
            .await
            .must("assign")
        };
        let in_unit = {
            let n = allocate(
                p.clone(),
                add(p.clone(), e164(103)).await,
                customer.clone(),
                Some(trunk),
            )
            .await;
            s.move_to_unit(&as_(&customer), &by_id(&n), unit.id)
                .await
                .must("move to unit")
        };
        let returned = {
            let n = allocate(
                p.clone(),
                add(p.clone(), e164(104)).await,
                customer.clone(),
                Some(trunk),
            )
            .await;
            s.release(&as_(&customer), &by_id(&n)).await.must("release")
        };
        let at_reseller = allocate(
            p.clone(),
            add(p.clone(), e164(105)).await,
            reseller.clone(),
            None,
        )
        .await;
        let res_held = allocate(
            reseller.clone(),
            add(reseller.clone(), e164(106)).await,
            res_customer.clone(),
            Some(trunk),
        )
        .await;
        let connected = allocate(
            p.clone(),
            add(p.clone(), e164(107)).await,
            root_customer.clone(),
            Some(trunk),
        )
        .await;
        let root_own = add(root_customer.clone(), e164(108)).await;
        let tenant_free = add(tenant.clone(), tenant_e164(100)).await;
        let tenant_held = allocate(
            tenant.clone(),
            add(tenant.clone(), tenant_e164(101)).await,
            tenant_customer.clone(),
            Some(tenant_trunk),
        )
        .await;
        let carrier = carrier(&app.store, &provider, "voice", "Carrier Prime", true).await;
        let attribute = attribute(&app.store, &provider, "tier", &["gold", "silver"]).await;
        let rate = rate(
            &app.store,
            &provider,
            "US",
            numberpool_domain::NumberType::Local,
            100,
            "USD",
        )
        .await;
        let provider_client = app.client(&provider, None).await;
        let customer_client = app.client(&customer, None).await;
        let tenant_client = app.client(&tenant, None).await;
        World {
            app,
            provider,
            reseller,
            res_customer,
            customer,
            unit,
            root_customer,
            tenant,
            tenant_customer,
            trunk,
            tenant_trunk,
            carrier,
            attribute,
            rate,
            free,
            held,
            assigned,
            in_unit,
            returned,
            at_reseller,
            res_held,
            connected,
            root_own,
            tenant_free,
            tenant_held,
            provider_client,
            customer_client,
            tenant_client,
        }
    }

    /// The accounts on the provider's side (everything but the tenant and its customer).
    pub fn provider_accounts(&self) -> Vec<&Account> {
        vec![
            &self.provider,
            &self.reseller,
            &self.res_customer,
            &self.customer,
            &self.unit,
            &self.root_customer,
        ]
    }

    /// A planned import of the provider (one row to create, one rejected), for the sweeps
    /// that need an import id to aim at.
    /// A number block of three in the provider's pool (+14155550960 to 962), by id.
    pub async fn provider_block(&self) -> String {
        self.app
            .service
            .create_block(
                &numberpool::service::Actor::cli(self.provider.id),
                e164(960),
                3,
                Default::default(),
            )
            .await
            .must("provider block")
            .id
            .to_string()
    }

    /// A reservation of the provider's, of a number it adds for it (+14155550970), held for
    /// `for_account` (its customer or connected customer); by id.
    pub async fn provider_reservation(&self, for_account: &Account) -> String {
        let p = numberpool::service::Actor::cli(self.provider.id);
        let add = numberpool::service::AddNumber {
            phone_number: e164(970),
            fields: Default::default(),
        };
        self.app
            .service
            .add_numbers(&p, vec![add])
            .await
            .must("add the reserved number");
        self.app
            .service
            .reserve(&p, &[e164(970)], for_account.id, None)
            .await
            .must("provider reservation")
            .id
            .to_string()
    }

    /// A pool threshold of the provider's (+1 415), by id.
    pub async fn provider_threshold(&self) -> String {
        let p = numberpool::service::Actor::cli(self.provider.id);
        self.app
            .service
            .add_pool_threshold(
                &p,
                numberpool::service::forecast::ThresholdInput {
                    prefix: "1415".into(),
                    ..Default::default()
                },
            )
            .await
            .must("provider threshold")
            .id
            .to_string()
    }

    /// A webhook subscription of the provider's (turned off, so nothing is sent from the test)
    /// and one delivery of it (pending, of the provider's first event): their ids.
    pub async fn provider_webhook(&self) -> (String, String) {
        let p = numberpool::service::Actor::cli(self.provider.id);
        let s = &self.app.service;
        let (hook, _) = s
            .create_webhook(
                &p,
                numberpool::service::webhooks::WebhookInput {
                    url: Some("https://1.1.1.1/hook".into()),
                    ..Default::default()
                },
            )
            .await
            .must("provider webhook");
        s.update_webhook(
            &p,
            hook.id,
            numberpool::service::webhooks::WebhookInput {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .must("turn the webhook off");
        let first = {
            let mut r = self.app.store.read().await.must("read");
            r.events_for(self.provider.id, 0, 1, &[])
                .await
                .must("the provider's first event")
                .pop()
                .must("an event")
        };
        let mut tx = self.app.store.begin().await.must("begin");
        tx.replay_deliveries(
            hook.id,
            &[(first.sequence, first.event.id)],
            numberpool_domain::now_ms(),
        )
        .await
        .must("a delivery");
        tx.commit().await.must("commit");
        let d = s
            .list_deliveries(&p, hook.id, None, 1)
            .await
            .must("deliveries")
            .pop()
            .must("the delivery");
        (hook.id.to_string(), d.id.to_string())
    }

    /// A port-in order of the provider's (+14155550980, submitted), by id.
    pub async fn provider_port_order(&self) -> String {
        let req = numberpool::service::NewPortOrder {
            phone_numbers: vec![e164(980).as_str().to_string()],
            carrier_name: "Old Carrier".into(),
            account_number: "42".into(),
            account_pin: "2468".into(),
            authorized_person: "Pat".into(),
            billing_address: numberpool_domain::porting::BillingAddress {
                address: "1 Main St".into(),
                city: "Springfield".into(),
                state: "IL".into(),
                zip: "62701".into(),
            },
            requested_port_date: "2030-01-01".into(),
        };
        self.app
            .service
            .create_port_order(&numberpool::service::Actor::cli(self.provider.id), req)
            .await
            .must("provider port order")
            .order_id
            .to_string()
    }

    /// A PDF attached to the provider's port-in order `order`, by id.
    pub async fn provider_port_attachment(&self, order: &str) -> String {
        self.app
            .service
            .attach_to_port_order(
                &numberpool::service::Actor::cli(self.provider.id),
                order.parse().must("order id"),
                Some("loa"),
                Some("loa.pdf"),
                b"%PDF-1.4\n",
            )
            .await
            .must("provider port attachment")
            .id
            .to_string()
    }

    pub async fn provider_import(&self) -> String {
        let req = numberpool::service::ImportRequest {
            action: numberpool_domain::import::ImportAction::Add,
            file_name: "provider.csv".into(),
            default_country: None,
            add: Default::default(),
        };
        let file = format!("Phone Number\n{}\n4155550000\n", e164(950).as_str());
        self.app
            .service
            .plan_import(
                &numberpool::service::Actor::cli(self.provider.id),
                &req,
                file.into_bytes(),
            )
            .await
            .must("provider import")
            .record
            .id
            .to_string()
    }

    /// A ready export of the provider's (which raised its notification) and an export
    /// schedule, for the sweeps that need their ids: (export, schedule, notification).
    pub async fn provider_exports(&self) -> (String, String, String) {
        use numberpool_domain::import::{Cadence, ExportKind, FileFormat};
        let actor = numberpool::service::Actor::cli(self.provider.id);
        let s = &self.app.service;
        let export = numberpool::jobs::request_export(s, &actor, ExportKind::List, FileFormat::Csv)
            .await
            .must("provider export");
        // The server's own worker makes it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while s
            .get_export(&actor, export.record.id)
            .await
            .must("export")
            .record
            .status
            != numberpool_domain::import::ExportStatus::Ready
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the export was not made in 30 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let schedule = s
            .create_export_schedule(
                &actor,
                ExportKind::Consolidated,
                FileFormat::Xlsx,
                Cadence::Weekly,
            )
            .await
            .must("schedule");
        let note = s
            .list_notifications(&actor, false, 10)
            .await
            .must("notifications");
        let note = note.first().must("the export's notification");
        (
            export.record.id.to_string(),
            schedule.id.to_string(),
            note.id.to_string(),
        )
    }

    /// The numbers on the provider's side.
    pub fn provider_numbers(&self) -> Vec<&Number> {
        vec![
            &self.free,
            &self.held,
            &self.assigned,
            &self.in_unit,
            &self.returned,
            &self.at_reseller,
            &self.res_held,
            &self.connected,
            &self.root_own,
        ]
    }

    /// Strings no response to the tenant may contain: the provider side's ids, E.164 numbers
    /// (with and without `+`), account names and numbers, the trunk and the client ids.
    pub fn provider_secrets(&self, clients: &[&Client]) -> Vec<String> {
        let mut out = Vec::new();
        for a in self.provider_accounts() {
            out.push(a.id.to_string());
            out.push(a.name.clone());
            out.push(a.account_number.clone());
        }
        for n in self.provider_numbers() {
            out.push(n.id.to_string());
            out.push(n.phone_number.as_str().to_string());
            out.push(n.phone_number.as_str().trim_start_matches('+').to_string());
        }
        out.push(self.trunk.to_string());
        out.push(self.carrier.to_string());
        out.push(self.attribute.to_string());
        out.push(self.rate.to_string());
        for c in [&self.provider_client, &self.customer_client]
            .into_iter()
            .chain(clients.iter().copied())
        {
            out.push(c.id.clone());
            out.push(c.secret.clone());
            out.push(c.token.clone());
        }
        out
    }

    pub async fn get_as(&self, token: &str, n: &Number) -> Resp {
        self.app
            .get(&format!("/v2/phone/numbers/{}", n.id))
            .bearer(token)
            .send()
            .await
    }
}

/// Panics naming the first of `forbidden` that `body` contains.
#[track_caller]
pub fn assert_no_leak(what: &str, body: &str, forbidden: &[String]) {
    for f in forbidden {
        assert!(
            f.is_empty() || !body.contains(f.as_str()),
            "{what}: the response shows {f:?}, which this caller must not see: {body}"
        );
    }
}
