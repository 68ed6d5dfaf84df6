//! A query's cost the way Shopify documents it ("GraphQL Admin API rate limits", cost
//! calculation): scalars and enums 0, objects 1, interfaces and unions the most expensive of
//! their possible selections, connections 2 plus `first`/`last` times the cost of one node, and
//! 10 for each mutation. The *requested* cost comes from the document before it runs (the
//! client uses it to wait for room, the sandbox to charge and to refuse > 1,000); the *actual*
//! cost walks the answer (connections count the nodes returned, nulls cost nothing).
//!
//! Two simplifications, both upper bounds: a plain list of objects counts once (Shopify gives it
//! no size), except `nodes(ids:)`, which counts one object per id.

use std::collections::HashMap;
use std::sync::OnceLock;

use apollo_compiler::executable::{Field, Operation, Selection, SelectionSet};
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};

use super::documents::Document;

/// Shopify refuses any single query that requests more (MAX_COST_EXCEEDED).
pub const MAX_QUERY_COST: u64 = 1000;
/// What one mutation costs.
pub const MUTATION_COST: u64 = 10;

/// Why a cost cannot be computed; Shopify answers these as errors too.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    #[error("you must provide one of first or last to paginate the `{0}` connection")]
    UnboundedConnection(String),
}

/// The requested cost of `operation` with these variables.
pub fn requested(
    schema: &Valid<Schema>,
    document: &Valid<ExecutableDocument>,
    operation: &Operation,
    variables: &JsonMap,
) -> Result<u64, CostError> {
    if operation.is_mutation() {
        return Ok(MUTATION_COST * operation.root_fields(document).count().max(1) as u64);
    }
    let walk = Walk {
        schema,
        document,
        variables,
    };
    walk.selection_set(&operation.selection_set, None)
}

/// The actual cost of `operation` given the `data` it answered.
pub fn actual(
    schema: &Valid<Schema>,
    document: &Valid<ExecutableDocument>,
    operation: &Operation,
    variables: &JsonMap,
    data: &JsonMap,
) -> u64 {
    if operation.is_mutation() {
        return MUTATION_COST * operation.root_fields(document).count().max(1) as u64;
    }
    let walk = Walk {
        schema,
        document,
        variables,
    };
    let data = JsonValue::Object(data.clone());
    walk.selection_set(&operation.selection_set, Some(&data))
        .unwrap_or(0)
}

struct Walk<'a> {
    schema: &'a Valid<Schema>,
    document: &'a Valid<ExecutableDocument>,
    variables: &'a JsonMap,
}

