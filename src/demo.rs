//! `numberpool demo`: a ready database with a provider, a reseller, customers (one connected
//! through Provider Exchange), a unit, trunks, carriers and a few hundred numbers in every state,
//! then the server. Re-running reuses the data and prints fresh logins (passwords and secrets are
//! stored hashed, so old ones cannot be shown again).

use crate::cli::outln;
use numberpool_domain::{
    AccountId, AccountKind, Assignee, AssigneeType, E164, NewNumber, NumberPatch, NumberStatus,
    Product, TrunkId,
};
use numberpool_store::NumberLookup;

use crate::config::Config;
use crate::service::{
    Actor, AddNumber, AllocateOptions, CreateAccount, Role, Service, ServiceError,
    credentials_token,
};
use crate::startup::{Application, open_store};

const PROVIDER_NAME: &str = "Acme Telecom (demo)";
const ADMIN_EMAIL: &str = "admin@acme.example";
/// A viewer of the provider: sees everything, changes nothing.
const VIEWER_EMAIL: &str = "viewer@acme.example";
/// The admin of the customer Globex Corporation (the customer portal).
const CUSTOMER_EMAIL: &str = "admin@globex.example";
const CUSTOMER_NAME: &str = "Globex Corporation";
/// The admin of the customer connected through Provider Exchange.
const EXCHANGE_EMAIL: &str = "admin@initech.example";
const EXCHANGE_NAME: &str = "Initech (Provider Exchange)";
/// Numbers the provider sees once the demo data is complete (300 of its own, 3 of a customer's).
const DEMO_NUMBERS: i64 = 303;

/// What the demo printed: also what `--json` prints.
#[derive(Debug, serde::Serialize)]
pub struct DemoLogins {
    pub url: String,
    /// The provider's owner.
    pub portal: Portal,
    /// A viewer of the provider.
    pub viewer: Portal,
    /// The admin of the customer Globex Corporation.
    pub customer: Portal,
    /// The admin of Initech, connected to the provider through Provider Exchange.
    pub exchange_customer: Portal,
    pub api: Api,
}

#[derive(Debug, serde::Serialize)]
pub struct Portal {
    pub email: String,
    pub password: String,
}

#[derive(Debug, serde::Serialize)]
pub struct Api {
    pub client_id: String,
    pub client_secret: String,
    /// The provider account the client acts for.
    pub account_id: AccountId,
}

/// Accounts of the demo world.
struct World {
    provider: AccountId,
    reseller: AccountId,
    globex: AccountId,
    unit: AccountId,
    umbrella: AccountId,
    initech: AccountId,
    trunk: TrunkId,
}

fn svc(e: ServiceError) -> anyhow::Error {
    crate::cli::service_err(e)
}

/// `count` valid numbers starting at `start` (an E.164 string of digits after '+').
fn numbers_from(start: u64, count: usize) -> Vec<E164> {
    (start..)
        .take(count * 4)
        .filter_map(|n| E164::parse(&format!("+{n}")).ok())
        .take(count)
        .collect()
}

/// Creates an account as the operator.
async fn account(
    service: &Service,
    req: CreateAccount,
) -> anyhow::Result<numberpool_domain::Account> {
    service
        .create_account(&Actor::operator(), req)
        .await
        .map_err(svc)
}

async fn seed(service: &Service) -> anyhow::Result<World> {
    let new = CreateAccount::new;
    let provider_account =
        account(service, new(PROVIDER_NAME, AccountKind::Provider, None)).await?;
    let provider = provider_account.id;
    let reseller_req = new("Blue Sky Reseller", AccountKind::Reseller, Some(provider));
    let reseller = account(service, reseller_req).await?.id;
    let mut globex_req = new(CUSTOMER_NAME, AccountKind::Customer, Some(provider));
    globex_req.allow_external_numbers = true;
    let globex = account(service, globex_req).await?.id;
    let unit = account(
        service,
        new("Globex Sales", AccountKind::Unit, Some(globex)),
    )
    .await?
    .id;
    let umbrella_req = new("Umbrella Clinics", AccountKind::Customer, Some(reseller));
    let umbrella = account(service, umbrella_req).await?.id;
    let initech = account(service, new(EXCHANGE_NAME, AccountKind::Customer, None))
        .await?
        .id;
    service
        .connect_exchange(&Actor::cli(initech), &provider_account.account_number)
        .await
        .map_err(svc)?;

    let (trunk, _) = {
        let mut tx = service.store().begin().await?;
        let t1 = tx.insert_trunk(provider, "us-east-1", "us-east").await?;
        let t2 = tx.insert_trunk(provider, "eu-west-1", "eu-west").await?;
        tx.insert_carrier(provider, "voice", "Carrier One", true)
            .await?;
        tx.insert_carrier(provider, "voice", "Carrier Two", false)
            .await?;
        tx.insert_carrier(provider, "sms", "SMS Profile A", true)
            .await?;
        tx.commit().await?;
        (t1, t2)
    };
    Ok(World {
        provider,
        reseller,
        globex,
        unit,
        umbrella,
        initech,
        trunk,
    })
}

