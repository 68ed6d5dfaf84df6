//! The demo's last step: a deferred payment captured at fulfilment and finished orders archived,
//! and the check of both against the shop's mutation log.

use std::time::Instant;

use super::report::{self, mutations_of};
use super::{Demo, settled};
use crate::rules::enums::FinancialStatus;
use crate::sandbox::MutationRecord;
use crate::shopify::OrderSnapshot;

impl Demo {
    /// Step 4: Shopify sends `orders/updated` after the changes; the orders that are paid and
    /// fulfilled now (the authorized one captured at its fulfilment in step 1) are archived.
    /// Then the promises are checked against the mutation log: a failed one fails the demo.
    pub(super) async fn capture_and_archive(&mut self) -> anyhow::Result<()> {
        let from = self.sandbox.mutations().len();
        let settled_before = settled(&self.metrics);
        let mut accepted = 0;
        for (i, o) in self.orders.iter().enumerate() {
            if self
                .send("orders/updated", &format!("demo-updated-{i}"), &o.webhook)
                .await?
                .is_success()
            {
                accepted += 1;
            }
        }
        println!(
            "4. Shopify sends orders/updated for every order ({accepted} accepted): with [payment] capture = \"on_fulfilment\" and [archive] when_fulfilled = true, paid and fulfilled orders are closed."
        );
        let started = Instant::now();
        let metrics = self.metrics.clone();
        self.wait("the workers to settle every order", || {
            settled(&metrics) >= settled_before + accepted
        })
        .await?;
        let log = self.sandbox.mutations();
        let mut orders: Vec<(String, OrderSnapshot)> = self
            .orders
            .iter()
            .map(|o| Ok((o.name.clone(), self.current(&o.fixture.order.id)?)))
            .collect::<anyhow::Result<_>>()?;
        orders.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        println!("   Done in {:.1} s:", started.elapsed().as_secs_f64());
        for (name, order) in &orders {
            let mine = report::mutations_of(order, &log[from..]);
            if !mine.is_empty() || name == "authorized" {
                let did = report::actions(&report::mutations_of(order, &log), &self.holds);
                print!(
                    "{}",
                    report::block(name, order, &did, self.skipped(order).as_deref())
                );
            }
        }
        let mut failed = 0;
        for check in check_capture_and_archive(&orders, &log) {
            match check {
                Ok(line) => println!("   ✓ {line}"),
                Err(line) => {
                    failed += 1;
                    println!("   ✗ {line}");
                }
            }
        }
        println!();
        anyhow::ensure!(failed == 0, "{failed} expectation(s) of step 4 failed");
        Ok(())
    }
}

/// The demo's promises about the order's later life, checked against the shop's mutation log:
/// the `authorized` order's payment captured exactly once and now paid, and finished orders
/// closed, each once. One line per check, `Err` for a broken promise.
pub fn check_capture_and_archive(
    orders: &[(String, OrderSnapshot)],
    log: &[MutationRecord],
) -> Vec<Result<String, String>> {
    let count = |order: &OrderSnapshot, op: &str| {
        mutations_of(order, log)
            .iter()
            .filter(|r| r.operation_name.as_deref() == Some(op))
            .count()
    };
    let mut checks = Vec::new();
    match orders.iter().find(|(name, _)| name == "authorized") {
        None => checks.push(Err(
            "no `authorized` fixture: no payment to capture".to_owned()
        )),
        Some((name, o)) => {
            let captures = count(o, "OrderCapture");
            let paid = o.display_financial_status == Some(FinancialStatus::Paid);
            let line = format!(
                "{} {name}: {captures} capture(s) sent, payment now {}",
                o.name,
                o.display_financial_status
                    .map_or("unknown".to_owned(), |s| s.to_string())
            );
            checks.push(if captures == 1 && paid {
                Ok(line)
            } else {
                Err(format!("{line} (expected exactly 1 capture and PAID)"))
            });
        }
    }
    let closed: Vec<String> = orders
        .iter()
        .filter(|(_, o)| o.closed && count(o, "OrderClose") == 1)
        .map(|(name, o)| format!("{} {name}", o.name))
        .collect();
    let twice: Vec<String> = orders
        .iter()
        .filter(|(_, o)| count(o, "OrderClose") > 1)
        .map(|(name, o)| format!("{} {name}", o.name))
        .collect();
    checks.push(if !twice.is_empty() {
        Err(format!("closed more than once: {}", twice.join(", ")))
    } else if closed.iter().any(|n| n.ends_with(" authorized")) {
        Ok(format!("archived once each: {}", closed.join(", ")))
    } else {
        Err(format!(
            "the captured, fulfilled `authorized` order was not archived (archived: {})",
            if closed.is_empty() {
                "none".to_owned()
            } else {
                closed.join(", ")
            }
        ))
    });
    checks
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::id::ShopDomain;

    fn record(op: &str, variables: serde_json::Value) -> MutationRecord {
        MutationRecord {
            shop: ShopDomain::parse("acme.myshopify.com").unwrap(),
            operation_name: Some(op.to_owned()),
            fields: vec![],
            variables,
            at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_capture_and_archive_check_fails_on_a_second_capture_or_no_close() {
        let text = include_str!("../../../fixtures/orders/authorized.json");
        let mut order = serde_json::from_str::<crate::sandbox::Fixture>(text)
            .unwrap()
            .order;
        let capture = record(
            "OrderCapture",
            json!({"input": {"id": order.id, "amount": "24.00"}}),
        );
        let close = record("OrderClose", json!({"input": {"id": order.id}}));
        order.display_financial_status = Some(FinancialStatus::Paid);
        order.closed = true;
        let orders = vec![("authorized".to_owned(), order)];
        let ok = check_capture_and_archive(&orders, &[capture.clone(), close.clone()]);
        assert!(ok.iter().all(Result::is_ok), "{ok:?}");
        assert_eq!(
            report::describe(&capture, &report::HoldNames::default()),
            "captured 24.00"
        );
        let twice = check_capture_and_archive(&orders, &[capture.clone(), capture.clone(), close]);
        assert!(twice[0].is_err(), "{twice:?}");
        let unclosed = check_capture_and_archive(&orders, &[capture]);
        assert!(unclosed[1].is_err(), "{unclosed:?}");
    }
}
