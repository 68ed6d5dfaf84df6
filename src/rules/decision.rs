//! orderflow's decision, kept on the order in a JSON metafield where the merchant and
//! notification templates can read it, and where the next plan reads what we did before: which
//! holds we placed (so a hold of ours that is gone was released by a person, whose decision
//! wins) and which holds people released (so we never place them again).
//!
//! The format is versioned and its field names are stable snake_case:
//!
//! ```json
//! {"version":1,"ship_by":"2026-11-26","ship_by_at":"2026-11-26T12:00:00Z",
//!  "holds":[{"fulfillment_order":"gid://shopify/FulfillmentOrder/1","handle":"orderflow-processing","rule":"handmade"}],
//!  "released_by_person":[],"rules":["digital goods","handmade"],"planned_at":"2026-11-23T10:00:00Z",
//!  "fulfilments":[{"fulfillment_order":"gid://shopify/FulfillmentOrder/2","fulfillment":"gid://shopify/Fulfillment/7",
//!    "lines":[{"line_item":"gid://shopify/LineItem/3","quantity":1}],"rule":"digital goods"}],
//!  "taken_back_by_person":[{"line_item":"gid://shopify/LineItem/3","fulfillment":"gid://shopify/Fulfillment/7"}]}
//! ```
//!
//! Two later fields, both `#[serde(default)]` so a decision written before them still reads:
//! `fulfilments` (the fulfilments orderflow created: fulfilment order, order lines and
//! quantities, the fulfilment's id once a snapshot showed it) and `taken_back_by_person` (order
//! lines whose fulfilment of ours a person cancelled: left for a person from then on). Why the
//! record survives a crash is said in [`super::taken_back`].
//!
//! Anything else found in the metafield (absent, not JSON, another version) reads as "no
//! previous decision" and is overwritten by the next plan.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Where the decision lives on the order (`metafieldsSet` with type `json`).
pub const METAFIELD_NAMESPACE: &str = "orderflow";
pub const METAFIELD_KEY: &str = "decision";
pub const METAFIELD_TYPE: &str = "json";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub version: u32,
    /// The order's ship-by date in the shop's zone: the latest of its lines.
    pub ship_by: Option<Date>,
    /// The cut-off instant of that date, when processing holds are released.
    pub ship_by_at: Option<Timestamp>,
    /// Our holds on the order once the plan is applied.
    #[serde(default)]
    pub holds: Vec<HoldRecord>,
    /// Our holds that a person released; never placed again.
    #[serde(default)]
    pub released_by_person: Vec<HoldKey>,
    /// Names of the rules that decided something on this order, sorted.
    #[serde(default)]
    pub rules: Vec<String>,
    pub planned_at: Timestamp,
    /// The fulfilments orderflow created (or is creating in this plan), oldest first.
    #[serde(default)]
    pub fulfilments: Vec<FulfilmentRecord>,
    /// Order lines a person took back by cancelling our fulfilment; never fulfilled again by
    /// orderflow.
    #[serde(default)]
    pub taken_back_by_person: Vec<TakenBack>,
    /// When orderflow closed (archived) the order (`[archive]`); an order with this that is
    /// open again was reopened by a person, and is never closed again ([`super::archive`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by_orderflow_at: Option<Timestamp>,
}

/// One `fulfillmentCreate` of ours. Written *before* the mutation is sent (see
/// [`super::taken_back`]), so `fulfillment` is `None` until a later snapshot shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FulfilmentRecord {
    pub fulfillment_order: String,
    /// `gid://shopify/Fulfillment/<n>`, once known.
    #[serde(default)]
    pub fulfillment: Option<String>,
    /// The order lines and quantities, sorted: what identifies the fulfilment until its id is
    /// known (a cancellation may move the lines to a new fulfilment order; the order line stays).
    pub lines: Vec<RecordLine>,
    pub rule: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordLine {
    pub line_item: String,
    pub quantity: u32,
}

/// An order line a person took back, and the cancelled fulfilment that says so (when listed).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TakenBack {
    pub line_item: String,
    #[serde(default)]
    pub fulfillment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HoldRecord {
    pub fulfillment_order: String,
    pub handle: String,
    pub rule: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HoldKey {
    pub fulfillment_order: String,
    pub handle: String,
}

/// What the metafield held before this plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Previous {
    Absent,
    /// Present but not a decision this version understands; the reason is for `explain`.
    Unreadable(String),
    Found(Decision),
}

