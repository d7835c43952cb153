//! JSON lines: one object per event, in the shape of tracing-subscriber's flattened JSON
//! format: `timestamp`, `level`, the event's fields (`message` among them), `target`, and
//! `span`, the fields of the spans the event happened in (the request's `request_id`,
//! `method` and `route`), root first, with the innermost span's `name`.
//!
//! Written here, on tracing-subscriber's `FormatEvent` and `FormatFields` extension points,
//! because its own JSON format stores a span's fields as a JSON object and parses it back
//! into a `serde_json::Value` on every event and on every `record`: at `info` that was 25 k
//! of the 53 k instructions the request's log line cost (callgrind). Here a span's fields
//! are kept as a JSON fragment (`"k":v,"k":v`) that a `record` appends to and an event
//! copies.
//!
//! Span fields named `otel.*` or `http.*` are left out: they are the request span's
//! OpenTelemetry attributes (see [`crate::otel`]), which repeat `method` and `route`.

use std::fmt::{self, Write as _};

use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
    span::Record,
};
use tracing_subscriber::{
    field::RecordFields,
    fmt::{
        FmtContext, FormatEvent, FormatFields, FormattedFields,
        format::Writer,
        time::{FormatTime, SystemTime},
    },
    registry::LookupSpan,
};

/// The event format (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonLines;

/// The span fields format that goes with [`JsonLines`]: a JSON fragment, `"k":v,"k":v`.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonFragment;

impl<'w> FormatFields<'w> for JsonFragment {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut visitor = Visitor::new(&mut writer, true).span_fields();
        fields.record(&mut visitor);
        visitor.result
    }

    fn add_fields(
        &self,
        current: &'w mut FormattedFields<Self>,
        fields: &Record<'_>,
    ) -> fmt::Result {
        let first = current.fields.is_empty();
        let mut writer = current.as_writer();
        let mut visitor = Visitor::new(&mut writer, first).span_fields();
        fields.record(&mut visitor);
        visitor.result
    }
}

impl<S> FormatEvent<S, JsonFragment> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFragment>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        writer.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(&mut writer)?;
        write!(writer, "\",\"level\":\"{}\"", meta.level())?;
        let mut visitor = Visitor::new(&mut writer, false);
        event.record(&mut visitor);
        visitor.result?;
        writer.write_str(",\"target\":")?;
        write_string(&mut writer, meta.target())?;
        if let Some(scope) = ctx.event_scope() {
            let mut spans = scope.from_root().peekable();
            writer.write_str(",\"span\":{")?;
            while let Some(span) = spans.next() {
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<JsonFragment>>()
                    && !fields.fields.is_empty()
                {
                    writer.write_str(&fields.fields)?;
                    writer.write_char(',')?;
                }
                if spans.peek().is_none() {
                    writer.write_str("\"name\":")?;
                    write_string(&mut writer, span.name())?;
                }
            }
            writer.write_char('}')?;
        }
        writer.write_str("}\n")
    }
}

/// Writes fields as `"k":v` pairs, separated by commas (and preceded by one unless
/// `first`).
struct Visitor<'a, 'w> {
    writer: &'a mut Writer<'w>,
    first: bool,
    /// Leave out the OpenTelemetry attributes (`otel.*`, `http.*`) of spans.
    spans: bool,
    result: fmt::Result,
}

impl<'a, 'w> Visitor<'a, 'w> {
    fn new(writer: &'a mut Writer<'w>, first: bool) -> Self {
        Self {
            writer,
            first,
            spans: false,
            result: Ok(()),
        }
    }

    fn span_fields(self) -> Self {
        Self {
            spans: true,
            ..self
        }
    }

    fn field(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'w>) -> fmt::Result) {
        if self.result.is_err()
            || (self.spans
                && ["otel.", "http."]
                    .iter()
                    .any(|p| field.name().starts_with(p)))
        {
            return;
        }
        self.result = (|| {
            if !std::mem::take(&mut self.first) {
                self.writer.write_char(',')?;
            }
            write_string(self.writer, field.name())?;
            self.writer.write_char(':')?;
            value(self.writer)
        })();
    }
}

