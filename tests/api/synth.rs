//! The operations of `/openapi.json` and requests synthesized from them, so that the sweeps over
//! every route (tenant isolation, scopes) cover a new route without being edited.

use serde_json::{Map, Value, json};

/// One operation of the document.
#[derive(Debug, Clone)]
pub struct Op {
    pub method: String,
    /// The path template, e.g. `/v2/phone/numbers/{numberId}`.
    pub path: String,
    pub spec: Value,
}

impl Op {
    /// `GET /v2/...`, for messages.
    pub fn name(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }

    pub fn http_method(&self) -> axum::http::Method {
        self.method
            .to_uppercase()
            .parse()
            .unwrap_or_else(|e| panic!("{}: method: {e}", self.name()))
    }

    /// The `security` requirements, as (scheme, scopes) pairs.
    pub fn security(&self) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        for req in self.spec["security"].as_array().into_iter().flatten() {
            for (scheme, scopes) in req.as_object().into_iter().flatten() {
                let scopes = scopes
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect();
                out.push((scheme.clone(), scopes));
            }
        }
        out
    }

    /// The one oauth2 scope the operation needs; `None` when it is not an oauth2 operation.
    /// Panics when an oauth2 operation names other than exactly one scope.
    pub fn scope(&self) -> Option<String> {
        let oauth: Vec<_> = self
            .security()
            .into_iter()
            .filter(|(s, _)| s == "oauth2")
            .collect();
        match oauth.as_slice() {
            [] => None,
            [(_, scopes)] if scopes.len() == 1 => Some(scopes[0].clone()),
            other => panic!(
                "{}: an operation needs exactly one oauth2 scope, the document says {other:?}",
                self.name()
            ),
        }
    }

    fn params_in(&self, place: &str) -> Vec<(String, Value)> {
        self.spec["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == place)
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or_default().to_string(),
                    p["schema"].clone(),
                )
            })
            .collect()
    }

    pub fn path_params(&self) -> Vec<String> {
        self.params_in("path").into_iter().map(|(n, _)| n).collect()
    }

    pub fn query_params(&self) -> Vec<(String, Value)> {
        self.params_in("query")
    }

    /// The JSON request body's schema, if the operation takes one.
    pub fn json_body(&self) -> Option<Value> {
        let s = &self.spec["requestBody"]["content"]["application/json"]["schema"];
        (!s.is_null()).then(|| s.clone())
    }

    /// The path with its parameters replaced by `fill(name)`.
    pub fn path_with(&self, fill: &dyn Fn(&str) -> String) -> String {
        let mut p = self.path.clone();
        for name in self.path_params() {
            p = p.replace(&format!("{{{name}}}"), &fill(&name));
        }
        assert!(
            !p.contains('{'),
            "{}: a path parameter is not declared in the document",
            self.name()
        );
        p
    }
}