async fn populate(service: &Service, w: &World) -> anyhow::Result<()> {
    let p = Actor::cli(w.provider);
    let add = |nums: Vec<E164>, product: Product, status: NumberStatus| -> Vec<AddNumber> {
        nums.into_iter()
            .map(|e| AddNumber {
                phone_number: e,
                fields: NewNumber {
                    product: Some(product),
                    status: Some(status),
                    ..Default::default()
                },
            })
            .collect()
    };
    let us = numbers_from(14155550100, 240);
    let gb = numbers_from(442071838700, 40);
    let tf = numbers_from(18885550100, 20);
    let mut all = add(us, Product::Phone, NumberStatus::Normal);
    all.extend(add(gb, Product::Unallocated, NumberStatus::Normal));
    all.extend(add(tf, Product::ContactCenter, NumberStatus::Pending));
    let added = service.add_numbers(&p, all).await.map_err(svc)?;
    let ids: Vec<NumberLookup> = added.iter().map(|n| NumberLookup::Id(n.id)).collect();
    // Allocates `numbers` from `by` to `target`, with the demo trunk when `trunk`.
    let allocate = async |by: &Actor, numbers: &[NumberLookup], target: AccountId, trunk: bool| {
        for l in numbers {
            let opts = AllocateOptions {
                sip_trunk_id: trunk.then_some(w.trunk),
                billing_reference: Some(format!("BR-{}", &target.to_string()[..8])),
                service_info: None,
            };
            service.allocate(by, l, target, opts).await.map_err(svc)?;
        }
        anyhow::Ok(())
    };
    // 0..60 stay free at the provider. 60..140 go to Globex: 60..100 unassigned, 100..130
    // assigned, 130..140 in the Globex Sales unit.
    allocate(&p, &ids[60..140], w.globex, true).await?;
    let g = Actor::cli(w.globex);
    for (i, l) in ids[100..130].iter().enumerate() {
        let a = Assignee {
            kind: AssigneeType::User,
            id: format!("user-{i:03}"),
            display_name: Some(format!("User {i}")),
        };
        service.assign(&g, l, a).await.map_err(svc)?;
    }
    for l in &ids[130..140] {
        service.move_to_unit(&g, l, w.unit).await.map_err(svc)?;
    }
    // 140..160 were released by Globex: the provider sees them returned.
    allocate(&p, &ids[140..160], w.globex, true).await?;
    for l in &ids[140..160] {
        service.release(&g, l).await.map_err(svc)?;
    }
    // 160..200 to the reseller's pool; 180..200 on to Umbrella.
    allocate(&p, &ids[160..200], w.reseller, false).await?;
    let r = Actor::cli(w.reseller);
    allocate(&r, &ids[180..200], w.umbrella, true).await?;
    // 200..230 to Initech through Provider Exchange.
    allocate(&p, &ids[200..230], w.initech, true).await?;
    // The pending toll-free numbers (280..300): half are activated.
    for l in &ids[280..290] {
        let patch = NumberPatch {
            status: Some(NumberStatus::Normal),
            ..Default::default()
        };
        service
            .update_number(&p, l, &patch, None)
            .await
            .map_err(svc)?;
    }
    // Globex's own number (R-ACC-2).
    let own = numbers_from(12125550100, 3)
        .into_iter()
        .map(|e| AddNumber {
            phone_number: e,
            fields: NewNumber::default(),
        })
        .collect();
    service.add_numbers(&g, own).await.map_err(svc)?;
    Ok(())
}

/// A fresh password for the demo user `email` of `account`, creating the user if needed.
async fn portal_login(
    service: &Service,
    account: AccountId,
    email: &str,
    role: Role,
) -> anyhow::Result<String> {
    let actor = Actor::cli(account);
    let password = credentials_token(9);
    match service.reset_password(&actor, email, &password).await {
        Ok(()) => {}
        Err(ServiceError::NotFound(_)) => {
            service
                .create_user(&actor, account, email, role, &password)
                .await
                .map_err(svc)?;
        }
        Err(e) => return Err(svc(e)),
    }
    Ok(password)
}

