//! The one place receiver errors become HTTP answers. The body says what the sender can do;
//! internal detail goes to the log, never to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::headers::HeaderError;
use super::verify::SignatureError;
use crate::queue::QueueError;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("signature refused: {0}")]
    Unauthorized(#[from] SignatureError),
    #[error("bad request: {0}")]
    BadRequest(#[from] HeaderError),
    #[error("body over the {0}-byte limit")]
    TooLarge(usize),
    #[error("could not make the webhook durable: {0}")]
    Unavailable(#[from] QueueError),
    /// `server.max_in_flight` webhooks are being handled: this one is shed.
    #[error("too many webhooks in flight")]
    Saturated,
    /// The body had not arrived by `server.request_timeout_ms`.
    #[error("the body did not arrive within {0:?}")]
    SlowBody(std::time::Duration),
    /// Handling (the publish, mostly) had not finished by `server.request_timeout_ms`.
    #[error("not durable within the request deadline of {0:?}")]
    Deadline(std::time::Duration),
}

impl WebhookError {
    /// The `outcome` label of the webhooks metric.
    pub fn outcome(&self) -> &'static str {
        match self {
            WebhookError::Unauthorized(_) => "unauthorized",
            WebhookError::BadRequest(_) => "bad_request",
            WebhookError::TooLarge(_) => "too_large",
            WebhookError::Unavailable(_) => "unavailable",
            WebhookError::Saturated => "shed",
            WebhookError::SlowBody(_) => "slow_body",
            WebhookError::Deadline(_) => "deadline",
        }
    }
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        match self {
            WebhookError::Unauthorized(_) => {
                (StatusCode::UNAUTHORIZED, "invalid webhook signature\n").into_response()
            }
            WebhookError::BadRequest(e) => {
                (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response()
            }
            WebhookError::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("body over the {limit}-byte limit\n"),
            )
                .into_response(),
            // Closed after the answer: the rest of the body is not worth waiting for.
            WebhookError::SlowBody(_) => (
                StatusCode::REQUEST_TIMEOUT,
                [("connection", "close")],
                "the body did not arrive in time\n",
            )
                .into_response(),
            // Shopify retries anything but 2xx: 503 asks it to.
            WebhookError::Saturated => (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", "1")],
                "too many webhooks at once; retry\n",
            )
                .into_response(),
            WebhookError::Unavailable(_) | WebhookError::Deadline(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", "5")],
                "temporarily unable to accept webhooks; retry\n",
            )
                .into_response(),
        }
    }
}
