//! The simulation as a person reads it (per changed order, then a summary), as a program reads
//! it (one JSON object per order read, then the summary object) and as a spreadsheet reads it
//! (one CSV row per changed order).

use std::fmt::Write;

use super::{Run, Simulated};
use crate::cli::report::render::quote;
use crate::rules::compare::{ChangeKind, Difference, HoldEffect};
use crate::rules::policy::FulfilmentAction;

/// The CSV header; the columns are stable (README, "Simulate a rule change over past orders").
pub const CSV_HEADER: &str = "name,id,at,lines_to_manual,lines_to_auto,holds_placed,holds_released,ship_by_from,ship_by_to,current_rules,candidate_rules";

pub fn csv(orders: &[Simulated]) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    for o in orders.iter().filter(|o| o.changed) {
        let d = &o.difference;
        let lines_to = |a: FulfilmentAction| d.lines.iter().filter(|l| l.to == a).count();
        let holds = |e: HoldEffect| {
            d.holds
                .iter()
                .filter(|h| h.change == e)
                .map(|h| h.handle.as_str())
                .collect::<Vec<_>>()
                .join(";")
        };
        let (current, candidate) = rule_names(d);
        let date = |x: Option<jiff::civil::Date>| x.map(|d| d.to_string()).unwrap_or_default();
        let fields = [
            o.name.clone(),
            o.order_id.to_string(),
            o.at.to_string(),
            lines_to(FulfilmentAction::Manual).to_string(),
            lines_to(FulfilmentAction::Auto).to_string(),
            holds(HoldEffect::Placed),
            holds(HoldEffect::Released),
            d.ship_by.as_ref().map(|s| date(s.from)).unwrap_or_default(),
            d.ship_by.as_ref().map(|s| date(s.to)).unwrap_or_default(),
            current.join(";"),
            candidate.join(";"),
        ];
        let row: Vec<String> = fields.iter().map(|f| quote(f)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// The rules that decided the changed things, today's and the candidate's, each once.
fn rule_names(d: &Difference) -> (Vec<String>, Vec<String>) {
    let mut current: Vec<String> = Vec::new();
    let mut candidate: Vec<String> = Vec::new();
    let add = |list: &mut Vec<String>, name: Option<&String>| {
        if let Some(n) = name
            && !list.contains(n)
        {
            list.push(n.clone());
        }
    };
    for l in &d.lines {
        add(&mut current, Some(&l.current_rule));
        add(&mut candidate, Some(&l.candidate_rule));
    }
    for h in &d.holds {
        add(&mut current, h.current_rule.as_ref());
        add(&mut candidate, h.candidate_rule.as_ref());
    }
    if let Some(s) = &d.ship_by {
        add(&mut current, s.current_rule.as_ref());
        add(&mut candidate, s.candidate_rule.as_ref());
    }
    (current, candidate)
}

/// One JSON object per line: each order read, then the summary (the only one without
/// `order_id`).
pub fn json_lines(orders: &[Simulated], run: &Run) -> serde_json::Result<String> {
    let mut out = String::new();
    for o in orders {
        out.push_str(&serde_json::to_string(o)?);
        out.push('\n');
    }
    out.push_str(&serde_json::to_string(run)?);
    out.push('\n');
    Ok(out)
}

pub fn text(orders: &[Simulated], run: &Run) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: orders placed from {} to {}, both rule sets planning at {}",
        run.shop,
        run.since,
        run.until,
        match run.at {
            "now" => "the same instant, now",
            _ => "each order's paid time",
        }
    );
    for o in orders.iter().filter(|o| o.changed) {
        let _ = writeln!(out);
        let _ = writeln!(out, "{} ({})", o.name, o.order_id);
        order_lines(&mut out, &o.difference);
    }
    let _ = writeln!(out);
    let s = &run.summary;
    let _ = writeln!(out, "orders read        {}", s.orders_read);
    let _ = writeln!(out, "orders changed     {}", s.orders_changed);
    for k in ChangeKind::ALL {
        let n = s.changed_by_kind.get(k.as_str()).copied().unwrap_or(0);
        if n > 0 {
            let _ = writeln!(out, "  {:<26} {n}", label(*k));
        }
    }
    if run.orders_failed > 0 {
        let _ = writeln!(out, "orders not read    {}", run.orders_failed);
    }
    out
}

fn order_lines(out: &mut String, d: &Difference) {
    let or_none = |r: &Option<String>| r.clone().unwrap_or_else(|| "-".to_owned());
    for l in &d.lines {
        let _ = writeln!(
            out,
            "  line {} ({} left): {} -> {}   (today: {}; candidate: {})",
            l.name,
            l.remaining,
            l.from.as_str(),
            l.to.as_str(),
            l.current_rule,
            l.candidate_rule
        );
    }
    for h in &d.holds {
        let _ = writeln!(
            out,
            "  hold {} on {}: {}   (today: {}; candidate: {})",
            h.handle,
            h.fulfillment_order,
            match h.change {
                HoldEffect::Placed => "would be placed",
                HoldEffect::Released => "would be released",
            },
            or_none(&h.current_rule),
            or_none(&h.candidate_rule)
        );
    }
    if let Some(s) = &d.ship_by {
        let date = |x: Option<jiff::civil::Date>| x.map_or("none".to_owned(), |d| d.to_string());
        let _ = writeln!(
            out,
            "  ship by {} -> {}   (today: {}; candidate: {})",
            date(s.from),
            date(s.to),
            or_none(&s.current_rule),
            or_none(&s.candidate_rule)
        );
    }
    if let Some(s) = &d.skipped {
        let _ = writeln!(
            out,
            "  left alone: {} -> {}",
            s.current.as_deref().unwrap_or("no, planned"),
            s.candidate.as_deref().unwrap_or("no, planned")
        );
    }
}

fn label(k: ChangeKind) -> &'static str {
    match k {
        ChangeKind::LinesToManual => "lines auto -> manual",
        ChangeKind::LinesToAuto => "lines manual -> auto",
        ChangeKind::HoldsPlaced => "holds placed",
        ChangeKind::HoldsReleased => "holds released",
        ChangeKind::ShipByLater => "ship-by later",
        ChangeKind::ShipByEarlier => "ship-by earlier",
        ChangeKind::Skipped => "left alone differently",
    }
}
