//! An incremental parser for a Server-Sent Events stream, as the HTML
//! standard defines it (the subset a server of ours sends: `id`, `event`,
//! `data`, comments). Fed arbitrary chunks, it yields whole messages.

/// One dispatched SSE message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseMessage {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    current: SseMessage,
    has_data: bool,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk of the stream and returns the messages it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseMessage> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8_lossy(&line);
            if line.is_empty() {
                if self.has_data {
                    out.push(std::mem::take(&mut self.current));
                } else {
                    self.current = SseMessage::default();
                }
                self.has_data = false;
                continue;
            }
            if line.starts_with(':') {
                continue; // comment, e.g. keep-alive
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line.as_ref(), ""),
            };
            match field {
                "id" => self.current.id = Some(value.to_string()),
                "event" => self.current.event = Some(value.to_string()),
                "data" => {
                    if self.has_data {
                        self.current.data.push('\n');
                    }
                    self.current.data.push_str(value);
                    self.has_data = true;
                }
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_messages_split_across_chunks() {
        let mut p = SseParser::new();
        let stream = b": keep-alive\n\nid: 7\nevent: ticket.called\ndata: {\"a\":1}\n\nid: 8\r\ndata: x\r\ndata: y\r\n\r\n";
        let mut got = Vec::new();
        for chunk in stream.chunks(5) {
            got.extend(p.feed(chunk));
        }
        assert_eq!(
            got,
            vec![
                SseMessage {
                    id: Some("7".into()),
                    event: Some("ticket.called".into()),
                    data: "{\"a\":1}".into()
                },
                SseMessage {
                    id: Some("8".into()),
                    event: None,
                    data: "x\ny".into()
                },
            ]
        );
    }

    #[test]
    fn incomplete_message_is_held_back() {
        let mut p = SseParser::new();
        assert!(p.feed(b"id: 1\ndata: half").is_empty());
        assert_eq!(p.feed(b"\n\n").len(), 1);
    }
}
