//! The vendored Admin API schema (2026-10, `fixtures/shopify/`), parsed once per process.
//!
//! It is the contract (DESIGN principle 7): every document orderflow sends is validated against
//! it in the test suite, and the sandbox shop refuses any document it does not accept.

use std::io::Read;
use std::sync::OnceLock;

use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};

/// The API version the vendored schema describes.
pub const SCHEMA_API_VERSION: &str = "2026-10";

/// Shopify's SDL, gzipped (3.7 MB unpacked), from the project's shared schema folder.
const SCHEMA_GZ: &[u8] = include_bytes!("../../fixtures/shopify/admin_2026-10.graphql.gz");

const ONE_OF_DIRECTIVE: &str = "\ndirective @oneOf on INPUT_OBJECT\n";

/// The parsed and validated schema. The first call takes a moment (3.7 MB of SDL); later calls
/// are free.
pub fn schema() -> &'static Valid<Schema> {
    static SCHEMA: OnceLock<Valid<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut sdl = String::new();
        flate2::read::GzDecoder::new(SCHEMA_GZ)
            .read_to_string(&mut sdl)
            .expect("the vendored schema is valid gzip and UTF-8");
        // graphql-js prints `@oneOf` (a built-in since the 2025 spec) without declaring it, and
        // apollo-compiler 1.x does not know it yet: declare it so the SDL stays byte-for-byte
        // Shopify's.
        sdl.push_str(ONE_OF_DIRECTIVE);
        // The vendored file is checked by the test suite; a broken one is a build defect.
        Schema::parse_and_validate(sdl, "admin_2026-10.graphql")
            .expect("the vendored Shopify schema is valid SDL")
    })
}

/// A document refused by the schema, with every problem apollo-compiler found.
#[derive(Debug, Clone, thiserror::Error)]
#[error("GraphQL document refused by the Admin API schema: {}", .errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; "))]
pub struct InvalidDocument {
    /// Shopify-shaped errors: message plus line/column locations.
    pub errors: Vec<apollo_compiler::response::GraphQLError>,
}

/// Parses and validates an executable document against the vendored schema.
pub fn validate(source: &str, name: &str) -> Result<Valid<ExecutableDocument>, InvalidDocument> {
    ExecutableDocument::parse_and_validate(schema(), source, name).map_err(|with_errors| {
        InvalidDocument {
            errors: with_errors
                .errors
                .iter()
                .map(|d| d.unstable_to_json_compat())
                .collect(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_schema_parses_and_knows_the_order_type() {
        let schema = schema();
        assert!(schema.get_object("Order").is_some());
        assert!(schema.get_object("FulfillmentOrder").is_some());
    }

    #[test]
    fn an_invented_field_is_refused() {
        let err = validate(
            "query { order(id: \"gid://shopify/Order/1\") { id financialStatus } }",
            "t.graphql",
        )
        .expect_err("Order.financialStatus does not exist");
        assert!(err.to_string().contains("financialStatus"), "{err}");
        assert!(!err.errors[0].locations.is_empty());
    }
}
