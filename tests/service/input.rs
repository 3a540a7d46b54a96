//! Bad input is refused as `invalid_input` naming the field, never a panic or an internal error.

use numberpool::service::{AddNumber, AllocateOptions, CreateAccount, Role};
use numberpool_domain::{AccountKind, Assignee, AssigneeType, NewNumber, NumberPatch};
use numberpool_store::NumberFilter;
use numberpool_store::testing::TestDb;

use crate::fixture::*;

const PASSWORD: &str = "a long enough password";

async fn bad_input(db: &TestDb) {
    let w = World::new(db).await;
    let (svc, p) = (&w.service, &w.provider);
    let me = as_(p);

    // Users: the email must be an address, the password at least 12 characters.
    let long_local = format!("{}@example.com", "a".repeat(250));
    for email in [
        "",
        "   ",
        "not-an-email",
        "@example.com",
        "a@",
        "a@example",
        "a@.com",
        "a b@example.com",
        "a@exa\u{0}mple.com",
        "a@exam\nple.com",
        long_local.as_str(),
    ] {
        let e = refused(
            svc.create_user(&me, p.id, email, Role::Admin, PASSWORD)
                .await,
            "invalid_input",
            None,
            &format!("email {email:?}"),
        );
        assert!(e.to_string().contains("email"), "{e}");
    }
    for password in ["", "short", "elevenchars", "ÄÖÜäöüßÄÖÜ"] {
        let e = refused(
            svc.create_user(&me, p.id, "admin@example.com", Role::Admin, password)
                .await,
            "invalid_input",
            None,
            &format!("password {password:?}"),
        );
        assert!(e.to_string().contains("password"), "{e}");
    }
    let u = svc
        .create_user(&me, p.id, " Admin@Example.com ", Role::Admin, PASSWORD)
        .await
        .must("a valid user");
    assert_eq!(u.email, "admin@example.com");
    refused(
        svc.create_user(&me, p.id, "ADMIN@example.com", Role::Viewer, PASSWORD)
            .await,
        "already_exists",
        None,
        "the same email again",
    );
    hidden(
        svc.create_user(&me, w.tenant.id, "x@example.com", Role::Admin, PASSWORD)
            .await,
        "a user for another tenant",
    );
    assert!("nobody".parse::<Role>().is_err());

    // API clients: scopes are from the list, and the refusal names the unknown one.
    for (scopes, named) in [
        ("phone:read:admin phone:fly:admin", "phone:fly:admin"),
        ("PHONE:READ:ADMIN", "PHONE:READ:ADMIN"),
        ("phone_number:write:admin,'; DROP TABLE numbers;--", "';"),
        ("phone:read:admin\u{0}", "phone:read:admin\u{0}"),
    ] {
        let e = refused(
            svc.create_client(&me, p.id, Some(scopes)).await,
            "invalid_input",
            None,
            &format!("scopes {scopes:?}"),
        );
        assert!(e.to_string().contains(named), "{e} names {named:?}");
    }
    for scopes in ["", " ", ", ,"] {
        let e = refused(
            svc.create_client(&me, p.id, Some(scopes)).await,
            "invalid_input",
            None,
            "no scopes",
        );
        assert!(e.to_string().contains("scope"), "{e}");
    }
    let client = svc
        .create_client(
            &me,
            p.id,
            Some("phone_number:read:admin phone_number:read:admin"),
        )
        .await
        .must("a valid client");
    assert_eq!(client.scopes, ["phone_number:read:admin"]);
    let (acct, scopes) = svc
        .authenticate_client(&client.client_id, &client.client_secret)
        .await
        .must("authenticate");
    assert_eq!((acct, scopes), (p.id, client.scopes.clone()));
    for (id, secret) in [
        (client.client_id.as_str(), "wrong"),
        (client.client_id.as_str(), ""),
        ("np_unknown", client.client_secret.as_str()),
        ("", ""),
    ] {
        refused(
            svc.authenticate_client(id, secret).await,
            "unauthorized",
            None,
            "bad credentials",
        );
    }
    hidden(
        svc.create_client(&me, w.tenant.id, None).await,
        "a client for another tenant",
    );

    // Account names.
    for name in ["", "   ", "tab\u{7}bell", &"x".repeat(201)] {
        refused(
            svc.create_account(
                &me,
                CreateAccount {
                    name: name.to_string(),
                    kind: AccountKind::Customer,
                    parent_id: Some(p.id),
                    allow_external_numbers: false,
                },
            )
            .await,
            "invalid_input",
            None,
            &format!("account name {name:?}"),
        );
    }

    // Free text on numbers: bounded, no control characters; the message names the field.
    let n = w.held_by(&w.customer, &e164(900)).await;
    let long = "x".repeat(501);
    for (field, fields) in [
        (
            "billing_reference",
            NewNumber {
                billing_reference: Some(long.clone()),
                ..Default::default()
            },
        ),
        (
            "display_name",
            NewNumber {
                display_name: Some("a\u{1b}[31mred".into()),
                ..Default::default()
            },
        ),
        (
            "city",
            NewNumber {
                city: Some("nul\u{0}".into()),
                ..Default::default()
            },
        ),
    ] {
        let e = refused(
            svc.add_numbers(
                &me,
                vec![AddNumber {
                    phone_number: e164(901),
                    fields,
                }],
            )
            .await,
            "invalid_input",
            None,
            field,
        );
        assert!(e.to_string().contains(field), "{e}");
    }
    let e = refused(
        svc.update_number(
            &me,
            &by_id(&n),
            &NumberPatch {
                service_info: Some(Some(long.clone())),
                ..Default::default()
            },
            None,
        )
        .await,
        "invalid_input",
        None,
        "service_info too long",
    );
    assert!(e.to_string().contains("service_info"), "{e}");
    let e = refused(
        svc.allocate(
            &me,
            &by_id(&w.add(p, &e164(902)).await),
            w.customer.id,
            AllocateOptions {
                sip_trunk_id: Some(w.trunk),
                billing_reference: Some("line\nbreak".into()),
                service_info: None,
            },
        )
        .await,
        "invalid_input",
        None,
        "billing_reference with a newline",
    );
    assert!(e.to_string().contains("billing_reference"), "{e}");
    let c = as_(&w.customer);
    for id in ["", "   ", &"u".repeat(201)] {
        let e = refused(
            svc.assign(
                &c,
                &by_id(&n),
                Assignee {
                    kind: AssigneeType::CallQueue,
                    id: id.to_string(),
                    display_name: None,
                },
            )
            .await,
            "invalid_input",
            None,
            "assignee id",
        );
        assert!(e.to_string().contains("assignee_id"), "{e}");
    }
    let e = refused(
        svc.assign(
            &c,
            &by_id(&n),
            Assignee {
                kind: AssigneeType::User,
                id: "u-1".into(),
                display_name: Some("x".repeat(501)),
            },
        )
        .await,
        "invalid_input",
        None,
        "assignee display name",
    );
    assert!(e.to_string().contains("display_name"), "{e}");
    // Unknown assignee on unassign, and several without saying which.
    let n = svc
        .assign(
            &c,
            &by_id(&n),
            Assignee {
                kind: AssigneeType::User,
                id: "u-1".into(),
                display_name: None,
            },
        )
        .await
        .must("assign");
    refused(
        svc.assign(
            &c,
            &by_id(&n),
            Assignee {
                kind: AssigneeType::User,
                id: "u-1".into(),
                display_name: None,
            },
        )
        .await,
        "invalid_input",
        None,
        "the same assignee twice",
    );
    hidden(
        svc.unassign(&c, &by_id(&n), Some("nobody")).await,
        "unknown assignee",
    );
    // Nothing of the refused input was written.
    assert_eq!(
        actions(&svc.number_history(&me, &by_id(&n)).await.must("history")),
        [
            Action::NumberAdd,
            Action::NumberAllocate,
            Action::NumberAssign
        ]
    );

    // Lists clamp their page size instead of failing.
    for limit in [0, 1, u32::MAX] {
        let page = svc
            .list_numbers(&me, &NumberFilter::default(), None, limit)
            .await
            .must("list");
        assert!(!page.items.is_empty() && page.items.len() <= 1000);
    }
    let page = svc
        .list_numbers(
            &me,
            &NumberFilter {
                e164_prefix: Some("%' OR 1=1 --".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .must("a hostile prefix is only a filter");
    // Only the digits survive ("11"), and no E.164 starts with them: nothing, not everything.
    assert_eq!(page.total, 0);
    // Lookups that do not parse are refused before the service (`parse`, the CLI's; the API's
    // `deferred` lets text in E.164's form through, to be found or not by the store).
    for s in [
        "",
        "abc",
        "+",
        "+999999999999999999",
        "123e4567-e89b-12d3-a456",
    ] {
        assert!(
            numberpool_store::NumberLookup::parse(s).is_none(),
            "{s:?} parses"
        );
    }
}

numberpool_store::backend_tests!(bad_input);