impl Visit for Visitor<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field, |w| write_string(w, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, |w| {
            w.write_char('"')?;
            write!(Escape(&mut *w), "{value:?}")?;
            w.write_char('"')
        });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.field(field, |w| {
            w.write_char('"')?;
            write!(Escape(&mut *w), "{value}")?;
            w.write_char('"')
        });
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |w| write!(w, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, |w| write!(w, "{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |w| write!(w, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.field(field, |w| {
            if value.is_finite() {
                write!(w, "{value}")
            } else {
                w.write_str("null")
            }
        });
    }
}

fn write_string(writer: &mut impl fmt::Write, value: &str) -> fmt::Result {
    writer.write_char('"')?;
    Escape(&mut *writer).write_str(value)?;
    writer.write_char('"')
}

/// Escapes what it is given for the inside of a JSON string.
struct Escape<W>(W);

impl<W: fmt::Write> fmt::Write for Escape<W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut plain = 0;
        for (i, byte) in s.bytes().enumerate() {
            let escaped = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..0x20 | 0x7f => "",
                _ => continue,
            };
            self.0.write_str(&s[plain..i])?;
            if escaped.is_empty() {
                write!(self.0, "\\u{byte:04x}")?;
            } else {
                self.0.write_str(escaped)?;
            }
            plain = i + 1;
        }
        self.0.write_str(&s[plain..])
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::Value;
    use tracing_subscriber::prelude::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn lines(log: impl FnOnce()) -> Vec<Value> {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::registry().with(crate::logging::layer(
            crate::config::LogFormat::Json,
            move || writer.clone(),
            false,
        ));
        tracing::subscriber::with_default(subscriber, log);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }

    #[test]
    fn every_line_is_json_with_the_spans_fields() {
        let lines = lines(|| {
            tracing::info!(n = 1, "outside");
            let span = tracing::info_span!(
                "request",
                request_id = "id-1",
                route = tracing::field::Empty
            );
            let _entered = span.enter();
            span.record("route", "/notes/{id}");
            let inner = tracing::info_span!("db", collection = "notes");
            let _inner = inner.enter();
            tracing::warn!(
                text = "quote \" backslash \\ newline \n tab \t bell \u{7} ünïcode",
                ratio = 0.5,
                nan = f64::NAN,
                big = u64::MAX,
                negative = -3i64,
                yes = true,
                debug = ?vec!["a"],
                "inside {}",
                "the span"
            );
        });
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0]["message"], "outside");
        assert_eq!(lines[0]["n"], 1);
        assert_eq!(lines[0]["level"], "INFO");
        assert!(lines[0].get("span").is_none());
        let line = &lines[1];
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["message"], "inside the span");
        assert_eq!(
            line["text"],
            "quote \" backslash \\ newline \n tab \t bell \u{7} ünïcode"
        );
        assert_eq!(line["ratio"], 0.5);
        assert_eq!(line["nan"], Value::Null);
        assert_eq!(line["big"], u64::MAX);
        assert_eq!(line["negative"], -3);
        assert_eq!(line["yes"], true);
        assert_eq!(line["debug"], "[\"a\"]");
        assert_eq!(line["target"], module_path!());
        assert!(line["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(
            line["span"],
            serde_json::json!({
                "request_id": "id-1",
                "route": "/notes/{id}",
                "collection": "notes",
                "name": "db",
            })
        );
    }

    #[test]
    fn span_trace_attributes_are_left_out() {
        let lines = lines(|| {
            let span = tracing::info_span!(
                "request",
                otel.name = "GET /notes/{id}",
                request_id = "id-1",
                http.route = tracing::field::Empty,
                otel.status_code = tracing::field::Empty,
            );
            let _entered = span.enter();
            span.record("http.route", "/notes/{id}");
            span.record("otel.status_code", "ERROR");
            tracing::info!(http.note = "kept on events", "inside");
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["http.note"], "kept on events");
        assert_eq!(
            lines[0]["span"],
            serde_json::json!({ "request_id": "id-1", "name": "request" })
        );
    }
}
