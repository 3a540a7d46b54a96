//! Import row parsing: headers, repairs, reason codes (R-IMP-2) and R-EXP-1's neutralising.

use super::*;

fn cells(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn header(action: ImportAction, v: &[&str]) -> Header {
    Header::match_cells(action, &cells(v)).unwrap_or_else(|e| panic!("{e}"))
}

fn code<T: fmt::Debug>(r: Result<T, Reason>) -> ReasonCode {
    match r {
        Err(e) => e.code,
        Ok(v) => panic!("accepted: {v:?}"),
    }
}

const US: RowDefaults = RowDefaults { country: None };

#[test]
fn headers_match_by_name_in_any_case_and_order() {
    for names in [
        ["Phone Number", "Billing Reference", "SIP Trunk"],
        ["billing_reference", "PHONE-NUMBER", "sip trunk name"],
        ["\u{feff}phone number", " Billing  Ref ", "Trunk"],
    ] {
        let h = header(ImportAction::Add, &names);
        assert!(h.has(&Column::PhoneNumber), "{names:?}");
        assert!(h.has(&Column::BillingReference), "{names:?}");
        assert!(h.has(&Column::SipTrunk), "{names:?}");
    }
    let h = header(
        ImportAction::Add,
        &["Number", "attribute: Region", "Reason", ""],
    );
    assert_eq!(
        h.columns(),
        vec![
            Column::PhoneNumber,
            Column::Attribute("Region".into()),
            Column::Reason
        ]
    );
}

#[test]
fn header_refusals_have_their_codes() {
    let r = Header::match_cells(ImportAction::Add, &cells(&["Phone Number", "Colour"]));
    let e = r.err().unwrap_or_else(|| panic!("accepted"));
    assert_eq!(e.code, ReasonCode::UnknownColumn);
    assert!(e.message.contains("\"Colour\""), "{}", e.message);
    assert_eq!(
        code(Header::match_cells(
            ImportAction::Add,
            &cells(&["Phone", "Number"])
        )),
        ReasonCode::DuplicateColumn
    );
    assert_eq!(
        code(Header::match_cells(
            ImportAction::Add,
            &cells(&["Billing Reference"])
        )),
        ReasonCode::MissingColumn
    );
    // A Delete takes the number and nothing else.
    assert_eq!(
        code(Header::match_cells(
            ImportAction::Delete,
            &cells(&["Phone Number", "Billing Reference"])
        )),
        ReasonCode::UnknownColumn
    );
    // Headers like "attribute:" with no key name nothing.
    assert_eq!(
        code(Header::match_cells(
            ImportAction::Add,
            &cells(&["Phone Number", "attribute:"])
        )),
        ReasonCode::UnknownColumn
    );
}

#[test]
fn numbers_are_repaired_only_where_unambiguous() {
    let ok = |cell: &str, cc: Option<&str>, d: &RowDefaults| {
        repair_number(cell, cc, d)
            .unwrap_or_else(|e| panic!("{cell}: {e}"))
            .as_str()
            .to_string()
    };
    assert_eq!(ok("+1 415 555 0100", None, &US), "+14155550100");
    // Seed 003: a country code column and the national number.
    assert_eq!(ok("4155550100", Some("1"), &US), "+14155550100");
    assert_eq!(ok("2071838750", Some("+44"), &US), "+442071838750");
    assert_eq!(ok("02071838750", Some("44"), &US), "+442071838750");
    // The + lost by a spreadsheet, with the code column.
    assert_eq!(ok("14155550100", Some("1"), &US), "+14155550100");
    assert_eq!(ok("442071838750", Some("44"), &US), "+442071838750");
    // A default country reads national numbers and its own numbers without +.
    let gb = RowDefaults {
        country: Some(Country::parse("GB").unwrap_or_else(|e| panic!("{e}"))),
    };
    assert_eq!(ok("020 7183 8750", None, &gb), "+442071838750");
    let us = RowDefaults {
        country: Some(Country::parse("US").unwrap_or_else(|e| panic!("{e}"))),
    };
    assert_eq!(ok("14155550100", None, &us), "+14155550100");

    for (cell, cc, d, want) in [
        ("", None, &US, ReasonCode::MissingPhoneNumber),
        ("1.4155E+10", None, &US, ReasonCode::ScientificNotation),
        ("1,4155E+10", Some("1"), &us, ReasonCode::ScientificNotation),
        ("4.155e9", None, &gb, ReasonCode::ScientificNotation),
        ("14155550100", None, &US, ReasonCode::NeedsCountry),
        ("+1 555", None, &US, ReasonCode::InvalidNumber),
        ("hello", Some("1"), &US, ReasonCode::InvalidNumber),
        ("4155550100", Some("x1"), &US, ReasonCode::InvalidValue),
    ] {
        let r = repair_number(cell, cc, d);
        assert_eq!(code(r.clone()), want, "{cell:?} {cc:?}");
        let reason = r.err().unwrap_or_else(|| panic!("accepted"));
        assert_eq!(reason.rule, want.rule(), "{cell:?}");
    }
}

#[test]
fn add_rows_parse_every_column() {
    let h = header(
        ImportAction::Add,
        &[
            "Phone Number",
            "Product",
            "Voice",
            "SMS",
            "Fax",
            "Capacity",
            "Outbound Dialer",
            "SIP Trunk",
            "Voice Carrier",
            "Billing Reference",
            "Attribute: region",
        ],
    );
    let row = cells(&[
        "+14155550100",
        "Contact Center",
        "TRUE",
        "false",
        "",
        "single contact center",
        "yes",
        "trunk-1",
        "Carrier A",
        "B-1",
        "east",
    ]);
    let ImportRow::Add(a) = parse_row(&h, &row, &US).unwrap_or_else(|e| panic!("{e}")) else {
        panic!("not an add")
    };
    assert_eq!(a.phone_number.as_str(), "+14155550100");
    assert_eq!(a.fields.product, Some(Product::ContactCenter));
    assert_eq!(
        a.fields.capabilities,
        Some(Capabilities {
            voice: true,
            sms: false,
            mms: false,
            fax: false
        })
    );
    let c = a
        .fields
        .customization
        .unwrap_or_else(|| panic!("no customization"));
    assert_eq!(c.capacity, Capacity::SingleContactCenter);
    assert!(c.outbound_dialer);
    assert_eq!(a.sip_trunk.as_deref(), Some("trunk-1"));
    assert_eq!(a.voice_carrier.as_deref(), Some("Carrier A"));
    assert_eq!(a.fields.billing_reference.as_deref(), Some("B-1"));
    assert_eq!(
        a.fields.attributes.get("region").map(String::as_str),
        Some("east")
    );

    // Blank capability and customization cells leave the defaults to the add.
    let plain = cells(&["+14155550101", "", "", " ", "", "", "", "", "", "", ""]);
    let ImportRow::Add(p) = parse_row(&h, &plain, &US).unwrap_or_else(|e| panic!("{e}")) else {
        panic!("not an add")
    };
    assert_eq!(p.fields.capabilities, None);
    assert_eq!(p.fields.customization, None);
    assert!(p.fields.attributes.is_empty());

    let bad_flag = cells(&["+14155550102", "", "maybe", "", "", "", "", "", "", "", ""]);
    let e = parse_row(&h, &bad_flag, &US)
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert_eq!(e.code, ReasonCode::InvalidValue);
    assert!(e.message.starts_with("Voice:"), "{}", e.message);
    let bad_product = cells(&["+14155550103", "fax", "", "", "", "", "", "", "", "", ""]);
    assert_eq!(
        code(parse_row(&h, &bad_product, &US)),
        ReasonCode::InvalidValue
    );
    let bad_capacity = cells(&["+14155550103", "", "", "", "", "lots", "", "", "", "", ""]);
    assert_eq!(
        code(parse_row(&h, &bad_capacity, &US)),
        ReasonCode::InvalidValue
    );
}

#[test]
fn update_rows_leave_blank_cells_unchanged() {
    let h = header(
        ImportAction::Update,
        &["Phone Number", "Billing Reference", "SMS", "Messaging"],
    );
    let ImportRow::Update(n, u) = parse_row(&h, &cells(&["+14155550100", "", "TRUE", ""]), &US)
        .unwrap_or_else(|e| panic!("{e}"))
    else {
        panic!("not an update")
    };
    assert_eq!(n.as_str(), "+14155550100");
    assert_eq!(u.billing_reference, None);
    assert_eq!(u.sms, Some(true));
    let base = Capabilities {
        voice: true,
        ..Capabilities::default()
    };
    assert_eq!(
        u.capabilities_over(base),
        Capabilities {
            voice: true,
            sms: true,
            ..Capabilities::default()
        }
    );
    assert_eq!(
        u.customization_over(Customization::default()),
        Customization::default()
    );
    assert_eq!(
        code(Header::match_cells(
            ImportAction::Update,
            &cells(&["Phone Number", "City"])
        )),
        ReasonCode::UnknownColumn,
        "a number's city is not edited"
    );
}

#[test]
fn seed_003_reseller_format() {
    let h = header(
        ImportAction::Add,
        &["Country Code", "Phone Number", "Voice", "SMS", "Fax"],
    );
    let ImportRow::Add(a) = parse_row(
        &h,
        &cells(&["1", "4155550100", "TRUE", "TRUE", "FALSE"]),
        &US,
    )
    .unwrap_or_else(|e| panic!("{e}")) else {
        panic!("not an add")
    };
    assert_eq!(a.phone_number.as_str(), "+14155550100");
    assert_eq!(
        a.fields.capabilities,
        Some(Capabilities {
            voice: true,
            sms: true,
            mms: false,
            fax: false
        })
    );
}

#[test]
fn every_reason_code_has_a_rule_or_none_and_a_stable_word() {
    for c in ReasonCode::ALL {
        assert_eq!(c.as_str().parse::<ReasonCode>().ok(), Some(c));
        assert!(
            c.as_str()
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch == '_')
        );
    }
    assert_eq!(ReasonCode::TooManyRows.rule(), Some(Rule::Imp1));
    let r = Reason::rule(Rule::Cust2, "no");
    assert_eq!(
        (r.code, r.rule),
        (ReasonCode::RuleViolation, Some(Rule::Cust2))
    );
    assert_eq!(r.to_string(), "rule_violation (R-CUST-2): no");
}