/// Creates (or reuses) the demo data and returns the logins; does not serve.
pub async fn prepare(service: &Service, listen_url: &str) -> anyhow::Result<DemoLogins> {
    let existing = {
        let mut r = service.store().read().await?;
        r.find_account_by_name(PROVIDER_NAME).await?
    };
    let provider = match existing {
        Some(a) => {
            // Seeding takes many transactions; a run stopped half-way leaves fewer numbers.
            let page = service
                .list_numbers(&Actor::cli(a.id), &Default::default(), None, 1)
                .await
                .map_err(svc)?;
            if page.total < DEMO_NUMBERS {
                anyhow::bail!(
                    "the demo database is incomplete ({} of {DEMO_NUMBERS} numbers; an earlier run was interrupted): delete it and run demo again",
                    page.total
                );
            }
            a.id
        }
        None => {
            let w = seed(service).await?;
            populate(service, &w).await?;
            w.provider
        }
    };
    let password = portal_login(service, provider, ADMIN_EMAIL, Role::Owner).await?;
    let viewer = portal_login(service, provider, VIEWER_EMAIL, Role::Viewer).await?;
    let globex = {
        let mut r = service.store().read().await?;
        r.find_account_by_name(CUSTOMER_NAME).await?
    }
    .ok_or_else(|| anyhow::anyhow!("the demo database has no {CUSTOMER_NAME}"))?;
    let customer = portal_login(service, globex.id, CUSTOMER_EMAIL, Role::Owner).await?;
    let initech = {
        let mut r = service.store().read().await?;
        r.find_account_by_name(EXCHANGE_NAME).await?
    }
    .ok_or_else(|| anyhow::anyhow!("the demo database has no {EXCHANGE_NAME}"))?;
    let exchange_customer = portal_login(service, initech.id, EXCHANGE_EMAIL, Role::Owner).await?;
    let actor = Actor::cli(provider);
    let client = service
        .create_client(&actor, provider, None)
        .await
        .map_err(svc)?;
    Ok(DemoLogins {
        url: listen_url.to_string(),
        portal: Portal {
            email: ADMIN_EMAIL.to_string(),
            password,
        },
        viewer: Portal {
            email: VIEWER_EMAIL.to_string(),
            password: viewer,
        },
        customer: Portal {
            email: CUSTOMER_EMAIL.to_string(),
            password: customer,
        },
        exchange_customer: Portal {
            email: EXCHANGE_EMAIL.to_string(),
            password: exchange_customer,
        },
        api: Api {
            client_id: client.client_id,
            client_secret: client.client_secret,
            account_id: provider,
        },
    })
}

pub async fn run(config: &Config, json: bool, no_serve: bool) -> anyhow::Result<()> {
    let mut config = config.clone();
    if config.database_url.is_empty() {
        config.database_url = format!("sqlite://{}", config.data_dir.join("demo.db").display());
    }
    let store = open_store(&config).await?;
    let app = Application::build_with_store(&config, store).await?;
    let url = format!("http://{}", app.local_addr()?);
    let logins = prepare(app.service(), &url).await?;
    if json {
        outln!("{}", serde_json::to_string(&logins)?);
    } else {
        outln!("Numberpool demo is ready.");
        outln!("  Portal:         {}/signin", logins.url);
        outln!(
            "  Portal login:   {} / {}   (provider owner)",
            logins.portal.email,
            logins.portal.password
        );
        outln!(
            "                  {} / {}   (provider viewer)",
            logins.viewer.email,
            logins.viewer.password
        );
        outln!(
            "                  {} / {}   (customer {CUSTOMER_NAME})",
            logins.customer.email,
            logins.customer.password
        );
        outln!(
            "                  {} / {}   (customer {EXCHANGE_NAME})",
            logins.exchange_customer.email,
            logins.exchange_customer.password
        );
        outln!(
            "  API:            {}/v2  (docs at {}/docs)",
            logins.url,
            logins.url
        );
        outln!("  API client id:  {}", logins.api.client_id);
        outln!("  API secret:     {}", logins.api.client_secret);
        outln!("  Provider id:    {}", logins.api.account_id);
        outln!(
            "  Database:       {}",
            crate::config::redact_url(&config.database_url())
        );
        outln!("Press Ctrl-C to stop.");
    }
    if no_serve {
        return Ok(());
    }
    app.run_until_stopped().await
}
