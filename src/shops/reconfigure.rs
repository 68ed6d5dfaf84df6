//! [`Shops::reconfigure`]: a reloaded config's shops and global rules put in force at once.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Base, KnownShop, Shops, in_zone};
use crate::config::ShopConfig;
use crate::rules::Rules;

impl Shops {
    /// Replaces the configured shops with `shops` and the global rules with `global_rules`,
    /// in one step: a reader of the map (a worker taking its message's shop, the receiver)
    /// sees every shop under the old version or every shop under the new, never a mix.
    /// Shops installed from the store keep their zone and get the new global rules; what the
    /// store said about uninstalls is kept. A shop no longer configured is dropped until the
    /// store (if any) says otherwise.
    pub fn reconfigure(&self, shops: Vec<ShopConfig>, global_rules: Arc<Rules>) {
        let configured: HashMap<_, _> = shops
            .into_iter()
            .map(|s| (s.domain.clone(), Arc::new(s)))
            .collect();
        let mut known = self.inner.known.write().unwrap_or_else(|p| p.into_inner());
        let mut base = self.inner.base.write().unwrap_or_else(|p| p.into_inner());
        let old = std::mem::replace(
            &mut *base,
            Arc::new(Base {
                configured: configured.clone(),
                global_rules: global_rules.clone(),
            }),
        );
        drop(base);
        let mut next: HashMap<_, _> = known
            .drain()
            .filter_map(|(domain, k)| {
                let config = match configured.get(&domain) {
                    Some(c) => c.clone(),
                    // Configured before, not now.
                    None if old.configured.contains_key(&domain) => return None,
                    None => {
                        let mut installed = (*k.config).clone();
                        installed.rules =
                            Arc::new(in_zone(&global_rules, installed.timezone.clone()));
                        Arc::new(installed)
                    }
                };
                let shop = KnownShop {
                    config,
                    uninstalled: k.uninstalled,
                };
                Some((domain, shop))
            })
            .collect();
        for (domain, config) in &configured {
            next.entry(domain.clone()).or_insert_with(|| KnownShop {
                config: config.clone(),
                uninstalled: false,
            });
        }
        *known = next;
        drop(known);
        self.bump();
    }
}
