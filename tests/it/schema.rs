//! The schema is the contract: every document orderflow can send validates against the vendored
//! Admin API schema, and every enum value orderflow knows exists there.

use std::collections::BTreeSet;

use orderflow::rules::enums;
use orderflow::shopify::{documents, schema};

#[test]
fn every_document_in_the_folder_is_registered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(documents::DIR);
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("documents folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".graphql"))
        .collect();
    let registered: BTreeSet<String> = documents::ALL.iter().map(|d| d.file().to_owned()).collect();
    assert_eq!(
        on_disk, registered,
        "documents::ALL must list every .graphql file"
    );
}

#[test]
fn every_document_orderflow_sends_is_valid_against_the_admin_schema() {
    for doc in documents::ALL {
        let valid = schema::validate(doc.text(), doc.file())
            .unwrap_or_else(|e| panic!("{} is not valid: {e}", doc.file()));
        let ops: Vec<_> = valid
            .operations
            .iter()
            .filter_map(|op| op.name.as_ref().map(|n| n.to_string()))
            .collect();
        assert_eq!(
            ops,
            [doc.operation()],
            "{} holds one operation named {}",
            doc.file(),
            doc.operation()
        );
    }
}

#[test]
fn an_invented_field_argument_or_enum_value_is_refused() {
    let cases = [
        (
            "field",
            "query Q { order(id: \"gid://shopify/Order/1\") { id financialStatus } }",
        ),
        (
            "argument",
            "query Q { order(id: \"gid://shopify/Order/1\", shop: \"x\") { id } }",
        ),
        (
            "type",
            "query Q { node(id: \"x\") { ... on PreOrder { id } } }",
        ),
        (
            "enum value",
            "mutation M { fulfillmentOrderHold(id: \"x\", fulfillmentHold: {reason: FRAUD}) { userErrors { message } } }",
        ),
    ];
    for (what, text) in cases {
        assert!(
            schema::validate(text, "invented.graphql").is_err(),
            "an invented {what} must be refused"
        );
    }
}

#[test]
fn every_enum_value_orderflow_knows_exists_in_the_schema_and_none_is_missing() {
    let schema = schema::schema();
    for (name, values) in enums::all_enums() {
        let def = schema
            .get_enum(name)
            .unwrap_or_else(|| panic!("enum {name} is not in the schema"));
        let in_schema: BTreeSet<&str> = def.values.keys().map(|k| k.as_str()).collect();
        let ours: BTreeSet<&str> = values.iter().copied().collect();
        assert_eq!(ours, in_schema, "enum {name} must match the schema exactly");
    }
}
