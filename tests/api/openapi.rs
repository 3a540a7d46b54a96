//! The OpenAPI document: equal to the committed snapshot, OpenAPI 3.1, and every operation but
//! the token endpoint needs exactly one oauth2 scope.

use std::path::PathBuf;

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::Value;

use crate::harness::*;
use crate::synth::operations;

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/openapi.snapshot.json")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Writes `text` to `path` through a temporary file, so two tests writing at once never leave
/// half a file.
fn write_atomically(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, text).must("write the temporary file");
    std::fs::rename(&tmp, path).must("rename into place");
}

/// The document served at `/openapi.json` is the committed one. On a change, the new document
/// is written next to the build and the test says how to accept it.
async fn openapi_matches_snapshot(db: &TestDb) {
    let app = spawn_app(db).await;
    let doc = app.openapi().await;
    let pretty = serde_json::to_string_pretty(&doc).must("pretty JSON") + "\n";
    let path = snapshot_path();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        write_atomically(&path, &pretty);
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let same = serde_json::from_str::<Value>(&committed).is_ok_and(|v| v == doc);
    if !same {
        let new = target_dir().join("openapi.new.json");
        let _ = std::fs::create_dir_all(target_dir());
        write_atomically(&new, &pretty);
        panic!(
            "/openapi.json differs from the committed snapshot {}.\n\
             The served document is in {}; compare them (e.g. `diff {} {}`).\n\
             If the change is intended, accept it with:\n    \
             UPDATE_SNAPSHOTS=1 cargo test --test api openapi\n\
             and commit tests/api/openapi.snapshot.json.",
            path.display(),
            new.display(),
            path.display(),
            new.display()
        );
    }
}

/// OpenAPI 3.1; the two security schemes; every operation but `/oauth/token` needs exactly one
/// oauth2 scope, and that one is HTTP Basic.
async fn openapi_is_3_1_and_every_operation_is_secured(db: &TestDb) {
    let app = spawn_app(db).await;
    let doc = app.openapi().await;
    let version = doc["openapi"].as_str().must("openapi version");
    assert!(version.starts_with("3.1."), "OpenAPI {version}, not 3.1.x");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["oauth2"]["type"], "oauth2", "{schemes}");
    assert_eq!(
        schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"], "/oauth/token",
        "{schemes}"
    );
    let declared: Vec<&str> = schemes["oauth2"]["flows"]["clientCredentials"]["scopes"]
        .as_object()
        .must("declared scopes")
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = SCOPES.to_vec();
    expected.sort_unstable();
    let mut got = declared.clone();
    got.sort_unstable();
    assert_eq!(got, expected, "the declared oauth2 scopes");
    assert_eq!(schemes["basic"]["scheme"], "basic", "{schemes}");

    let ops = operations(&doc);
    assert!(ops.len() >= 20, "only {} operations", ops.len());
    for op in &ops {
        let security = op.security();
        if op.path == "/oauth/token" {
            assert_eq!(
                security,
                vec![("basic".to_string(), vec![])],
                "{}: the token endpoint is HTTP Basic",
                op.name()
            );
            continue;
        }
        assert!(
            op.path.starts_with("/v2/"),
            "{}: an operation outside /v2 and /oauth/token",
            op.name()
        );
        let scope = op
            .scope()
            .unwrap_or_else(|| panic!("{}: no oauth2 security entry", op.name()));
        assert_eq!(
            security.len(),
            1,
            "{}: exactly one security requirement: {security:?}",
            op.name()
        );
        assert!(
            SCOPES.contains(&scope.as_str()),
            "{}: unknown scope {scope}",
            op.name()
        );
        for status in ["401", "403"] {
            assert!(
                !op.spec["responses"][status].is_null(),
                "{}: the document lists no {status} answer",
                op.name()
            );
        }
    }
    // The add body is documented as what the handler takes: one number or `{"numbers": [...]}`,
    // not as a tagged enum a generated client would send as `{"One": {...}}`.
    let add = ops
        .iter()
        .find(|o| o.name() == "POST /v2/phone/numbers")
        .must("the add operation");
    let body = add.json_body().must("the add body");
    let alts = crate::synth::resolve(&doc, &body)["oneOf"]
        .as_array()
        .must("the add body is one of two shapes")
        .clone();
    let shapes: Vec<Value> = alts
        .iter()
        .map(|a| crate::synth::resolve(&doc, a)["required"].clone())
        .collect();
    assert_eq!(
        shapes,
        vec![
            serde_json::json!(["phone_number"]),
            serde_json::json!(["numbers"])
        ],
        "the add body's shapes: {alts:?}"
    );

    // SPEC §8.1 (seed 002's shapes): every time the API writes is an RFC 3339 string, and
    // capabilities are a list of names.
    let schemas = doc["components"]["schemas"]
        .as_object()
        .must("component schemas");
    let mut times = 0;
    for (name, schema) in schemas {
        let Some(props) = schema["properties"].as_object() else {
            continue;
        };
        for (field, p) in props {
            if field == "at" || field.ends_with("_at") {
                times += 1;
                let types = &p["type"];
                let is_string = types == "string"
                    || types
                        .as_array()
                        .is_some_and(|t| t.contains(&"string".into()));
                assert!(
                    is_string && p["format"] == "date-time",
                    "{name}.{field}: a time must be an RFC 3339 string (format date-time): {p}"
                );
            }
        }
    }
    assert!(times >= 20, "only {times} times found in the schemas");
    let caps = &schemas["Capabilities"];
    assert_eq!(caps["type"], "array", "{caps}");
    assert_eq!(
        caps["items"]["enum"],
        serde_json::json!(["voice", "sms", "mms", "fax"]),
        "{caps}"
    );
}

/// `/docs` serves the reference page from the binary.
async fn docs_page_is_served(db: &TestDb) {
    let app = spawn_app(db).await;
    let r = app.get("/docs/").send().await.expect(200);
    assert!(
        r.text().to_lowercase().contains("swagger"),
        "/docs/ is the reference page: {}",
        r.text()
    );
}

backend_tests!(
    openapi_matches_snapshot,
    openapi_is_3_1_and_every_operation_is_secured,
    docs_page_is_served,
);
