//! One parser for a number's input fields, whatever the edge they come through: the API's JSON,
//! the CLI's flags, a CSV or XLSX row, a portal form. Each edge names the field its own way
//! (`numbers[3].phone_number`, `--country`, `row 12, column B`); what is accepted and why a
//! value is refused is decided here once.

use std::collections::BTreeMap;

use crate::e164::{Country, E164, NumberType};
use crate::number::{NewNumber, NumberStatus, Product};
use crate::rules::Rule;

/// A field that does not parse: which one, with the stable code and rule an edge reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name in the input model (`phone_number`, `country`, `product`, …).
    pub field: &'static str,
    /// `invalid_number` for a phone number (R-NUM-2), `invalid_input` for anything else.
    pub code: &'static str,
    pub rule: Option<Rule>,
    /// Why, without the field's name (the edge puts its own in front).
    pub message: String,
}

impl FieldError {
    fn invalid(field: &'static str, message: impl std::fmt::Display) -> Self {
        FieldError {
            field,
            code: "invalid_input",
            rule: None,
            message: message.to_string(),
        }
    }
}

/// A phone number as typed: E.164 (`+14155550100`), or national format when `country` (ISO
/// 3166 alpha-2) is given (R-NUM-2).
pub fn phone_number(raw: &str, country: Option<&str>) -> Result<E164, FieldError> {
    let parsed = match country {
        Some(c) => {
            let country = Country::parse(c).map_err(|e| FieldError::invalid("country", e))?;
            E164::parse_national(raw, country)
        }
        None => E164::parse(raw),
    };
    parsed.map_err(|e| FieldError {
        field: "phone_number",
        code: "invalid_number",
        rule: Some(Rule::Num2),
        message: e.to_string(),
    })
}

/// A number's add fields as text, the shape of a CLI invocation, a file row or a form: absent
/// and blank cells are the same (left to the default).
#[derive(Debug, Clone, Default)]
pub struct TextRow {
    pub phone_number: String,
    pub country: Option<String>,
    pub product: Option<String>,
    pub status: Option<String>,
    pub number_type: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub billing_reference: Option<String>,
    pub service_info: Option<String>,
    pub call_purpose: Option<String>,
    pub display_name: Option<String>,
    pub program_duration: Option<String>,
    /// `key=value` pairs.
    pub attributes: Vec<String>,
}

fn cell(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn text(v: &Option<String>) -> Option<String> {
    cell(v).map(str::to_string)
}

fn choice<T: std::str::FromStr>(
    field: &'static str,
    v: &Option<String>,
) -> Result<Option<T>, FieldError>
where
    T::Err: std::fmt::Display,
{
    cell(v)
        .map(str::parse)
        .transpose()
        .map_err(|e| FieldError::invalid(field, e))
}

/// Parses a text row into the number and the add's fields (the same [`NewNumber`] the JSON
/// body becomes).
pub fn text_row(row: &TextRow) -> Result<(E164, NewNumber), FieldError> {
    let number = phone_number(row.phone_number.trim(), cell(&row.country))?;
    Ok((number, text_fields(row)?))
}

/// The add's fields of a text row, its number left to the caller (an import has parsed it
/// already, with its own repairs: libphonenumber is most of a row's cost).
pub fn text_fields(row: &TextRow) -> Result<NewNumber, FieldError> {
    let product: Option<Product> = choice("product", &row.product)?;
    let status: Option<NumberStatus> = choice("status", &row.status)?;
    let number_type: Option<NumberType> = choice("type", &row.number_type)?;
    let mut attributes = BTreeMap::new();
    for pair in &row.attributes {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(FieldError::invalid(
                "attributes",
                format!("{pair:?}: write key=value"),
            ));
        };
        attributes.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(NewNumber {
        product,
        status,
        number_type,
        region_state: text(&row.state),
        city: text(&row.city),
        billing_reference: text(&row.billing_reference),
        service_info: text(&row.service_info),
        call_purpose: text(&row.call_purpose),
        display_name: text(&row.display_name),
        program_duration: text(&row.program_duration),
        attributes,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_parser_for_every_edge() {
        let e = phone_number("+1 415 555 0100", None).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(e.as_str(), "+14155550100");
        let gb = phone_number("020 7183 8750", Some("GB")).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(gb.as_str(), "+442071838750");
        let bad = phone_number("12", None)
            .err()
            .unwrap_or_else(|| panic!("12 parsed"));
        assert_eq!(
            (bad.field, bad.code, bad.rule),
            ("phone_number", "invalid_number", Some(Rule::Num2))
        );
        let country = phone_number("020 7183 8750", Some("XX"))
            .err()
            .unwrap_or_else(|| panic!("XX parsed"));
        assert_eq!((country.field, country.code), ("country", "invalid_input"));
    }

    #[test]
    fn text_rows_parse_like_json() {
        let row = TextRow {
            phone_number: " 4155550100 ".into(),
            country: Some("US".into()),
            product: Some("contact_center".into()),
            number_type: Some("".into()),
            city: Some("  ".into()),
            billing_reference: Some("B-1".into()),
            attributes: vec!["region=east".into()],
            ..Default::default()
        };
        let (n, f) = text_row(&row).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(n.as_str(), "+14155550100");
        assert_eq!(f.product, Some(Product::ContactCenter));
        assert_eq!(f.number_type, None, "a blank cell is left to the default");
        assert_eq!(f.city, None);
        assert_eq!(f.billing_reference.as_deref(), Some("B-1"));
        assert_eq!(f.attributes.get("region").map(String::as_str), Some("east"));
        let bad = TextRow {
            phone_number: "+14155550100".into(),
            product: Some("fax".into()),
            ..Default::default()
        };
        assert_eq!(text_row(&bad).err().map(|e| e.field), Some("product"));
    }
}
