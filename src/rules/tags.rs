//! The order tags orderflow keeps: present exactly while what they say is true.

use super::decision::HoldRecord;
use super::line::Classified;
use super::model::Order;
use super::plan::{Action, FRAUD_HANDLE, Plan, Step};
use super::policy::{FulfilmentAction, Rules};

/// `manual_tag` while a line with something left to fulfil is manual; the fraud `tag` while a
/// fraud hold of ours is on the order once the plan is applied. Only these tags are touched.
pub(super) fn tag_steps(
    order: &Order,
    rules: &Rules,
    lines: &[Classified<'_>],
    holds: &[HoldRecord],
    p: &mut Plan,
) {
    let manual_wanted = lines.iter().any(|c| {
        c.action == FulfilmentAction::Manual
            && c.remaining() > 0
            && c.fo
                .is_some_and(|i| order.fulfillment_orders[i].is_active())
    });
    let fraud_wanted = holds.iter().any(|h| h.handle == FRAUD_HANDLE);
    let mut add = Vec::new();
    let mut remove = Vec::new();
    for (tag, wanted, rule, why) in [
        (
            &rules.fulfilment.manual_tag,
            manual_wanted,
            "fulfilment.manual_tag",
            "a line waits for a person",
        ),
        (
            &rules.fraud.tag,
            fraud_wanted,
            "fraud.tag",
            "a fraud hold of ours is on the order",
        ),
    ] {
        let Some(tag) = tag else { continue };
        let present = order.tags.iter().any(|t| t.eq_ignore_ascii_case(tag));
        if wanted && !present {
            add.push((tag.clone(), rule, why));
        } else if !wanted && present {
            remove.push((tag.clone(), rule, why));
        }
    }
    if !add.is_empty() {
        p.steps.push(Step {
            action: Action::TagsAdd {
                tags: add.iter().map(|a| a.0.clone()).collect(),
            },
            rule: add.iter().map(|a| a.1).collect::<Vec<_>>().join(", "),
            reason: add.iter().map(|a| a.2).collect::<Vec<_>>().join("; "),
        });
    }
    if !remove.is_empty() {
        p.steps.push(Step {
            action: Action::TagsRemove {
                tags: remove.iter().map(|a| a.0.clone()).collect(),
            },
            rule: remove.iter().map(|a| a.1).collect::<Vec<_>>().join(", "),
            reason: remove
                .iter()
                .map(|a| format!("no longer true that {}", a.2))
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
}
