//! The one place an install route's failure becomes an HTTP answer: a status and a short
//! public sentence (an HTML page for the browser routes, JSON for `/auth/session`); the cause's
//! chain goes to the log. Nothing here shows a code, a token, a cookie or Shopify's body.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::state::StateError;
use crate::auth::GrantError;
use crate::auth::query_hmac::QueryHmacError;
use crate::auth::session_token::SessionTokenError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("query hmac refused: {0}")]
    Hmac(#[from] QueryHmacError),
    #[error("the shop parameter is missing or not a *.myshopify.com domain")]
    Shop,
    #[error("the timestamp is missing or more than 90 s from now")]
    Stale,
    #[error("state refused: {0}")]
    State(#[from] StateError),
    #[error("the callback has no code")]
    NoCode,
    #[error("the grant lacks scopes orderflow needs: {}", .0.join(","))]
    Scopes(Vec<String>),
    #[error("no bearer session token")]
    NoBearer,
    #[error("session token refused: {0}")]
    Session(#[from] SessionTokenError),
    #[error(transparent)]
    Grant(#[from] GrantError),
    #[error("token store: {0}")]
    Store(#[from] StoreError),
    #[error("no [store] is configured")]
    NoStore,
}

impl InstallError {
    fn status(&self) -> StatusCode {
        match self {
            InstallError::Hmac(_)
            | InstallError::Shop
            | InstallError::Stale
            | InstallError::State(_)
            | InstallError::NoCode
            | InstallError::Scopes(_) => StatusCode::BAD_REQUEST,
            InstallError::NoBearer | InstallError::Session(_) => StatusCode::UNAUTHORIZED,
            InstallError::Grant(_) => StatusCode::BAD_GATEWAY,
            InstallError::Store(_) | InstallError::NoStore => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// What the merchant (or the frontend) may read.
    fn public(&self) -> String {
        match self {
            InstallError::Hmac(_) => "The request is not signed by Shopify for this app.".into(),
            InstallError::Shop => "The shop is missing or not a *.myshopify.com domain.".into(),
            InstallError::Stale => {
                "The request is too old (or its clock is off). Start the install again from the Shopify admin.".into()
            }
            InstallError::State(_) => {
                "This callback does not belong to an install started here (state and cookie differ, or the cookie expired). Start the install again.".into()
            }
            InstallError::NoCode => "The callback has no authorization code.".into(),
            InstallError::Scopes(missing) => format!(
                "orderflow was not granted every scope it needs; missing: {}. Approve them and install again.",
                missing.join(", ")
            ),
            InstallError::NoBearer => "Send the session token as `Authorization: Bearer <token>`.".into(),
            InstallError::Session(_) => "The session token is not valid.".into(),
            InstallError::Grant(_) => {
                "Shopify did not give orderflow a token. Start the install again from the Shopify admin.".into()
            }
            InstallError::Store(_) | InstallError::NoStore => {
                "orderflow cannot reach its token store right now. Try again in a minute.".into()
            }
        }
    }

    fn log(&self) {
        // The error's text names shops, statuses and OAuth error codes; never a secret.
        let status = self.status().as_u16();
        if status >= 500 {
            tracing::warn!(status, error = %self, "install request failed");
        } else {
            tracing::info!(status, error = %self, "install request refused");
        }
    }
}

/// The failure as a small HTML page (the browser routes).
pub struct Page(pub InstallError);

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        self.0.log();
        let body = page("orderflow could not be installed", &self.0.public());
        (self.0.status(), html_headers(), body).into_response()
    }
}

/// The failure as JSON (`/auth/session`). Missing scopes are a 403 there, naming them.
pub struct Api(pub InstallError);

impl IntoResponse for Api {
    fn into_response(self) -> Response {
        self.0.log();
        let (status, body) = match &self.0 {
            InstallError::Scopes(missing) => (
                StatusCode::FORBIDDEN,
                json!({"installed": false, "error": self.0.public(), "missing_scopes": missing}),
            ),
            e => (e.status(), json!({"installed": false, "error": e.public()})),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// Headers of every page: HTML, never cached (a page may follow a one-time code).
pub fn html_headers() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
    ]
}

/// A minimal page; `title` and `text` are escaped.
pub fn page(title: &str, text: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1><p>{x}</p></body></html>\n",
        t = escape(title),
        x = escape(text)
    )
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_they_show() {
        let p = page("a<b", "x & \"y\"");
        assert!(p.contains("a&lt;b"));
        assert!(p.contains("x &amp; &quot;y&quot;"));
        assert!(!p.contains("a<b"));
    }
}