impl Walk<'_> {
    /// Cost of a selection set. With `data`, the actual cost of that (object) value.
    fn selection_set(
        &self,
        set: &SelectionSet,
        data: Option<&JsonValue>,
    ) -> Result<u64, CostError> {
        let mut common = 0;
        let mut by_type: Vec<u64> = Vec::new();
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    let value = data.map(|d| {
                        d.get(field.response_key().as_str())
                            .unwrap_or(&JsonValue::Null)
                    });
                    common += self.field(field, value)?;
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.document.fragments.get(&spread.fragment_name) {
                        let cost = self.selection_set(&fragment.selection_set, data)?;
                        if fragment.type_condition() == &set.ty {
                            common += cost;
                        } else {
                            by_type.push(cost);
                        }
                    }
                }
                Selection::InlineFragment(inline) => {
                    let cost = self.selection_set(&inline.selection_set, data)?;
                    match &inline.type_condition {
                        Some(ty) if ty != &set.ty => by_type.push(cost),
                        _ => common += cost,
                    }
                }
            }
        }
        Ok(common + by_type.into_iter().max().unwrap_or(0))
    }

    fn field(&self, field: &Field, data: Option<&JsonValue>) -> Result<u64, CostError> {
        let ty = field.definition.ty.inner_named_type();
        let composite = matches!(
            self.schema.types.get(ty),
            Some(ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_))
        );
        if !composite || field.name.starts_with("__") {
            return Ok(0);
        }
        if let Some(data) = data
            && data.is_null()
        {
            return Ok(0);
        }
        if ty.as_str().ends_with("Connection") {
            return self.connection(field, data);
        }
        if field.definition.ty.is_list() {
            return match data {
                Some(JsonValue::Array(items)) => items
                    .iter()
                    .map(|item| self.object(&field.selection_set, Some(item)))
                    .sum(),
                Some(_) => Ok(0),
                None => {
                    let count = if field.name == "nodes" {
                        self.int_argument(field, "ids", true).unwrap_or(1)
                    } else {
                        1
                    };
                    Ok(count * self.object(&field.selection_set, None)?)
                }
            };
        }
        self.object(&field.selection_set, data)
    }

    fn object(&self, set: &SelectionSet, data: Option<&JsonValue>) -> Result<u64, CostError> {
        if data.is_some_and(JsonValue::is_null) {
            return Ok(0);
        }
        Ok(1 + self.selection_set(set, data)?)
    }

    /// 2 + size × one node, the node being what `nodes` or `edges { node }` selects.
    fn connection(&self, field: &Field, data: Option<&JsonValue>) -> Result<u64, CostError> {
        let mut per_node = 0;
        let mut returned = Vec::new();
        for selection in &field.selection_set.selections {
            let Selection::Field(inner) = selection else {
                continue;
            };
            let inner_data = data.and_then(|d| d.get(inner.response_key().as_str()));
            match inner.name.as_str() {
                "nodes" => {
                    per_node = per_node.max(self.object(&inner.selection_set, None)?);
                    if let Some(JsonValue::Array(items)) = inner_data {
                        for item in items {
                            returned.push(self.object(&inner.selection_set, Some(item))?);
                        }
                    }
                }
                "edges" => {
                    for node in inner
                        .selection_set
                        .selections
                        .iter()
                        .filter_map(|s| match s {
                            Selection::Field(f) if f.name == "node" => Some(f),
                            _ => None,
                        })
                    {
                        per_node = per_node.max(self.object(&node.selection_set, None)?);
                        if let Some(JsonValue::Array(edges)) = inner_data {
                            for edge in edges {
                                let value = edge.get(node.response_key().as_str());
                                returned.push(self.object(&node.selection_set, value)?);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        if data.is_some() {
            return Ok(2 + returned.iter().sum::<u64>());
        }
        let size = self
            .int_argument(field, "first", false)
            .or_else(|| self.int_argument(field, "last", false))
            .ok_or_else(|| CostError::UnboundedConnection(field.name.to_string()))?;
        Ok(2 + size * per_node)
    }

    /// An integer argument (or, with `list_len`, a list argument's length), literal or variable.
    fn int_argument(&self, field: &Field, name: &str, list_len: bool) -> Option<u64> {
        use apollo_compiler::ast::Value;
        let value = field.specified_argument_by_name(name)?;
        let json;
        let json_ref = match value.as_ref() {
            Value::Variable(var) => self.variables.get(var.as_str())?,
            Value::Int(i) => {
                json = JsonValue::from(i.try_to_i32().ok()?);
                &json
            }
            Value::List(items) => {
                json = JsonValue::from(items.len() as u64);
                &json
            }
            _ => return None,
        };
        match json_ref {
            JsonValue::Array(items) if list_len => Some(items.len() as u64),
            JsonValue::Number(n) => n.as_u64(),
            _ => None,
        }
    }
}

/// The requested cost of a registered document, as Shopify will compute it; the client waits for
/// this much room. Falls back to the per-query cap if the document cannot be costed.
pub(crate) fn estimate(document: &Document, variables: &serde_json::Value) -> f64 {
    // Validated once per document: the registry is static.
    static VALID: OnceLock<HashMap<&'static str, Valid<ExecutableDocument>>> = OnceLock::new();
    let valid = VALID.get_or_init(|| {
        super::documents::ALL
            .iter()
            .filter_map(|d| {
                Some((
                    d.operation(),
                    super::schema::validate(d.text(), d.file()).ok()?,
                ))
            })
            .collect()
    });
    let computed = (|| {
        let valid = valid.get(document.operation())?;
        let op = valid.operations.get(None).ok()?;
        let vars: JsonMap = serde_json::from_value(variables.clone()).ok()?;
        requested(super::schema::schema(), valid, op, &vars).ok()
    })();
    computed.unwrap_or(MAX_QUERY_COST) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shopify::{documents, schema};

    fn cost_of(text: &str, variables: serde_json::Value) -> u64 {
        let doc = schema::validate(text, "t.graphql").expect("valid");
        let op = doc.operations.get(None).expect("one operation");
        let vars: JsonMap = serde_json::from_value(variables).expect("variables");
        requested(schema::schema(), &doc, op, &vars).expect("cost")
    }

    #[test]
    fn objects_cost_one_scalars_nothing_connections_two_plus_first_times_node() {
        assert_eq!(cost_of("{ shop { id name } }", serde_json::json!({})), 1);
        assert_eq!(
            cost_of(
                "{ orders(first: 10) { nodes { id name } } }",
                serde_json::json!({})
            ),
            12
        );
        assert_eq!(
            cost_of(
                "query($n: Int) { orders(first: $n) { nodes { id customer { id } } } }",
                serde_json::json!({"n": 5})
            ),
            12
        );
    }

    #[test]
    fn a_mutation_costs_ten() {
        assert_eq!(
            cost_of(
                documents::TAGS_ADD.text(),
                serde_json::json!({"id": "x", "tags": []})
            ),
            10
        );
    }

    #[test]
    fn the_order_snapshot_stays_under_the_per_query_cap() {
        let cost = cost_of(
            documents::ORDER_SNAPSHOT.text(),
            serde_json::json!({"id": "x"}),
        );
        assert!(cost <= MAX_QUERY_COST, "OrderSnapshot requests {cost}");
        // The figure order_snapshot.graphql and BENCHMARKS.md state.
        assert_eq!(cost, 718, "OrderSnapshot requests {cost}");
        for doc in documents::ALL {
            let vars = serde_json::json!({"id": "x", "after": "c", "ids": ["a", "b"]});
            let doc_text = doc.text();
            let valid = schema::validate(doc_text, doc.file()).expect("valid");
            let op = valid.operations.get(None).expect("op");
            let vars: JsonMap = serde_json::from_value(vars).expect("variables");
            let cost = requested(schema::schema(), &valid, op, &vars).expect("cost");
            assert!(
                cost <= MAX_QUERY_COST,
                "{} requests {cost}",
                doc.operation()
            );
        }
    }
}
