//! Pretty-printing of response bodies for snapshots and reports.
//!
//! Both printers only add line breaks and indentation: key and element order,
//! text and escapes stay exactly as the server sent them, so a snapshot
//! shows the wire faithfully and a reordering shows up as a diff.

use quick_xml::Writer;
use quick_xml::events::Event;

/// A JSON body, indented by two spaces, keys in the order sent (the
/// workspace enables serde_json's `preserve_order`). A body that is not
/// JSON is returned as it came, after a note saying so.
pub fn json(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(value) => serde_json::to_string_pretty(&value).unwrap_or_else(|_| body.to_owned()),
        Err(error) => format!("(not JSON: {error})\n{body}"),
    }
}

/// An XML body, one element per line, indented by two spaces. An element
/// holding only text stays on one line; an empty one stays `<A></A>` (or
/// `<A/>`, whichever was sent); the `<?xml …?>` declaration is kept. A body
/// that is not well-formed is returned as it came, after a note saying so.
pub fn xml(body: &str) -> String {
    match xml_lines(body) {
        Ok(lines) => lines.join("\n"),
        Err(error) => format!("(not XML: {error})\n{body}"),
    }
}

/// One line per element, unless an element holds only text or nothing.
fn xml_lines(body: &str) -> Result<Vec<String>, String> {
    let mut reader = quick_xml::Reader::from_str(body);
    // Whitespace between elements is layout, not data; text inside an
    // element is kept untouched (the reader does not trim).
    let mut lines = Vec::new();
    let mut depth = 0usize;
    // A start tag not yet written: whether it holds children or only text
    // is known only from the next event.
    let mut open: Option<String> = None;
    // The current line when an element's text has been written after its
    // start tag and its end tag is still to come.
    let mut inline: Option<String> = None;

    loop {
        let event = reader
            .read_event()
            .map_err(|error| format!("at byte {}: {error}", reader.error_position()))?;
        match event {
            Event::Eof => break,
            Event::Text(ref text) if text.iter().all(u8::is_ascii_whitespace) => {}
            Event::Start(_) => {
                if let Some(parent) = open.take() {
                    lines.push(indent(depth, &parent));
                    depth += 1;
                }
                open = Some(raw(&event)?);
            }
            Event::Text(_) | Event::CData(_) => {
                let piece = raw(&event)?;
                match (open.take(), inline.as_mut()) {
                    (Some(start), _) => inline = Some(format!("{start}{piece}")),
                    (None, Some(line)) => line.push_str(&piece),
                    // Text beside child elements: its own line.
                    (None, None) => lines.push(indent(depth, &piece)),
                }
            }
            Event::End(_) => {
                let end = raw(&event)?;
                if let Some(start) = open.take() {
                    lines.push(indent(depth, &format!("{start}{end}")));
                } else if let Some(line) = inline.take() {
                    lines.push(indent(depth, &format!("{line}{end}")));
                } else {
                    depth = depth.saturating_sub(1);
                    lines.push(indent(depth, &end));
                }
            }
            _ => {
                if let Some(parent) = open.take() {
                    lines.push(indent(depth, &parent));
                    depth += 1;
                }
                lines.push(indent(depth, &raw(&event)?));
            }
        }
    }
    if open.is_some() || inline.is_some() || depth != 0 {
        return Err("the document ends inside an element".to_owned());
    }
    Ok(lines)
}

fn indent(depth: usize, text: &str) -> String {
    format!("{:width$}{text}", "", width = depth * 2)
}

/// One event as it appears in the document, markup included.
fn raw(event: &Event<'_>) -> Result<String, String> {
    let mut writer = Writer::new(Vec::new());
    writer
        .write_event(event.borrow())
        .map_err(|error| error.to_string())?;
    String::from_utf8(writer.into_inner()).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(printer: fn(&str) -> String, input: &str, want: &str) {
        let got = printer(input);
        assert_eq!(got, want, "input: {input}\n--- got ---\n{got}");
    }

    #[test]
    fn xml_layout() {
        let cases = [
            (
                r#"<?xml version="1.0" encoding="UTF-8"?><R><A>1</A><B><C>x</C><D></D><E/></B></R>"#,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<R>\n  <A>1</A>\n  <B>\n    <C>x</C>\n    \
                 <D></D>\n    <E/>\n  </B>\n</R>",
            ),
            // Text is kept exactly, trailing space and escapes included.
            (
                "<R><Description>This is a test file. </Description><C>a &amp; b&lt;</C></R>",
                "<R>\n  <Description>This is a test file. </Description>\n  <C>a &amp; b&lt;</C>\n</R>",
            ),
            // Existing layout is replaced, not added to.
            ("<R>\n    <A>1</A>\n</R>\n", "<R>\n  <A>1</A>\n</R>"),
            // Repeated elements keep their order.
            (
                "<L><I><N>b</N></I><I><N>a</N></I></L>",
                "<L>\n  <I>\n    <N>b</N>\n  </I>\n  <I>\n    <N>a</N>\n  </I>\n</L>",
            ),
            (
                "<R><A>1</A>",
                "(not XML: the document ends inside an element)\n<R><A>1</A>",
            ),
        ];
        for (input, want) in cases {
            check(xml, input, want);
        }
    }

    #[test]
    fn xml_mismatched_tags_are_reported_not_fixed() {
        let got = xml("<R><A>1</B></R>");
        assert!(got.starts_with("(not XML: "), "{got}");
        assert!(got.ends_with("\n<R><A>1</B></R>"), "{got}");
    }

    #[test]
    fn json_layout() {
        let cases = [
            // Key order as sent, not sorted.
            (
                r#"{"b":1,"a":{"z":[1,2],"y":""}}"#,
                "{\n  \"b\": 1,\n  \"a\": {\n    \"z\": [\n      1,\n      2\n    ],\n    \"y\": \"\"\n  }\n}",
            ),
            (r#"{"Overwrite":false}"#, "{\n  \"Overwrite\": false\n}"),
        ];
        for (input, want) in cases {
            check(json, input, want);
        }
        assert!(json("<Error/>").starts_with("(not JSON: "));
    }
}