/// Every operation of the document, in a stable order.
pub fn operations(doc: &Value) -> Vec<Op> {
    let mut out = Vec::new();
    let paths = doc["paths"].as_object().expect("the document has paths");
    for (path, item) in paths {
        for (method, spec) in item.as_object().expect("a path item is an object") {
            if matches!(
                method.as_str(),
                "get" | "put" | "post" | "delete" | "patch" | "head" | "options" | "trace"
            ) {
                out.push(Op {
                    method: method.clone(),
                    path: path.clone(),
                    spec: spec.clone(),
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    out
}

/// What a synthesized body or query puts where a value names something.
#[derive(Debug, Clone)]
pub struct Fill {
    /// For `account_id`, `parent_id`, `customer_id` and other account ids.
    pub account: String,
    /// For `sip_trunk_id`.
    pub trunk: String,
    /// For `client_id`.
    pub client: String,
    /// For `phone_number` and other E.164 fields.
    pub e164: String,
    /// For any other id (carriers, …).
    pub other_id: String,
    /// For `entity_id`, `number_id`.
    pub number: String,
}

/// Follows `$ref`s into `#/components/schemas`.
pub fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let mut s = schema;
    for _ in 0..32 {
        match s["$ref"].as_str() {
            Some(r) => {
                let name = r
                    .strip_prefix("#/components/schemas/")
                    .unwrap_or_else(|| panic!("unexpected $ref {r}"));
                s = &doc["components"]["schemas"][name];
                assert!(!s.is_null(), "$ref {r} names no schema");
            }
            None => return s,
        }
    }
    panic!("$ref chain too long at {schema}");
}

/// The first non-null type of a schema (`type` may be a string or a list with `null`).
fn type_of(s: &Value) -> Option<String> {
    match &s["type"] {
        Value::String(t) => Some(t.clone()),
        Value::Array(ts) => ts
            .iter()
            .filter_map(|t| t.as_str())
            .find(|t| *t != "null")
            .map(str::to_string),
        _ => None,
    }
}

/// Whether a field name calls for an id or number of ours.
fn named_value(name: &str, fill: &Fill) -> Option<Value> {
    let v = match name {
        "account_id" | "parent_id" | "customer_id" | "holder_id" => &fill.account,
        "sip_trunk_id" | "trunk_id" => &fill.trunk,
        "client_id" => &fill.client,
        "phone_number" | "e164" => &fill.e164,
        "entity_id" | "number_id" | "id" => &fill.number,
        n if n.ends_with("carrier_id") => &fill.other_id,
        _ => return None,
    };
    Some(Value::String(v.clone()))
}

/// A value of `schema` for the field `name`: required fields filled, and optional fields that
/// name an id of ours (`…_id`) filled too, so that a body points at the world wherever it can.
pub fn synthesize(doc: &Value, schema: &Value, name: &str, fill: &Fill) -> Value {
    let s = resolve(doc, schema);
    if let Some(v) = named_value(name, fill) {
        let t = type_of(s);
        if t.as_deref() == Some("string") || s.get("oneOf").is_some() || t.is_none() {
            return v;
        }
    }
    if let Some(e) = s["enum"].as_array()
        && let Some(first) = e.iter().find(|v| !v.is_null())
    {
        return first.clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = s[key].as_array() {
            let alt = alts
                .iter()
                .find(|a| type_of(resolve(doc, a)).as_deref() != Some("null"))
                .unwrap_or_else(|| panic!("{name}: only null alternatives in {s}"));
            return synthesize(doc, alt, name, fill);
        }
    }
    if let Some(all) = s["allOf"].as_array() {
        let mut out = Map::new();
        for part in all {
            if let Value::Object(m) = synthesize(doc, part, name, fill) {
                out.extend(m);
            }
        }
        return Value::Object(out);
    }
    match type_of(s).as_deref() {
        Some("object") | None if s.get("properties").is_some() => {
            let required: Vec<&str> = s["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str())
                .collect();
            let mut out = Map::new();
            for (field, fs) in s["properties"].as_object().into_iter().flatten() {
                let wanted = required.contains(&field.as_str())
                    || (field.ends_with("_id") && named_value(field, fill).is_some());
                if wanted {
                    out.insert(field.clone(), synthesize(doc, fs, field, fill));
                }
            }
            Value::Object(out)
        }
        Some("object") => json!({}),
        Some("array") => json!([synthesize(doc, &s["items"], name, fill)]),
        Some("boolean") => json!(false),
        Some("integer") | Some("number") => s["minimum"].as_i64().map_or(json!(1), |m| json!(m)),
        Some("string") => match s["format"].as_str() {
            Some("uuid") => Value::String(fill.other_id.clone()),
            Some("date-time") => json!("2026-01-01T00:00:00Z"),
            // Names may be unique per owner (SIP trunks, carriers): a fresh one per body, so
            // a sweep that repeats a create meets the route's answer, not its own leftovers.
            _ if name == "name" => Value::String(format!("sweep-name-{}", fill.other_id)),
            _ => Value::String(format!("sweep-{name}")),
        },
        other => panic!("{name}: cannot synthesize a value of type {other:?}: {s}"),
    }
}
