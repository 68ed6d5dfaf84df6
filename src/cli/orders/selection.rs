//! The selection flags as Shopify search strings: one for the whole selection, or one per
//! `--order-id` (`id:N` with the other flags), so an id outside the other flags is not selected.

use jiff::Timestamp;

/// The flags, instants already read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub tag: Option<String>,
    pub order_ids: Vec<u64>,
    pub query: Option<String>,
}

impl Selection {
    /// Whether any flag narrows: an empty selection would be every order of the shop, which
    /// is refused rather than done by accident.
    pub fn is_empty(&self) -> bool {
        self.since.is_none()
            && self.until.is_none()
            && self.tag.is_none()
            && self.order_ids.is_empty()
            && self.query.as_deref().is_none_or(|q| q.trim().is_empty())
    }

    /// The terms of every flag but `--order-id`, Shopify's search syntax joined by AND.
    fn common(&self) -> Vec<String> {
        let mut terms = Vec::new();
        if let Some(since) = self.since {
            terms.push(format!("created_at:>='{since}'"));
        }
        if let Some(until) = self.until {
            terms.push(format!("created_at:<='{until}'"));
        }
        if let Some(tag) = &self.tag {
            // A tag may hold spaces; quote it with the quote it does not contain.
            let q = if tag.contains('\'') { '"' } else { '\'' };
            terms.push(format!("tag:{q}{tag}{q}"));
        }
        if let Some(query) = self.query.as_deref().map(str::trim)
            && !query.is_empty()
        {
            terms.push(query.to_owned());
        }
        terms
    }

    /// The search strings to run, each with the id it stands for (`None`: the whole selection).
    pub fn queries(&self) -> Vec<(Option<u64>, String)> {
        let common = self.common();
        if self.order_ids.is_empty() {
            return vec![(None, common.join(" AND "))];
        }
        let mut ids = self.order_ids.clone();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .map(|id| {
                let mut terms = vec![format!("id:{id}")];
                terms.extend(common.iter().cloned());
                (Some(id), terms.join(" AND "))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("instant")
    }

    #[test]
    fn every_flag_becomes_a_term_joined_by_and() {
        let s = Selection {
            since: Some(at("2026-11-23T00:00:00Z")),
            until: Some(at("2026-11-24T00:00:00Z")),
            tag: Some("gift wrap".into()),
            order_ids: vec![],
            query: Some(" financial_status:paid ".into()),
        };
        assert_eq!(
            s.queries(),
            [(
                None,
                "created_at:>='2026-11-23T00:00:00Z' AND created_at:<='2026-11-24T00:00:00Z' \
                 AND tag:'gift wrap' AND financial_status:paid"
                    .to_owned()
            )]
        );
        assert!(!s.is_empty());
    }

    #[test]
    fn each_order_id_is_its_own_query_once_with_the_other_flags() {
        let s = Selection {
            tag: Some("o'brien".into()),
            order_ids: vec![7, 3, 7],
            ..Selection::default()
        };
        assert_eq!(
            s.queries(),
            [
                (Some(3), "id:3 AND tag:\"o'brien\"".to_owned()),
                (Some(7), "id:7 AND tag:\"o'brien\"".to_owned()),
            ]
        );
    }

    #[test]
    fn no_flag_is_an_empty_selection() {
        assert!(Selection::default().is_empty());
        let blank = Selection {
            query: Some("  ".into()),
            ..Selection::default()
        };
        assert!(blank.is_empty());
    }
}