#[test]
fn a_neutralised_cell_reads_back_as_it_was() {
    let h = header(ImportAction::Update, &["Phone Number", "Billing Reference"]);
    for v in ["=1+2", "@SUM(A1)", "-2", "plain", "'quoted"] {
        let out = neutralise_cell(v, false);
        let row = cells(&["+14155550100", &out]);
        assert_eq!(
            h.cell(&row, &Column::BillingReference),
            Some(v),
            "{v} -> {out}"
        );
    }
}

#[test]
fn formula_cells_are_neutralised_but_numbers_stay_readable() {
    assert_eq!(neutralise_cell("=1+2", false), "'=1+2");
    assert_eq!(neutralise_cell("@SUM(A1)", false), "'@SUM(A1)");
    assert_eq!(neutralise_cell("-2", false), "'-2");
    assert_eq!(neutralise_cell("+14155550100", true), "+14155550100");
    assert_eq!(neutralise_cell("+14155550100", false), "'+14155550100");
    assert_eq!(neutralise_cell("+1 415 555 0100", true), "'+1 415 555 0100");
    assert_eq!(
        neutralise_cell("+cmd|' /C calc'!A0", true),
        "'+cmd|' /C calc'!A0"
    );
    assert_eq!(neutralise_cell("plain", false), "plain");
    assert_eq!(neutralise_cell("", false), "");
}