impl Previous {
    pub fn read(raw: Option<&str>) -> Self {
        let Some(raw) = raw else {
            return Previous::Absent;
        };
        match serde_json::from_str::<Decision>(raw) {
            Ok(d) if d.version == VERSION => Previous::Found(d),
            Ok(d) => Previous::Unreadable(format!(
                "version {} is not {VERSION}, the version this orderflow writes",
                d.version
            )),
            Err(e) => Previous::Unreadable(e.to_string()),
        }
    }

    pub fn decision(&self) -> Option<&Decision> {
        match self {
            Previous::Found(d) => Some(d),
            _ => None,
        }
    }
}

impl Decision {
    /// The metafield value.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a decision serialises")
    }

    /// Equal in everything but the time it was planned and the fulfilment ids learnt since:
    /// only then is rewriting it a no-op. An id alone is not worth a write (the record's lines
    /// identify the fulfilment as well); it is recorded with the next change.
    pub fn same_as(&self, other: &Decision) -> bool {
        fn bare(d: &Decision) -> Decision {
            let mut d = d.clone();
            for f in &mut d.fulfilments {
                f.fulfillment = None;
            }
            d
        }
        Decision {
            planned_at: other.planned_at,
            ..bare(self)
        } == bare(other)
    }

    pub fn taken_back(&self, line_item: &str) -> bool {
        self.taken_back_by_person
            .iter()
            .any(|t| t.line_item == line_item)
    }

    pub fn holds_handle(&self, fulfillment_order: &str, handle: &str) -> bool {
        self.holds
            .iter()
            .any(|h| h.fulfillment_order == fulfillment_order && h.handle == handle)
    }

    pub fn released_by_person(&self, fulfillment_order: &str, handle: &str) -> bool {
        self.released_by_person
            .iter()
            .any(|h| h.fulfillment_order == fulfillment_order && h.handle == handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_absent_and_other_versions_read_as_no_decision() {
        assert_eq!(Previous::read(None), Previous::Absent);
        assert!(matches!(
            Previous::read(Some("not json")),
            Previous::Unreadable(_)
        ));
        assert!(matches!(
            Previous::read(Some("{\"a\":1}")),
            Previous::Unreadable(_)
        ));
        let v2 =
            r#"{"version":2,"ship_by":null,"ship_by_at":null,"planned_at":"2026-11-23T10:00:00Z"}"#;
        assert!(
            matches!(Previous::read(Some(v2)), Previous::Unreadable(m) if m.contains("version 2"))
        );
    }

    #[test]
    fn decision_round_trips_with_snake_case_fields() {
        let d = Decision {
            version: VERSION,
            ship_by: Some(jiff::civil::date(2026, 11, 26)),
            ship_by_at: Some("2026-11-26T12:00:00Z".parse().unwrap()),
            holds: vec![HoldRecord {
                fulfillment_order: "gid://shopify/FulfillmentOrder/1".into(),
                handle: "orderflow-processing".into(),
                rule: "handmade".into(),
            }],
            released_by_person: vec![],
            rules: vec!["handmade".into()],
            planned_at: "2026-11-23T10:00:00Z".parse().unwrap(),
            fulfilments: vec![FulfilmentRecord {
                fulfillment_order: "gid://shopify/FulfillmentOrder/1".into(),
                fulfillment: None,
                lines: vec![RecordLine {
                    line_item: "gid://shopify/LineItem/1".into(),
                    quantity: 2,
                }],
                rule: "digital goods".into(),
            }],
            taken_back_by_person: vec![],
            closed_by_orderflow_at: None,
        };
        let json = d.to_json();
        assert!(json.contains("\"ship_by\":\"2026-11-26\""), "{json}");
        assert!(json.contains("\"released_by_person\":[]"), "{json}");
        assert_eq!(Previous::read(Some(&json)), Previous::Found(d.clone()));
        let later = Decision {
            planned_at: "2026-11-24T10:00:00Z".parse().unwrap(),
            ..d.clone()
        };
        assert!(later.same_as(&d));
        let mut with_id = d.clone();
        with_id.fulfilments[0].fulfillment = Some("gid://shopify/Fulfillment/9".into());
        assert!(
            with_id.same_as(&d),
            "an id learnt is not a change by itself"
        );
        assert!(json.contains("\"taken_back_by_person\":[]"), "{json}");
    }

    #[test]
    fn a_version_1_decision_written_before_the_fulfilment_fields_still_reads() {
        let old = r#"{"version":1,"ship_by":"2026-11-26","ship_by_at":"2026-11-26T12:00:00Z","holds":[],"released_by_person":[],"rules":["x"],"planned_at":"2026-11-23T10:00:00Z"}"#;
        let Previous::Found(d) = Previous::read(Some(old)) else {
            panic!("an older decision reads");
        };
        assert!(d.fulfilments.is_empty() && d.taken_back_by_person.is_empty());
    }
}
