//! The order's risk, judged once per plan: is a fraud hold wanted, is the assessment still
//! pending, has Shopify recommended accepting the order.

use super::enums::RiskRecommendation;
use super::model::Order;
use super::plan::FraudVerdict;
use super::policy::Rules;

/// What the risk says for the whole order.
pub(super) struct Fraud {
    pub verdict: FraudVerdict,
    /// (rule, reason) when the rules want a fraud hold.
    pub flag: Option<(String, String)>,
    pub pending: bool,
    /// ACCEPT with `release_on_accept`: our fraud holds go.
    pub released_by_accept: bool,
}

impl Fraud {
    pub fn judge(order: &Order, rules: &Rules) -> Self {
        let f = &rules.fraud;
        let risk = &order.risk;
        let accepted = risk.recommendation == RiskRecommendation::Accept;
        let released_by_accept = f.release_on_accept && accepted;
        let flag = if let Some(level) = risk.assessments.iter().find(|l| f.hold_on_risk.contains(l))
        {
            Some((
                "fraud.hold_on_risk".to_owned(),
                format!("a risk assessment says {level}"),
            ))
        } else if f
            .hold_on_recommendation
            .contains(&risk.recommendation.or_none())
        {
            Some((
                "fraud.hold_on_recommendation".to_owned(),
                format!("Shopify recommends {}", risk.recommendation.or_none()),
            ))
        } else {
            None
        };
        let flag = flag.filter(|_| !released_by_accept);
        let pending = f.enabled() && flag.is_none() && !accepted && risk.is_pending();
        let verdict = match (&flag, pending) {
            (Some((rule, reason)), _) => FraudVerdict::Hold {
                rule: rule.clone(),
                reason: reason.clone(),
            },
            (None, true) => FraudVerdict::Pending,
            _ if released_by_accept => FraudVerdict::Accepted,
            _ if !f.enabled() => FraudVerdict::Off,
            _ => FraudVerdict::Clear,
        };
        Self {
            verdict,
            flag,
            pending,
            released_by_accept,
        }
    }
}
