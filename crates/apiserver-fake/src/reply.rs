//! What a handler answers, before it becomes an HTTP response.

use bytes::Bytes;
use serde_json::Value;

use crate::status::ApiError;

/// An answer: status code, JSON (or text) body and extra headers.
pub struct Reply {
    /// HTTP status code.
    pub code: u16,
    /// Body bytes.
    pub body: Bytes,
    /// Content-Type header.
    pub content_type: String,
    /// Extra headers (Warning, Retry-After).
    pub headers: Vec<(String, String)>,
    /// Cut the connection in the middle of the body (fault injection).
    pub cut_midway: bool,
    /// A body streamed after `body` (watches).
    pub stream: Option<BodyStream>,
}

/// A streamed response body.
pub type BodyStream = std::pin::Pin<Box<dyn futures::Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

impl Reply {
    /// A JSON reply.
    pub fn json(code: u16, value: &Value) -> Reply {
        Reply::raw(code, Bytes::from(serde_json::to_vec(value).expect("JSON serializes")))
    }

    /// A reply of already-serialized JSON.
    pub fn raw(code: u16, body: Bytes) -> Reply {
        Reply {
            code,
            body,
            content_type: "application/json".into(),
            headers: Vec::new(),
            cut_midway: false,
            stream: None,
        }
    }

    /// A plain-text reply (health checks).
    pub fn text(code: u16, text: &str) -> Reply {
        Reply { content_type: "text/plain; charset=utf-8".into(), ..Reply::raw(code, Bytes::from(text.to_string())) }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: String) -> Reply {
        self.headers.push((name.to_string(), value));
        self
    }
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Reply {
        Reply::json(e.code, &e.body)
    }
}
