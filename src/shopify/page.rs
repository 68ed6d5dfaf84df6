//! A GraphQL connection's page, as every paged document here reads it: the nodes and where
//! the next page starts.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

impl PageInfo {
    /// The `after` of the next page; `None` on the last one (or a page without a cursor).
    pub(super) fn next_cursor(&self) -> Option<String> {
        if self.has_next_page {
            self.end_cursor.clone()
        } else {
            None
        }
    }
}

/// `{ pageInfo { hasNextPage endCursor } nodes { … } }`.
#[derive(Debug, Deserialize)]
pub(super) struct Connection<T> {
    #[serde(rename = "pageInfo")]
    pub(super) page_info: PageInfo,
    pub(super) nodes: Vec<T>,
}
